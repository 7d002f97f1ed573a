"""DESIGN rule 16: before a consent or a recorded statutory disclosure covers an agency, that
agency sees of a case only its pseudonym, status and meeting times: no reason, factors, minutes,
decisions or plan text. And a case whose team holds more than the raising agency does not leave
"awaiting consent" without an active consent.

The case: raised by the school (anna, ``practitioner``) with social services (cecilia,
``other_agency``) and the police (david) on the team. Every test looks at the same texts on the
page and in the API, for each viewer, as the coverage changes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.cases.models import Status
from samverkan.cases.services import case_raise, case_transition, guardian_add, team_add
from samverkan.consent.models import RequiredSigner
from samverkan.consent.services import consent_create
from samverkan.disclosure.policy import (
    Grant,
    content_covered_agencies,
    content_decision,
    discussion_is_anonymous,
)
from samverkan.meetings.models import AgendaItem
from samverkan.meetings.selectors import actions_for
from samverkan.meetings.services import (
    action_create,
    agenda_item_add,
    anonymous_discussion_record,
    meeting_schedule,
    minutes_record,
)
from samverkan.plans.models import InterventionKind
from samverkan.plans.services import goal_add, intervention_add, plan_create
from tests.cases.conftest import YOUTH_NUMBER, CaseWorld
from tests.rule16 import consent_covering, statutory_covering, withdraw

REASON = "Hög frånvaro sedan höstlovet och nya umgängen."
RISK_LABEL = "High absence or school difficulties"  # ``high_absence``; the pages are in English
GOAL = "Går till skolan varje dag och trivs i klassen"
MINUTES = "Skolan och socialtjänsten ser samma mönster i frånvaron."
ACTION = "Boka samtal om stöd i matematik."


def _token(user) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="rule16", days=3, scope=Scope.READ)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


@pytest.fixture
def content(personas, world, case_world: CaseWorld):
    """The case with a plan goal, and a meeting where minutes and a decision were recorded while
    a consent covered school, social services and the police; that consent is then withdrawn,
    so the case starts each test with nothing covering anyone but the school."""
    case = case_world.case
    plan = plan_create(actor=personas.practitioner, case=case)
    goal_add(actor=personas.practitioner, plan=plan, text=GOAL)
    start = timezone.now() + timedelta(days=7)
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        location="Stadshuset, rum 3",
    )
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case)
    everyone = consent_covering(
        case,
        [world.avesta_school, world.avesta_social, world.police],
        actor=personas.practitioner,
    )
    minutes_record(actor=personas.coordinator, item=item, minutes=MINUTES)
    action_create(
        actor=personas.coordinator,
        item=item,
        text=ACTION,
        responsible_agency=world.police,
        responsible_user=personas.police,
        due_date=timezone.localdate(start),
    )
    withdraw(everyone, actor=personas.practitioner)
    return case, meeting, item


def _texts_seen(client_for, user, case, meeting) -> dict[str, bool]:
    """Which of the five kinds of content ``user`` can find, on pages and in the API."""
    client: Client = client_for(user)
    case_page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    plan_page = client.get(reverse("plans:detail", args=[case.pk])).content.decode()
    meeting_page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    home = client.get(reverse("web:home")).content.decode()
    api = Client()
    case_json = api.get(f"/api/v1/cases/{case.pk}", **_token(user)).json()
    meeting_json = api.get(f"/api/v1/meetings/{meeting.pk}", **_token(user)).json()
    item = meeting_json["agenda"][0]
    seen = {
        "reason": REASON in case_page,
        "factors": RISK_LABEL in case_page,
        "plan": GOAL in plan_page,
        "minutes": MINUTES in meeting_page,
        "actions": ACTION in meeting_page,
    }
    # The API and the pages must agree; and nothing reaches the start page either.
    assert (case_json["reason"] == REASON) == seen["reason"]
    assert ("high_absence" in {f["code"] for f in case_json["risk_factors"]}) == seen["factors"]
    assert case_json["content_withheld"] is not seen["reason"]
    assert (item["minutes"] == MINUTES) == seen["minutes"]
    assert item["content_withheld"] is not seen["minutes"]
    assert (ACTION in [a["text"] for a in item["actions"]]) == seen["actions"]
    if not seen["actions"]:
        assert ACTION not in home
    # What stays visible: the pseudonym, the status and the meeting time.
    assert case.youth.pseudonym in case_page
    assert case_json["status"] == Status.RAISED
    assert meeting_json["starts_at"]
    assert item["pseudonym"] == case.youth.pseudonym
    return seen


NOTHING = dict.fromkeys(("reason", "factors", "plan", "minutes", "actions"), False)
EVERYTHING = dict.fromkeys(("reason", "factors", "plan", "minutes", "actions"), True)


def test_uncovered_agencies_see_no_content_the_raising_agency_always_does(
    client_for, personas, content
):
    case, meeting, _ = content
    assert _texts_seen(client_for, personas.other_agency, case, meeting) == NOTHING
    assert _texts_seen(client_for, personas.police, case, meeting) == NOTHING
    # The school raised the case: it reads its own content with no consent at all (the
    # decision was for the police, so the school sees it on the meeting page only).
    assert _texts_seen(client_for, personas.practitioner, case, meeting) == EVERYTHING


def test_consent_covers_named_agencies_and_withdrawal_ends_it_at_the_next_request(
    client_for, personas, world, content
):
    case, meeting, _ = content
    consent = consent_covering(
        case, [world.avesta_school, world.avesta_social], actor=personas.practitioner
    )
    assert _texts_seen(client_for, personas.other_agency, case, meeting) == EVERYTHING
    assert _texts_seen(client_for, personas.police, case, meeting) == NOTHING  # not named
    withdraw(consent, actor=personas.practitioner)
    assert _texts_seen(client_for, personas.other_agency, case, meeting) == NOTHING


def test_a_consent_that_has_ended_covers_nothing(client_for, personas, world, content):
    case, meeting, _ = content
    consent_covering(
        case, [world.avesta_school, world.avesta_social], actor=personas.practitioner, months=1
    )
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        assert _texts_seen(client_for, personas.other_agency, case, meeting) == NOTHING


def test_a_recorded_statutory_disclosure_covers_the_agency_it_was_made_to(
    client_for, personas, world, content
):
    case, meeting, _ = content
    statutory_covering(
        case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.avesta_social,
    )
    seen = _texts_seen(client_for, personas.other_agency, case, meeting)
    assert seen == EVERYTHING
    assert _texts_seen(client_for, personas.police, case, meeting) == NOTHING
    # It covers content, not identity: a statutory disclosure is not the family's consent.
    page = client_for(personas.other_agency).get(reverse("cases:detail", args=[case.pk]))
    assert "Kalle Testberg" not in page.content.decode()


def test_uncovered_agency_cannot_open_or_change_the_plan(client_for, personas, content):
    case, _, _ = content
    client = client_for(personas.police)
    goal = case.action_plan.goals.get()
    assert client.get(reverse("plans:goal", args=[case.pk, goal.pk])).status_code == 404
    response = client.post(reverse("plans:goal_add", args=[case.pk]), {"text": "Ett mål"})
    assert response.status_code == 403
    assert case.action_plan.goals.count() == 1


def test_plan_services_refuse_an_uncovered_agency_too(personas, world, content):
    case, _, _ = content
    plan = case.action_plan
    with pytest.raises(ValidationError):
        goal_add(actor=personas.police, plan=plan, text="Ett mål")
    with pytest.raises(ValidationError):
        intervention_add(
            actor=personas.police,
            plan=plan,
            agency=world.police,
            kind=InterventionKind.CONCERN_TALK,
            responsible=personas.police,
            start_date=timezone.localdate(),
        )
    assert plan.goals.count() == 1
    assert not plan.interventions.exists()
    statutory_covering(
        case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.police,
        basis_code="duty_to_inform_police",
    )
    goal_add(actor=personas.police, plan=plan, text="Ett mål")
    assert plan.goals.count() == 2


def test_uncovered_responsible_person_does_not_see_their_action_on_the_start_page(
    personas, world, content
):
    assert actions_for(viewer=personas.police) == []
    case, _, _ = content
    consent_covering(case, [world.avesta_school, world.police], actor=personas.practitioner)
    assert [row.text for row in actions_for(viewer=personas.police)] == [ACTION]


# The lifecycle gate


def test_a_team_of_several_agencies_waits_for_an_active_consent(client_for, personas, world):
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=YOUTH_NUMBER,
        name="Kalle Testberg",
        gender="M",
        reason=REASON,
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    case = case_transition(actor=personas.practitioner, case=case, to=Status.AWAITING_CONSENT)
    with pytest.raises(ValidationError) as refused:
        case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    assert "until a consent is active" in str(refused.value)
    # The page says so, with the form's error, and the status is unchanged.
    response = client_for(personas.practitioner).post(
        reverse("cases:status", args=[case.pk]), {"to": Status.MAPPING}
    )
    assert response.status_code == 400
    assert "until a consent is active" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.AWAITING_CONSENT
    # A pending (unsigned) consent is not enough; a withdrawn one neither.
    consent = consent_covering(
        case, [world.avesta_school, world.avesta_social], actor=personas.practitioner
    )
    withdraw(consent, actor=personas.practitioner)
    with pytest.raises(ValidationError):
        case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    consent_covering(case, [world.avesta_school, world.avesta_social], actor=personas.practitioner)
    case = case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    assert case.status == Status.MAPPING


def test_a_pending_consent_does_not_open_the_gate(personas, world, case_world):
    case = case_transition(
        actor=personas.practitioner, case=case_world.case, to=Status.AWAITING_CONSENT
    )
    guardian_add(
        actor=personas.practitioner,
        case=case,
        name="Maria Testberg",
        has_custody=True,
        identity_number="19800101-1231",
    )
    today = timezone.localdate()
    consent_create(
        actor=personas.practitioner,
        case=case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[case_world.school_category.pk],
        valid_from=today,
        valid_until=today + timedelta(days=30),
    )
    assert RequiredSigner.objects.filter(consent__case=case, signature__isnull=True).exists()
    with pytest.raises(ValidationError):
        case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)


def test_a_case_the_raising_agency_works_alone_may_proceed_and_any_case_may_close(
    personas, world, case_world
):
    alone = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number="20110203-1232",
        name="Lisa Testdotter",
        gender="F",
        reason="Oro för närvaron.",
    ).case
    alone = case_transition(actor=personas.practitioner, case=alone, to=Status.AWAITING_CONSENT)
    alone = case_transition(actor=personas.practitioner, case=alone, to=Status.MAPPING)
    assert alone.status == Status.MAPPING
    team = case_transition(
        actor=personas.practitioner, case=case_world.case, to=Status.AWAITING_CONSENT
    )
    closed = case_transition(
        actor=personas.practitioner,
        case=team,
        to=Status.CLOSED,
        closure_reason="consent_declined",
        closure_outcome="Vårdnadshavarna avböjde.",
    )
    assert closed.status == Status.CLOSED


# Anonymous discussion at a group meeting


@pytest.fixture
def uncovered_item(personas, world, case_world):
    start = timezone.now() + timedelta(days=3)
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        location="Stadshuset, rum 3",
    )
    return agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case_world.case)


def test_without_consent_the_group_records_no_minutes_or_decisions(personas, world, uncovered_item):
    with pytest.raises(ValidationError, match="discussed anonymously"):
        minutes_record(actor=personas.coordinator, item=uncovered_item, minutes=MINUTES)
    with pytest.raises(ValidationError, match="discussed anonymously"):
        action_create(
            actor=personas.coordinator,
            item=uncovered_item,
            text=ACTION,
            responsible_agency=world.avesta_school,
            due_date=timezone.localdate() + timedelta(days=10),
        )
    uncovered_item.refresh_from_db()
    assert uncovered_item.minutes_enc == ""
    assert not uncovered_item.actions.exists()


def test_anonymous_discussion_is_recorded_as_such_without_content(
    client_for, personas, world, case_world, uncovered_item
):
    client = client_for(personas.coordinator)
    url = reverse("meetings:anonymous", args=[uncovered_item.meeting_id, uncovered_item.pk])
    assert client.post(url).status_code == 302
    item = AgendaItem.objects.get(pk=uncovered_item.pk)
    assert item.discussed_anonymously_at is not None
    assert item.minutes_enc == ""
    page = client_for(personas.police).get(reverse("meetings:detail", args=[item.meeting_id]))
    assert 'data-anonymous="1"' in page.content.decode()
    api = Client().get(f"/api/v1/meetings/{item.meeting_id}", **_token(personas.police)).json()
    assert api["agenda"][0]["discussed_anonymously"] is True
    assert api["agenda"][0]["minutes"] == ""
    # Even once a consent covers the group, the anonymous item gets no content afterwards.
    consent_covering(
        case_world.case,
        [world.avesta_school, world.avesta_social, world.police],
        actor=personas.practitioner,
    )
    with pytest.raises(ValidationError):
        minutes_record(actor=personas.coordinator, item=item, minutes=MINUTES)
    with pytest.raises(ValidationError):
        action_create(
            actor=personas.coordinator,
            item=item,
            text=ACTION,
            responsible_agency=world.avesta_school,
            due_date=timezone.localdate() + timedelta(days=10),
        )


def test_the_database_refuses_minutes_on_an_anonymous_item(personas, uncovered_item):
    from django.db import IntegrityError, transaction

    item = anonymous_discussion_record(actor=personas.coordinator, item=uncovered_item)
    item.minutes = MINUTES
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()


def test_a_decision_needs_a_covered_responsible_agency_and_coordinator(
    personas, world, case_world, uncovered_item
):
    # Social services (the coordinator's agency) and the school are covered, the police not.
    consent_covering(
        case_world.case, [world.avesta_school, world.avesta_social], actor=personas.practitioner
    )
    minutes_record(actor=personas.coordinator, item=uncovered_item, minutes=MINUTES)
    with pytest.raises(ValidationError) as refused:
        action_create(
            actor=personas.coordinator,
            item=uncovered_item,
            text=ACTION,
            responsible_agency=world.police,
            due_date=timezone.localdate() + timedelta(days=10),
        )
    assert "responsible" in refused.value.message_dict


# The decision itself, exhaustively over its inputs


def _grant(
    to: int, *, start: int = 0, end: int = 10, entry: int | None = None, source: int = 1
) -> Grant:
    base = timezone.now()
    return Grant(
        from_agency_id=source,
        to_agency_id=to,
        valid_from=base + timedelta(days=start),
        valid_until=base + timedelta(days=end),
        basis="consent:1" if entry is None else "concern_report",
        entry_id=entry,
    )


def test_content_decision_covers_exactly_the_raiser_and_agencies_granted_now():
    now = timezone.now() + timedelta(days=1)
    grants = [_grant(2), _grant(3, start=5), _grant(4, end=0), _grant(5, entry=9, end=10**4)]
    assert content_decision({1}, raising_agency_id=1, at=now).basis == "raising_agency"
    assert content_decision({2}, raising_agency_id=1, at=now, grants=grants).basis == "consent:1"
    assert not content_decision({3}, raising_agency_id=1, at=now, grants=grants)  # not yet
    assert not content_decision({4}, raising_agency_id=1, at=now, grants=grants)  # over
    assert content_decision({5}, raising_agency_id=1, at=now, grants=grants)  # statutory
    assert not content_decision({6}, raising_agency_id=1, at=now, grants=grants)
    assert not content_decision(set(), raising_agency_id=1, at=now, grants=grants)
    assert content_covered_agencies(
        {1, 2, 3, 4, 5, 6}, raising_agency_id=1, at=now, grants=grants
    ) == {1, 2, 5}
    assert discussion_is_anonymous({1, 3, 4, 6}, raising_agency_id=1, at=now, grants=grants)
    assert not discussion_is_anonymous({1, 2}, raising_agency_id=1, at=now, grants=grants)
    # Only a grant from the raising agency carries its content: not one between two others.
    others = [_grant(2, source=3), _grant(5, entry=9, source=3)]
    assert not content_decision({2}, raising_agency_id=1, at=now, grants=others)
    assert not content_decision({5}, raising_agency_id=1, at=now, grants=others)


def test_a_consent_between_two_other_agencies_carries_no_content_and_opens_no_gate(
    client_for, personas, world, content
):
    """The reason, factors and plan are the raising agency's account of the youth: as for any
    entry (rule 1), a consent that leaves out the raising agency does not carry them, and a
    statutory disclosure by another agency covers only what that agency disclosed."""
    case, meeting, _ = content
    consent_covering(case, [world.avesta_social, world.police], actor=personas.practitioner)
    statutory_covering(
        case,
        actor=personas.other_agency,
        from_agency=world.avesta_social,
        to_agency=world.police,
        basis_code="social_to_police_under_21",
    )
    assert _texts_seen(client_for, personas.other_agency, case, meeting) == NOTHING
    assert _texts_seen(client_for, personas.police, case, meeting) == NOTHING
    with pytest.raises(ValidationError):
        case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
