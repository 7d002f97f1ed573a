"""Every write of consent data: create, sign, withdraw, disclose under statute.

Each service locks the consent row (or the case) it changes, so two signatures or a signature
and a withdrawal cannot interleave, and writes its audit event in the same transaction.

The package: ``consents`` (creating, the signers' notice), ``signatures`` (signing,
confirming, later signers, the reminders' claim), ``disclosure`` (withdrawal, statutory
disclosure) and ``bulk`` (many rows at once, for the synthetic data set).
"""

from __future__ import annotations

from samverkan.consent.services.bulk import (
    CONSENT_TABLES,
    consents_create_bulk,
    signature_prepare,
)
from samverkan.consent.services.consents import (
    add_months,
    consent_agency_choices,
    consent_create,
    required_signers,
    signer_plan,
    signers_notify,
)
from samverkan.consent.services.disclosure import (
    consent_withdraw,
    statutory_disclose,
)
from samverkan.consent.services.signatures import (
    evidence_prepare,
    guardian_joins_consents,
    reminder_send_once,
    signature_confirm,
    signature_record,
    signature_record_electronic,
    youth_cosigner_ensure,
)

__all__ = [
    "CONSENT_TABLES",
    "add_months",
    "consent_agency_choices",
    "consent_create",
    "consent_withdraw",
    "consents_create_bulk",
    "evidence_prepare",
    "guardian_joins_consents",
    "reminder_send_once",
    "required_signers",
    "signature_confirm",
    "signature_prepare",
    "signature_record",
    "signature_record_electronic",
    "signer_plan",
    "signers_notify",
    "statutory_disclose",
    "youth_cosigner_ensure",
]
