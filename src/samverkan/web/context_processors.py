from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.rules import can_view_users
from samverkan.indicators.rules import can_view_indicators
from samverkan.lib.redact import safe_return_path
from samverkan.notifications.rules import can_view_notifications
from samverkan.notifications.selectors import unread_count
from samverkan.organisations.rules import can_manage_organisations, roles_of, standing_seats
from samverkan.promises.rules import can_view_agreements
from samverkan.records.rules import (
    can_export_subject_data,
    can_manage_legal_holds,
    can_review_log,
)
from samverkan.stats.rules import can_view_statistics


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation links, chosen by the same rules that guard the pages."""
    user = getattr(request, "user", None)
    items: list[tuple[str, Any]] = []
    badges: dict[str, Any] = {}
    if user is not None and user.is_authenticated and roles_of(user):
        items.append((reverse("web:home"), _("Start")))
        if can_view_notifications(user):
            url = reverse("notifications:list")
            items.append((url, _("Notifications")))
            # Counted only when a page shows the navigation: one query, none for fragments.
            badges[url] = SimpleLazyObject(lambda: unread_count(viewer=user))
        if roles_of(user) & {"practitioner", "coordinator"}:
            items.append((reverse("cases:list"), _("Cases")))
        if standing_seats(user):  # the same seats as meetings.rules.sits_in_any_group
            items.append((reverse("meetings:list"), _("Meetings")))
        if can_view_agreements(user):
            items.append((reverse("promises:list"), _("Agreements")))
        if can_view_indicators(user):
            items.append((reverse("indicators:list"), _("Indicators")))
        if can_view_statistics(user):
            items.append((reverse("stats:dashboard"), _("Statistics")))
        if can_view_users(user):
            items.append((reverse("accounts:user_list"), _("Users")))
        if can_manage_organisations(user):
            items.append((reverse("organisations:agency_list"), _("Agencies")))
        if can_review_log(user):
            items.append((reverse("records:review"), _("Audit log")))
        if can_manage_legal_holds(user):
            items.append((reverse("records:holds"), _("Legal holds")))
        if can_export_subject_data(user):
            items.append((reverse("records:subject_export"), _("Data-subject export")))
        items.append((reverse("api:token_list"), _("API tokens")))
    path = request.path
    return {
        "nav_items": [
            {
                "url": url,
                "label": label,
                "current": path == url or (url != "/" and path.startswith(url)),
                "unread": badges.get(url, 0),
            }
            for url, label in items
        ]
    }


def return_path(request: HttpRequest) -> dict[str, Any]:
    """``return_path``: where a form such as the language switch sends the user back to.

    The path without its query string, and the start page instead of a path holding an identity
    number: a page must not repeat a number typed into the address bar.
    """
    return {"return_path": safe_return_path(request.path)}
