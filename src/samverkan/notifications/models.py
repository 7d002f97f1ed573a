from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What a notification is about. Each kind has its message in kinds.py."""

    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    CONSENT_EXPIRING = "consent_expiring", _("Consent ending soon")
    CONSENT_EXPIRED = "consent_expired", _("Consent ended")
    CONSENT_SIGNERS_CHANGE = "consent_signers_change", _("Consent signers change")
    CONSENT_AWAITING_YOUTH = "consent_awaiting_youth", _("Consent awaits the youth's signature")
    CONSENT_AWAITING_GUARDIAN = (
        "consent_awaiting_guardian",
        _("Consent awaits a new guardian's signature"),
    )
    LOG_REVIEW_DUE = "log_review_due", _("Log review due")


class Notification(models.Model):
    """A message to one staff member, in the app and (usually) by e-mail.

    It holds no free text: the kind and a few checked parameters (a case's pseudonym, an id, a
    date, a number) are turned into words when shown, in the reader's language (kinds.py). So a
    notification can never carry a youth's name or identity number, and the e-mail that repeats
    it carries none either.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_created"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notif_recipient_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def message(self) -> str:
        """The text in the active language."""
        from samverkan.notifications.kinds import render_message

        return render_message(self.kind, self.params)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
