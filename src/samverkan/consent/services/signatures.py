"""Signatures: recorded by staff or with e-ID, confirmed by a second staff member; the signers
who join later; the reminders' claim."""

from __future__ import annotations

import base64
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import GuardianLink
from samverkan.consent import rules
from samverkan.consent.documents.uploads import CheckedFile, check_evidence
from samverkan.consent.models import (
    Consent,
    ConsentReminder,
    ConsentSignature,
    EvidenceFile,
    ReminderKind,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
)
from samverkan.consent.notices import (
    NOTICE_REGISTERED,
    NOTICE_SIGNATURE,
)
from samverkan.consent.services.consents import (
    signers_notify,
)
from samverkan.disclosure.facts import awaiting_confirmation, facts_of
from samverkan.disclosure.policy import State, state_at
from samverkan.lib.fields import search_hash
from samverkan.notifications.services import notify


def _locked(consent: Consent) -> Consent:
    """The consent with its row locked and its facts loaded afresh."""
    from samverkan.disclosure.facts import consent_queryset

    Consent.objects.select_for_update().filter(pk=consent.pk).first()
    locked: Consent = consent_queryset().get(pk=consent.pk)
    return locked


def _check_signable(consent: Consent, signer: RequiredSigner) -> None:
    state = state_at(facts_of(consent), timezone.now())
    if state in (State.WITHDRAWN, State.EXPIRED):
        raise ValidationError(
            _("This consent has been withdrawn or has expired; it cannot be signed any more.")
        )
    current = next((s for s in consent.signers.all() if s.pk == signer.pk), None)
    if current is None:
        raise ValidationError(_("That person is not a signer of this consent."))
    if getattr(current, "signature", None) is not None:
        raise ValidationError(_("That person has already signed."))


def _needs_maturity(consent: Consent, signer: RequiredSigner) -> bool:
    if signer.kind != SignerKind.YOUTH:
        return False
    return consent.youth.age_on(timezone.localdate()) < consent.youth_signs_from_age


def _evidence_errors(method: str, *, has_evidence: bool) -> dict[str, list[str]]:
    if method == SignatureMethod.PAPER and not has_evidence:
        return {"evidence": [_("Upload the scanned, signed form.")]}
    if method == SignatureMethod.IN_PERSON and has_evidence:
        return {"evidence": [_("An in-person signature is witnessed; it has no scan.")]}
    return {}


def evidence_prepare(
    checked: CheckedFile, *, uploaded_by: User, uploaded_at: datetime | None = None
) -> EvidenceFile:
    """An unsaved scan of a signed form, from what ``check_evidence`` passed and cleaned."""
    stored = EvidenceFile(
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_by=uploaded_by,
        uploaded_at=uploaded_at or timezone.now(),
    )
    stored.content_b64 = base64.b64encode(checked.content).decode("ascii")
    return stored


def signature_record(
    *,
    actor: User,
    signer: RequiredSigner,
    method: str,
    signed_on: date | None = None,
    evidence: UploadedFile | None = None,
    maturity_assessment: str = "",
) -> ConsentSignature:
    """Staff record a signature given on paper (with the scan) or in person (they witness it).

    It takes effect when recorded: a paper form dated earlier does not make disclosures that
    already happened covered after the fact. Where the deployment asks for it, it takes effect
    only once a second staff member confirms it (``signature_confirm``). The signer is told by
    e-mail either way, and a signature recorded by the consent's own drafter is flagged for
    log review.
    """
    consent = signer.consent
    if not rules.can_manage_consents(actor, consent.case):
        raise ValidationError(_("You may not record signatures on this case."))
    errors: dict[str, list[str]] = {}
    if method not in (SignatureMethod.PAPER, SignatureMethod.IN_PERSON):
        errors["method"] = [
            _("Staff record paper or in-person signatures; electronic ones come from e-ID.")
        ]
    errors.update(_evidence_errors(method, has_evidence=evidence is not None))
    if signed_on is not None and signed_on > timezone.localdate():
        errors["signed_on"] = [_("The signing date cannot be in the future.")]
    if signed_on is not None and signed_on < timezone.localtime(consent.created_at).date():
        errors["signed_on"] = [_("The form cannot be signed before the consent was drawn up.")]
    maturity_assessment = maturity_assessment.strip()
    if _needs_maturity(consent, signer) and len(maturity_assessment) < 10:
        errors["maturity_assessment"] = [
            _(
                "The young person is under %(age)s: record your assessment of whether they are "
                "mature enough to decide on sharing information about themselves."
            )
            % {"age": consent.youth_signs_from_age}
        ]
    if errors:
        raise ValidationError(errors)
    checked = check_evidence(evidence) if evidence is not None else None
    with transaction.atomic():
        locked = _locked(consent)
        _check_signable(locked, signer)
        stored = None
        if checked is not None:
            stored = evidence_prepare(checked, uploaded_by=actor)
            stored.save()
        signature = ConsentSignature(
            signer=signer,
            method=method,
            signed_at=timezone.now(),
            recorded_by=actor,
            witness=actor if method == SignatureMethod.IN_PERSON else None,
            evidence=stored,
            signed_on=signed_on or timezone.localdate(),
        )
        signature.maturity_assessment = maturity_assessment
        signature.save()
        _audit_signature(locked, signature, actor=actor)
        signers_notify(
            locked, actor=actor, signers=[signer], reason=NOTICE_SIGNATURE, method=method
        )
    return signature


