"""The editor pages under /agreements/: personas on every URL, the trio, query counts, flows."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.organisations.models import Role
from samverkan.promises import services
from samverkan.promises.models import (
    Activity,
    Agreement,
    AgreementVersion,
    Assessment,
    Commitment,
    FollowUp,
    Party,
    Signatory,
)
from tests.helpers import assert_trio, count_queries, make_user
from tests.promises.conftest import DRAFT_TITLE, HEDEMORA_TITLE, PromiseWorld, make_agreement


def read_urls(pw: PromiseWorld) -> dict[str, str]:
    pk = pw.promise.pk
    return {
        "detail": reverse("promises:detail", args=[pk]),
        "draft": reverse("promises:detail", args=[pw.draft.pk]),
        "version": reverse("promises:version", args=[pk, 1]),
        "commitment": reverse("promises:commitment", args=[pk, pw.joint_commitment.pk]),
    }


def write_urls(pw: PromiseWorld) -> dict[str, tuple[str, dict[str, object]]]:
    pk = pw.promise.pk
    c = pw.police_commitment.pk
    return {
        "edit": (
            reverse("promises:edit", args=[pk]),
            {
                "title": "Nytt namn",
                "period_start": "2019-03-22",
                "period_end": "2020-12-31",
                "focus_area": "Narkotika",
            },
        ),
        "status": (reverse("promises:status", args=[pk]), {"to": "assessed"}),
        "extend": (
            reverse("promises:extend", args=[pk]),
            {"new_end": "2023-12-31", "reason": "Förlängt."},
        ),
        "publish": (reverse("promises:publish", args=[pw.draft.pk]), {}),
        "unpublish": (reverse("promises:unpublish", args=[pk]), {}),
        "links": (reverse("promises:links", args=[pk]), {"overlaps": [pw.draft.pk]}),
        "party_add": (
            reverse("promises:party_add", args=[pw.draft.pk]),
            {"name": "Räddningstjänsten", "kind": "other"},
        ),
        "signatory_add": (
            reverse("promises:signatory_add", args=[pk]),
            {"party": pw.police.pk, "name": "A B", "title": "Chef", "signed_on": "2019-03-22"},
        ),
        "commitment_add": (
            reverse("promises:commitment_add", args=[pk]),
            {"party": "", "text": "Nytt åtagande"},
        ),
        "commitment": (
            reverse("promises:commitment", args=[pk, c]),
            {"text": "Ändrat", "status": "ongoing"},
        ),
        "activity_add": (
            reverse("promises:activity_add", args=[pk, c]),
            {"date": "2019-06-01", "description": "Vandring", "count": 1},
        ),
        "follow_up_add": (
            reverse("promises:follow_up_add", args=[pk]),
            {"date": "2020-01-01", "narrative": "Uppföljning"},
        ),
        "assessment_add": (
            reverse("promises:assessment_add", args=[pk]),
            {
                "party": pw.municipality.pk,  # the agreement editor persona speaks for it
                "verdict": "fulfilled",
                "statement": "Uppfyllt",
                "assessed_on": "2021-01-01",
            },
        ),
    }


WRITES = [
    "edit",
    "status",
    "extend",
    "publish",
    "unpublish",
    "links",
    "party_add",
    "signatory_add",
    "commitment_add",
    "commitment",
    "activity_add",
    "follow_up_add",
    "assessment_add",
]

# Staff who are neither editors nor council members of Avesta: every agreement URL is 404.
NO_ACCESS = [
    "outsider",
    "admin",
    "auditor",
    "practitioner",
    "coordinator",
    "police",
    "no_role",
]


def _state() -> tuple[int, ...]:
    models = (Agreement, Party, Signatory, Commitment, Activity, FollowUp, Assessment)
    return (*(m.objects.count() for m in models), AgreementVersion.objects.count())


# --- Personas on every URL -------------------------------------------------------------------


@pytest.mark.parametrize("persona", NO_ACCESS)
def test_staff_without_the_role_get_404_everywhere(client_for, personas, promise_world, persona):
    client = client_for(getattr(personas, persona))
    before = _state()
    for url in [
        reverse("promises:list"),
        reverse("promises:create"),
        reverse("promises:edit", args=[promise_world.promise.pk]),
        *read_urls(promise_world).values(),
    ]:
        response = client.get(url)
        assert response.status_code == 404, (persona, url)
        assert DRAFT_TITLE not in response.content.decode()
    for name, (url, data) in write_urls(promise_world).items():
        assert client.post(url, data).status_code == 404, (persona, name)
    assert client.post(reverse("promises:create"), {}).status_code == 404
    assert _state() == before


def test_another_municipalitys_editor_gets_404_on_avestas_agreements(client_for, promise_world):
    client = client_for(promise_world.hedemora_editor)
    listing = client.get(reverse("promises:list")).content.decode()
    assert HEDEMORA_TITLE in listing
    assert DRAFT_TITLE not in listing
    for url in read_urls(promise_world).values():
        assert client.get(url).status_code == 404, url
    before = _state()
    for name, (url, data) in write_urls(promise_world).items():
        assert client.post(url, data).status_code == 404, name
    assert _state() == before


def test_anonymous_visitor_is_sent_to_login_and_nothing_leaks_or_changes(client, promise_world):
    before = _state()
    urls = [
        reverse("promises:list"),
        reverse("promises:create"),
        *read_urls(promise_world).values(),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"] or "login" in response["Location"]
        assert DRAFT_TITLE.encode() not in response.content
    for name, (url, data) in write_urls(promise_world).items():
        assert client.post(url, data).status_code == 302, name
    assert client.post(reverse("promises:create"), {"title": "X"}).status_code == 302
    assert _state() == before


def test_council_member_reads_but_never_writes(client_for, personas, promise_world):
    client = client_for(personas.council_member)
    for url in read_urls(promise_world).values():
        assert client.get(url).status_code == 200, url
    detail = client.get(read_urls(promise_world)["detail"]).content.decode()
    for name, (url, _data) in write_urls(promise_world).items():
        if name not in ("commitment", "activity_add"):  # links to the commitment page stay
            assert f'action="{url}"' not in detail, name
    assert client.get(reverse("promises:create")).status_code == 403
    assert client.get(reverse("promises:edit", args=[promise_world.promise.pk])).status_code == 403
    before = _state()
    for name, (url, data) in write_urls(promise_world).items():
        assert client.post(url, data).status_code == 403, name
    assert _state() == before


@pytest.mark.parametrize("name", ["detail", "draft", "version", "list"])
def test_trio_on_read_urls(client_for, personas, promise_world, name):
    url = reverse("promises:list") if name == "list" else read_urls(promise_world)[name]
    assert_trio(
        client_for,
        url,
        allowed=personas.agreement_editor,
        outsider=personas.outsider,
        wrong_method="post" if name != "list" else "put",
    )


@pytest.mark.parametrize("name", WRITES)
def test_trio_on_write_urls(client_for, personas, promise_world, name):
    url, data = write_urls(promise_world)[name]
    assert_trio(
        client_for,
        url,
        allowed=personas.agreement_editor,
        outsider=personas.outsider,
        read_only=personas.council_member,
        method="post",
        wrong_method="put",
        data=data,
    )
    if name not in ("edit", "commitment"):  # these two show a form on GET
        assert client_for(personas.agreement_editor).get(url).status_code == 405


def test_trio_on_create(client_for, personas, world):
    data = {
        "kind": "promise",
        "title": "Nytt löfte",
        "municipality": world.avesta_school.municipality_id,
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "focus_area": "Trygghet",
    }
    assert_trio(
        client_for,
        reverse("promises:create"),
        allowed=personas.agreement_editor,
        outsider=personas.outsider,
        read_only=personas.council_member,
        method="post",
        data=data,
    )


def test_missing_and_forbidden_answer_alike(client_for, personas, promise_world):
    client = client_for(personas.agreement_editor)
    assert client.get(reverse("promises:detail", args=[999999])).status_code == 404
    assert (
        client.get(reverse("promises:detail", args=[promise_world.hedemora.pk])).status_code == 404
    )
    pk = promise_world.promise.pk
    for url in (
        reverse("promises:commitment", args=[pk, 999999]),
        reverse("promises:version", args=[pk, 999]),
    ):
        assert client.get(url).status_code == 404
    # A commitment of another agreement is not reachable through this one.
    other = services.commitment_add(
        actor=personas.agreement_editor, agreement=promise_world.draft, party=None, text="X"
    )
    assert client.get(reverse("promises:commitment", args=[pk, other.pk])).status_code == 404


# --- Flows -----------------------------------------------------------------------------------


class _AgreementPages:
    """Form posts to one agreement's pages, each answered with a redirect."""

    def __init__(self, client: Client, pk: int) -> None:
        self.client, self.pk = client, pk

    def post(self, name: str, data: dict[str, object], *args: int) -> None:
        r = self.client.post(reverse(f"promises:{name}", args=[self.pk, *args]), data)
        assert r.status_code == 302, (name, r.content.decode()[:2000])


