"""The development e-ID provider: a stand-in for BankID or Freja in development, demo and tests.

It identifies nobody. Its "app" is a page of the portal (``/portal/eid/dev/<reference>/``) on
which whoever holds the order's reference types any valid identity number and approves or
cancels. Orders live in ``EidOrder``, expire after five minutes and are handed out once.
Settings refuse this provider in production.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.lib import personnummer
from samverkan.lib.fields import search_hash
from samverkan.portal.eid import (
    EidCompletion,
    EidError,
    EidPurpose,
    EidResult,
    EidStart,
    EidStatus,
    text_sha256,
)
from samverkan.portal.models import EidOrder, EidOrderStatus

ORDER_LIFETIME = timedelta(minutes=5)
NAME = "development"


class DevelopmentProvider:
    name = NAME

    def start(self, *, purpose: EidPurpose, end_user_ip: str, text_to_sign: str = "") -> EidStart:
        if purpose == EidPurpose.SIGN and not text_to_sign.strip():
            raise EidError("a signing order needs the text to sign")
        now = timezone.now()
        order = EidOrder(
            reference=secrets.token_urlsafe(32),
            purpose=str(purpose),
            text_sha256=text_sha256(text_to_sign) if purpose == EidPurpose.SIGN else "",
            created_at=now,
            expires_at=now + ORDER_LIFETIME,
        )
        order.text = text_to_sign if purpose == EidPurpose.SIGN else ""
        order.save()
        return EidStart(
            reference=order.reference,
            launch_url=reverse("portal:eid_dev", args=[order.reference]),
            expires_at=order.expires_at,
        )

    def collect(self, reference: str) -> EidResult:
        with transaction.atomic():
            order = EidOrder.objects.select_for_update().filter(reference=reference).first()
            if order is None:
                return EidResult(EidStatus.FAILED, "unknown_order")
            now = timezone.now()
            if order.collected_at is not None:
                return EidResult(EidStatus.FAILED, "already_collected")
            if order.status == EidOrderStatus.FAILED:
                return EidResult(EidStatus.FAILED, order.hint or "failed")
            if now >= order.expires_at:
                order.status, order.hint = EidOrderStatus.FAILED, "expired"
                order.save(update_fields=["status", "hint"])
                return EidResult(EidStatus.FAILED, "expired")
            if order.status == EidOrderStatus.PENDING:
                return EidResult(EidStatus.PENDING, "outstanding")
            order.collected_at = now
            order.save(update_fields=["collected_at"])
            assert order.completed_at is not None  # noqa: S101 (complete implies a time)
            return EidResult(
                EidStatus.COMPLETE,
                completion=EidCompletion(
                    provider=NAME,
                    reference=order.reference,
                    identity_number=order.identity_number,
                    completed_at=order.completed_at,
                    signature=order.signature,
                    signed_text_sha256=order.text_sha256,
                ),
            )

    def cancel(self, reference: str) -> None:
        EidOrder.objects.filter(reference=reference, status=EidOrderStatus.PENDING).update(
            status=EidOrderStatus.FAILED, hint="user_cancel"
        )


@dataclass(frozen=True)
class DevOrderView:
    """What the development "app" page shows of an order."""

    reference: str
    purpose: str
    text: str
    status: str
    hint: str
    expired: bool


def order_view(reference: str) -> DevOrderView | None:
    order = EidOrder.objects.filter(reference=reference).first()
    if order is None:
        return None
    return DevOrderView(
        reference=order.reference,
        purpose=order.purpose,
        text=order.text,
        status=order.status,
        hint=order.hint,
        expired=timezone.now() >= order.expires_at,
    )


def _pending(reference: str) -> EidOrder:
    order = EidOrder.objects.select_for_update().filter(reference=reference).first()
    if order is None:
        raise ValidationError(_("This e-ID order does not exist."))
    if order.status != EidOrderStatus.PENDING:
        raise ValidationError(_("This e-ID order has already been answered."))
    if timezone.now() >= order.expires_at:
        raise ValidationError(_("This e-ID order has expired. Start again from the portal."))
    return order


def order_approve(*, reference: str, identity_number: str) -> None:
    """The "person" approves with the identity number they typed (validated, never echoed)."""
    try:
        parsed = personnummer.parse(identity_number, today=timezone.localdate())
    except personnummer.IdentityNumberError as exc:
        raise ValidationError({"identity_number": [str(exc.message)]}) from None
    with transaction.atomic():
        order = _pending(reference)
        order.status = EidOrderStatus.COMPLETE
        order.completed_at = timezone.now()
        order.identity_number = parsed.digits
        order.identity_number_hash = search_hash("eid", parsed.digits)
        # Not a signature: a keyed hash that ties the order, the text and the number together,
        # standing where a real provider's signature (BankID: XML-DSig) would.
        order.signature = search_hash(
            "eid_dev_signature", f"{order.reference}:{order.text_sha256}:{parsed.digits}"
        )
        order.save()


def order_cancel(*, reference: str) -> None:
    with transaction.atomic():
        order = _pending(reference)
        order.status, order.hint = EidOrderStatus.FAILED, "user_cancel"
        order.save(update_fields=["status", "hint"])
