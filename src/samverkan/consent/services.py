"""Every write of consent data: create, sign, withdraw, disclose under statute.

Each service locks the consent row (or the case) it changes, so two signatures or a signature
and a withdrawal cannot interleave, and writes its audit event in the same transaction.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Sequence
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import Case, Entry, GuardianLink, InformationCategory
from samverkan.consent import rules, statutory
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    Disclosure,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
    StatutoryDisclosure,
    WithdrawalMethod,
)
from samverkan.consent.notices import (
    NOTICE_REGISTERED,
    NOTICE_SIGNATURE,
    signer_notice,
    withdrawal_notice,
)
from samverkan.consent.uploads import check_evidence
from samverkan.disclosure.facts import STOCKHOLM, awaiting_confirmation, facts_of
from samverkan.disclosure.policy import Decision, State, state_at
from samverkan.lib.fields import search_hash
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.organisations.models import Agency, GroupMembership


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def consent_agency_choices(case: Case) -> list[Agency]:
    """The agencies a consent on this case may name: those that sit in its group, and the
    raising agency."""
    seat_agencies = GroupMembership.all_seats.filter(group_id=case.group_id).values("agency_id")
    # One query with OR, not a UNION: SQLite refuses the model's default ordering inside one.
    return list(
        Agency.objects.filter(
            Q(is_active=True, pk__in=seat_agencies) | Q(pk=case.raising_agency_id)
        ).order_by("name")
    )


def required_signers(case: Case, *, on: date, youth_also_signs: bool) -> list[tuple[str, int]]:
    """(kind, guardian link id or 0) for everyone who must sign, in order (DESIGN rule 2)."""
    age = case.youth.age_on(on)
    if age >= 18:
        return [(SignerKind.YOUTH, 0)]
    links = list(
        GuardianLink.objects.filter(case=case, has_custody=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not links:
        raise ValidationError(
            _("Record the guardians with custody on the case first: each of them must sign.")
        )
    signers: list[tuple[str, int]] = [(SignerKind.GUARDIAN, pk) for pk in links]
    if youth_also_signs or age >= settings.CONSENT_YOUTH_SIGNS_FROM_AGE:
        signers.append((SignerKind.YOUTH, 0))
    return signers


def consent_create(
    *,
    actor: User,
    case: Case,
    agency_ids: Sequence[int],
    category_ids: Sequence[int],
    valid_from: date,
    valid_until: date,
    youth_also_signs: bool = False,
    language: str = "sv",
) -> Consent:
    if not rules.can_manage_consents(actor, case):
        raise ValidationError(_("You may not obtain consent on this case."))
    errors: dict[str, list[str]] = {}
    allowed = {a.pk: a for a in consent_agency_choices(case)}
    agencies = [allowed[pk] for pk in dict.fromkeys(agency_ids) if pk in allowed]
    if len(agencies) != len(set(agency_ids)) or len(agencies) < 2:
        errors["agencies"] = [_("Choose at least two agencies of the case's collaboration group.")]
    sectors = {a.sector for a in agencies}
    categories = list(
        InformationCategory.objects.filter(
            pk__in=list(category_ids), is_active=True, sector__in=sectors
        )
    )
    if not categories or len(categories) != len(set(category_ids)):
        errors["categories"] = [
            _("Choose at least one information category of the chosen agencies' sectors.")
        ]
    today = timezone.localdate()
    if valid_from < today:
        errors["valid_from"] = [_("A consent cannot start in the past.")]
    elif valid_from > add_months(today, settings.CONSENT_MAX_MONTHS):
        # The signers consent to what is known now; this also keeps the dates computable.
        errors["valid_from"] = [
            _("A consent must start within %(months)s months from today.")
            % {"months": settings.CONSENT_MAX_MONTHS}
        ]
    if valid_until < valid_from:
        errors["valid_until"] = [_("The end date must be on or after the start date.")]
    elif "valid_from" not in errors:
        latest = add_months(valid_from, settings.CONSENT_MAX_MONTHS)
        if valid_until > latest:
            errors["valid_until"] = [
                _(
                    "A consent may run for at most %(months)s months: end it on %(latest)s or "
                    "earlier."
                )
                % {"months": settings.CONSENT_MAX_MONTHS, "latest": latest.isoformat()}
            ]
    if language not in {"sv", "en"}:
        errors["language"] = [_("Choose Swedish or English.")]
    if errors:
        raise ValidationError(errors)
    signers = required_signers(case, on=valid_from, youth_also_signs=youth_also_signs)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        consent = Consent.objects.create(
            case=case,
            youth=case.youth,
            valid_from=_start_of(valid_from),
            # The end date is the last whole day the consent covers.
            valid_until=_start_of(valid_until + timedelta(days=1)),
            youth_signs_from_age=settings.CONSENT_YOUTH_SIGNS_FROM_AGE,
            language=language,
            created_by=actor,
        )
        consent.agencies.set(agencies)
        consent.categories.set(categories)
        created = RequiredSigner.objects.bulk_create(
            [
                RequiredSigner(
                    consent=consent,
                    kind=kind,
                    guardian_link_id=link_id or None,
                    order=order,
                )
                for order, (kind, link_id) in enumerate(signers)
            ]
        )
        audit_record(
            action="consent.created",
            actor=actor,
            obj=consent,
            case_id=case.pk,
            details={
                "agency_ids": sorted(a.pk for a in agencies),
                "category_ids": sorted(c.pk for c in categories),
                "signers": len(signers),
            },
        )
        signer_notice(consent, actor=actor, signers=created, reason=NOTICE_REGISTERED)
    return consent


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
    if method == SignatureMethod.PAPER and evidence is None:
        errors["evidence"] = [_("Upload the scanned, signed form.")]
    if method == SignatureMethod.IN_PERSON and evidence is not None:
        errors["evidence"] = [_("An in-person signature is witnessed; it has no scan.")]
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
            stored = EvidenceFile(
                content_type=checked.content_type,
                size=len(checked.content),
                sha256=checked.sha256,
                uploaded_by=actor,
            )
            stored.content_b64 = base64.b64encode(checked.content).decode("ascii")
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
        signer_notice(locked, actor=actor, signers=[signer], reason=NOTICE_SIGNATURE, method=method)
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
        signer_notice(locked, actor=actor, signers=[signer], reason=NOTICE_REGISTERED)
        later_guardian_notice(locked)
        added.append(signer)
    return added


def consent_withdraw(
    *,
    consent: Consent,
    signer: RequiredSigner,
    method: str,
    actor: User | None,
) -> ConsentWithdrawal:
    """Withdrawal by any signer, in any form, effective from the moment it commits.

    Staff record oral or written withdrawals (``actor``); the portal records the signer's own
    (``actor`` None, method portal). The team and the coordinator are told in the app at once and
    by e-mail after commit.
    """
    if actor is not None:
        if not rules.can_record_withdrawal(actor, consent.case):
            raise ValidationError(_("You may not record a withdrawal on this case."))
        if method not in (WithdrawalMethod.ORAL, WithdrawalMethod.WRITTEN):
            raise ValidationError({"method": [_("Choose how the withdrawal was made.")]})
    elif method != WithdrawalMethod.PORTAL:
        raise ValidationError({"method": [_("Choose how the withdrawal was made.")]})
    if signer.consent_id != consent.pk:
        raise ValidationError({"signer": [_("That person is not a signer of this consent.")]})
    with transaction.atomic():
        locked = _locked(consent)
        if getattr(locked, "withdrawal", None) is not None:
            raise ValidationError(_("This consent has already been withdrawn."))
        if state_at(facts_of(locked), timezone.now()) == State.EXPIRED:
            raise ValidationError(_("This consent has already expired."))
        withdrawal = ConsentWithdrawal.objects.create(
            consent=consent,
            signer=signer,
            method=method,
            withdrawn_at=timezone.now(),
            recorded_by=actor,
        )
        audit_record(
            action="consent.withdrawn",
            actor=actor,
            obj=consent,
            case_id=consent.case_id,
            legal_basis=consent.basis,
            details={"method": method, "signer_kind": signer.kind},
        )
        withdrawal_notice(locked)
    return withdrawal


def disclosures_record(*, crossed: Sequence[tuple[Entry, Decision]]) -> None:
    """Remember the first time each entry reached another agency, and under which basis.

    Called by the case selectors inside their audit transaction; repeats are ignored.
    """
    rows: list[Disclosure] = []
    for entry, decision in crossed:
        if decision.to_agency_id is None:
            continue
        kind, _sep, rest = decision.basis.partition(":")
        if kind == "consent":
            rows.append(
                Disclosure(entry=entry, to_agency_id=decision.to_agency_id, consent_id=int(rest))
            )
        elif kind == "statute":
            rows.append(
                Disclosure(
                    entry=entry,
                    to_agency_id=decision.to_agency_id,
                    statutory_id=int(rest.rsplit(":", 1)[1]),
                )
            )
    if rows:
        Disclosure.objects.bulk_create(rows, ignore_conflicts=True)


def statutory_disclose(
    *,
    actor: User,
    entry: Entry,
    to_agency_id: int,
    basis_code: str,
    justification: str,
    conditions_confirmed: Collection[str] = (),
) -> StatutoryDisclosure:
    """One entry to one agency on the case's team, under a named statutory basis, with a
    written justification. Audited with a review flag: log review looks at every one.

    ``conditions_confirmed`` holds the codes of the basis's conditions the person confirmed
    (DESIGN rule 17); every one of them is needed. The page asks for a fresh password first.
    """
    case = entry.case
    if not rules.can_disclose_statutory(actor, entry):
        raise ValidationError(_("Only the entry's own agency may disclose it."))
    errors: dict[str, list[str]] = {}
    basis = statutory.basis_by_code(basis_code)
    team = {
        m.agency_id: m.agency
        for m in case.team.filter(removed_at__isnull=True).select_related("agency")
    }
    to_agency = team.get(to_agency_id)
    if to_agency is None or to_agency_id == entry.agency_id:
        errors["to_agency"] = [_("Choose another agency on the case's team.")]
    if basis is None:
        errors["basis"] = [_("Choose a statutory basis from the list.")]
    elif to_agency is not None:
        if basis.from_sectors is not None and entry.agency.sector not in basis.from_sectors:
            errors["basis"] = [_("This basis does not allow disclosure from your agency.")]
        elif to_agency.sector not in basis.to_sectors:
            errors["basis"] = [_("This basis does not allow disclosure to that agency.")]
        elif basis.max_age is not None and case.youth.age_on(timezone.localdate()) >= basis.max_age:
            errors["basis"] = [
                _("This basis applies only to a person under %(age)s.") % {"age": basis.max_age}
            ]
    confirmed = set(conditions_confirmed)
    if basis is not None and any(c.code not in confirmed for c in basis.conditions):
        errors["conditions"] = [
            _("Confirm each condition of the provision; without them it does not apply.")
        ]
    justification = justification.strip()
    if len(justification) < 20:
        errors["justification"] = [
            _("Write why the disclosure is necessary and lawful (at least 20 characters).")
        ]
    elif looks_like_identity_number(justification):
        errors["justification"] = [_("Leave identity numbers out of the justification.")]
    if errors:
        with transaction.atomic():
            audit_record(
                action="entry.statutory_disclosure_refused",
                actor=actor,
                obj=entry,
                case_id=case.pk,
                outcome=Outcome.DENIED,
                details={"basis_code": basis_code[:40], "to_agency_id": to_agency_id},
            )
        raise ValidationError(errors)
    with transaction.atomic():
        if StatutoryDisclosure.objects.filter(entry=entry, to_agency_id=to_agency_id).exists():
            raise ValidationError(_("This entry has already been disclosed to that agency."))
        disclosure = StatutoryDisclosure(
            entry=entry,
            to_agency_id=to_agency_id,
            basis_code=basis_code,
            disclosed_by=actor,
            reference=basis.reference if basis else "",
            conditions_confirmed=[
                {"code": c.code, "text": str(c.text)} for c in (basis.conditions if basis else ())
            ],
        )
        disclosure.justification = justification
        disclosure.save()
        audit_record(
            action="entry.disclosed_statutory",
            actor=actor,
            obj=entry,
            case_id=case.pk,
            legal_basis=disclosure.basis,
            details={
                "review": True,
                "basis_code": basis_code,
                "to_agency_id": to_agency_id,
                "disclosure_id": disclosure.pk,
                "reference": disclosure.reference,
                # Flat lists: audit details hold plain values only. The texts are the code's
                # own wording, never anything the person typed.
                "conditions_confirmed": [c["code"] for c in disclosure.conditions_confirmed],
                "conditions_text": [c["text"] for c in disclosure.conditions_confirmed],
            },
        )
    return disclosure