def _create_a_promise(client: Client, world) -> Agreement:
    response = client.post(
        reverse("promises:create"),
        {
            "kind": "promise",
            "title": "Trygg i Avesta",
            "municipality": world.avesta_school.municipality_id,
            "police_area": world.police.police_area_id,
            "period_start": "2024-01-01",
            "period_end": "2025-12-31",
            "focus_area": "Trygghet i centrum",
            "situation_summary": "Otrygghet i centrum kvällstid.",
        },
    )
    assert response.status_code == 302
    return Agreement.objects.get(title="Trygg i Avesta")


def _parties_commitments_and_signatories(
    pages: _AgreementPages, world, agreement: Agreement
) -> tuple[Party, Party]:
    pages.post("party_add", {"name": "Polisen", "kind": "police", "agency": world.police.pk})
    pages.post(
        "party_add",
        {"name": "Avesta kommun", "kind": "municipality", "agency": world.avesta_other.pk},
    )
    police, town = list(agreement.parties.order_by("pk"))
    pages.post(
        "commitment_add",
        {
            "party": police.pk,
            "text": "Polisen lovar vandringar.",
            "target_count": 2,
            "target_unit": "tillfällen per år",
        },
    )
    pages.post("commitment_add", {"party": town.pk, "text": "Kommunen lovar belysning."})
    pages.post("commitment_add", {"party": "", "text": "Gemensam trygghetsvandring."})
    for party in (police, town):
        pages.post(
            "signatory_add",
            {
                "party": party.pk,
                "name": "N N",
                "title": "Chef",
                "signed_on": "2024-01-01",
                "place": "Avesta",
            },
        )
    return police, town


