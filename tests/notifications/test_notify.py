"""notify(): checked parameters only, one row per active recipient, e-mail after commit only."""

from __future__ import annotations

import logging
from datetime import date, datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation

from samverkan.notifications.kinds import KINDS, NotificationParamError, render_message
from samverkan.notifications.models import Notification, NotificationKind
from samverkan.notifications.services import (
    notification_mark_all_read,
    notification_mark_read,
    notify,
)

WITHDRAWN = {"consent": 12, "case": "AVE-2026-0042"}


def test_every_kind_has_words_and_parameters():
    assert set(KINDS) == set(NotificationKind.values)


def test_one_notification_per_active_recipient(personas, django_capture_on_commit_callbacks):
    personas.colleague.is_active = False
    personas.colleague.save()
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(
            recipients=[personas.practitioner, personas.practitioner, personas.colleague],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=WITHDRAWN,
            link="/cases/7/",
        )
    assert [n.recipient for n in created] == [personas.practitioner]
    stored = Notification.objects.get()
    assert stored.params == WITHDRAWN
    assert stored.link == "/cases/7/"
    assert stored.read_at is None
    assert stored.message == (
        "Consent #12 in case AVE-2026-0042 has been withdrawn. Information shared under it is "
        "no longer shown."
    )
    assert len(mail.outbox) == 1


def test_no_recipients_no_rows():
    assert notify(recipients=[], kind=NotificationKind.CONSENT_WITHDRAWN, params=WITHDRAWN) == []


@pytest.mark.parametrize(
    "params",
    [
        {"consent": 12, "case": "Anna Andersson"},  # a name where a pseudonym belongs
        {"consent": 12, "case": "120315-1236"},  # an identity number
        {"consent": "12", "case": "AVE-2026-0042"},  # a number as text
        {"consent": True, "case": "AVE-2026-0042"},
        {"consent": 12},  # missing
        {"consent": 12, "case": "AVE-2026-0042", "name": "Anna"},  # extra
    ],
)
def test_parameters_must_fit_the_kind(personas, params):
    with pytest.raises(NotificationParamError) as caught:
        notify(
            recipients=[personas.practitioner],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=params,
        )
    assert "Anna" not in str(caught.value)
    assert "120315" not in str(caught.value)
    assert not Notification.objects.exists()


def test_dates_are_dates(personas):
    notify(
        recipients=[personas.practitioner],
        kind=NotificationKind.CONSENT_EXPIRING,
        params={"consent": 3, "case": "HED-2026-0001", "date": date(2026, 12, 31)},
        email=False,
    )
    assert Notification.objects.get().params["date"] == "2026-12-31"
    with pytest.raises(NotificationParamError):
        notify(
            recipients=[personas.practitioner],
            kind=NotificationKind.CONSENT_EXPIRING,
            params={"consent": 3, "case": "HED-2026-0001", "date": datetime(2026, 12, 31)},  # noqa: DTZ001
        )


@pytest.mark.parametrize(
    "link",
    [
        "https://example.com/",
        "//example.com/cases/1/",
        "/cases/?q=120315-1236",
        "/youth/201203151236/",
        "/cases/1/#entries",
        "cases/1/",
        "javascript:alert(1)",
    ],
)
def test_links_are_plain_paths_on_this_site(personas, link):
    with pytest.raises(NotificationParamError):
        notify(
            recipients=[personas.practitioner],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=WITHDRAWN,
            link=link,
        )


@pytest.mark.django_db(transaction=True)
def test_the_email_goes_out_only_after_commit(personas):
    with transaction.atomic():
        notify(
            recipients=[personas.practitioner, personas.police],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=WITHDRAWN,
            link="/cases/7/",
        )
        assert mail.outbox == []  # not yet: the action could still roll back
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@test.invalid", "david@test.invalid"]


def test_no_email_when_the_action_rolls_back(personas, django_capture_on_commit_callbacks):
    class RefusedError(Exception):
        pass

    def withdraw_then_fail() -> None:
        with transaction.atomic():
            notify(
                recipients=[personas.practitioner],
                kind=NotificationKind.CONSENT_WITHDRAWN,
                params=WITHDRAWN,
            )
            raise RefusedError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RefusedError),
    ):
        withdraw_then_fail()
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_email_is_swedish_then_english_with_links_and_no_personal_data(
    personas, settings, django_capture_on_commit_callbacks
):
    settings.BASE_URL = "https://samverkan.example.se"
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[personas.practitioner],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=WITHDRAWN,
            link="/cases/7/",
        )
    (message,) = mail.outbox
    assert message.subject.startswith("[Samverkan] ")
    assert message.to == ["anna@test.invalid"]
    swedish, english = message.body.split("\n\n----\n\n")
    for part in (swedish, english):
        assert "AVE-2026-0042" in part
        assert "https://samverkan.example.se/cases/7/" in part
        assert "https://samverkan.example.se/notifications/" in part
    with translation.override("sv"):
        assert render_message(NotificationKind.CONSENT_WITHDRAWN, WITHDRAWN) in swedish
    with translation.override("en"):
        assert render_message(NotificationKind.CONSENT_WITHDRAWN, WITHDRAWN) in english
    assert "Anna" not in message.body  # the recipient's own name is not needed either


def test_no_email_when_asked_not_to(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[personas.practitioner],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=WITHDRAWN,
            email=False,
        )
    assert mail.outbox == []
    assert Notification.objects.count() == 1


class BrokenBackend:
    def __init__(self, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_messages(self, messages):
        raise OSError(f"550 mailbox {messages[0].to[0]} unavailable")


def test_a_mail_failure_is_logged_without_addresses_and_does_not_fail_the_action(
    personas, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.notifications.test_notify.BrokenBackend"
    with (
        caplog.at_level(logging.ERROR, logger="samverkan.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        created = notify(
            recipients=[personas.practitioner],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params=WITHDRAWN,
        )
    assert len(created) == 1
    (record,) = caplog.records
    assert "notification e-mail not sent" in record.getMessage()
    assert "OSError" in record.getMessage()
    assert "anna@" not in record.getMessage()


def test_marking_read(personas):
    (mine,) = notify(
        recipients=[personas.practitioner],
        kind=NotificationKind.CONSENT_WITHDRAWN,
        params=WITHDRAWN,
        email=False,
    )
    with pytest.raises(PermissionDenied):
        notification_mark_read(actor=personas.colleague, notification=mine)
    notification_mark_read(actor=personas.practitioner, notification=mine)
    first = Notification.objects.get().read_at
    assert first is not None
    notification_mark_read(actor=personas.practitioner, notification=mine)  # again: no change
    assert Notification.objects.get().read_at == first
    notify(
        recipients=[personas.practitioner, personas.colleague],
        kind=NotificationKind.CONSENT_WITHDRAWN,
        params=WITHDRAWN,
        email=False,
    )
    assert notification_mark_all_read(actor=personas.practitioner) == 1
    assert Notification.objects.filter(read_at__isnull=True).get().recipient == personas.colleague