def signature_record_electronic(
    *,
    signer: RequiredSigner,
    provider: str,
    reference: str,
    identity_number: str,
) -> ConsentSignature:
    """A signature made with e-ID: the identity the provider vouched for must be the signer's."""
    consent = signer.consent
    if not _is_signer(signer, identity_number):
        raise ValidationError(_("The e-ID does not belong to this signer."))
    if _needs_maturity(consent, signer):
        raise ValidationError(
            _("A young person under %(age)s signs with staff, who record a maturity assessment.")
            % {"age": consent.youth_signs_from_age}
        )
    with transaction.atomic():
        locked = _locked(consent)
        _check_signable(locked, signer)
        signature = ConsentSignature.objects.create(
            signer=signer,
            method=SignatureMethod.ELECTRONIC,
            signed_at=timezone.now(),
            eid_provider=provider,
            eid_reference=reference,
            signed_on=timezone.localdate(),
        )
        _audit_signature(locked, signature, actor=None)
    return signature


def _is_signer(signer: RequiredSigner, identity_number: str) -> bool:
    if signer.kind == SignerKind.YOUTH:
        return signer.consent.youth.identity_number_hash == search_hash("youth", identity_number)
    link = signer.guardian_link
    return (
        link is not None
        and link.guardian.identity_number_hash is not None
        and link.guardian.identity_number_hash == search_hash("guardian", identity_number)
    )


def _audit_signature(consent: Consent, signature: ConsentSignature, *, actor: User | None) -> None:
    details: dict[str, object] = {
        "consent_id": consent.pk,
        "method": signature.method,
        "signer_kind": signature.signer.kind,
        "evidence": signature.evidence_id is not None,
    }
    if actor is not None:
        # Log review flags these (records.review, "drafter"): the same person drew the consent
        # up and vouches for the signature that brings it closer to force.
        details["recorded_by_drafter"] = actor.pk == consent.created_by_id
        details["awaiting_confirmation"] = awaiting_confirmation(signature)
    audit_record(
        action="consent.signed",
        actor=actor,
        obj=signature,
        case_id=consent.case_id,
        legal_basis=consent.basis,
        details=details,
    )
    _audit_if_activated(consent, actor=actor)


def _audit_if_activated(consent: Consent, *, actor: User | None) -> None:
    fresh = _locked(consent)
    if state_at(facts_of(fresh), timezone.now()) == State.ACTIVE:
        audit_record(
            action="consent.activated",
            actor=actor,
            obj=consent,
            case_id=consent.case_id,
            legal_basis=consent.basis,
        )


def signature_confirm(*, actor: User, signature: ConsentSignature) -> ConsentSignature:
    """A second staff member confirms a signature another recorded on paper or in person.

    Only where the deployment asks for it (``settings.CONSENT_SIGNATURE_CONFIRMATION``); until
    then the signature does not count towards the consent's state (``disclosure.facts``), and from
    the confirmation it does. The confirmer must be someone who may record signatures on the
    case (``rules.can_confirm_signature``), but never the one who recorded it: that attempt is
    refused with ``PermissionDenied`` and audited as denied, so log review sees it.
    """
    if not settings.CONSENT_SIGNATURE_CONFIRMATION:
        raise ValidationError(_("Signatures need no second confirmation in this deployment."))
    if not signature.recorded_by_staff:
        raise ValidationError(_("A signature made with e-ID needs no confirmation."))
    consent = signature.signer.consent
    if signature.recorded_by_id == actor.pk:
        with transaction.atomic():
            audit_record(
                action="consent.signature_confirmation_refused",
                actor=actor,
                obj=signature,
                case_id=consent.case_id,
                outcome=Outcome.DENIED,
                details={"consent_id": consent.pk, "reason": "recorder"},
            )
        raise PermissionDenied(
            _("A signature you recorded must be confirmed by another staff member.")
        )
    if not rules.can_confirm_signature(actor, consent.case, signature):
        raise PermissionDenied(_("You may not confirm signatures on this case."))
    with transaction.atomic():
        locked = _locked(consent)
        current = (
            ConsentSignature.objects.select_for_update()
            .filter(pk=signature.pk, signer__consent=locked)
            .first()
        )
        if current is None:
            raise ValidationError(_("That person is not a signer of this consent."))
        if current.confirmed_at is not None:
            raise ValidationError(_("This signature has already been confirmed."))
        if state_at(facts_of(locked), timezone.now()) in (State.WITHDRAWN, State.EXPIRED):
            raise ValidationError(
                _("This consent has been withdrawn or has expired; there is nothing to confirm.")
            )
        current.confirmed_by = actor
        current.confirmed_at = timezone.now()
        current.save(update_fields=["confirmed_by", "confirmed_at"])
        audit_record(
            action="consent.signature_confirmed",
            actor=actor,
            obj=current,
            case_id=consent.case_id,
            legal_basis=consent.basis,
            details={
                "consent_id": consent.pk,
                "method": current.method,
                "signer_kind": signature.signer.kind,
            },
        )
        _audit_if_activated(locked, actor=actor)
    return current


