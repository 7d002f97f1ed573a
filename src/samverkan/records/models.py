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


class PartialPurge(models.Model):
    """A closed case some of whose record types retention has already removed (their own,
    shorter periods). Its statistics facts are frozen from then on: a rebuild would count the
    meetings and reports of concern that are gone as never held."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="partial_purge")
    first_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"partial purge of case {self.case_id}"


class DormancyNotice(models.Model):
    """The coordinator was told that an open case had no activity since ``last_activity_at``.

    One per case and quiet spell: new activity moves the case's last activity on, so a later
    spell gets its own notice, and the job never tells of the same spell twice."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    last_activity_at = models.DateTimeField()
    notified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "last_activity_at"], name="dormancy_notice_once_per_spell"
            )
        ]

    def __str__(self) -> str:
        return f"dormancy notice for case {self.case_id}"
