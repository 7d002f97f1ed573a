"""The guardian portal's own tables: one-time login codes and the development e-ID's orders.

They were born in the consent app and keep its table names (``consent_portallogincode``,
``consent_eidorder``): the move to this app changed Django's state only (portal migration
0001, consent migration 0006), not the database. An ``EidOrder``'s encrypted values keep the
``consent.eidorder`` label in their associated data, so orders written before the move decrypt.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from samverkan.lib.fields import Encrypted

# Where ``EidOrder`` lived when its first values were encrypted (see the module's docstring).
_OLD_LABEL = "consent.eidorder"


class PortalLoginCode(models.Model):
    """A six-digit code sent by e-mail to log in to the portal.

    Only a keyed hash of the code is kept (bound to the row's ``uid``), and only the keyed hash
    of the address typed: a row is written whether or not the address is known, so that the
    answer, the lockout and the rate limit are the same for every address.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "consent_portallogincode"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"portal code {self.pk}"


class EidOrderStatus(models.TextChoices):
    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"


class EidOrder(models.Model):
    """An identification or signing order of the *development* e-ID provider (``portal.eid_dev``).

    It stands in for the order a real provider (BankID, Freja) keeps on its side: the reference
    the browser session holds, what is to be signed, and — once the "person" approves — the
    identity number they typed, encrypted, with its keyed hash. Kept afterwards as the evidence
    behind an electronic signature (``ConsentSignature.eid_reference`` names the order).
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=10)  # eid.EidPurpose
    text_enc = models.TextField(blank=True)
    text_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=EidOrderStatus.choices, default=EidOrderStatus.PENDING
    )
    hint = models.CharField(max_length=40, blank=True)
    identity_number_enc = models.TextField(blank=True)
    identity_number_hash = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)

    text: Encrypted[EidOrder] = Encrypted("text_enc", optional=True, label=_OLD_LABEL)
    identity_number: Encrypted[EidOrder] = Encrypted(
        "identity_number_enc", optional=True, label=_OLD_LABEL
    )

    class Meta:
        db_table = "consent_eidorder"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"e-ID order {self.pk}"
