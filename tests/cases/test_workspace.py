"""The case workspace through its pages: need to know, closed by default, audit, query counts."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case, Entry, Status
from samverkan.cases.services import (
    case_transition,
    entry_add,
    guardian_add,
    team_add,
    youth_register,
)
from samverkan.disclosure.policy import DenialReason
from samverkan.organisations.services import municipality_create
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import count_queries
from tests.rule16 import consent_covering


def case_urls(case: Case, entry: Entry | None = None) -> list[tuple[str, str]]:
    urls = [
        ("get", reverse("cases:detail", args=[case.pk])),
        ("post", reverse("cases:entry_add", args=[case.pk])),
        ("post", reverse("cases:status", args=[case.pk])),
        ("post", reverse("cases:guardian_add", args=[case.pk])),
        ("post", reverse("cases:concern_add", args=[case.pk])),
        ("get", reverse("cases:team", args=[case.pk])),
        ("post", reverse("cases:team_add", args=[case.pk])),
    ]
    if entry is not None:
        urls.append(("get", reverse("cases:entry", args=[case.pk, entry.pk])))
    return urls


@pytest.mark.parametrize(
    "persona",
    ["outsider", "council_member", "admin", "auditor", "agreement_editor", "colleague", "no_role"],
)
def test_everyone_off_the_team_gets_404_on_every_case_url(
    client_for, personas, case_world, persona
):
    entry = entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=case_world.case.raising_agency,
        category=case_world.school_category,
        text="Frånvaro 40 % i oktober.",
    )
    client = client_for(getattr(personas, persona), reauth=True)
    for method, url in case_urls(case_world.case, entry):
        response = getattr(client, method)(url, {})
        assert response.status_code == 404, (persona, url, response.status_code)
        assert YOUTH_NAME.encode() not in response.content


def test_missing_case_and_forbidden_case_look_the_same(client_for, personas, case_world):
    client = client_for(personas.outsider)
    missing = client.get(reverse("cases:detail", args=[999999]))
    forbidden = client.get(reverse("cases:detail", args=[case_world.case.pk]))
    assert missing.status_code == forbidden.status_code == 404

    def without_csrf(html: bytes) -> str:
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())
        return re.sub(r"/cases/\d+/", "/cases/N/", text)

    assert without_csrf(missing.content) == without_csrf(forbidden.content)


def test_refused_attempts_are_audited(client_for, personas, case_world):
    client_for(personas.outsider).get(reverse("cases:detail", args=[case_world.case.pk]))
    event = AuditEvent.objects.filter(action="case.view_denied").latest("id")
    assert event.actor_id == personas.outsider.pk
    assert event.case_id == case_world.case.pk
    assert event.outcome == "denied"


def test_raising_agency_sees_identity_other_agencies_only_the_pseudonym(
    client_for, personas, case_world
):
    pseudonym = case_world.case.youth.pseudonym
    assert pseudonym.startswith("AVE-")
    own = client_for(personas.practitioner).get(reverse("cases:detail", args=[case_world.case.pk]))
    assert own.status_code == 200
    assert YOUTH_NAME in own.content.decode()
    assert YOUTH_NUMBER in own.content.decode()
    for other in (personas.other_agency, personas.police):
        page = client_for(other).get(reverse("cases:detail", args=[case_world.case.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert pseudonym in html
        assert YOUTH_NAME not in html
        assert YOUTH_NUMBER[-4:] not in html
        assert "Kalle" not in html


def test_municipalities_sharing_a_prefix_get_distinct_pseudonyms(personas, db):
    sala = municipality_create(actor=None, name="Sala", code="1981")
    salem = municipality_create(actor=None, name="Salem", code="0128")
    first = youth_register(
        actor=personas.practitioner, municipality=sala, identity_number="811228-9874", name="A B"
    )
    second = youth_register(
        actor=personas.practitioner, municipality=salem, identity_number="120315-1236", name="C D"
    )
    assert first.pseudonym.startswith("SAL-")
    assert second.pseudonym.startswith("SAL-")
    assert first.pseudonym != second.pseudonym


def test_entries_are_closed_by_default_and_hidden_ones_are_counted(
    client_for, personas, case_world, world
):
    c = case_world
    entry_add(
        actor=personas.practitioner,
        case=c.case,
        agency=world.avesta_school,
        category=c.school_category,
        text="Skolans anteckning",
    )
    for i in range(3):
        entry_add(
            actor=personas.police,
            case=c.case,
            agency=world.police,
            category=c.police_category,
            text=f"Polisens anteckning {i}",
        )
    page = client_for(personas.practitioner).get(reverse("cases:detail", args=[c.case.pk]))
    html = page.content.decode()
    assert "Skolans anteckning" in html
    assert "Polisens anteckning" not in html
    hidden = page.context["listing"].hidden
    assert [(g.agency.pk, g.reason, g.count) for g in hidden] == [
        (world.police.pk, DenialReason.NO_CONSENT, 3)
    ]
    assert "3 entries from" in html
    assert "no consent covers" in html
    police_page = (
        client_for(personas.police).get(reverse("cases:detail", args=[c.case.pk])).content.decode()
    )
    assert "Polisens anteckning 2" in police_page
    assert "Skolans anteckning" not in police_page


def test_every_entry_shown_is_audited_with_its_case(client_for, personas, case_world, world):
    c = case_world
    for i in range(4):
        entry_add(
            actor=personas.practitioner,
            case=c.case,
            agency=world.avesta_school,
            category=c.school_category,
            text=f"Anteckning {i}",
        )
    before = AuditEvent.objects.filter(action="entry.viewed").count()
    client_for(personas.practitioner).get(reverse("cases:detail", args=[c.case.pk]))
    viewed = AuditEvent.objects.filter(action="entry.viewed").order_by("id")[before:]
    # All four under the school's own basis: one event for the page, naming them.
    assert len(viewed) == 1
    assert {e.case_id for e in viewed} == {c.case.pk}
    assert sorted(viewed[0].details["entries"]) == sorted(
        Entry.objects.filter(case=c.case).values_list("pk", flat=True)
    )
    assert AuditEvent.objects.filter(
        action="case.viewed", case_id=c.case.pk, actor=personas.practitioner
    ).exists()


def test_each_entry_read_records_its_own_legal_basis(client_for, personas, case_world, world):
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Anteckning",
    )
    client_for(personas.practitioner).get(reverse("cases:detail", args=[case_world.case.pk]))
    event = AuditEvent.objects.filter(action="entry.viewed").latest("id")
    assert event.legal_basis == "own_agency"


def test_hidden_entry_history_is_404(client_for, personas, case_world, world):
    c = case_world
    entry = entry_add(
        actor=personas.police,
        case=c.case,
        agency=world.police,
        category=c.police_category,
        text="Polisens",
    )
    url = reverse("cases:entry", args=[c.case.pk, entry.pk])
    assert client_for(personas.practitioner).get(url).status_code == 404
    assert client_for(personas.police).get(url).status_code == 200


def test_correction_is_a_new_version(client_for, personas, case_world, world):
    c = case_world
    entry = entry_add(
        actor=personas.practitioner,
        case=c.case,
        agency=world.avesta_school,
        category=c.school_category,
        text="Första",
    )
    url = reverse("cases:entry", args=[c.case.pk, entry.pk])
    client = client_for(personas.practitioner)
    assert client.post(url, {"text": "Rättad"}).status_code == 302
    entry.refresh_from_db()
    assert entry.version_count == 2
    assert [v.text for v in entry.versions.order_by("number")] == ["Första", "Rättad"]
    page = client.get(url).content.decode()
    assert "Första" in page
    assert "Rättad" in page
    # Another agency's member cannot correct (they cannot even see it).
    assert client_for(personas.police).post(url, {"text": "x"}).status_code == 404


def test_write_for_an_agency_you_do_not_sit_for_is_refused(personas, case_world, world):
    with pytest.raises(ValidationError):
        entry_add(
            actor=personas.practitioner,
            case=case_world.case,
            agency=world.police,
            category=case_world.police_category,
            text="x",
        )
    with pytest.raises(ValidationError):
        entry_add(
            actor=personas.practitioner,
            case=case_world.case,
            agency=world.avesta_school,
            category=case_world.police_category,
            text="x",
        )


@pytest.mark.parametrize(
    "text",
    [
        "Kalle var borta hela veckan",
        "Pratade med testberg om läget",
        f"Pnr {YOUTH_NUMBER.replace('-', '')} i papperen",
        f"Se {YOUTH_NUMBER[2:]}",
        "Mamma Lisa Testmamma ringde",
    ],
)
def test_pseudonymous_text_screening_blocks_names_and_numbers(personas, case_world, world, text):
    guardian_add(
        actor=personas.practitioner, case=case_world.case, name="Lisa Testmamma", has_custody=True
    )
    with pytest.raises(ValidationError) as info:
        entry_add(
            actor=personas.practitioner,
            case=case_world.case,
            agency=world.avesta_school,
            category=case_world.school_category,
            text=text,
        )
    assert "pseudonym" in " ".join(info.value.messages)


def test_screening_message_reaches_the_page(client_for, personas, case_world, world):
    client = client_for(personas.practitioner)
    response = client.post(
        reverse("cases:entry_add", args=[case_world.case.pk]),
        {
            "agency": world.avesta_school.pk,
            "category": case_world.school_category.pk,
            "text": "Kalle skolkade",
        },
    )
    assert response.status_code == 400
    assert "pseudonym" in response.content.decode()
    assert not Entry.objects.filter(case=case_world.case).exists()


def test_status_lifecycle_and_illegal_transitions(personas, world, case_world):
    case = case_world.case
    with pytest.raises(ValidationError, match="cannot go"):
        case_transition(actor=personas.practitioner, case=case, to=Status.ACTIVE_PLAN)
    case = case_transition(actor=personas.practitioner, case=case, to=Status.AWAITING_CONSENT)
    # Rule 16: a team of several agencies goes on only under an active consent.
    consent_covering(case, [world.avesta_school, world.avesta_social], actor=personas.practitioner)
    case = case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    with pytest.raises(ValidationError):
        case_transition(actor=personas.practitioner, case=case, to=Status.CLOSED)  # no reason
    case = case_transition(
        actor=personas.practitioner,
        case=case,
        to=Status.CLOSED,
        closure_reason="goals_met",
        closure_outcome="Tillbaka i skolan.",
    )
    assert case.closed_at is not None
    with pytest.raises(ValidationError, match="cannot go"):
        case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    assert AuditEvent.objects.filter(action="case.status_changed", case_id=case.pk).count() == 3


def test_closed_case_is_read_only(client_for, personas, case_world, world):
    case_transition(
        actor=personas.practitioner,
        case=case_world.case,
        to=Status.CLOSED,
        closure_reason="moved",
        closure_outcome="Flyttade.",
    )
    response = client_for(personas.practitioner).post(
        reverse("cases:entry_add", args=[case_world.case.pk]),
        {
            "agency": world.avesta_school.pk,
            "category": case_world.school_category.pk,
            "text": "Sent",
        },
    )
    assert response.status_code == 403


def test_a_closed_case_keeps_its_team(personas, case_world, world):
    case = case_transition(
        actor=personas.practitioner,
        case=case_world.case,
        to=Status.CLOSED,
        closure_reason="moved",
        closure_outcome="Flyttade.",
    )
    with pytest.raises(ValidationError, match="closed"):
        team_add(
            actor=personas.coordinator,
            case=case,
            user=personas.colleague,
            agency=world.avesta_school,
        )


def test_status_form_offers_only_allowed_transitions(client_for, personas, case_world):
    page = client_for(personas.practitioner).get(reverse("cases:detail", args=[case_world.case.pk]))
    offered = {value for value, _ in page.context["status_form"].fields["to"].choices}
    assert offered == {Status.AWAITING_CONSENT, Status.CLOSED}


def test_team_is_managed_by_the_coordinator_only(client_for, personas, case_world, world):
    url = reverse("cases:team", args=[case_world.case.pk])
    # The coordinator sees the card without content, and cannot open the case itself.
    coordinator = client_for(personas.coordinator)
    card = coordinator.get(url)
    assert card.status_code == 200
    assert YOUTH_NAME not in card.content.decode()
    assert coordinator.get(reverse("cases:detail", args=[case_world.case.pk])).status_code == 404
    # A team member sees the card but may not change the team: 403.
    add = reverse("cases:team_add", args=[case_world.case.pk])
    assert (
        client_for(personas.practitioner)
        .post(add, {"member": f"{personas.practitioner.pk}:{world.avesta_school.pk}"})
        .status_code
        == 403
    )
    assert coordinator.get(add).status_code == 405
    member = case_world.case.team.get(user=personas.police)
    remove = reverse("cases:team_remove", args=[case_world.case.pk, member.pk])
    assert coordinator.post(remove).status_code == 302
    # Removed from the team: the case is gone for them.
    assert (
        client_for(personas.police)
        .get(reverse("cases:detail", args=[case_world.case.pk]))
        .status_code
        == 404
    )


def test_coordinator_index_shows_no_content(client_for, personas, case_world, world):
    url = reverse("cases:group_index", args=[world.avesta_group.pk])
    page = client_for(personas.coordinator).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert case_world.case.youth.pseudonym in html
    assert YOUTH_NAME not in html
    assert "frånvaro" not in html.lower()
    for persona in ("practitioner", "admin", "auditor", "council_member", "outsider"):
        assert client_for(getattr(personas, persona)).get(url).status_code == 404


def test_concern_report_acknowledged_by_social_services_only(
    client_for, personas, case_world, world
):
    client = client_for(personas.practitioner)
    client.post(
        reverse("cases:concern_add", args=[case_world.case.pk]),
        {"agency": world.avesta_school.pk, "reported_on": "2026-11-20"},
    )
    report = case_world.case.concern_reports.get()
    url = reverse("cases:concern_acknowledge", args=[case_world.case.pk, report.pk])
    assert client.post(url).status_code == 403
    assert client_for(personas.police).post(url).status_code == 404  # police do not see it
    assert client_for(personas.other_agency).post(url).status_code == 302
    report.refresh_from_db()
    assert report.acknowledged_by == personas.other_agency


def _add_entries(personas, case_world, world, n):
    for i in range(n):
        entry_add(
            actor=personas.practitioner,
            case=case_world.case,
            agency=world.avesta_school,
            category=case_world.school_category,
            text=f"Anteckning nummer {i}",
        )
        entry_add(
            actor=personas.police,
            case=case_world.case,
            agency=world.police,
            category=case_world.police_category,
            text=f"Händelse {i}",
        )


def test_case_page_query_count_is_the_same_for_1_and_50_entries(
    client_for, personas, case_world, world
):
    client = client_for(personas.practitioner)
    url = reverse("cases:detail", args=[case_world.case.pk])
    _add_entries(personas, case_world, world, 1)
    client.get(url)
    one = count_queries(client, url)
    _add_entries(personas, case_world, world, 49)
    fifty = count_queries(client, url)
    assert one == fifty
    assert one <= 40


def test_case_list_and_index_query_counts_do_not_grow(client_for, personas, case_world, world):
    from samverkan.cases.services import case_raise

    mine = client_for(personas.practitioner)
    coordinator = client_for(personas.coordinator)
    list_url = reverse("cases:list")
    index_url = reverse("cases:group_index", args=[world.avesta_group.pk])
    mine.get(list_url)
    coordinator.get(index_url)
    before = (count_queries(mine, list_url), count_queries(coordinator, index_url))
    for i in range(8):
        case_raise(
            actor=personas.practitioner,
            group=world.avesta_group,
            agency=world.avesta_school,
            identity_number=["811228-9874", "120315-1236", "701063-2391", "261227-1235"][i % 4],
            name="Namn Namnsson",
            gender="",
            reason="Oro",
        )
    after = (count_queries(mine, list_url), count_queries(coordinator, index_url))
    assert before == after
