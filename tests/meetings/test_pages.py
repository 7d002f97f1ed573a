"""Meeting pages through the client: personas, pseudonyms only, audit, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.meetings.models import Action, ActionStatus, AgendaItem, Attendance, Meeting
from samverkan.meetings.services import (
    action_create,
    agenda_item_add,
    meeting_schedule,
    minutes_record,
)
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import assert_trio, count_queries
from tests.meetings.conftest import LOCATION, local, raise_cases
from tests.rule16 import consent_covering

NOT_IN_GROUP = [
    "outsider",
    "council_member",
    "admin",
    "auditor",
    "agreement_editor",
    "colleague",
    "no_role",
]


def _action(personas, world, item, **overrides) -> Action:
    kwargs = {
        "actor": personas.coordinator,
        "item": item,
        "text": "Skolan kallar till möte.",
        "responsible_agency": world.avesta_school,
        "responsible_user": personas.practitioner,
        "due_date": timezone.localdate() + timedelta(days=14),
    }
    kwargs.update(overrides)
    return action_create(**kwargs)


def meeting_urls(meeting_world, action: Action) -> list[tuple[str, str]]:
    m, item = meeting_world.meeting.pk, meeting_world.item.pk
    return [
        ("get", reverse("meetings:list")),
        ("get", reverse("meetings:schedule")),
        ("post", reverse("meetings:schedule")),
        ("get", reverse("meetings:detail", args=[m])),
        ("get", reverse("meetings:ics", args=[m])),
        ("post", reverse("meetings:agenda_add", args=[m])),
        ("post", reverse("meetings:agenda_remove", args=[m, item])),
        ("post", reverse("meetings:minutes", args=[m, item])),
        ("post", reverse("meetings:action_add", args=[m, item])),
        ("post", reverse("meetings:attendance", args=[m])),
        ("post", reverse("meetings:action_status", args=[m, action.pk])),
    ]


@pytest.mark.parametrize("persona", NOT_IN_GROUP)
def test_everyone_outside_the_group_gets_404_on_every_meeting_url(
    client_for, personas, world, meeting_world, persona
):
    action = _action(personas, world, meeting_world.item)
    client = client_for(getattr(personas, persona), reauth=True)
    for method, url in meeting_urls(meeting_world, action):
        response = getattr(client, method)(url, {"status": "done"})
        assert response.status_code == 404, (persona, url, response.status_code)
        assert meeting_world.case.youth.pseudonym.encode() not in response.content
    assert AuditEvent.objects.filter(action="meeting.view_denied", outcome="denied").exists()


def test_missing_and_forbidden_meeting_look_the_same(client_for, personas, meeting_world):
    client = client_for(personas.outsider)
    missing = client.get(reverse("meetings:detail", args=[999999]))
    forbidden = client.get(reverse("meetings:detail", args=[meeting_world.meeting.pk]))
    assert missing.status_code == forbidden.status_code == 404
    assert missing.templates[0].name == forbidden.templates[0].name


def test_anonymous_visitors_are_sent_to_login(client, meeting_world):
    response = client.get(reverse("meetings:detail", args=[meeting_world.meeting.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["practitioner", "other_agency", "police"])
def test_members_who_are_not_coordinator_get_403_on_changes(
    client_for, personas, world, meeting_world, persona
):
    action = _action(
        personas,
        world,
        meeting_world.item,
        responsible_user=None,
        responsible_agency=world.police,
    )
    client = client_for(getattr(personas, persona), reauth=True)
    for method, url in meeting_urls(meeting_world, action):
        response = getattr(client, method)(url, {"status": "cancelled"})
        if method == "get" and "new" not in url:
            assert response.status_code == 200, (persona, url, response.status_code)
        else:
            assert response.status_code == 403, (persona, url, response.status_code)
    assert AgendaItem.objects.filter(pk=meeting_world.item.pk).exists()
    assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN


CHANGES = [
    "agenda_add",
    "agenda_remove",
    "minutes",
    "anonymous",
    "action_add",
    "attendance",
    "action_status",
]


@pytest.mark.parametrize("name", CHANGES)
def test_trio_on_every_change(client_for, personas, world, meeting_world, name):
    """Outsider 404, a member who is not coordinator 403, GET 405 (one URL per test: the
    trio re-authenticates, which allauth rate-limits per user)."""
    m = meeting_world.meeting.pk
    (spare,) = raise_cases(personas, world, 1)
    spare_item = agenda_item_add(
        actor=personas.coordinator, meeting=meeting_world.meeting, case=spare
    )
    action = _action(personas, world, meeting_world.item)
    args = {
        "agenda_add": [m],
        "agenda_remove": [m, spare_item.pk],
        "minutes": [m, meeting_world.item.pk],
        "anonymous": [m, spare_item.pk],
        "action_add": [m, meeting_world.item.pk],
        "attendance": [m],
        "action_status": [m, action.pk],
    }[name]
    assert_trio(
        client_for,
        reverse(f"meetings:{name}", args=args),
        allowed=personas.coordinator,
        outsider=personas.outsider,
        read_only=personas.police,
        method="post",
        wrong_method="get",
    )


def test_trio_on_scheduling(client_for, personas, meeting_world):
    assert_trio(
        client_for,
        reverse("meetings:schedule"),
        allowed=personas.coordinator,
        outsider=personas.outsider,
        read_only=personas.practitioner,
        method="get",
        wrong_method="put",
    )


@pytest.mark.parametrize("name", ["list", "detail", "ics"])
def test_trio_on_reading(client_for, personas, meeting_world, name):
    args = [] if name == "list" else [meeting_world.meeting.pk]
    assert_trio(
        client_for,
        reverse(f"meetings:{name}", args=args),
        allowed=personas.police,
        outsider=personas.outsider,
        method="get",
        wrong_method="post",
    )


@pytest.mark.parametrize("persona", ["coordinator", "practitioner", "other_agency", "police"])
def test_meeting_page_shows_the_case_by_pseudonym_only(
    client_for, personas, world, meeting_world, persona
):
    minutes_record(actor=personas.coordinator, item=meeting_world.item, minutes="Läget följs upp.")
    _action(personas, world, meeting_world.item)
    page = client_for(getattr(personas, persona)).get(
        reverse("meetings:detail", args=[meeting_world.meeting.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert meeting_world.case.youth.pseudonym in html
    assert "Läget följs upp." in html
    assert "Skolan kallar till möte." in html
    # Not even the raising school sees the name here: the whole group reads the page.
    for secret in (YOUTH_NAME, "Kalle", "Testberg", YOUTH_NUMBER, YOUTH_NUMBER[-4:]):
        assert secret not in html, secret


def test_list_page_splits_upcoming_and_past(client_for, personas, world, meeting_world):
    past = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=local(-10, 9),
        ends_at=local(-10, 10),
        location="Biblioteket",
    )
    page = client_for(personas.police).get(reverse("meetings:list"))
    assert page.status_code == 200
    listing = page.context["listing"]
    assert [m.pk for m in listing.upcoming] == [meeting_world.meeting.pk]
    assert [m.pk for m in listing.past] == [past.pk]
    assert listing.schedulable == []
    html = page.content.decode()
    assert meeting_world.case.youth.pseudonym not in html
    assert "Biblioteket" in html
    coordinator = client_for(personas.coordinator).get(reverse("meetings:list"))
    assert reverse("meetings:schedule") in coordinator.content.decode()


def test_schedule_through_the_page(client_for, personas, world, case_world):
    client = client_for(personas.coordinator)
    day = (timezone.localdate() + timedelta(days=5)).isoformat()
    bad = client.post(
        reverse("meetings:schedule"),
        {
            "group": world.avesta_group.pk,
            "date": day,
            "start_time": "10:00",
            "end_time": "09:00",
            "location": "Rum 1",
        },
    )
    assert bad.status_code == 400
    assert "end after it starts" in bad.content.decode()
    response = client.post(
        reverse("meetings:schedule"),
        {
            "group": world.avesta_group.pk,
            "date": day,
            "start_time": "09:00",
            "end_time": "10:00",
            "location": "Rum 1",
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:detail", args=[meeting.pk])
    assert timezone.localtime(meeting.starts_at).hour == 9
    assert meeting.attendance.count() == 4


def test_coordinator_runs_the_meeting_through_the_page(client_for, personas, world, meeting_world):
    m = meeting_world.meeting
    item = meeting_world.item
    client = client_for(personas.coordinator)
    (second,) = raise_cases(personas, world, 1)
    page = client.get(reverse("meetings:detail", args=[m.pk]))
    assert second.youth.pseudonym in page.content.decode()  # offered for the agenda
    assert (
        client.post(reverse("meetings:agenda_add", args=[m.pk]), {"case": second.pk}).status_code
        == 302
    )
    assert AgendaItem.objects.filter(meeting=m, case=second).exists()

    url = reverse("meetings:minutes", args=[m.pk, item.pk])
    blocked = client.post(url, {f"m{item.pk}-minutes": "Kalle mår bättre"})
    assert blocked.status_code == 400
    assert "pseudonym" in blocked.content.decode()
    assert AgendaItem.objects.get(pk=item.pk).minutes_enc == ""
    assert client.post(url, {f"m{item.pk}-minutes": "Mår bättre."}).status_code == 302
    assert AgendaItem.objects.get(pk=item.pk).minutes == "Mår bättre."

    url = reverse("meetings:action_add", args=[m.pk, item.pk])
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    blocked = client.post(
        url,
        {
            f"a{item.pk}-text": f"Ring {YOUTH_NUMBER.replace('-', '')}",
            f"a{item.pk}-responsible": f"user:{personas.practitioner.pk}:{world.avesta_school.pk}",
            f"a{item.pk}-due_date": due,
        },
    )
    assert blocked.status_code == 400
    assert "identity number" in blocked.content.decode()
    assert not Action.objects.exists()
    ok = client.post(
        url,
        {
            f"a{item.pk}-text": "Skolan kallar till möte.",
            f"a{item.pk}-responsible": f"user:{personas.practitioner.pk}:{world.avesta_school.pk}",
            f"a{item.pk}-due_date": due,
        },
    )
    assert ok.status_code == 302
    action = Action.objects.get()
    assert action.responsible_user == personas.practitioner
    assert action.responsible_agency == world.avesta_school
    ok = client.post(
        url,
        {
            f"a{item.pk}-text": "Polisen återkopplar.",
            f"a{item.pk}-responsible": f"agency:{world.police.pk}",
            f"a{item.pk}-due_date": due,
        },
    )
    assert ok.status_code == 302
    assert (
        Action.objects.get(text_enc__isnull=False, responsible_agency=world.police).responsible_user
        is None
    )

    url = reverse("meetings:attendance", args=[m.pk])
    data = {
        f"seat_{personas.coordinator.pk}_{world.avesta_social.pk}": "present",
        f"seat_{personas.practitioner.pk}_{world.avesta_school.pk}": "present",
        f"seat_{personas.police.pk}_{world.police.pk}": "absent",
        f"seat_{personas.other_agency.pk}_{world.avesta_social.pk}": "",
    }
    assert client.post(url, data).status_code == 302
    present = dict(Attendance.objects.filter(meeting=m).values_list("user_id", "present"))
    assert present == {
        personas.coordinator.pk: True,
        personas.practitioner.pk: True,
        personas.police.pk: False,
        personas.other_agency.pk: None,
    }
    # Members read the attendance.
    html = client_for(personas.police).get(reverse("meetings:detail", args=[m.pk])).content
    assert "Absent" in html.decode() or "Frånvarande" in html.decode()


def test_responsible_marks_done_from_the_meeting_page(client_for, personas, world, meeting_world):
    action = _action(personas, world, meeting_world.item)
    url = reverse("meetings:action_status", args=[meeting_world.meeting.pk, action.pk])
    page = client_for(personas.practitioner).get(
        reverse("meetings:detail", args=[meeting_world.meeting.pk])
    )
    assert url in page.content.decode()
    police_page = client_for(personas.police).get(
        reverse("meetings:detail", args=[meeting_world.meeting.pk])
    )
    assert url not in police_page.content.decode()
    assert client_for(personas.police).post(url, {"status": "done"}).status_code == 403
    assert client_for(personas.practitioner).post(url, {"status": "cancelled"}).status_code == 403
    assert client_for(personas.practitioner).post(url, {"status": "done"}).status_code == 302
    assert Action.objects.get(pk=action.pk).status == ActionStatus.DONE


def test_start_page_lists_the_open_actions_for_the_user(client_for, personas, world, meeting_world):
    mine = _action(personas, world, meeting_world.item, text="Skolan kallar till möte.")
    police = _action(
        personas,
        world,
        meeting_world.item,
        text="Polisen återkopplar.",
        responsible_agency=world.police,
        responsible_user=None,
    )
    _action(
        personas,
        world,
        meeting_world.item,
        text="Socialtjänsten utreder.",
        responsible_agency=world.avesta_social,
        responsible_user=personas.other_agency,
    )
    pseudonym = meeting_world.case.youth.pseudonym
    meeting_url = reverse("meetings:detail", args=[meeting_world.meeting.pk])

    home = client_for(personas.practitioner).get("/").content.decode()
    assert "Skolan kallar till möte." in home
    assert pseudonym in home
    assert meeting_url in home
    assert "Polisen återkopplar." not in home
    assert "Socialtjänsten utreder." not in home
    assert YOUTH_NAME not in home

    police_home = client_for(personas.police).get("/").content.decode()
    assert "Polisen återkopplar." in police_home
    assert "Skolan kallar till möte." not in police_home

    # The school colleague does not sit in the group: nothing, though the school is responsible.
    colleague_home = client_for(personas.colleague).get("/").content.decode()
    assert "Skolan kallar till möte." not in colleague_home

    viewed = AuditEvent.objects.filter(action="meeting.action_viewed", actor=personas.practitioner)
    assert [(e.object_id, e.case_id) for e in viewed] == [(str(mine.pk), meeting_world.case.pk)]

    client_for(personas.police).post(
        reverse("meetings:action_status", args=[meeting_world.meeting.pk, police.pk]),
        {"status": "done"},
    )
    assert "Polisen återkopplar." not in client_for(personas.police).get("/").content.decode()


def test_coordinator_index_shows_the_next_meeting(client_for, personas, world, meeting_world):
    page = client_for(personas.coordinator).get(
        reverse("cases:group_index", args=[world.avesta_group.pk])
    )
    row = next(r for r in page.context["rows"] if r.case.pk == meeting_world.case.pk)
    assert row.case.next_meeting == meeting_world.meeting.starts_at


def test_navigation_offers_meetings_to_group_members_only(client_for, personas, meeting_world):
    url = reverse("meetings:list")
    assert url in client_for(personas.police).get("/").content.decode()
    assert url in client_for(personas.coordinator).get("/").content.decode()
    for persona in ("council_member", "auditor", "admin", "colleague"):
        assert url not in client_for(getattr(personas, persona)).get("/").content.decode()


def test_reading_a_meeting_is_audited_per_item_with_its_case(
    client_for, personas, world, meeting_world
):
    (second,) = raise_cases(personas, world, 1)
    second_item = agenda_item_add(
        actor=personas.coordinator, meeting=meeting_world.meeting, case=second
    )
    minutes_record(actor=personas.coordinator, item=meeting_world.item, minutes="Stabilt.")
    action = _action(personas, world, meeting_world.item)
    before = AuditEvent.objects.count()
    client_for(personas.police).get(reverse("meetings:detail", args=[meeting_world.meeting.pk]))
    events = [
        e for e in AuditEvent.objects.order_by("id")[before:] if e.action.startswith("meeting.")
    ]
    by_action = {(e.action, e.object_id, e.case_id) for e in events}
    assert by_action == {
        ("meeting.viewed", str(meeting_world.meeting.pk), None),
        ("meeting.minutes_viewed", str(meeting_world.item.pk), meeting_world.case.pk),
        ("meeting.agenda_item_viewed", str(second_item.pk), second.pk),
        ("meeting.action_viewed", str(action.pk), meeting_world.case.pk),
    }
    assert all(e.actor_id == personas.police.pk for e in events)


def _fill_agenda(personas, world, meeting, cases):
    for case in cases:
        item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case)
        consent_covering(  # rule 16: minutes and decisions only under a consent
            case,
            [world.avesta_school, world.avesta_social, world.police],
            actor=personas.practitioner,
        )
        minutes_record(actor=personas.coordinator, item=item, minutes="Genomgång.")
        _action(personas, world, item, responsible_user=None, responsible_agency=world.police)


@pytest.mark.parametrize("persona", ["coordinator", "police"])
def test_meeting_page_query_count_is_the_same_for_1_and_20_items(
    client_for, personas, world, case_world, persona
):
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=local(2, 9),
        ends_at=local(2, 11),
        location=LOCATION,
    )
    cases = raise_cases(personas, world, 20)
    client = client_for(getattr(personas, persona))
    url = reverse("meetings:detail", args=[meeting.pk])
    _fill_agenda(personas, world, meeting, cases[:1])
    client.get(url)
    one = count_queries(client, url)
    _fill_agenda(personas, world, meeting, cases[1:])
    twenty = count_queries(client, url)
    assert one == twenty
    assert one <= 45
    assert AgendaItem.objects.filter(meeting=meeting).count() == 20


def test_meeting_list_and_start_page_query_counts_do_not_grow(
    client_for, personas, world, meeting_world
):
    client = client_for(personas.police)
    list_url = reverse("meetings:list")
    far = timezone.localdate() + timedelta(days=60)
    _action(
        personas,
        world,
        meeting_world.item,
        responsible_user=None,
        responsible_agency=world.police,
        due_date=far,
    )
    client.get(list_url)
    client.get("/")
    before = (count_queries(client, list_url), count_queries(client, "/"))
    for day in range(10, 30):
        meeting = meeting_schedule(
            actor=personas.coordinator,
            group=world.avesta_group,
            starts_at=local(day, 9),
            ends_at=local(day, 10),
            location=LOCATION,
        )
        item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=meeting_world.case)
        _action(
            personas,
            world,
            item,
            responsible_user=None,
            responsible_agency=world.police,
            due_date=far,
        )
    after = (count_queries(client, list_url), count_queries(client, "/"))
    assert before == after
