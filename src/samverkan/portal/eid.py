"""The interface to an e-ID provider (BankID, Freja eID) for portal login and for signing.

The flow is the one BankID's relying-party API (v6) and Freja's have in common:

1. ``start`` an order — to identify the person (``LOGIN``) or to have them sign a text they are
   shown on their device (``SIGN``). The answer is a reference for the order and the address the
   person's browser goes to next (where a real provider's page shows the animated QR code or
   starts the app on the same device).
2. ``collect`` the order's status, again and again, until it is ``COMPLETE`` or ``FAILED``.
3. A complete order carries the identity number the provider verified and, for a signature,
   the provider's signature over the text, which is kept as evidence.

The application never asks the person for their identity number: the provider tells it. The
reference is bound to the browser session that started the order (the portal keeps it in the
session, never takes it from the request), so a reference seen by someone else gets them
nothing. docs/consent.md ("Guardian portal and e-ID") says what a production provider must do.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class EidPurpose(enum.StrEnum):
    LOGIN = "login"
    SIGN = "sign"


class EidStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"


class EidError(Exception):
    """The provider refused to start an order, or could not be reached."""


@dataclass(frozen=True)
class EidStart:
    reference: str  # the provider's order reference (BankID orderRef); never personal data
    launch_url: str  # where the person's browser goes to identify or sign
    expires_at: datetime


@dataclass(frozen=True)
class EidCompletion:
    """What a complete order proves. ``identity_number`` is the twelve-digit number the
    provider verified; it is used to find the person and then dropped, never logged."""

    provider: str
    reference: str
    identity_number: str
    completed_at: datetime
    # For a signature: the provider's signature over the text, and the SHA-256 of the text the
    # person was shown. Empty for a login.
    signature: str = ""
    signed_text_sha256: str = ""


@dataclass(frozen=True)
class EidResult:
    status: EidStatus
    # The provider's hint or failure code, mapped to: "outstanding", "user_cancel", "expired",
    # "already_collected", "unknown_order", "failed".
    hint: str = ""
    completion: EidCompletion | None = None


@runtime_checkable
class EidProvider(Protocol):
    name: str  # stored with each electronic signature (ConsentSignature.eid_provider)

    def start(self, *, purpose: EidPurpose, end_user_ip: str, text_to_sign: str = "") -> EidStart:
        """Start an order. ``text_to_sign`` is required for SIGN and shown to the person
        exactly as given; it must not hold identity numbers."""
        ...

    def collect(self, reference: str) -> EidResult:
        """The order's status. A complete order is handed out once: a second collect of the
        same reference answers FAILED with hint "already_collected"."""
        ...

    def cancel(self, reference: str) -> None:
        """Abandon a pending order (the person pressed cancel in the portal)."""
        ...


def text_sha256(text: str) -> str:
    """The hash a signature is checked against: of the NFC form, so that the same visible text
    always hashes the same way."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode()).hexdigest()


def get_provider() -> EidProvider:
    """The configured provider: ``development`` (never in production: settings refuse it) or the
    dotted path of a provider class, such as a BankID or Freja implementation."""
    name = settings.EID_PROVIDER
    if name == "development":
        from samverkan.portal.eid_dev import DevelopmentProvider

        return DevelopmentProvider()
    if not name:
        raise ImproperlyConfigured("SAMVERKAN_EID_PROVIDER is not set: e-ID is not available")
    provider = import_string(name)()
    if not isinstance(provider, EidProvider):
        raise ImproperlyConfigured(f"{name} does not implement the e-ID provider interface")
    return provider


def is_available() -> bool:
    return bool(settings.EID_PROVIDER)


def is_development() -> bool:
    return bool(settings.EID_PROVIDER == "development")
