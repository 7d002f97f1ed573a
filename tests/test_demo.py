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


def test_demo_consents_cover_every_state_and_share_what_they_allow(db):
    from django.utils import timezone

    from samverkan.accounts.models import User
    from samverkan.cases import selectors as case_selectors
    from samverkan.cases.policy import State, state_at
    from samverkan.consent.facts import consent_queryset, facts_of

    demo.load()
    now = timezone.now()
    states = sorted(state_at(facts_of(c), now) for c in consent_queryset())
    assert set(states) == set(State)
    # Elias's case: social services sees the school's entry under consent; the police, on the
    # team but not covered, see only the pseudonym.
    social = User.objects.get(username="socialtjanst")
    police = User.objects.get(username="polis")
    case = next(
        c
        for c in case_selectors.my_cases(viewer=police)
        if c.case.raising_agency.name.endswith("Skola")
    ).case
    access = case_selectors.case_open(viewer=social, pk=case.pk)
    texts = [v.text for v in case_selectors.entry_listing(access).visible]
    assert "Frånvaro 35 % i oktober, mest måndagar." in texts
    assert access.identity.basis.startswith("consent:")
    police_access = case_selectors.case_open(viewer=police, pk=case.pk)
    assert not police_access.identity
    assert [v.text for v in case_selectors.entry_listing(police_access).visible] == [
        "Påträffad i centrum sent en vardagskväll."
    ]
