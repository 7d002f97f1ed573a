"""Helpers for DESIGN rule 16: give a case's agencies the consent (or statutory disclosure) that
lets them read its content, through the real services.

Tests that exercise something else on content (plans, minutes, decisions) call these, so that
what they test is not the absence of a consent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.cases.models import Case, Entry, GuardianLink, InformationCategory
from samverkan.cases.services import entry_add, guardian_add
from samverkan.consent.models import (
    Consent,
    ConsentWithdrawal,
    RequiredSigner,
    SignatureMethod,
    StatutoryDisclosure,
    WithdrawalMethod,
)
from samverkan.consent.services import (
    consent_create,
    consent_withdraw,
    signature_record,
    statutory_disclose,
)
from samverkan.disclosure import statutory
from samverkan.organisations.models import Agency

# Fictional, valid in form (the check digit is right).
GUARDIAN_NUMBER = "19800101-1231"
GUARDIAN_NAME = "Maria Testberg"


def _category_of(sector: str) -> InformationCategory:
    """An active category of ``sector``: a seeded one, or, where a browser test's database flush
    emptied the seeded list (transactional tests), one put back for the test."""
    found = InformationCategory.objects.filter(sector=sector, is_active=True).first()
    if found is None:
        found, _ = InformationCategory.objects.get_or_create(
            sector=sector, code="test", defaults={"label_sv": "Test", "label_en": "Test"}
        )
    return found


def consent_covering(
    case: Case, agencies: Sequence[Agency], *, actor: User, months: int = 6
) -> Consent:
    """An active consent on ``case`` naming ``agencies`` and one category of each one's sector.

    ``actor`` sits on the team for the raising agency: they add a guardian with custody when the
    case has none, create the consent and record each signature in person.
    """
    if not GuardianLink.objects.filter(case=case, has_custody=True).exists():
        guardian_add(
            actor=actor,
            case=case,
            name=GUARDIAN_NAME,
            has_custody=True,
            identity_number=GUARDIAN_NUMBER,
            email="",
        )
    sectors = {a.sector for a in agencies}
    categories = [_category_of(sector) for sector in sectors]
    today = timezone.localdate()
    consent = consent_create(
        actor=actor,
        case=case,
        agency_ids=[a.pk for a in agencies],
        category_ids=[c.pk for c in categories],
        valid_from=today,
        valid_until=today + dt.timedelta(days=30 * months),
    )
    for signer in RequiredSigner.objects.filter(consent=consent).order_by("order"):
        signature_record(actor=actor, signer=signer, method=SignatureMethod.IN_PERSON)
    return consent


def withdraw(consent: Consent, *, actor: User) -> ConsentWithdrawal:
    signer = RequiredSigner.objects.filter(consent=consent).order_by("order")[0]
    return consent_withdraw(
        consent=consent, signer=signer, method=WithdrawalMethod.ORAL, actor=actor
    )


def statutory_covering(
    case: Case,
    *,
    actor: User,
    from_agency: Agency,
    to_agency: Agency,
    basis_code: str = "concern_report",
) -> StatutoryDisclosure:
    """A new journal entry of ``from_agency`` disclosed to ``to_agency`` under ``basis_code``
    (by default a report of concern to social services), with every condition confirmed."""
    category = _category_of(from_agency.sector)
    entry: Entry = entry_add(
        actor=actor,
        case=case,
        agency=from_agency,
        category=category,
        text="Oro för närvaron, anmälan görs.",
    )
    basis = statutory.basis_by_code(basis_code)
    assert basis is not None
    return statutory_disclose(
        actor=actor,
        entry=entry,
        to_agency_id=to_agency.pk,
        basis_code=basis_code,
        justification="Uppgiften behövs enligt den angivna bestämmelsen.",
        conditions_confirmed=[c.code for c in basis.conditions],
    )


def sign_pending(case: Case, *, actor: User) -> None:
    """Every signer still missing on the case's consents signs in person: after a guardian with
    custody joins, the consent covers nothing new until they have signed too."""
    for signer in RequiredSigner.objects.filter(consent__case=case, signature__isnull=True):
        signature_record(actor=actor, signer=signer, method=SignatureMethod.IN_PERSON)
