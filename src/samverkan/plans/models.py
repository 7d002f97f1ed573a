"""The action plan (*handlingsplan*) of an SSPF case: goals, interventions per agency, follow-ups.

The plan is the team's joint plan: every team member reads all of it, whichever agency wrote it.
Free text (goals, what an intervention is, its outcome) is therefore encrypted at rest, bound to
its row, and screened for names while the case is pseudonymous (``plans.services``). Reads go
through ``plans.selectors``, which start from ``cases.selectors.case_open``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.cases.models import Case
from samverkan.lib.fields import Encrypted
from samverkan.organisations.models import Agency


class ActionPlan(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="action_plan")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")

    def __str__(self) -> str:
        return f"plan {self.pk} (case {self.case_id})"


class Goal(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="goals")
    text_enc = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)
    achieved = models.BooleanField(_("achieved"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    text: Encrypted[Goal] = Encrypted("text_enc")

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return f"goal {self.pk}"  # never the text: str() ends up in logs


class InterventionKind(models.TextChoices):
    SCHOOL_SUPPORT = "school_support", _("Support in school")
    FAMILY_SUPPORT = "family_support", _("Social services support to the family")
    LEISURE_ACTIVITY = "leisure_activity", _("Leisure activity")
    CONCERN_TALK = "concern_talk", _("Police talk with the youth and guardians (concern talk)")
    OTHER = "other", _("Other")


class InterventionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ONGOING = "ongoing", _("Ongoing")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Intervention(models.Model):
    """What one agency does under the plan. Only that agency's team members change it."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="interventions")
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=InterventionKind.choices)
    description_enc = models.TextField(blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible"),
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=InterventionStatus.choices,
        default=InterventionStatus.PLANNED,
    )
    outcome_enc = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    description: Encrypted[Intervention] = Encrypted("description_enc", optional=True)
    outcome: Encrypted[Intervention] = Encrypted("outcome_enc", optional=True)

    class Meta:
        ordering = ["agency__name", "start_date", "pk"]
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="intervention_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"intervention {self.pk}"


class FollowUpDate(models.Model):
    """When the team and the family meet to see how the plan is going."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="follow_ups")
    date = models.DateField(_("date"))
    done = models.BooleanField(_("done"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("follow-up date")
        verbose_name_plural = _("follow-up dates")
        constraints = [
            models.UniqueConstraint(fields=["plan", "date"], name="one_follow_up_per_plan_and_date")
        ]

    def __str__(self) -> str:
        return f"follow-up {self.pk} on {self.date}"