def _publish_and_follow_up(pages: _AgreementPages, agreement: Agreement, police: Party) -> None:
    # Publishing a draft is refused with a message, not a change.
    pages.client.post(reverse("promises:publish", args=[agreement.pk]))
    agreement.refresh_from_db()
    assert not agreement.published
    pages.post("status", {"to": "signed"})
    pages.post("status", {"to": "active"})
    pages.post("publish", {})
    c = agreement.commitments.get(party=police)
    pages.post("activity_add", {"date": "2024-03-01", "description": "Vandring", "count": 1}, c.pk)
    pages.post(
        "follow_up_add",
        {
            "date": "2024-06-01",
            "narrative": "Halvtid",
            f"progress_{c.pk}": "on_track",
            f"note_{c.pk}": "1 av 2",
        },
    )


def _each_party_assesses_it_fulfilled(
    client_for, pages: _AgreementPages, world, police: Party, town: Party
) -> None:
    """Each party's assessment comes from an editor of its own agency: the police's from a
    police-area editor, logged in separately."""
    police_client = client_for(make_user("polis-avtal", world.police, Role.AGREEMENT_EDITOR))
    r = police_client.post(
        reverse("promises:assessment_add", args=[pages.pk]),
        {
            "party": police.pk,
            "verdict": "fulfilled",
            "statement": "Ja",
            "assessed_on": "2026-01-10",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    pages.post(
        "assessment_add",
        {"party": town.pk, "verdict": "fulfilled", "statement": "Ja", "assessed_on": "2026-01-10"},
    )


def test_editor_creates_a_promise_and_runs_it_through_the_pages(client_for, personas, world):
    client = client_for(personas.agreement_editor)
    agreement = _create_a_promise(client, world)
    pk = agreement.pk
    pages = _AgreementPages(client, pk)
    police, town = _parties_commitments_and_signatories(pages, world, agreement)
    _publish_and_follow_up(pages, agreement, police)
    _each_party_assesses_it_fulfilled(client_for, pages, world, police, town)
    pages.post("status", {"to": "assessed"})
    page = client.get(reverse("promises:detail", args=[pk])).content.decode()
    assert "The police promise" in page
    assert "The municipality promises" in page
    assert "Joint" in page
    assert "1 of 2 tillfällen per år" in page
    assert "Fulfilled: every party has assessed it fulfilled" in page
    agreement.refresh_from_db()
    assert agreement.published
    assert agreement.status == "assessed"
    assert AuditEvent.objects.filter(action__startswith="agreement.").count() >= 15


def test_a_refused_write_shows_the_form_again_with_the_error(client_for, personas, promise_world):
    client = client_for(personas.agreement_editor)
    pk = promise_world.promise.pk
    response = client.post(
        reverse("promises:extend", args=[pk]), {"new_end": "2020-01-01", "reason": "x"}
    )
    assert response.status_code == 400
    assert "later than the current one" in response.content.decode()
    response = client.post(reverse("promises:status", args=[pk]), {"to": "signed"})
    assert response.status_code == 400
    assert "cannot go from" in response.content.decode()


def test_navigation_and_home_link_for_editors(client_for, personas):
    page = client_for(personas.agreement_editor).get("/").content.decode()
    assert reverse("promises:list") in page
    page = client_for(personas.practitioner).get("/").content.decode()
    assert reverse("promises:list") not in page


# --- Query counts ----------------------------------------------------------------------------


def _add_commitments(editor, agreement: Agreement, party: Party, n: int) -> None:
    for i in range(n):
        c = services.commitment_add(
            actor=editor,
            agreement=agreement,
            party=party if i % 2 else None,
            text=f"Å {i}",
            target_count=3,
            target_unit="gånger",
        )
        services.activity_add(
            actor=editor, commitment=c, on=date(2019, 6, 1), description=f"A {i}", count=1
        )
    services.follow_up_add(
        actor=editor,
        agreement=agreement,
        on=date(2020, 1, 1),
        narrative="Uppföljning",
        progress={c.pk: services.ProgressEntry("on_track") for c in agreement.commitments.all()},
    )


@pytest.mark.parametrize("persona", ["agreement_editor", "council_member"])
def test_detail_query_count_is_the_same_for_1_and_10_commitments(
    client_for, personas, world, persona
):
    from tests.promises.conftest import sign_and_activate

    editor = personas.agreement_editor
    agreement = make_agreement(editor, world.avesta_school.municipality)
    party = services.party_add(
        actor=editor, agreement=agreement, name="P", kind="police", agency=world.police
    )
    agreement = sign_and_activate(editor, agreement, [party])
    client = client_for(getattr(personas, persona))
    url = reverse("promises:detail", args=[agreement.pk])
    _add_commitments(editor, agreement, party, 1)
    client.get(url)
    one = count_queries(client, url)
    _add_commitments(editor, agreement, party, 9)
    ten = count_queries(client, url)
    assert one == ten
    assert one <= 30


def test_list_query_count_is_the_same_for_1_and_10_agreements(client_for, personas, world):
    editor = personas.agreement_editor
    client = client_for(editor)
    url = reverse("promises:list")
    make_agreement(editor, world.avesta_school.municipality)
    client.get(url)
    one = count_queries(client, url)
    for i in range(9):
        make_agreement(editor, world.avesta_school.municipality, title=f"Löfte {i}")
    assert count_queries(client, url) == one
    assert one <= 15


def test_detail_page_has_unique_element_ids(client_for, personas, promise_world):
    import re
    from collections import Counter

    url = reverse("promises:detail", args=[promise_world.promise.pk])
    html = client_for(personas.agreement_editor).get(url).content.decode()
    ids = Counter(re.findall(r' id="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
    assert "<script" not in html.split("<main", 1)[1]
    assert " style=" not in html
