"""SSPF cases: youths, guardians, cases, case teams, the journal and reports of concern.

Personal data (identity numbers, names, free text) is stored only as ciphertext bound to its
row (``samverkan.lib.fields.Encrypted``). Reads go through ``cases.selectors``, which ask
``disclosure.policy`` what a viewer may see; nothing else in the code reads these models for a
user.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from samverkan.lib.fields import Encrypted, search_hash
from samverkan.organisations.models import Agency, CollaborationGroup, Municipality, Sector


class Gender(models.TextChoices):
    GIRL = "F", _("Girl")
    BOY = "M", _("Boy")
    OTHER = "X", pgettext_lazy("gender", "Other")
    UNKNOWN = "", _("Not stated")


class Youth(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    pseudonym = models.CharField(_("pseudonym"), max_length=20, unique=True)
    identity_number_enc = models.TextField()
    identity_number_hash = models.CharField(max_length=64, unique=True)
    name_enc = models.TextField()
    birth_date = models.DateField(_("birth date"))
    is_coordination_number = models.BooleanField(default=False)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    identity_number: Encrypted[Youth] = Encrypted("identity_number_enc")
    name: Encrypted[Youth] = Encrypted("name_enc")

    class Meta:
        verbose_name = _("youth")
        verbose_name_plural = _("youths")

    def __str__(self) -> str:
        return self.pseudonym  # never the name: str() ends up in logs and error reports

    def age_on(self, day: object = None) -> int:
        today = timezone.localdate() if day is None else day
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))  # type: ignore[attr-defined]


class PseudonymCounter(models.Model):
    """The last number handed out per pseudonym prefix and year; locked while numbering.

    Keyed by the prefix, not the municipality: two municipalities can share a prefix (Sala and
    Salem are both SAL) and must then share the numbering, or pseudonyms would collide.
    """

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="pseudonym_counter_prefix_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}/{self.year}: {self.last}"


class Guardian(models.Model):
    """A guardian's identity: the person behind the case links, found by their number.

    Only the number lives here. The name and e-mail address are what each case's agency wrote
    down (``GuardianLink``), so one agency never reads what another recorded about a family.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    identity_number_enc = models.TextField(blank=True)
    identity_number_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    identity_number: Encrypted[Guardian] = Encrypted("identity_number_enc", optional=True)

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")

    def __str__(self) -> str:
        return f"guardian {self.pk}"


class GuardianLink(models.Model):
    """A guardian as recorded on one case, with the name and address that case's agency wrote.

    Per case, not per youth: what one agency learnt about a family must not surface on another
    agency's case without consent.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="guardian_links")
    case = models.ForeignKey("Case", on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="youth_links")
    has_custody = models.BooleanField(_("has custody"), default=True)
    name_enc = models.TextField()
    email_enc = models.TextField(blank=True)
    # Keyed hash of the normalised address (``hash_email``): how the guardian portal finds the
    # links of an address typed at login without decrypting every row. Empty without address.
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)

    name: Encrypted[GuardianLink] = Encrypted("name_enc")
    email: Encrypted[GuardianLink] = Encrypted("email_enc", optional=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "guardian"], name="guardian_link_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.youth} – {self.guardian}"

    @staticmethod
    def hash_email(address: str) -> str:
        """The search hash of an address, normalised (trimmed, lower case); "" for none."""
        normalised = address.strip().lower()
        return search_hash("email", normalised) if normalised else ""


class FactorKind(models.TextChoices):
    RISK = "risk", _("Risk factor")
    PROTECTIVE = "protective", _("Protective factor")


class Factor(models.Model):
    """A risk or protective factor on the configurable list (seeded from the research)."""

    kind = models.CharField(max_length=12, choices=FactorKind.choices)
    code = models.SlugField(max_length=40, unique=True)
    label_sv = models.CharField(max_length=120)
    label_en = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "order", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_en if (get_language() or "sv").startswith("en") else self.label_sv


class InformationCategory(models.Model):
    """What a journal entry is about, per sector (consent is given per category)."""

    sector = models.CharField(max_length=20, choices=Sector.choices)
    code = models.SlugField(max_length=40)
    label_sv = models.CharField(max_length=120)
    label_en = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sector", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["sector", "code"], name="category_unique_per_sector")
        ]

    def __str__(self) -> str:
        return f"{self.sector}/{self.code}"

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_en if (get_language() or "sv").startswith("en") else self.label_sv


class Status(models.TextChoices):
    RAISED = "raised", _("Raised")
    AWAITING_CONSENT = "awaiting_consent", _("Awaiting consent")
    MAPPING = "mapping", _("Mapping")
    ACTIVE_PLAN = "active_plan", _("Active plan")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


# The lifecycle of DESIGN §3. A case can be closed from any open state.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RAISED: frozenset({Status.AWAITING_CONSENT, Status.CLOSED}),
    Status.AWAITING_CONSENT: frozenset({Status.MAPPING, Status.CLOSED}),
    Status.MAPPING: frozenset({Status.ACTIVE_PLAN, Status.CLOSED}),
    Status.ACTIVE_PLAN: frozenset({Status.FOLLOW_UP, Status.CLOSED}),
    Status.FOLLOW_UP: frozenset({Status.ACTIVE_PLAN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("Goals met")
    CONSENT_DECLINED = "consent_declined", _("Consent declined")
    MOVED = "moved", _("Moved away")
    OTHER_SUPPORT = "other_support", _("Handled by other support")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    OTHER = "other", _("Other")


class Case(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="cases")
    group = models.ForeignKey(
        CollaborationGroup, on_delete=models.PROTECT, related_name="cases", verbose_name=_("group")
    )
    raising_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("raising agency")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason_enc = models.TextField()
    risk_factors = models.ManyToManyField(
        Factor, related_name="+", blank=True, limit_choices_to={"kind": FactorKind.RISK}
    )
    protective_factors = models.ManyToManyField(
        Factor, related_name="+", blank=True, limit_choices_to={"kind": FactorKind.PROTECTIVE}
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RAISED
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure_reason = models.CharField(
        _("reason for closing"), max_length=20, choices=ClosureReason.choices, blank=True
    )
    closure_outcome_enc = models.TextField(blank=True)

    reason: Encrypted[Case] = Encrypted("reason_enc")
    closure_outcome: Encrypted[Case] = Encrypted("closure_outcome_enc", optional=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="case_closed_at_matches_status",
            )
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.youth_id})"

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED


class CaseTeamMember(models.Model):
    """A practitioner on a case for one agency. Leaving the team ends access, keeps history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_teams"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user", "agency"],
                condition=Q(removed_at__isnull=True),
                name="one_active_team_membership",
            )
        ]

    def __str__(self) -> str:
        return f"team {self.case_id}: {self.user_id}/{self.agency_id}"


class Entry(models.Model):
    """A journal item. Its text lives in versions; a correction adds one, never overwrites."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(InformationCategory, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version_count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self) -> str:
        return f"entry {self.pk}"


class EntryVersion(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text_enc = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    text: Encrypted[EntryVersion] = Encrypted("text_enc")

    class Meta:
        ordering = ["entry", "number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="entry_version_unique")
        ]

    def __str__(self) -> str:
        return f"entry {self.entry_id} v{self.number}"


class ConcernReport(models.Model):
    """That a report of concern (orosanmälan) was made to social services, not its content."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="concern_reports")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_on = models.DateField(_("reported on"))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-reported_on", "-pk"]

    def __str__(self) -> str:
        return f"concern {self.pk} on case {self.case_id}"
