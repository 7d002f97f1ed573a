"""The demo data set (DESIGN §6) loads through the services and covers what it promises."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from samverkan import demo
from samverkan.accounts.models import User
from samverkan.audit.selectors import audit_verify
from samverkan.cases.models import Case, Status
from samverkan.lib.personnummer import parse
from samverkan.organisations.models import Municipality, Role


def test_demo_loads_once_and_covers_every_role(db):
    demo.load()
    demo.load()  # a second call changes nothing
    assert set(Municipality.objects.values_list("code", flat=True)) == {"2084", "2083"}
    roles = set(User.objects.values_list("memberships__role", flat=True))
    assert set(Role.values) <= roles
    assert audit_verify().ok


def test_demo_cases_span_both_municipalities_and_many_statuses(db):
    demo.load()
    cases = Case.objects.select_related("group__municipality")
    assert {c.group.municipality.code for c in cases} == {"2084", "2083"}
    statuses = {c.status for c in cases}
    assert statuses == set(Status.values)


def test_demo_has_a_meeting_with_an_action_for_the_school(db):
    from samverkan.meetings.models import Action

    demo.load()
    action = Action.objects.get()
    assert action.responsible_user is not None
    assert action.responsible_user.username == "skola"


def test_demo_identity_numbers_are_valid_in_form(db):
    for demo_case in demo.CASES:
        number = demo.fictional_identity_number(demo_case.born, demo_case.serial)
        assert parse(number, today=timezone.localdate()).birth_date == demo_case.born
    assert demo.fictional_identity_number(date(2012, 3, 15), 123) == "20120315-1236"
