"""User administration: who reaches which page, what each change writes to the audit log."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.audit.models import AuditEvent
from samverkan.organisations.models import Membership, Role
from tests.helpers import PASSWORD, assert_trio, count_queries, make_user


def test_user_list_trio(client_for, personas):
    url = reverse("accounts:user_list")
    assert_trio(client_for, url, allowed=personas.admin, outsider=personas.practitioner)
    # The auditor reads the directory (to interpret the log) but changes nothing.
    assert client_for(personas.auditor).get(url).status_code == 200


@pytest.mark.parametrize(
    "persona",
    ["practitioner", "coordinator", "council_member", "agreement_editor", "outsider", "no_role"],
)
def test_user_pages_are_invisible_to_others(client_for, personas, persona):
    client = client_for(getattr(personas, persona), reauth=True)
    subject = personas.colleague
    for url in (
        reverse("accounts:user_list"),
        reverse("accounts:user_invite"),
        reverse("accounts:user_detail", args=[subject.pk]),
        reverse("accounts:user_edit", args=[subject.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("accounts:membership_add", args=[subject.pk]),
        reverse("accounts:user_set_active", args=[subject.pk]),
        reverse("accounts:user_resend", args=[subject.pk]),
    ):
        assert client.post(url, {"active": "0"}).status_code == 404, url


def test_anonymous_is_sent_to_login(client, personas):
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 404 or response["Location"].startswith("/accounts/login/")


def test_invite_trio_with_auditor_read_only(client_for, personas, world):
    url = reverse("accounts:user_invite")
    data = {
        "username": "ny.person",
        "first_name": "Ny",
        "last_name": "Person",
        "email": "ny.person@test.invalid",
        "agency": world.avesta_school.pk,
        "role": Role.PRACTITIONER,
    }
    assert_trio(
        client_for,
        url,
        allowed=personas.admin,
        outsider=personas.practitioner,
        read_only=personas.auditor,
        method="post",
        data=data,
    )


def test_invitation_flow_end_to_end(
    client_for, personas, world, django_capture_on_commit_callbacks
):
    admin = client_for(personas.admin, reauth=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("accounts:user_invite"),
            {
                "username": "ny.person",
                "first_name": "Ny",
                "last_name": "Person",
                "email": "Ny.Person@test.invalid",
                "agency": world.avesta_school.pk,
                "role": Role.PRACTITIONER,
            },
        )
    assert response.status_code == 302
    invited = User.objects.get(username="ny.person")
    assert invited.email == "ny.person@test.invalid"
    assert not invited.has_usable_password()
    assert Membership.objects.filter(user=invited, role=Role.PRACTITIONER).exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert isinstance(message.body, str)
    assert message.to == ["ny.person@test.invalid"]
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", message.body)
    assert link, message.body
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]

    newcomer = Client()
    assert newcomer.get(f"/{path}").status_code == 200
    weak = newcomer.post(f"/{path}", {"password1": "password", "password2": "password"})
    assert weak.status_code == 200  # too short and too common
    invited.refresh_from_db()
    assert not invited.has_usable_password()
    done = newcomer.post(f"/{path}", {"password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password(PASSWORD)
    # Single use: the link dies with the first password.
    assert newcomer.get(f"/{path}").status_code == 404
    actions = set(
        AuditEvent.objects.filter(object_id=str(invited.pk)).values_list("action", flat=True)
    )
    assert {"user.invited", "membership.added", "user.invitation_accepted"} <= actions


def test_sensitive_changes_ask_for_reauthentication(client_for, personas):
    admin = client_for(personas.admin)  # logged in, but not recently re-authenticated
    response = admin.get(reverse("accounts:user_invite"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_deactivation_revokes_tokens_and_is_audited(client_for, personas):
    from samverkan.api.services import token_create

    issued = token_create(actor=None, user=personas.colleague, name="script", days=5)
    admin = client_for(personas.admin, reauth=True)
    url = reverse("accounts:user_set_active", args=[personas.colleague.pk])
    assert admin.post(url, {"active": "0"}).status_code == 302
    personas.colleague.refresh_from_db()
    issued.token.refresh_from_db()
    assert not personas.colleague.is_active
    assert issued.token.revoked_at is not None
    assert AuditEvent.objects.filter(action="user.deactivated", actor=personas.admin).exists()
    assert client_for(personas.auditor).post(url, {"active": "1"}).status_code == 403


def test_admin_cannot_deactivate_themselves(client_for, personas):
    admin = client_for(personas.admin, reauth=True)
    admin.post(reverse("accounts:user_set_active", args=[personas.admin.pk]), {"active": "0"})
    personas.admin.refresh_from_db()
    assert personas.admin.is_active


def test_membership_add_and_remove(client_for, personas, world):
    admin = client_for(personas.admin, reauth=True)
    subject = personas.colleague
    response = admin.post(
        reverse("accounts:membership_add", args=[subject.pk]),
        {"agency": world.avesta_leisure.pk, "role": Role.PRACTITIONER},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=subject, agency=world.avesta_leisure)
    url = reverse("accounts:membership_remove", args=[subject.pk, membership.pk])
    assert client_for(personas.auditor).post(url).status_code == 403
    assert admin.get(url).status_code == 405
    assert admin.post(url).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    # Another user's membership through this user's URL: not found.
    other = Membership.objects.filter(user=personas.practitioner).first()
    assert other is not None
    assert (
        admin.post(reverse("accounts:membership_remove", args=[subject.pk, other.pk])).status_code
        == 404
    )


def test_user_list_query_count_does_not_grow(client_for, personas, world):
    admin = client_for(personas.admin)
    url = reverse("accounts:user_list")

    def count() -> int:
        return count_queries(admin, url)

    count()  # the first request of a session writes the session; measure from the second
    before = count()
    for i in range(15):
        make_user(f"extra{i}", world.avesta_leisure, Role.PRACTITIONER)
    assert count() == before


def test_auditor_sees_the_directory_but_no_change_forms(client_for, personas):
    url = reverse("accounts:user_detail", args=[personas.colleague.pk])
    page = client_for(personas.auditor).get(url)
    assert page.status_code == 200
    assert page.context["can_manage"] is False
    assert b"membership_remove" not in page.content
    assert (
        reverse("accounts:user_set_active", args=[personas.colleague.pk]).encode()
        not in page.content
    )
    admin_page = client_for(personas.admin).get(url)
    assert admin_page.context["can_manage"] is True
    assert (
        reverse("accounts:user_set_active", args=[personas.colleague.pk]).encode()
        in admin_page.content
    )


def test_detail_of_missing_user_is_404(client_for, personas):
    assert (
        client_for(personas.admin).get(reverse("accounts:user_detail", args=[99999])).status_code
        == 404
    )


def test_resend_invitation(client_for, personas, world, django_capture_on_commit_callbacks):
    from samverkan.accounts.services import user_invite

    invited = user_invite(
        actor=None,
        username="vantar",
        email="vantar@test.invalid",
        first_name="V",
        last_name="Antar",
        agency=world.avesta_school,
        role=Role.PRACTITIONER,
        send=False,
    )
    url = reverse("accounts:user_resend", args=[invited.pk])
    assert client_for(personas.auditor).post(url).status_code == 403
    admin = client_for(personas.admin)
    assert admin.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(url).status_code == 302
    assert [m.to for m in mail.outbox] == [["vantar@test.invalid"]]
    assert AuditEvent.objects.filter(action="user.invitation_resent", actor=personas.admin).exists()
    # Someone who has set a password gets no new invitation.
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("accounts:user_resend", args=[personas.colleague.pk]))
    assert len(mail.outbox) == 1


def test_reading_the_directory_is_audited(client_for, personas):
    client_for(personas.auditor).get(reverse("accounts:user_list"))
    client_for(personas.auditor).get(reverse("accounts:user_detail", args=[personas.colleague.pk]))
    assert AuditEvent.objects.filter(action="user.list_viewed", actor=personas.auditor).exists()
    viewed = AuditEvent.objects.get(action="user.viewed", actor=personas.auditor)
    assert viewed.object_id == str(personas.colleague.pk)
