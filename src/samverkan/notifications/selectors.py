"""Reads of notifications: always the viewer's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from samverkan.notifications.models import Notification

if TYPE_CHECKING:
    from samverkan.accounts.models import User


def notification_list(*, viewer: User) -> QuerySet[Notification]:
    """The viewer's notifications, newest first."""
    return Notification.objects.filter(recipient=viewer).order_by("-created_at", "-pk")


def notification_get(*, viewer: User, pk: int) -> Notification:
    """One of the viewer's notifications; anyone else's answers 404, like a missing one."""
    try:
        return notification_list(viewer=viewer).get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None


def unread_count(*, viewer: User) -> int:
    return Notification.objects.filter(recipient=viewer, read_at__isnull=True).count()
