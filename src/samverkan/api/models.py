from __future__ import annotations

import base64
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.lib.fields import Encrypted


class Scope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A personal access token. Only a SHA-256 digest of its secret is stored.

    The token's text is ``svk_<prefix>_<secret>``: the prefix finds the row without scanning,
    the secret (256 random bits) is compared in constant time against the digest. A slow hash
    adds nothing for a secret of that strength.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def allows(self, scope: Scope | str) -> bool:
        return scope == Scope.READ or self.scope == Scope.WRITE


class IdempotencyKey(models.Model):
    """An API write sent with an ``Idempotency-Key`` header, and once it is done, its answer.

    Keys belong to one token, not to its user: two scripts of one person cannot collide. While
    ``status`` is null the request is in flight. The answer is stored in the same transaction as
    the write it answers, so an answered row exists exactly when the write committed, and an
    unanswered one left behind by a crash proves that the write did not. The answer may carry
    personal data (the response to raising a case holds the identity number), so it is
    encrypted like the rest; rows go 24 hours after they were made (``api.idempotency_prune``).
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    fingerprint = models.CharField(max_length=64)  # SHA-256: content type, query string, body
    # A random id of the request that holds the key: only that request may store the answer,
    # so a request that outlived its claim cannot commit beside the one that took it over.
    attempt = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=20, blank=True)
    body_enc = models.TextField(blank=True)

    body_base64: Encrypted[IdempotencyKey] = Encrypted("body_enc", optional=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_token_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created")]

    def __str__(self) -> str:
        return f"idempotency key {self.pk} of token {self.token_id}"  # no path: it ends up in logs

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_base64)

    @body.setter
    def body(self, value: bytes) -> None:
        self.body_base64 = base64.b64encode(value).decode("ascii")
