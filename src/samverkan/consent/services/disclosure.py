"""Withdrawing a consent, and disclosing an entry under a statutory basis."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import Entry
from samverkan.consent import rules
from samverkan.consent.models import (
    Consent,
    ConsentWithdrawal,
    RequiredSigner,
    StatutoryDisclosure,
    WithdrawalMethod,
)
from samverkan.consent.notices import (
    withdrawal_notice,
)
from samverkan.consent.services.signatures import (
    _locked,
)
from samverkan.disclosure import statutory
from samverkan.disclosure.facts import facts_of
from samverkan.disclosure.policy import State, state_at
from samverkan.lib.personnummer import looks_like_identity_number


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


def _statutory_errors(
    entry: Entry,
    basis: statutory.StatutoryBasis | None,
    to_agency_id: int,
    conditions_confirmed: Collection[str],
) -> dict[str, list[str]]:
    """What is wrong with a statutory disclosure's recipient, basis and conditions, by field."""
    case = entry.case
    errors: dict[str, list[str]] = {}
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
    return errors


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
    basis = statutory.basis_by_code(basis_code)
    errors = _statutory_errors(entry, basis, to_agency_id, conditions_confirmed)
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