def _open_for_later_signers(consent: Consent, now: datetime) -> bool:
    """Not withdrawn, not ended, and a consent guardians sign (not a youth's alone)."""
    if getattr(consent, "withdrawal", None) is not None:
        return False
    if state_at(facts_of(consent), now) in (State.WITHDRAWN, State.EXPIRED):
        return False
    return any(s.kind == SignerKind.GUARDIAN for s in consent.signers.all())


def _add_later_signer(
    consent: Consent, *, kind: str, link_id: int | None, required_from: datetime
) -> RequiredSigner:
    order = max((s.order for s in consent.signers.all()), default=-1) + 1
    return RequiredSigner.objects.create(
        consent=consent,
        kind=kind,
        guardian_link_id=link_id,
        order=order,
        required_from=required_from,
    )


def youth_cosigner_ensure(*, consent: Consent, actor: User | None) -> RequiredSigner | None:
    """The youth's row as a later signer of a consent only guardians were asked to sign, so
    that staff can record the youth's co-signature and the youth can sign it with e-ID in the
    portal (DESIGN rule 18). Guardians need not sign again: their signatures stand.

    Idempotent: returns the youth's row where there is one already. None where the consent
    is withdrawn or has ended, or the youth signs it alone. Whether the consent covers does
    not depend on the row (``disclosure.facts`` derives the youth's signing age from the birth
    date); the row is only what a signature attaches to. ``actor`` None: the daily job.
    """
    from samverkan.disclosure.facts import signing_age_at

    if actor is not None and not rules.can_manage_consents(actor, consent.case):
        raise ValidationError(_("You may not record signatures on this case."))
    with transaction.atomic():
        locked = _locked(consent)
        existing = next((s for s in locked.signers.all() if s.kind == SignerKind.YOUTH), None)
        if existing is not None:
            return existing
        now = timezone.now()
        if not _open_for_later_signers(locked, now):
            return None
        signer = _add_later_signer(
            locked, kind=SignerKind.YOUTH, link_id=None, required_from=signing_age_at(locked)
        )
        audit_record(
            action="consent.signer_added",
            actor=actor,
            obj=locked,
            case_id=locked.case_id,
            legal_basis=locked.basis,
            details={"signer_kind": SignerKind.YOUTH, "reason": "signing_age"},
        )
    return signer


def reminder_send_once(consent: Consent, reminder: ReminderKind, **notice: object) -> bool:
    """Claim and send one reminder in one transaction: a unique row per consent and kind means
    two workers at once send it once, and a failed send releases the claim."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ConsentReminder.objects.create(consent=consent, kind=reminder)
        except IntegrityError:
            return False
        notify(**notice)  # type: ignore[arg-type]
    return True


def guardian_joins_consents(*, actor: User, link: GuardianLink) -> list[RequiredSigner]:
    """A guardian with custody recorded on a case after its consents were drawn up becomes a
    later signer of each open one (docs/decisions.md D23): from now until
    they sign it covers nothing new, and they may sign or withdraw it like any signer.

    Called by ``cases.services.guardian_add`` inside its transaction. The team and the
    coordinator are told in the app and by e-mail, and the guardian, where they have an
    address, that a consent naming them is registered (rule 20).
    """
    from samverkan.consent.notices import later_guardian_notice

    if not link.has_custody:
        return []
    now = timezone.now()
    if link.case.youth.age_on(timezone.localdate(now)) >= 18:
        return []
    added: list[RequiredSigner] = []
    for consent in Consent.objects.filter(case_id=link.case_id).order_by("pk"):
        locked = _locked(consent)
        if any(s.guardian_link_id == link.pk for s in locked.signers.all()):
            continue
        if not _open_for_later_signers(locked, now):
            continue
        signer = _add_later_signer(
            locked, kind=SignerKind.GUARDIAN, link_id=link.pk, required_from=now
        )
        audit_record(
            action="consent.signer_added",
            actor=actor,
            obj=locked,
            case_id=locked.case_id,
            legal_basis=locked.basis,
            details={"signer_kind": SignerKind.GUARDIAN, "reason": "new_custodian"},
        )
        signers_notify(locked, actor=actor, signers=[signer], reason=NOTICE_REGISTERED)
        later_guardian_notice(locked)
        added.append(signer)
    return added
