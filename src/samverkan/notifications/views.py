"""The notifications page: the signed-in user's own notifications, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from samverkan.lib.http import acting_user, require_visible
from samverkan.notifications.rules import can_view_notifications
from samverkan.notifications.selectors import notification_get, notification_list
from samverkan.notifications.services import notification_mark_all_read, notification_mark_read

PAGE_SIZE = 25


@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_notifications, user)
    page = Paginator(notification_list(viewer=user), PAGE_SIZE).get_page(request.GET.get("page"))
    has_unread = any(not n.is_read for n in page)
    return render(request, "notifications/list.html", {"page": page, "has_unread": has_unread})


@require_POST
def notification_read_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_notifications, user)
    notification_mark_read(actor=user, notification=notification_get(viewer=user, pk=pk))
    return redirect("notifications:list")


@require_POST
def notification_read_all_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_notifications, user)
    if notification_mark_all_read(actor=user):
        messages.success(request, _("All your notifications are marked as read."))
    return redirect("notifications:list")
