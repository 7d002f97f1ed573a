"""What every agreement service shares: the checks of text and dates, the lock, and
``_record``, which audits a change and writes the next version."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.promises import rules
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    AgreementVersion,
)
from samverkan.promises.services.snapshot import snapshot

MAX_TEXT = 5000
MAX_TARGET = 100_000
# Shared with the page and the API, which refuse the same request before calling the service.
ASSESS_OWN_PARTY_ONLY = gettext_lazy(
    "Only an agreement editor of the agency that speaks for the party records its assessment."
)


# --- Helpers ---------------------------------------------------------------------------------


def _require_editor(actor: User, agreement: Agreement) -> None:
    if not rules.can_edit_agreement(actor, agreement):
        raise ValidationError(_("Only an agreement editor of the municipality changes it."))


def _require_open(agreement: Agreement) -> None:
    if agreement.status == AgreementStatus.ASSESSED:
        raise ValidationError(
            _("The agreement has been assessed: its content can no longer change.")
        )


def _text(value: str, field: str, *, required: bool, message: str = "") -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [message or _("This field is required.")]})
    if len(value) > MAX_TEXT:
        raise ValidationError(
            {field: [_("Keep it shorter than %(max)d characters.") % {"max": MAX_TEXT}]}
        )
    return value


def _public_text(value: str, field: str, *, required: bool, message: str = "") -> str:
    """``_text`` for text the public will read: refused when it holds an identity number."""
    value = _text(value, field, required=required, message=message)
    if looks_like_identity_number(value):
        raise ValidationError(
            {
                field: [
                    _(
                        "This text is published: remove what looks like a personal identity "
                        "number. Write about the work, never about a person."
                    )
                ]
            }
        )
    return value


def _not_future(value: date, field: str) -> date:
    if value > timezone.localdate():
        raise ValidationError({field: [_("The date cannot be in the future.")]})
    return value


def _not_before_start(value: date, field: str, agreement: Agreement) -> None:
    """Work under an agreement, and its assessment, belong to its period; call with the locked
    row (the start no longer changes after signing, and these come only after it)."""
    if value < agreement.period_start:
        raise ValidationError(
            {
                field: [
                    _("The date cannot be before the agreement's period starts (%(start)s).")
                    % {"start": agreement.period_start.isoformat()}
                ]
            }
        )


def _lock(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update().get(pk=agreement.pk)


def _record(
    *,
    actor: User | None,
    agreement: Agreement,
    action: str,
    obj: models.Model | None = None,
    details: Mapping[str, Any] | None = None,
) -> AgreementVersion:
    """Audit the change and write the next version; call inside the service's transaction."""
    agreement.updated_at = timezone.now()
    Agreement.objects.filter(pk=agreement.pk).update(updated_at=agreement.updated_at)
    audit_record(
        action=f"agreement.{action}",
        actor=actor,
        obj=obj or agreement,
        details={"agreement_id": agreement.pk, **(details or {})},
    )
    last = AgreementVersion.objects.filter(agreement=agreement).aggregate(n=Max("number"))["n"]
    return AgreementVersion.objects.create(
        agreement=agreement,
        number=(last or 0) + 1,
        action=action,
        snapshot=snapshot(agreement),
        created_by=actor,
    )


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationError({"period_end": [_("The period cannot end before it starts.")]})


def _check_target(target_count: int | None, target_unit: str) -> str:
    target_unit = target_unit.strip()
    if target_count is not None and not 0 < target_count <= MAX_TARGET:
        raise ValidationError({"target_count": [_("A target is a whole number above zero.")]})
    if target_count is None and target_unit:
        raise ValidationError({"target_count": [_("Give the number the unit counts.")]})
    if len(target_unit) > 100:
        raise ValidationError({"target_unit": [_("Keep the unit short.")]})
    return target_unit
