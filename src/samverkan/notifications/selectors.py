"""Reads of notifications: always the viewer's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet
from django.http import Http404

from samverkan.lib.compiled import CompiledValues
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


def _unread(user_id: int) -> QuerySet[Any, Any]:
    return (
        Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("n")
    )


# Counted on every page that shows the navigation: compiled once per process (lib/compiled.py).
_UNREAD = CompiledValues(_unread)


def unread_count(*, viewer: User) -> int:
    rows = _UNREAD.rows(viewer.pk)
    return int(rows[0][0]) if rows else 0
