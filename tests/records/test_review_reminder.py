"""The monthly log review reminder (job records.log_review_reminder)."""

from __future__ import annotations

import datetime as dt

from django.core import mail

from samverkan.jobs.registry import Every, registry
from samverkan.notifications.models import Notification, NotificationKind
from samverkan.organisations.models import Role
from samverkan.organisations.services import membership_add
from samverkan.records.models import LogReview
from samverkan.records.services import log_review_remind
from samverkan.records.tasks import log_review_reminder

TODAY = dt.date(2026, 11, 1)
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def review(personas, start: dt.date, end: dt.date) -> LogReview:
    return LogReview.objects.create(
        period_start=start, period_end=end, findings="Granskat.", signed_off_by=personas.auditor
    )


def test_the_job_is_monthly():
    job = registry.get("records.log_review_reminder")
    assert job.every is Every.MONTH
    assert job.task is log_review_reminder


def test_auditors_are_reminded_once(personas, world, django_capture_on_commit_callbacks):
    second = personas.colleague
    membership_add(actor=None, user=second, agency=world.avesta_other, role=Role.AUDITOR)
    with django_capture_on_commit_callbacks(execute=True):
        assert log_review_remind(today=TODAY) == 2
    sent = Notification.objects.filter(kind=NotificationKind.LOG_REVIEW_DUE)
    assert {n.recipient_id for n in sent} == {personas.auditor.pk, second.pk}
    note = sent.get(recipient=personas.auditor)
    assert note.params == {"start": "2026-10-01", "end": "2026-10-31"}
    assert note.link == "/records/review/"
    assert "2026-10-01" in note.message
    assert len(mail.outbox) == 2
    # Run again (a second worker, a retry): nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert log_review_remind(today=TODAY) == 0
    assert sent.count() == 2
    assert len(mail.outbox) == 2
    # No one but auditors.
    assert not Notification.objects.filter(
        kind=NotificationKind.LOG_REVIEW_DUE, recipient__in=[personas.admin, personas.coordinator]
    ).exists()


def test_no_reminder_when_a_review_covers_last_month(personas):
    review(personas, dt.date(2026, 9, 20), dt.date(2026, 11, 1))
    assert log_review_remind(today=TODAY) == 0
    assert not Notification.objects.exists()


def test_reviews_may_cover_the_month_together(personas):
    review(personas, dt.date(2026, 10, 1), dt.date(2026, 10, 15))
    review(personas, dt.date(2026, 10, 10), dt.date(2026, 10, 31))
    assert log_review_remind(today=TODAY) == 0


def test_a_gap_in_the_month_still_reminds(personas):
    review(personas, dt.date(2026, 10, 1), dt.date(2026, 10, 15))
    review(personas, dt.date(2026, 10, 17), dt.date(2026, 10, 31))
    assert log_review_remind(today=TODAY) == 1


def test_the_next_month_is_a_new_reminder(personas):
    assert log_review_remind(today=TODAY) == 1
    assert log_review_remind(today=dt.date(2026, 12, 3)) == 1
    assert Notification.objects.filter(recipient=personas.auditor).count() == 2


def test_the_task_runs(personas):
    log_review_reminder.call()
    assert Notification.objects.filter(
        kind=NotificationKind.LOG_REVIEW_DUE, recipient=personas.auditor
    ).exists()


def test_a_review_narrowed_by_a_filter_does_not_cover_the_month(personas):
    narrow = review(personas, *OCTOBER)
    for scope in ({"actor": "anna"}, {"agency": 3}, {"youth": 7}, {"action": "entry."}):
        narrow.scope = {"date_from": "2026-10-01", "date_to": "2026-10-31", **scope}
        narrow.save()
        assert log_review_remind(today=TODAY) == 1
        Notification.objects.all().delete()
    narrow.scope = {"date_from": "2026-10-01", "date_to": "2026-10-31", "flagged": True}
    narrow.save()
    assert log_review_remind(today=TODAY) == 0
