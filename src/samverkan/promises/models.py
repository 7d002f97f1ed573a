"""Citizen promises (*medborgarlöften*) and cooperation agreements (*samverkansöverenskommelser*).

An agreement is public information once it is published: its parties, signatories (public
officials acting in office), commitments, activity log, follow-ups and assessments. Nothing
here holds personal data about the people the work is for. Writes go through
``promises.services`` (audited and versioned); reads through ``promises.selectors``, which
keep drafts and unpublished agreements away from everyone but their editors and council.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import Agency, CollaborationGroup, Municipality, PoliceArea

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Kind(models.TextChoices):
    PROMISE = "promise", _("Citizen promise")
    COOPERATION = "cooperation", _("Cooperation agreement")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Active")
    EXTENDED = "extended", _("Extended")
    ASSESSED = "assessed", _("Assessed")


# DESIGN §3: draft → signed → active → extended → assessed. Extension is its own step (it needs a
# new end date and a reason, ``services.agreement_extend``) and may be repeated, as Avesta's
# promise was extended more than once.
TRANSITIONS: dict[str, frozenset[str]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.SIGNED}),
    AgreementStatus.SIGNED: frozenset({AgreementStatus.ACTIVE}),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.EXTENDED, AgreementStatus.ASSESSED}),
    AgreementStatus.EXTENDED: frozenset({AgreementStatus.EXTENDED, AgreementStatus.ASSESSED}),
    AgreementStatus.ASSESSED: frozenset(),
}

# Where parties record their fulfilment assessment, and where the activity log runs.
RUNNING = frozenset({AgreementStatus.ACTIVE, AgreementStatus.EXTENDED})


class Agreement(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("municipality"),
    )
    police_area = models.ForeignKey(
        PoliceArea,
        on_delete=models.PROTECT,
        related_name="agreements",
        null=True,
        blank=True,
        verbose_name=_("police area"),
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    focus_area = models.CharField(_("focus area"), max_length=200)
    situation_summary = models.TextField(_("situation summary"), blank=True)
    cause_analysis = models.TextField(_("cause analysis notes"), blank=True)
    # The *mandat och åtagande* written into a cooperation agreement (Avesta's successor to its
    # promise has one): what the collaboration group may do and who answers for what. Public.
    mandate = models.TextField(_("mandate and commitments"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    succeeds = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="successors",
        null=True,
        blank=True,
        verbose_name=_("succeeds"),
    )
    # Symmetrical: an overlap recorded on either agreement shows on both.
    overlaps = models.ManyToManyField("self", symmetrical=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_start", "-pk"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="agreement_period_order"
            ),
            models.CheckConstraint(
                condition=Q(published=False) | Q(published_at__isnull=False),
                name="agreement_published_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(succeeds=F("pk")), name="agreement_does_not_succeed_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def past_end(self) -> bool:
        """Still running after its period ended: the parties should extend or assess it.

        Derived from the status and today's date, never stored, so it cannot go stale.
        """
        return self.status in RUNNING and self.period_end < timezone.localdate()


class PartyKind(models.TextChoices):
    MUNICIPALITY = "municipality", _("Municipality")
    POLICE = "police", _("Police")
    OTHER = "other", _("Other party")


class Party(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=12, choices=PartyKind.choices)
    # The agency that speaks for the party: only its agreement editors record the party's
    # assessment (``rules.can_assess_party``). Required for police and municipality parties
    # (``services.party_add``); an outside party may have none.
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="agreement_parties",
        null=True,
        blank=True,
        verbose_name=_("agency"),
    )

    class Meta:
        ordering = ["agreement", "pk"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "name"], name="party_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Signatory(models.Model):
    """A person who signed for a party: public officials acting in office, named publicly."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatories")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="signatories")
    name = models.CharField(_("name"), max_length=150)
    title = models.CharField(_("title"), max_length=150)
    signed_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=100, blank=True)

    class Meta:
        ordering = ["signed_on", "pk"]
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")

    def __str__(self) -> str:
        return f"{self.name}, {self.title}"


