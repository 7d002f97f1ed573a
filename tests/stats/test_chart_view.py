"""The chart view (one table's SVG): audited per request, kept privately for five minutes."""

from __future__ import annotations

import pytest

from samverkan.audit.models import AuditEvent
from tests.stats.stats_data import avesta, make_facts, this_year

pytestmark = pytest.mark.django_db


def test_each_chart_request_is_audited_like_the_page(personas, client_for) -> None:
    make_facts(avesta(), 5)
    c = client_for(personas.council_member)
    year = str(this_year())
    assert c.get("/stats/", {"year": year}).status_code == 200
    page = AuditEvent.objects.get(action="stats.dashboard_viewed")
    for _ in range(2):
        assert c.get("/stats/chart/raised-sector-gender.svg", {"year": year}).status_code == 200
    charts = list(AuditEvent.objects.filter(action="stats.chart_viewed").order_by("id"))
    assert len(charts) == 2
    assert all(e.actor_id == personas.council_member.pk for e in charts)
    assert all(e.details == page.details for e in charts)
    assert (charts[0].object_type, charts[0].object_id) == (page.object_type, page.object_id)


def test_a_refused_chart_writes_no_event(personas, client_for) -> None:
    make_facts(avesta(), 5)
    assert client_for(personas.council_member).get("/stats/chart/nothing.svg").status_code == 404
    assert client_for(personas.practitioner).get("/stats/chart/meetings.svg").status_code == 404
    assert client_for(personas.outsider).get("/stats/chart/meetings.svg").status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="stats.").exists()


def test_a_chart_is_kept_privately_for_five_minutes(personas, client_for) -> None:
    make_facts(avesta(), 5)
    response = client_for(personas.council_member).get("/stats/chart/meetings.svg")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=300"
    assert "Cookie" in response["Vary"]
    # Every other authenticated page is still never cached.
    page = client_for(personas.council_member).get("/stats/")
    assert "no-store" in page["Cache-Control"]


def test_a_chart_takes_no_other_method(personas, client_for) -> None:
    assert client_for(personas.council_member).post("/stats/chart/meetings.svg").status_code == 405
