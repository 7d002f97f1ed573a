"""Records management: log reviews and legal holds (DESIGN rules 9 and 11)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.cases.models import Case


class LogReview(models.Model):
    """One recorded review of the access log (*loggkontroll*), signed off by an auditor."""

    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    # The filters the review used, as the form gave them (never an identity number).
    scope = models.JSONField(_("scope"), default=dict, blank=True)
    flagged_events = models.PositiveIntegerField(_("flagged events"), default=0)
    findings = models.TextField(_("findings"))
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(_("signed off"), default=timezone.now)

    class Meta:
        ordering = ["-period_end", "-pk"]
        verbose_name = _("log review")
        verbose_name_plural = _("log reviews")

    def __str__(self) -> str:
        return f"log review {self.pk}"


class LegalHold(models.Model):
    """A case that retention must not purge, and why."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="legal_hold")
    reason = models.TextField(_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self) -> str:
        return f"legal hold on case {self.case_id}"