class CommitmentStatus(models.TextChoices):
    PLANNED = "planned", _("Not started")
    ONGOING = "ongoing", _("Ongoing")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class Commitment(models.Model):
    """An *åtagande*. No party means a joint commitment ("Gemensamt")."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="commitments")
    party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="commitments",
        null=True,
        blank=True,
        verbose_name=_("responsible party"),
    )
    text = models.TextField(_("commitment"))
    target_count = models.PositiveIntegerField(_("target"), null=True, blank=True)
    target_unit = models.CharField(_("unit"), max_length=100, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CommitmentStatus.choices,
        default=CommitmentStatus.PLANNED,
    )
    # A string reference: the indicators app owns the series and must not import this one.
    indicators = models.ManyToManyField(
        "indicators.Indicator", related_name="commitments", blank=True, verbose_name=_("indicators")
    )
    order = models.PositiveSmallIntegerField(default=0)
    # The collaboration group a commitment such as "start an SSPF group" set up, chosen among the
    # groups of the agreement's municipality the editor may see (``services.commitment_add``).
    group = models.ForeignKey(
        CollaborationGroup,
        on_delete=models.SET_NULL,
        related_name="commitments",
        null=True,
        blank=True,
        verbose_name=_("collaboration group"),
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        constraints = [
            models.CheckConstraint(
                condition=Q(target_count__isnull=True) | Q(target_count__gt=0),
                name="commitment_target_positive",
            )
        ]

    def __str__(self) -> str:
        return f"commitment {self.pk}"


class Activity(models.Model):
    """Something done under a commitment; ``count`` is how much it counts toward the target."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="activities")
    date = models.DateField(_("date"))
    description = models.TextField(_("what was done"))
    count = models.PositiveIntegerField(_("counts toward the target"), default=1)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return f"activity {self.pk}"


class FollowUp(models.Model):
    """An *uppföljning* for the council; published whenever its agreement is."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="follow_ups")
    date = models.DateField(_("date"))
    narrative = models.TextField(_("narrative"))
    # Values of the series linked to the agreement's commitments that the follow-up cites
    # (``services.follow_up_add`` checks the link). A string reference, as for
    # ``Commitment.indicators``; no reverse accessor, so the indicators app stays unaware.
    indicator_values = models.ManyToManyField(
        "indicators.IndicatorValue",
        related_name="+",
        blank=True,
        verbose_name=_("indicator values"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"follow-up {self.pk}"


class Progress(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    ON_TRACK = "on_track", _("On track")
    BEHIND = "behind", _("Behind")
    DONE = "done", _("Done")


class FollowUpProgress(models.Model):
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="progress")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="+")
    progress = models.CharField(_("progress"), max_length=12, choices=Progress.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["commitment__order", "commitment__pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "commitment"], name="follow_up_progress_unique"
            )
        ]

    def __str__(self) -> str:
        return f"progress {self.follow_up_id}/{self.commitment_id}"


class Verdict(models.TextChoices):
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTLY = "partly", _("Partly fulfilled")
    NOT_FULFILLED = "not_fulfilled", _("Not fulfilled")


class Assessment(models.Model):
    """One party's own fulfilment assessment; a party's later assessment replaces its earlier
    one (the earlier stays in the agreement's versions and the audit log)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="assessments")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="assessments")
    verdict = models.CharField(_("verdict"), max_length=14, choices=Verdict.choices)
    statement = models.TextField(_("statement"))
    assessed_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["party__pk"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "party"], name="one_assessment_per_party")
        ]

    def __str__(self) -> str:
        return f"assessment {self.pk}"


class Extension(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="extensions")
    previous_end = models.DateField(_("previous end"))
    new_end = models.DateField(_("new end"))
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_end__gt=F("previous_end")), name="extension_moves_end_later"
            )
        ]

    def __str__(self) -> str:
        return f"extension {self.pk}"


# What each ``AgreementVersion.action`` means, for the version history
# (``services.common._record``).
ACTION_LABELS: dict[str, StrOrPromise] = {
    "created": _("Created"),
    "updated": _("Details changed"),
    "status_changed": _("Status changed"),
    "extended": _("Extended"),
    "published": _("Published"),
    "unpublished": _("Unpublished"),
    "linked": _("Links to other agreements changed"),
    "linked_from": _("Linked from another agreement"),
    "party_added": _("Party added"),
    "signatory_added": _("Signatory added"),
    "commitment_added": _("Commitment added"),
    "commitment_updated": _("Commitment changed"),
    "activity_added": _("Activity logged"),
    "follow_up_added": _("Follow-up recorded"),
    "assessment_recorded": _("Assessment recorded"),
}


class AgreementVersion(models.Model):
    """The whole agreement as it stood after one change (``services.common._record``)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    action = models.CharField(max_length=60)
    snapshot = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_unique")
        ]

    def __str__(self) -> str:
        return f"agreement {self.agreement_id} v{self.number}"

    @property
    def action_label(self) -> str:
        """The change in words; an unknown code (from a later version) shows as it is."""
        return str(ACTION_LABELS.get(self.action, self.action))
