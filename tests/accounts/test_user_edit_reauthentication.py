"""Changing an account's name or address is a sensitive change: the administrator confirms
the password again when the last confirmation is older than SAMVERKAN_REAUTH_SECONDS."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _lapsed() -> time_machine.travel:
    later = timezone.now() + dt.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 60)
    return time_machine.travel(later, tick=False)


def test_editing_a_user_asks_for_the_password_again_once_it_lapsed(client_for, personas):
    """Issue 19 mutation 12: the user edit page (GET and POST) requires re-authentication."""
    subject = personas.practitioner
    url = reverse("accounts:user_edit", args=[subject.pk])
    admin = client_for(personas.admin, reauth=True)
    assert admin.get(url).status_code == 200  # just confirmed: the form is shown
    change = {"first_name": "Ändrad", "last_name": "Namnsson", "email": "ny@test.invalid"}
    with _lapsed():
        opened = admin.get(url)
        assert opened.status_code == 302
        assert opened["Location"].startswith(reverse("account_reauthenticate"))
        posted = admin.post(url, change)
        assert posted.status_code == 302
        assert posted["Location"].startswith(reverse("account_reauthenticate"))
    unchanged = User.objects.get(pk=subject.pk)
    assert (unchanged.first_name, unchanged.last_name, unchanged.email) == (
        subject.first_name,
        subject.last_name,
        subject.email,
    )
    assert not AuditEvent.objects.filter(action="user.updated").exists()


def test_editing_a_user_without_any_confirmation_is_sent_to_give_the_password(client_for, personas):
    """Issue 19 mutation 12: an administrator who never confirmed the password in this session
    cannot open or post the user edit form."""
    subject = personas.practitioner
    url = reverse("accounts:user_edit", args=[subject.pk])
    admin = client_for(personas.admin)
    for response in (
        admin.get(url),
        admin.post(url, {"first_name": "Ändrad", "last_name": "X", "email": "x@test.invalid"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert User.objects.get(pk=subject.pk).first_name == subject.first_name
    assert not AuditEvent.objects.filter(action="user.updated").exists()
