"""Meetings of a collaboration group: agenda items per case, attendance, minutes and actions.

Every member of the group reads a meeting, whichever agency they sit for, so a case appears
here only by its pseudonym and the free text (minutes, action text) is screened for names and
identity numbers before it is saved. Minutes and action text are stored encrypted, bound to
their row, like the journal.
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
from samverkan.organisations.models import Agency, CollaborationGroup


class Meeting(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(
        CollaborationGroup,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("group"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # Goes into calendar invitations that leave the system: a room, never a person.
    location = models.CharField(_("location"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"meeting {self.pk} of group {self.group_id}"


class AgendaItem(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="agenda_items")
    order = models.PositiveSmallIntegerField()
    minutes_enc = models.TextField(blank=True)
    minutes_revision = models.PositiveIntegerField(default=0)
    minutes_recorded_at = models.DateTimeField(null=True, blank=True)
    # Rule 16: the youth was discussed without a consent covering the group. That it happened is
    # recorded; what was said is not (no minutes, no decisions).
    discussed_anonymously_at = models.DateTimeField(null=True, blank=True)

    minutes: Encrypted[AgendaItem] = Encrypted("minutes_enc", optional=True)

    class Meta:
        ordering = ["meeting", "order", "pk"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "case"], name="agenda_case_once_per_meeting"
            ),
            models.CheckConstraint(
                condition=Q(discussed_anonymously_at__isnull=True) | Q(minutes_enc=""),
                name="agenda_anonymous_without_minutes",
            ),
        ]

    def __str__(self) -> str:
        return f"agenda item {self.pk} of meeting {self.meeting_id}"


class Attendance(models.Model):
    """A person invited to a meeting for one agency; ``present`` None means not yet recorded."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"), null=True, blank=True)

    class Meta:
        ordering = ["meeting", "agency__name", "user__last_name", "user__first_name", "pk"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user", "agency"], name="attendance_once_per_seat"
            )
        ]

    def __str__(self) -> str:
        return f"attendance {self.user_id}/{self.agency_id} at meeting {self.meeting_id}"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.Model):
    """A decision taken on an agenda item: who does what by when."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="actions")
    text_enc = models.TextField()
    responsible_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible agency")
    )
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="meeting_actions",
        null=True,
        blank=True,
        verbose_name=_("responsible person"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    text: Encrypted[Action] = Encrypted("text_enc")

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")

    def __str__(self) -> str:
        return f"action {self.pk} on agenda item {self.agenda_item_id}"
