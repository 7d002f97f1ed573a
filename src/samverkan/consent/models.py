"""Consent that lifts confidentiality (sekretessbrytande samtycke), its signatures, its
withdrawal, statutory disclosures and the record of what crossed under which basis.

A consent's state is never stored: it is derived from the facts (signatures, withdrawal, the
period and the youth's age) by ``consent.state``, so no code path can leave a stale "active"
flag behind a withdrawal.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.cases.models import Case, Entry, GuardianLink, InformationCategory, Youth
from samverkan.lib.fields import Encrypted
from samverkan.organisations.models import Agency


class Purpose(models.TextChoices):
    SSPF = (
        "sspf",
        _("Early, coordinated support within SSPF (school, social services, police, leisure)"),
    )


class Consent(models.Model):
    """Which agencies may exchange which categories of information about one case's youth,
    for one purpose and a bounded period."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consents")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.SSPF
    )
    agencies = models.ManyToManyField(Agency, related_name="+", verbose_name=_("agencies"))
    categories = models.ManyToManyField(
        InformationCategory, related_name="+", verbose_name=_("information categories")
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    youth_signs_from_age = models.PositiveSmallIntegerField(default=15)
    language = models.CharField(max_length=5, default="sv")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="consent_period_not_empty",
            )
        ]

    def __str__(self) -> str:
        return f"consent {self.pk}"

    @property
    def basis(self) -> str:
        """How a disclosure under this consent is named in the audit log."""
        return f"consent:{self.pk}"


class SignerKind(models.TextChoices):
    GUARDIAN = "guardian", _("Guardian")
    YOUTH = "youth", _("The young person")


class RequiredSigner(models.Model):
    """One person whose signature the consent needs.

    Most are fixed when the consent is created (``required_from`` None): all of them must sign
    before it is active. A *later* signer (``required_from`` set) is one it came to need
    afterwards — the youth from the signing age (DESIGN rule 18), a guardian who gained custody —
    and from that moment until they sign the consent covers nothing new (``disclosure.policy``).
    """

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="signers")
    kind = models.CharField(max_length=10, choices=SignerKind.choices)
    guardian_link = models.ForeignKey(
        GuardianLink, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.PositiveSmallIntegerField(default=0)
    required_from = models.DateTimeField(_("required from"), null=True, blank=True)

    class Meta:
        ordering = ["consent", "order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="guardian", guardian_link__isnull=False)
                | Q(kind="youth", guardian_link__isnull=True),
                name="required_signer_kind_matches_link",
            ),
            models.UniqueConstraint(
                fields=["consent", "guardian_link"], name="required_signer_guardian_once"
            ),
            models.UniqueConstraint(
                fields=["consent"], condition=Q(kind="youth"), name="required_signer_youth_once"
            ),
        ]

    def __str__(self) -> str:
        return f"signer {self.pk} of consent {self.consent_id}"


class SignatureMethod(models.TextChoices):
    PAPER = "paper", _("Paper form, scanned")
    IN_PERSON = "in_person", _("In person, witnessed")
    ELECTRONIC = "electronic", _("Electronic identification")


class EvidenceFile(models.Model):
    """A scanned signed form. The content is encrypted and bound to this row; it is only ever
    served as a download, never inline."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content_enc = models.TextField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    # Base64 of the file's bytes: the key ring encrypts text.
    content_b64: Encrypted[EvidenceFile] = Encrypted("content_enc")

    def __str__(self) -> str:
        return f"evidence {self.pk}"


class ConsentSignature(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    signer = models.OneToOneField(
        RequiredSigner, on_delete=models.PROTECT, related_name="signature"
    )
    method = models.CharField(_("method"), max_length=12, choices=SignatureMethod.choices)
    # When it took effect (recorded), and the date the signer wrote on the form.
    signed_at = models.DateTimeField(_("signed"))
    signed_on = models.DateField(_("date on the form"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    evidence = models.OneToOneField(
        EvidenceFile, on_delete=models.PROTECT, null=True, blank=True, related_name="signature"
    )
    eid_provider = models.CharField(max_length=40, blank=True)
    eid_reference = models.CharField(max_length=100, blank=True)
    maturity_assessment_enc = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    # A second staff member's confirmation of a signature staff recorded; it counts only where
    # the deployment asks for one (settings.CONSENT_SIGNATURE_CONFIRMATION, disclosure.facts).
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    maturity_assessment: Encrypted[ConsentSignature] = Encrypted(
        "maturity_assessment_enc", optional=True
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="signature_confirmation_complete",
            )
        ]

    def __str__(self) -> str:
        return f"signature {self.pk}"

    @property
    def recorded_by_staff(self) -> bool:
        """Paper or in person: resting on the word of the staff member who recorded it."""
        return self.method != SignatureMethod.ELECTRONIC


class WithdrawalMethod(models.TextChoices):
    ORAL = "oral", _("Orally, recorded by staff")
    WRITTEN = "written", _("In writing, recorded by staff")
    PORTAL = "portal", _("In the guardian portal")


class ConsentWithdrawal(models.Model):
    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="withdrawal")
    signer = models.ForeignKey(RequiredSigner, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("method"), max_length=10, choices=WithdrawalMethod.choices)
    withdrawn_at = models.DateTimeField(_("withdrawn"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"withdrawal of consent {self.consent_id}"


class StatutoryDisclosure(models.Model):
    """One entry disclosed to one agency under a named statutory basis, with a written
    justification. The only way information crosses without consent; always flagged for log
    review."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    basis_code = models.CharField(_("statutory basis"), max_length=40)
    # The provision as cited when the disclosure was made, and each of its conditions the person
    # confirmed ({"code", "text"} in the words they were shown): the list of bases may change.
    reference = models.CharField(_("provision"), max_length=300, blank=True, default="")
    conditions_confirmed = models.JSONField(_("conditions confirmed"), default=list, blank=True)
    justification_enc = models.TextField()
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_at = models.DateTimeField(default=timezone.now)

    justification: Encrypted[StatutoryDisclosure] = Encrypted("justification_enc")

    class Meta:
        ordering = ["-disclosed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "to_agency"], name="statutory_disclosure_once_per_agency"
            )
        ]

    def __str__(self) -> str:
        return f"statutory disclosure {self.pk}"

    @property
    def basis(self) -> str:
        return f"statute:{self.basis_code}:{self.pk}"


class Disclosure(models.Model):
    """That an entry was first shown to an agency, and under which basis.

    Written when the entry is first read by someone of that agency. After a withdrawal this is
    how the entries already disclosed are known and marked: they stay with the recipient.
    """

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    statutory = models.ForeignKey(
        StatutoryDisclosure, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "to_agency", "consent"], name="disclosure_once_per_consent"
            ),
            models.UniqueConstraint(
                fields=["entry", "to_agency", "statutory"], name="disclosure_once_per_statute"
            ),
            models.CheckConstraint(
                condition=Q(consent__isnull=False, statutory__isnull=True)
                | Q(consent__isnull=True, statutory__isnull=False),
                name="disclosure_has_one_basis",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure of entry {self.entry_id} to {self.to_agency_id}"


class ReminderKind(models.TextChoices):
    EXPIRING = "expiring", _("Ends soon")
    EXPIRED = "expired", _("Has ended")
    # Sent at the signing age (settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 15 by default); the value
    # keeps its historical name.
    TURNED_15 = "turned_15", _("The youth has reached the signing age")
    TURNED_18 = "turned_18", _("The youth has turned 18")


class ConsentReminder(models.Model):
    """That a reminder about a consent has been sent: each kind once per consent."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consent", "kind"], name="consent_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for consent {self.consent_id}"
