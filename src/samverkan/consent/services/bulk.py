"""Many rows at once, for the synthetic data set (``samverkan.synth``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
)
from samverkan.consent.services.signatures import (
    _evidence_errors,
)
from samverkan.lib.bulk import Rows, insert_in_order

# Many rows at once, for the synthetic data set (``samverkan.synth``): rows made with the rules
# above (``signer_plan``, ``evidence_prepare``, ``signature_prepare``); the caller appends the
# audit events with ``audit.services.append_bulk``.

CONSENT_TABLES: tuple[type[models.Model], ...] = (
    Consent,
    Consent.agencies.through,
    Consent.categories.through,
    RequiredSigner,
    EvidenceFile,
    ConsentSignature,
    ConsentWithdrawal,
)


def signature_prepare(
    *,
    signer: RequiredSigner,
    method: str,
    at: datetime,
    staff: User | None,
    evidence: EvidenceFile | None = None,
    eid_provider: str = "",
    eid_reference: str = "",
) -> ConsentSignature:
    """An unsaved signature given at ``at``, as the services record one: on paper with the scan
    or witnessed in person, recorded by staff; electronic through an e-ID provider."""
    errors = _evidence_errors(method, has_evidence=evidence is not None)
    electronic = method == SignatureMethod.ELECTRONIC
    if electronic != (staff is None) or (electronic and not (eid_provider and eid_reference)):
        errors["method"] = [
            _("Staff record paper or in-person signatures; electronic ones come from e-ID.")
        ]
    if errors:
        raise ValidationError(errors)
    return ConsentSignature(
        signer=signer,
        method=method,
        signed_at=at,
        signed_on=timezone.localtime(at).date(),
        recorded_at=at,
        recorded_by=staff,
        witness=staff if method == SignatureMethod.IN_PERSON else None,
        evidence=evidence,
        eid_provider=eid_provider,
        eid_reference=eid_reference,
    )


def consents_create_bulk(rows: Rows) -> Counter[str]:
    """Write the rows of the consent tables among ``rows``, parents first."""
    return insert_in_order(CONSENT_TABLES, rows)
