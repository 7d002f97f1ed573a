"""Tell coordinators, once, about open cases that have gone quiet (issue 19, gap 5).

An open case with no activity (``cases.activity``) for ``CASE_DORMANT_DAYS`` is shown on its
group's case index at once; this daily job also e-mails the group's coordinators, once per case
and quiet spell (``DormancyNotice``): new activity starts a new spell, which is told about when
it too runs out. The e-mail names the cases by pseudonym only, like the notifications, and
links to the case index.

The queries do not grow with the number of cases: one for the quiet cases, one for the notices
already sent, one for the coordinators, one insert, and the audit event.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from samverkan.audit.services import Subject, audit_record_many
from samverkan.cases.activity import dormant_cases
from samverkan.organisations.models import GroupMembership, GroupRole
from samverkan.records.models import DormancyNotice

logger = logging.getLogger("samverkan.records")


def dormancy_notify(*, now: datetime | None = None) -> int:
    """E-mail each group's coordinators about its cases newly found quiet; returns how many
    cases were told about. Idempotent: a spell already told about is not told again."""
    now = now or timezone.now()
    quiet = list(
        dormant_cases(now)  # type: ignore[misc]  # ``last_activity`` is an annotation
        .order_by("group_id", "pk")
        .values("pk", "group_id", "group__name", "youth__pseudonym", "last_activity")
    )
    if not quiet:
        return 0
    told = set(
        DormancyNotice.objects.filter(case_id__in=[row["pk"] for row in quiet]).values_list(
            "case_id", "last_activity_at"
        )
    )
    new = [row for row in quiet if (row["pk"], row["last_activity"]) not in told]
    if not new:
        return 0
    by_group: dict[int, list[dict[str, object]]] = defaultdict(list)
    for row in new:
        by_group[row["group_id"]].append(row)
    coordinators: dict[int, set[str]] = defaultdict(set)
    for group_id, email in GroupMembership.objects.filter(
        group_id__in=list(by_group), role=GroupRole.COORDINATOR, user__is_active=True
    ).values_list("group_id", "user__email"):
        if email:
            coordinators[group_id].add(email)
    # One e-mail per coordinator: they need not see each other's addresses.
    messages = [
        _email(address, rows, group_id)
        for group_id, rows in by_group.items()
        for address in sorted(coordinators[group_id])
    ]
    with transaction.atomic():
        DormancyNotice.objects.bulk_create(
            [
                DormancyNotice(case_id=row["pk"], last_activity_at=row["last_activity"])
                for row in new
            ],
            ignore_conflicts=True,
        )
        audit_record_many(
            action="records.dormancy_notified",
            subjects=[Subject("cases.case", str(row["pk"]), row["pk"]) for row in new],
            details={"days": settings.CASE_DORMANT_DAYS, "emails": len(messages)},
        )
        # Sent inside the transaction: if the mail server refuses, the notices roll back and
        # tomorrow's run tries again, rather than the coordinator never being told.
        if messages:
            with get_connection() as connection:
                connection.send_messages(messages)
    logger.info("dormant cases told to coordinators: %s", len(new))
    return len(new)


def _email(to: str, rows: list[dict[str, object]], group_id: int) -> EmailMessage:
    url = f"{settings.BASE_URL.rstrip('/')}{reverse('cases:group_index', args=[group_id])}"
    bodies = []
    # Staff accounts have no language of their own: Swedish, then English, as other e-mails.
    for language in ("sv", "en"):
        with translation.override(language):
            bodies.append(
                render_to_string(
                    "records/email/dormant_cases.txt",
                    {
                        "group": rows[0]["group__name"],
                        "days": settings.CASE_DORMANT_DAYS,
                        "rows": rows,
                        "url": url,
                    },
                ).strip()
            )
    with translation.override("sv"):
        subject = gettext("Cases with no activity")
    return EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body="\n\n----\n\n".join(bodies) + "\n",
        to=[to],
    )
