"""The plan pages through HTTP: the case team only, another agency's intervention and a closed
case read-only, every read audited, query counts pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Status
from samverkan.cases.services import case_transition
from samverkan.plans.models import Goal, Intervention, InterventionKind
from samverkan.plans.services import intervention_add
from tests.cases.conftest import YOUTH_NAME
from tests.helpers import assert_trio, count_queries
from tests.plans.conftest import GOAL_TEXT, cover_by_statute


def _tomorrow() -> str:
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


def change_urls(pw, world, personas) -> list[tuple[str, dict[str, object]]]:
    """Every POST of the plan pages, with data that a permitted user could send."""
    pk = pw.cw.case.pk
    today = timezone.localdate().isoformat()
    return [
        (reverse("plans:create", args=[pk]), {}),
        (reverse("plans:goal_add", args=[pk]), {"text": "Nytt mål"}),
        (reverse("plans:goal", args=[pk, pw.goal.pk]), {"text": "Ändrat mål", "achieved": "on"}),
        (
            reverse("plans:intervention_add", args=[pk]),
            {
                "agency": world.avesta_school.pk,
                "kind": InterventionKind.OTHER,
                "description": "Läxhjälp",
                "responsible": personas.practitioner.pk,
                "start_date": today,
                "status": "planned",
            },
        ),
        (
            reverse("plans:intervention", args=[pk, pw.school_intervention.pk]),
            {
                "responsible": personas.practitioner.pk,
                "start_date": today,
                "status": "ongoing",
                "description": "Extra stöd",
                "outcome": "",
            },
        ),
        (reverse("plans:follow_up_add", args=[pk]), {"date": _tomorrow()}),
        (reverse("plans:follow_up_done", args=[pk, pw.follow_up.pk]), {}),
    ]


def read_urls(pw) -> list[str]:
    pk = pw.cw.case.pk
    return [
        reverse("plans:detail", args=[pk]),
        reverse("plans:goal", args=[pk, pw.goal.pk]),
        reverse("plans:intervention", args=[pk, pw.school_intervention.pk]),
        reverse("plans:pdf", args=[pk]),
    ]


@pytest.mark.parametrize(
    "persona",
    [
        "outsider",
        "council_member",
        "admin",
        "auditor",
        "agreement_editor",
        "colleague",
        "coordinator",
        "no_role",
    ],
)
def test_everyone_off_the_team_gets_404_on_every_plan_url(
    client_for, personas, world, plan_world, persona
):
    client = client_for(getattr(personas, persona), reauth=True)
    for url in read_urls(plan_world):
        response = client.get(url)
        assert response.status_code == 404, (persona, url, response.status_code)
        assert YOUTH_NAME.encode() not in response.content
        assert GOAL_TEXT.encode() not in response.content
    for url, data in change_urls(plan_world, world, personas):
        response = client.post(url, data)
        assert response.status_code == 404, (persona, url, response.status_code)
    assert Goal.objects.count() == 1


def test_missing_plan_objects_are_404_for_the_team(client_for, personas, plan_world):
    pk = plan_world.cw.case.pk
    client = client_for(personas.practitioner)
    for url in (
        reverse("plans:goal", args=[pk, 999999]),
        reverse("plans:intervention", args=[pk, 999999]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("plans:follow_up_done", args=[pk, 999999])).status_code == 404


@pytest.mark.parametrize("index", range(4), ids=["plan", "goal", "intervention", "pdf"])
def test_trio_on_every_read_url(client_for, personas, plan_world, index):
    assert_trio(
        client_for,
        read_urls(plan_world)[index],
        allowed=personas.practitioner,
        outsider=personas.outsider,
    )


CHANGES = [
    "create",
    "goal_add",
    "goal",
    "intervention_add",
    "intervention",
    "follow_up_add",
    "follow_up_done",
]


@pytest.mark.parametrize("index", range(len(CHANGES)), ids=CHANGES)
def test_trio_on_every_change_url(client_for, personas, world, plan_world, index):
    url, data = change_urls(plan_world, world, personas)[index]
    assert_trio(
        client_for,
        url,
        allowed=personas.practitioner,
        outsider=personas.outsider,
        # Another agency's member sees the school's intervention but may not change it.
        read_only=personas.police if CHANGES[index] == "intervention" else None,
        method="post",
        wrong_method="put",
        data=data,
    )
    if CHANGES[index] not in ("goal", "intervention"):  # these two show a form on GET
        assert client_for(personas.practitioner).get(url).status_code == 405


def test_pages_that_only_show_refuse_post(client_for, personas, plan_world):
    client = client_for(personas.practitioner)
    for url in (read_urls(plan_world)[0], read_urls(plan_world)[3]):
        assert client.post(url).status_code == 405, url


def test_another_agency_reads_an_intervention_but_cannot_change_it(
    client_for, personas, plan_world
):
    url = reverse(
        "plans:intervention", args=[plan_world.cw.case.pk, plan_world.school_intervention.pk]
    )
    police = client_for(personas.police)
    page = police.get(url)
    assert page.status_code == 200
    assert "Extra stöd i matematik" in page.content.decode()
    assert b'name="outcome"' not in page.content
    response = police.post(
        url,
        {
            "responsible": personas.police.pk,
            "start_date": timezone.localdate().isoformat(),
            "status": "cancelled",
        },
    )
    assert response.status_code == 403
    plan_world.school_intervention.refresh_from_db()
    assert plan_world.school_intervention.status == "planned"
    # The police change their own.
    own = reverse(
        "plans:intervention", args=[plan_world.cw.case.pk, plan_world.police_intervention.pk]
    )
    response = police.post(
        own,
        {
            "responsible": personas.police.pk,
            "start_date": plan_world.police_intervention.start_date.isoformat(),
            "status": "done",
            "outcome": "Samtalet hölls, vårdnadshavarna deltog.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan_world.police_intervention.refresh_from_db()
    assert plan_world.police_intervention.status == "done"
    assert plan_world.police_intervention.outcome.startswith("Samtalet hölls")


def test_intervention_form_offers_only_the_viewers_agencies(
    client_for, personas, world, plan_world
):
    page = client_for(personas.police).get(reverse("plans:detail", args=[plan_world.cw.case.pk]))
    form = page.context["intervention_form"]
    assert [value for value, _label in form.fields["agency"].choices] == [world.police.pk]
    response = client_for(personas.police).post(
        reverse("plans:intervention_add", args=[plan_world.cw.case.pk]),
        {
            "agency": world.avesta_school.pk,
            "kind": InterventionKind.SCHOOL_SUPPORT,
            "responsible": personas.police.pk,
            "start_date": timezone.localdate().isoformat(),
            "status": "planned",
        },
    )
    assert response.status_code == 400
    assert Intervention.objects.count() == 2


def test_closed_case_plan_is_read_only(client_for, personas, world, plan_world):
    case_transition(
        actor=personas.practitioner,
        case=plan_world.cw.case,
        to=Status.CLOSED,
        closure_reason="goals_met",
        closure_outcome="Tillbaka i skolan.",
    )
    client = client_for(personas.practitioner)
    for url, data in change_urls(plan_world, world, personas):
        assert client.post(url, data).status_code == 403, url
    page = client.get(reverse("plans:detail", args=[plan_world.cw.case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert GOAL_TEXT in html
    assert '<form method="post" action="/cases/' not in html
    assert Goal.objects.get().text == GOAL_TEXT


def test_team_sees_the_whole_plan_and_identity_only_where_allowed(client_for, personas, plan_world):
    url = reverse("plans:detail", args=[plan_world.cw.case.pk])
    own = client_for(personas.practitioner).get(url).content.decode()
    assert YOUTH_NAME in own
    assert plan_world.cw.case.youth.pseudonym in own
    assert reverse("plans:pdf", args=[plan_world.cw.case.pk]) in own
    for other in (personas.police, personas.other_agency):
        html = client_for(other).get(url).content.decode()
        assert YOUTH_NAME not in html
        assert "Kalle" not in html
        assert GOAL_TEXT in html  # the joint plan: every agency's part, to the whole team
        assert "Extra stöd i matematik" in html
        assert reverse("plans:pdf", args=[plan_world.cw.case.pk]) not in html


def test_plan_page_without_a_plan_offers_to_start_one(client_for, personas, world, case_world):
    cover_by_statute(personas, world, case_world.case)
    client = client_for(personas.police)
    url = reverse("plans:detail", args=[case_world.case.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("plans:create", args=[case_world.case.pk]) in page.content.decode()
    assert (
        client.post(reverse("plans:goal_add", args=[case_world.case.pk]), {"text": "x"}).status_code
        == 404
    )
    assert client.post(reverse("plans:create", args=[case_world.case.pk])).status_code == 302
    assert case_world.case.action_plan.created_by == personas.police
    assert AuditEvent.objects.filter(action="plan.created", case_id=case_world.case.pk).exists()


def test_every_object_shown_is_audited_with_its_case(client_for, personas, plan_world):
    pk = plan_world.cw.case.pk
    police = client_for(personas.police)
    before = AuditEvent.objects.count()
    police.get(reverse("plans:detail", args=[pk]))
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert {e.action for e in events} == {"case.viewed", "plan.viewed"}
    shown = {(e.object_type, e.object_id) for e in events if e.action == "plan.viewed"}
    assert shown == {
        ("plans.actionplan", str(plan_world.plan.pk)),
        ("plans.goal", str(plan_world.goal.pk)),
        ("plans.intervention", str(plan_world.school_intervention.pk)),
        ("plans.intervention", str(plan_world.police_intervention.pk)),
    }
    assert {e.case_id for e in events} == {pk}
    assert {e.actor_id for e in events} == {personas.police.pk}

    client_for(personas.police).get(reverse("plans:goal", args=[pk, plan_world.goal.pk]))
    assert AuditEvent.objects.filter(
        action="plan.goal_viewed", object_id=str(plan_world.goal.pk), case_id=pk
    ).exists()
    client_for(personas.police).get(
        reverse("plans:intervention", args=[pk, plan_world.school_intervention.pk])
    )
    assert AuditEvent.objects.filter(
        action="plan.intervention_viewed",
        object_id=str(plan_world.school_intervention.pk),
        case_id=pk,
    ).exists()


def test_writes_are_audited(client_for, personas, world, plan_world):
    expected = {
        "plan.created",
        "plan.goal_added",
        "plan.intervention_added",
        "plan.follow_up_added",
    }
    actions = set(
        AuditEvent.objects.filter(case_id=plan_world.cw.case.pk).values_list("action", flat=True)
    )
    assert expected <= actions
    client = client_for(personas.practitioner)
    for url, data in change_urls(plan_world, world, personas)[2:]:
        assert client.post(url, data).status_code == 302, url
    actions = set(
        AuditEvent.objects.filter(case_id=plan_world.cw.case.pk).values_list("action", flat=True)
    )
    assert {"plan.goal_updated", "plan.intervention_updated", "plan.follow_up_done"} <= actions


def _add_interventions(personas, world, plan, n):
    today = timezone.localdate()
    for i in range(n):
        intervention_add(
            actor=personas.practitioner,
            plan=plan,
            agency=world.avesta_school,
            kind=InterventionKind.OTHER,
            responsible=personas.practitioner,
            start_date=today,
            end_date=today + dt.timedelta(days=i + 1),
            description=f"Insats nummer {i}",
        )


def test_plan_page_query_count_is_the_same_for_1_and_20_interventions(
    client_for, personas, world, case_world
):
    from samverkan.plans.services import goal_add, plan_create

    plan = plan_create(actor=personas.practitioner, case=case_world.case)
    goal_add(actor=personas.practitioner, plan=plan, text="Första målet")
    client = client_for(personas.practitioner)
    url = reverse("plans:detail", args=[case_world.case.pk])
    _add_interventions(personas, world, plan, 1)
    client.get(url)
    one = count_queries(client, url)
    _add_interventions(personas, world, plan, 19)
    for i in range(5):
        goal_add(actor=personas.practitioner, plan=plan, text=f"Mål {i}")
    twenty = count_queries(client, url)
    assert one == twenty
    assert one <= 32  # includes the two reads of consents and statutory disclosures
