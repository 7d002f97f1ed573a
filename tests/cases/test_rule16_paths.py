"""DESIGN rule 16, path by path: every reader of a case's content (reason, factors, closing
outcome, plan goals and interventions, minutes, decisions) withholds it from an agency no consent
or statutory disclosure covers, and shows it to the raising agency and to a covered one.

``test_rule16_content_before_consent.py`` covers the main pages; this file walks the other
readers too (goal and intervention pages, the family PDF, the coordinator's minutes form, the
calendar file, notifications, the case list and the start page) and the states that stop a
consent covering without withdrawing it (DESIGN rule 18: the youth reaching the signing age of a
guardians-only consent; a new custodian who has not signed).

The youth turns the signing age (from the setting) 30 days from today; every consent here is
signed by the guardians only, so it stops covering on that birthday.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.cases.models import Case, Status
from samverkan.cases.services import case_raise, case_transition, guardian_add, team_add
from samverkan.consent.models import Consent
from samverkan.consent.services import signature_record, youth_cosigner_ensure
from samverkan.disclosure.facts import STOCKHOLM, birthday
from samverkan.meetings.models import Meeting
from samverkan.meetings.services import (
    action_create,
    agenda_item_add,
    meeting_schedule,
    minutes_record,
)
from samverkan.plans.models import Goal, Intervention, InterventionKind, InterventionStatus
from samverkan.plans.services import goal_add, intervention_add, intervention_update, plan_create
from tests.consent.test_joint_custody import identity_number
from tests.rule16 import consent_covering, sign_pending, statutory_covering, withdraw

NAME = "Tove Provsson"
REASON = "Slutat komma till träningen och skolkar på eftermiddagarna."
RISK = "High absence or school difficulties"
PROTECTIVE = "Meaningful leisure activity"
GOAL = "Kommer till skolan hela dagar under vårterminen"
INTERVENTION = "Mentorssamtal varje måndag med klassföreståndaren"
OUTCOME = "Närvaron har ökat efter fyra veckor"
MINUTES = "Gruppen är överens om att närvaron är huvudfrågan."
ACTION = "Polisen bjuder in till samtal på fritidsgården."
CLOSING = "Avslutas: familjen får stöd av öppenvården."
TEXTS = (REASON, RISK, PROTECTIVE, GOAL, INTERVENTION, OUTCOME, MINUTES, ACTION, CLOSING)


@dataclass
class Scene:
    case: Case
    consent: Consent
    meeting: Meeting
    goal: Goal
    intervention: Intervention
    turns: dt.datetime  # the signing-age birthday, 00:00 Stockholm


def _born_reaching(age: int, in_days: int) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=in_days)
    if (day.month, day.day) == (2, 29):
        day += dt.timedelta(days=1)
    return day.replace(year=day.year - age)


@pytest.fixture
def scene(personas, world, settings) -> Scene:
    """A case raised by the school with social services and the police on the team; under a
    guardians-only consent naming all three, a plan (goal, intervention with outcome) and a
    meeting (minutes, a decision for the police officer) are recorded."""
    age = settings.CONSENT_YOUTH_SIGNS_FROM_AGE
    born = _born_reaching(age, 30)
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=identity_number(born, "246"),
        name=NAME,
        gender="F",
        reason=REASON,
        risk_factors=["high_absence"],
        protective_factors=["leisure_activity"],
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    team_add(actor=personas.coordinator, case=case, user=personas.police, agency=world.police)
    consent = consent_covering(
        case, [world.avesta_school, world.avesta_social, world.police], actor=personas.practitioner
    )
    assert [s.kind for s in consent.signers.all()] == ["guardian"]  # guardians only
    plan = plan_create(actor=personas.practitioner, case=case)
    goal = goal_add(actor=personas.practitioner, plan=plan, text=GOAL)
    intervention = intervention_add(
        actor=personas.practitioner,
        plan=plan,
        agency=world.avesta_school,
        kind=InterventionKind.SCHOOL_SUPPORT,
        responsible=personas.practitioner,
        start_date=timezone.localdate(),
        description=INTERVENTION,
    )
    intervention_update(
        actor=personas.practitioner,
        intervention=intervention,
        responsible=personas.practitioner,
        start_date=intervention.start_date,
        end_date=None,
        status=InterventionStatus.ONGOING,
        description=INTERVENTION,
        outcome=OUTCOME,
    )
    start = timezone.now() + dt.timedelta(days=60)  # still ahead on the birthday
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        location="Stadshuset, rum 3",
    )
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case)
    minutes_record(actor=personas.coordinator, item=item, minutes=MINUTES)
    action_create(
        actor=personas.coordinator,
        item=item,
        text=ACTION,
        responsible_agency=world.police,
        responsible_user=personas.police,
        due_date=timezone.localdate(start),
    )
    turns = dt.datetime.combine(birthday(born, age), dt.time.min, tzinfo=STOCKHOLM)
    return Scene(case, consent, meeting, goal, intervention, turns)


def _api(user) -> Client:
    issued = token_create(actor=None, user=user, name="rule16-paths", days=3, scope=Scope.READ)
    return Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {issued.text}")


def _found(body: str) -> set[str]:
    return {text for text in TEXTS if text in body}


def readers(client_for, user, scene: Scene) -> dict[str, set[str]]:
    """Which content texts each reader shows ``user``. Made afresh, so it can run inside a
    time travel (sessions and tokens are new)."""
    case, meeting = scene.case, scene.meeting
    web = client_for(user)
    api = _api(user)

    def json_of(url: str) -> str:
        # As text, non-ASCII unescaped, so the Swedish texts are found as on the pages.
        return json.dumps(api.get(url).json(), ensure_ascii=False)

    def page(name: str, *args: object) -> str:
        response = web.get(reverse(name, args=args))
        return response.content.decode(errors="replace") if response.status_code == 200 else ""

    pdf = web.get(reverse("plans:pdf", args=[case.pk]) + "?lang=en")
    seen = {
        "case page": page("cases:detail", case.pk),
        "case api": json_of(f"/api/v1/cases/{case.pk}"),
        "plan page": page("plans:detail", case.pk),
        "goal page": page("plans:goal", case.pk, scene.goal.pk),
        "intervention page": page("plans:intervention", case.pk, scene.intervention.pk),
        "meeting page": page("meetings:detail", meeting.pk),
        "meeting api": json_of(f"/api/v1/meetings/{meeting.pk}"),
        "start page": page("web:home"),
        "case list": page("cases:list"),
        "case list api": json_of("/api/v1/cases"),
        "meeting list api": json_of("/api/v1/meetings"),
        "calendar": page("meetings:ics", meeting.pk),
        "notifications": page("notifications:list"),
        # The family's PDF is compressed: a refusal page is HTML, a PDF is not searched here,
        # only required not to be made for a viewer who may not read the plan.
        "plan pdf": pdf.content.decode(errors="replace") if pdf.status_code != 200 else "",
    }
    found = {reader: _found(body) for reader, body in seen.items()}
    found["plan pdf made"] = {GOAL} if pdf.status_code == 200 else set()
    return found


CASE_TEXTS = {REASON, RISK, PROTECTIVE}
PLAN_TEXTS = {GOAL, INTERVENTION, OUTCOME}


def covered_view(*, coordinator: bool = False, officer: bool = False) -> dict[str, set[str]]:
    """What a covered reader sees where: the case content on the case page and in the API, the
    plan on its pages, minutes and decisions at the meeting, and nothing anywhere else. The
    decision was for the police officer, so only they see it on the start page."""
    nothing: set[str] = set()
    return {
        "case page": nothing if coordinator else CASE_TEXTS,
        "case api": nothing if coordinator else CASE_TEXTS,
        "plan page": nothing if coordinator else PLAN_TEXTS,
        "goal page": nothing if coordinator else {GOAL},
        "intervention page": nothing if coordinator else {INTERVENTION, OUTCOME},
        "meeting page": {MINUTES, ACTION},
        "meeting api": {MINUTES, ACTION},
        "start page": {ACTION} if officer else nothing,
        "case list": nothing,
        "case list api": nothing,
        "meeting list api": nothing,
        "calendar": nothing,
        "notifications": nothing,
        "plan pdf": nothing,
        # The PDF names the youth: only the raising agency or a consent's identity makes it.
        "plan pdf made": nothing,
    }


def uncovered_view() -> dict[str, set[str]]:
    return {reader: set() for reader in covered_view()}


def _everyone(client_for, personas, scene: Scene) -> dict[str, dict[str, set[str]]]:
    return {
        "school": readers(client_for, personas.practitioner, scene),
        "social": readers(client_for, personas.other_agency, scene),
        "police": readers(client_for, personas.police, scene),
        "coordinator": readers(client_for, personas.coordinator, scene),
    }


def _school() -> dict[str, set[str]]:
    # The raising agency reads its own content whatever the consents; it may print the plan
    # for the family (if PDFs can be made on this machine, which the test does not require).
    return covered_view()


def _expect(
    seen: dict[str, dict[str, set[str]]], *, social: bool, police: bool
) -> dict[str, dict[str, set[str]]]:
    expected = {
        "school": _school(),
        "social": covered_view() if social else uncovered_view(),
        "police": covered_view(officer=True) if police else uncovered_view(),
        # The coordinator sits in the group for social services and is not on the team.
        "coordinator": covered_view(coordinator=True) if social else uncovered_view(),
    }
    # The school's PDF depends on the machine (Pango); whether it was made is not the point.
    expected["school"]["plan pdf made"] = seen["school"]["plan pdf made"]
    for who in ("social", "police"):
        if expected[who]["case page"] and seen[who]["plan pdf made"]:
            expected[who]["plan pdf made"] = seen[who]["plan pdf made"]
    return expected


def differences(
    seen: dict[str, dict[str, set[str]]], expected: dict[str, dict[str, set[str]]]
) -> list[tuple[str, str, set[str], set[str]]]:
    """(who, reader, seen, expected) wherever they differ: empty when every reader agrees."""
    return [
        (who, reader, seen[who][reader], expected[who][reader])
        for who in expected
        for reader in expected[who]
        if seen[who][reader] != expected[who][reader]
    ]


def test_a_guardians_only_consent_stops_covering_every_reader_at_the_signing_age(
    client_for, personas, scene
):
    before = scene.turns - dt.timedelta(hours=1)
    with time_machine.travel(before, tick=False):
        seen = _everyone(client_for, personas, scene)
        assert differences(seen, _expect(seen, social=True, police=True)) == []
    with time_machine.travel(scene.turns + dt.timedelta(hours=1), tick=False):
        seen = _everyone(client_for, personas, scene)
        assert differences(seen, _expect(seen, social=False, police=False)) == []
    cosigned = scene.turns + dt.timedelta(days=1)
    with time_machine.travel(cosigned, tick=False):
        youth = youth_cosigner_ensure(consent=scene.consent, actor=personas.practitioner)
        assert youth is not None
        signature_record(actor=personas.practitioner, signer=youth, method="in_person")
        seen = _everyone(client_for, personas, scene)
        assert differences(seen, _expect(seen, social=True, police=True)) == []


def test_a_new_custodian_who_has_not_signed_stops_every_reader(client_for, personas, scene):
    guardian_add(
        actor=personas.practitioner, case=scene.case, name="Ny Vårdnadshavare", has_custody=True
    )
    seen = _everyone(client_for, personas, scene)
    assert differences(seen, _expect(seen, social=False, police=False)) == []
    sign_pending(scene.case, actor=personas.practitioner)
    seen = _everyone(client_for, personas, scene)
    assert differences(seen, _expect(seen, social=True, police=True)) == []


def test_a_withdrawn_consent_stops_every_reader(client_for, personas, scene):
    withdraw(scene.consent, actor=personas.practitioner)
    seen = _everyone(client_for, personas, scene)
    assert differences(seen, _expect(seen, social=False, police=False)) == []


def test_a_statutory_disclosure_covers_every_reader_of_that_agency_only(
    client_for, personas, world, scene
):
    withdraw(scene.consent, actor=personas.practitioner)
    statutory_covering(
        scene.case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.avesta_social,
    )
    seen = _everyone(client_for, personas, scene)
    assert differences(seen, _expect(seen, social=True, police=False)) == []
    # It covers content, never the youth's name.
    page = client_for(personas.other_agency).get(reverse("cases:detail", args=[scene.case.pk]))
    assert REASON in page.content.decode()
    assert NAME not in page.content.decode()


def test_the_outcome_at_closing_follows_the_same_rule(client_for, personas, world, scene):
    withdraw(scene.consent, actor=personas.practitioner)
    statutory_covering(
        scene.case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.avesta_social,
    )
    case_transition(
        actor=personas.practitioner,
        case=scene.case,
        to=Status.CLOSED,
        closure_reason="other_support",
        closure_outcome=CLOSING,
    )

    def outcome_seen(user) -> tuple[bool, bool]:
        page = client_for(user).get(reverse("cases:detail", args=[scene.case.pk]))
        body: dict[str, Any] = _api(user).get(f"/api/v1/cases/{scene.case.pk}").json()
        return CLOSING in page.content.decode(), body["closure_outcome"] == CLOSING

    assert outcome_seen(personas.practitioner) == (True, True)  # the raising agency
    assert outcome_seen(personas.other_agency) == (True, True)  # the statutory disclosure's
    assert outcome_seen(personas.police) == (False, False)  # nobody's disclosure reached it
