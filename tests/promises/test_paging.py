"""The public list (/promises/) and GET /api/v1/promises come a page at a time, in a stable
order (municipality, newest period, then id), with a fixed number of queries per page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from samverkan.promises import public_views, selectors, services
from samverkan.promises.models import Agreement
from tests.helpers import count_queries
from tests.promises.conftest import make_agreement, sign_and_activate

# Six published agreements in all: the promise world's one and five more, two of them with
# the same period as it, so that the order has to fall back on the id.
MORE = 5


@pytest.fixture
def published(personas, world, promise_world) -> list[Agreement]:
    editor = personas.agreement_editor
    for i in range(MORE):
        agreement = make_agreement(editor, world.avesta_school.municipality, title=f"Löfte {i}")
        if i >= 2:
            services.agreement_update(
                actor=editor,
                agreement=agreement,
                title=agreement.title,
                period_start=agreement.period_start.replace(year=2015 + i),
                period_end=agreement.period_end.replace(year=2025 + i),
                focus_area=agreement.focus_area,
                police_area=None,
                situation_summary="",
                cause_analysis="",
            )
        party = services.party_add(actor=editor, agreement=agreement, name="P", kind="other")
        services.commitment_add(actor=editor, agreement=agreement, party=party, text="Å")
        agreement = sign_and_activate(editor, agreement, [party])
        services.agreement_publish(actor=editor, agreement=agreement)
    # The same kinds of rows on every agreement, so that every page needs every prefetch
    # (Django skips a nested prefetch when there is nothing to fetch it for).
    for agreement in Agreement.objects.filter(published=True):
        commitment = agreement.commitments.first()
        assert commitment is not None
        services.activity_add(
            actor=editor, commitment=commitment, on=agreement.period_start, description="Gjort"
        )
        services.follow_up_add(
            actor=editor,
            agreement=agreement,
            on=agreement.period_start,
            narrative="Uppföljning.",
            progress={commitment.pk: services.ProgressEntry("on_track")},
        )
    everything = list(selectors.published_promises())
    assert len(everything) == MORE + 1
    return everything


def _titles(html: str, agreements: list[Agreement]) -> list[str]:
    return [a.title for a in agreements if f'id="a-{a.pk}"' in html]


# --- The page --------------------------------------------------------------------------------


def test_the_public_list_is_paged_without_gaps_or_repeats(monkeypatch, published):
    monkeypatch.setattr(public_views, "TRACKER_PAGE_SIZE", 4)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("tracker:list")
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert _titles(first, published) == [a.title for a in published[:4]]
    assert _titles(second, published) == [a.title for a in published[4:]]
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    assert "Previous page" not in first
    assert 'href="?page=1"' in second
    assert "Next page" not in second


def test_the_municipality_stays_chosen_from_page_to_page(monkeypatch, published):
    monkeypatch.setattr(public_views, "TRACKER_PAGE_SIZE", 4)
    html = Client().get(reverse("tracker:list"), {"municipality": "2084"}).content.decode()
    assert 'href="?municipality=2084&amp;page=2"' in html


def test_one_page_needs_no_page_links(published):
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("tracker:list")).content.decode()
    assert len(_titles(html, published)) == MORE + 1
    assert "Page 1 of" not in html


@pytest.mark.parametrize("page", ["0", "3", "-1", "abc", "1.5"])
def test_a_page_that_does_not_exist_answers_404(monkeypatch, published, page):
    monkeypatch.setattr(public_views, "TRACKER_PAGE_SIZE", 4)
    assert Client().get(reverse("tracker:list"), {"page": page}).status_code == 404


def test_an_empty_list_is_page_1(db):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("tracker:list"))
    assert response.status_code == 200
    assert "No promises have been published yet." in response.content.decode()


def test_every_page_costs_the_same_queries(monkeypatch, published):
    monkeypatch.setattr(public_views, "TRACKER_PAGE_SIZE", 2)
    client = Client()
    url = reverse("tracker:list")
    first = count_queries(client, url)
    assert count_queries(client, f"{url}?page=2") == first
    assert count_queries(client, f"{url}?page=3") == first
    monkeypatch.setattr(public_views, "TRACKER_PAGE_SIZE", 6)
    assert count_queries(client, url) == first


# --- The API ---------------------------------------------------------------------------------


def test_the_api_pages_by_limit_and_offset(client, published):
    ids = [a.pk for a in published]
    seen: list[int] = []
    for offset in (0, 4):
        body = client.get("/api/v1/promises", {"limit": 4, "offset": offset}).json()
        assert (body["count"], body["limit"], body["offset"]) == (MORE + 1, 4, offset)
        seen += [p["id"] for p in body["items"]]
    assert seen == ids
    body = client.get("/api/v1/promises").json()
    assert (body["limit"], body["offset"]) == (20, 0)
    assert [p["id"] for p in body["items"]] == ids
    past = client.get("/api/v1/promises", {"offset": 100}).json()
    assert (past["count"], past["items"]) == (MORE + 1, [])
    one_town = client.get("/api/v1/promises", {"municipality": "2084", "limit": 1}).json()
    assert one_town["count"] == MORE + 1
    assert [p["id"] for p in one_town["items"]] == ids[:1]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 10**20}, {"limit": "many"}],
)
def test_the_api_refuses_a_page_out_of_bounds(client, db, params):
    assert client.get("/api/v1/promises", params).status_code == 422


def test_api_pages_cost_the_same_queries(client, published):
    def queries(offset: int) -> int:
        return count_queries(client, f"/api/v1/promises?limit=2&offset={offset}")

    first = queries(0)
    assert queries(2) == first
    assert queries(4) == first
