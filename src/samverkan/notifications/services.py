"""Writes to notifications, and the e-mail that repeats each one.

Notifications are not audited, deliberately. The audit log records access to personal data and
changes of it (DESIGN rule 8); a notification holds none (kinds.py lets only pseudonyms, ids,
numbers and dates in), and it is made inside the service whose action it reports, which audits
that action in the same transaction (a withdrawal writes its own ``consent.withdrawn`` event).
Marking one read changes only the reader's own inbox.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.lib.redact import exception_summary
from samverkan.notifications.kinds import (
    NotificationParamError,
    clean_params,
    render_message,
    render_subject,
)
from samverkan.notifications.models import Notification, NotificationKind

if TYPE_CHECKING:
    from samverkan.accounts.models import User

logger = logging.getLogger("samverkan.notifications")

# A path on this site: no scheme, no host, no query string or fragment (either could carry
# personal data into browser history and e-mail).
_LINK = re.compile(r"^/(?!/)[A-Za-z0-9/_.\-]*$")


def _clean_link(link: str) -> str:
    if not link:
        return ""
    if len(link) > 200 or not _LINK.fullmatch(link) or looks_like_identity_number(link):
        raise NotificationParamError("link must be a path on this site, like /cases/12/")
    return link


def notify(
    *,
    recipients: Iterable[User],
    kind: NotificationKind | str,
    params: Mapping[str, object] | None = None,
    link: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notify each active recipient once, in the app and, after commit, by e-mail.

    ``params`` must be exactly the parameters of ``kind`` (kinds.py); ``link`` is a path on this
    site such as ``reverse("cases:detail", args=[case.pk])``. Call it inside the service that
    does the action: the rows commit or roll back with it, and no e-mail goes out for an action
    that rolled back.
    """
    clean = clean_params(str(kind), params or {})
    link = _clean_link(link)
    unique: dict[int, User] = {}
    for user in recipients:
        if user.is_active:
            unique.setdefault(user.pk, user)
    if not unique:
        return []
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            Notification(recipient=user, kind=str(kind), params=clean, link=link)
            for user in unique.values()
        )
        if email:
            transaction.on_commit(lambda: _send_emails(notifications))
    return notifications


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}{path}"


def _email(notification: Notification) -> EmailMessage:
    # Staff accounts have no language of their own: Swedish, the language of the service, with
    # English below, as in the invitation e-mail.
    with translation.override("sv"):
        subject = render_subject(notification.kind)
    bodies = []
    for language in ("sv", "en"):
        with translation.override(language):
            bodies.append(
                render_to_string(
                    "notifications/email/notification.txt",
                    {
                        "message": render_message(notification.kind, notification.params),
                        "url": _absolute(notification.link) if notification.link else "",
                        "list_url": _absolute(reverse("notifications:list")),
                    },
                ).strip()
            )
    return EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body="\n\n----\n\n".join(bodies) + "\n",
        to=[notification.recipient.email],
    )


def _send_emails(notifications: list[Notification]) -> None:
    """Runs after commit. A mail failure must not undo or fail the action that was notified:
    the notification is in the app either way, so the failure is logged (without addresses or
    the error's text) and the request goes on."""
    messages: list[EmailMessage] = []
    try:
        messages = [_email(n) for n in notifications if n.recipient.email]
        if not messages:
            return
        with get_connection() as connection:
            connection.send_messages(messages)
    except Exception as exc:
        logger.error(
            "notification e-mail not sent: kind=%s recipients=%d error=%s",
            notifications[0].kind,
            len(notifications),
            exception_summary(exc),
        )


def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        now = timezone.now()
        with transaction.atomic():
            Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
                read_at=now
            )
        notification.read_at = now
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    with transaction.atomic():
        return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
            read_at=timezone.now()
        )
