"""The council's dashboard, charts, exports and API: who sees it, what it shows, what it logs."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.audit.models import AuditEvent
from samverkan.organisations.models import Municipality, Role
from samverkan.organisations.services import membership_add
from samverkan.stats.models import CaseFact, FactsBuild, InterventionFact
from samverkan.stats.selectors import dashboard_data
from tests.helpers import assert_trio, make_user
from tests.stats.stats_data import avesta, make_facts, this_month, this_year

pytestmark = pytest.mark.django_db

URLS = ("/stats/", "/stats/export.csv", "/stats/export.xlsx", "/stats/chart/meetings.svg")
API = "/api/v1/stats/dashboard"


def hedemora() -> Municipality:
    return Municipality.objects.get(code="2083")


def bearer(user: User) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="stats-test", days=3, scope=Scope.READ)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def api_tables(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in payload["tables"] + payload["context_tables"]}


# --- Who sees it -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_trio(personas, client_for, url: str) -> None:
    assert_trio(client_for, url, allowed=personas.council_member, outsider=personas.outsider)
    assert client_for(personas.council_member).post(url).status_code == 405


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "who",
    ["practitioner", "other_agency", "police", "agreement_editor", "auditor", "admin", "no_role"],
)
def test_roles_without_the_statistics_get_404(personas, client_for, url: str, who: str) -> None:
    assert client_for(getattr(personas, who)).get(url).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_coordinator_sees_their_groups_municipality(personas, client_for, url: str) -> None:
    assert client_for(personas.coordinator).get(url).status_code == 200


def test_anonymous_is_sent_to_log_in(client) -> None:
    response = client.get("/stats/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]


def test_a_municipality_outside_the_viewers_answers_404(personas, client_for) -> None:
    c = client_for(personas.council_member)  # Avesta only
    for url in URLS:
        assert c.get(url, {"municipality": "2083"}).status_code == 404
        assert c.get(url, {"municipality": "9999"}).status_code == 404
    assert c.get("/stats/", {"municipality": "2084"}).status_code == 200


def test_police_council_member_sees_every_municipality_of_the_area(world, client_for) -> None:
    member = make_user("lisa", world.police, Role.COUNCIL_MEMBER)
    c = client_for(member)
    assert c.get("/stats/", {"municipality": "2083"}).status_code == 200
    assert c.get("/stats/", {"municipality": "2084"}).status_code == 200
    page = c.get("/stats/").content.decode()
    assert 'value="2083"' in page
    assert 'value="2084"' in page


def test_navigation_links_the_dashboard_for_those_who_see_it(personas, client_for) -> None:
    assert 'href="/stats/"' in client_for(personas.council_member).get("/").content.decode()
    assert 'href="/stats/"' not in client_for(personas.practitioner).get("/").content.decode()


def test_invalid_year_is_refused_with_the_form(personas, client_for) -> None:
    c = client_for(personas.council_member)
    response = c.get("/stats/", {"year": "1990"})  # no figures that year: not offered
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert c.get("/stats/", {"year": "last year"}).status_code == 400
    assert c.get("/stats/export.csv", {"year": "2026-13"}).status_code == 400


def test_periods_are_whole_years_offered_when_they_have_figures(personas, client_for) -> None:
    make_facts(avesta(), 5, raised_month=date(2021, 6, 1))
    c = client_for(personas.council_member)
    page = c.get("/stats/").content.decode()
    assert 'name="year"' in page
    assert 'name="from"' not in page
    assert 'name="to"' not in page
    assert '<option value="2021"' in page
    assert f'<option value="{this_year()}" selected' in page
    assert '<option value="2020"' not in page
    # Month parameters are not read any more: the year is the period.
    assert c.get("/stats/", {"year": "2021", "from": "2021-06", "to": "2021-06"}).status_code == 200


def test_the_current_year_is_labelled_preliminary(personas, client_for) -> None:
    make_facts(avesta(), 5, raised_month=date(2021, 6, 1))
    c = client_for(personas.council_member)
    assert 'data-preliminary="1"' in c.get("/stats/").content.decode()
    assert 'data-preliminary="1"' not in c.get("/stats/", {"year": "2021"}).content.decode()
    payload = c.get(API, {"year": "2021"}, **bearer(personas.council_member)).json()
    assert payload["preliminary"] is False
    assert (payload["period_start"], payload["period_end"]) == ("2021-01", "2021-12")
    current = c.get(API, **bearer(personas.council_member)).json()
    assert current["preliminary"] is True
    assert current["period_end"] == this_month().strftime("%Y-%m")


# --- What it shows -----------------------------------------------------------------------------


def test_small_counts_are_withheld_everywhere(personas, world, client_for) -> None:
    make_facts(avesta(), 3)  # girls raised by school: a small count
    make_facts(avesta(), 12, gender="M", raising_sector="police")
    c = client_for(personas.council_member)
    page = c.get("/stats/").content.decode()
    assert 'data-stats-table="raised-sector-gender"' in page
    assert 'data-suppressed="1"' in page
    assert 'data-value="3"' not in page
    assert 'data-value="12"' not in page  # its complement: 15 − 12 would give the 3 away
    assert 'data-value="15"' in page
    assert "fewer than 5" in page

    payload = c.get(API, **bearer(personas.council_member)).json()
    sector = api_tables(payload)["raised-sector-gender"]
    school = sector["rows"][0]
    assert school["values"][0] is None
    assert school["suppressed"][0] is True
    assert sector["rows"][-1]["total"] is True
    assert sector["rows"][-1]["values"][-1] == 15

    text = c.get("/stats/export.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    school_row = next(r for r in rows if r and r[0] == "School")
    assert school_row[1] == "–"
    assert "3" not in school_row
    assert not any("12" in row for row in rows)


def test_threshold_is_a_setting(personas, client_for, settings) -> None:
    settings.STATS_THRESHOLD = 3
    make_facts(avesta(), 3)
    page = client_for(personas.council_member).get("/stats/").content.decode()
    assert 'data-value="3"' in page
    assert "fewer than 3" in page


def test_period_filters_by_year_raised(personas, client_for) -> None:
    old = date(2024, 3, 1)
    make_facts(avesta(), 6, raised_month=old)
    make_facts(avesta(), 7)
    c = client_for(personas.council_member)
    payload = c.get(API, {"year": "2024"}, **bearer(personas.council_member))
    outcomes = api_tables(payload.json())["outcomes"]
    assert outcomes["rows"][-1]["values"] == [6]
    page = c.get("/stats/").content.decode()  # the current year by default
    assert 'data-value="7"' in page


def test_medians_and_shares_only_over_large_enough_groups(personas, client_for) -> None:
    # Medians need STATS_MEDIAN_MINIMUM (10) values, more than the threshold (5).
    make_facts(avesta(), 10, days_to_consent=10, consents_obtained=1)
    make_facts(avesta(), 9, days_to_first_meeting=3)
    make_facts(avesta(), 5, raising_sector="police")
    payload = client_for(personas.council_member).get(API, **bearer(personas.council_member))
    tables = api_tables(payload.json())
    medians = tables["medians"]
    assert medians["kind"] == "median"
    assert medians["rows"][0]["values"][0] == 10.0  # all cases: ten values
    assert medians["rows"][1]["values"][0] is None  # nine values only
    shares = tables["shares"]
    assert shares["rows"][0]["values"] == [pytest.approx(10 / 24)]


def test_interventions_meetings_and_promises_are_shown(
    personas, world, client_for, active_consent
) -> None:
    facts = make_facts(avesta(), 6)
    InterventionFact.objects.bulk_create(
        InterventionFact(fact=f, kind="school_support", agency=world.avesta_school, sector="school")
        for f in facts
    )
    payload = client_for(personas.council_member).get(API, **bearer(personas.council_member))
    tables = api_tables(payload.json())
    assert tables["interventions"]["rows"][0]["values"][0] == 6
    assert tables["meetings"]["kind"] == "value"
    assert tables["commitments"]["kind"] == "value"
    assert payload.json()["threshold"] == 5


def test_figures_built_at_is_the_latest_build(personas, client_for) -> None:
    make_facts(avesta(), 5)
    c = client_for(personas.council_member, language="en")
    assert "No figures for this period yet" in c.get("/stats/").content.decode()
    built = timezone.now() - timedelta(hours=3)
    older = built - timedelta(days=1)
    for finished in (older, built):
        FactsBuild.objects.create(
            started_at=finished - timedelta(minutes=5), finished_at=finished, cases=5
        )
    page = c.get("/stats/").content.decode()
    assert timezone.localtime(built).strftime("%Y-%m-%d %H:%M") in page
    assert timezone.localtime(older).strftime("%Y-%m-%d %H:%M") not in page
    payload = c.get(API, **bearer(personas.council_member)).json()
    assert payload["refreshed_at"][:16] == built.isoformat()[:16]


# --- Exports and charts ------------------------------------------------------------------------


def test_exports_are_attachments_of_the_shown_tables(personas, client_for) -> None:
    make_facts(avesta(), 8)
    c = client_for(personas.council_member)
    params = {"year": str(this_year())}
    response = c.get("/stats/export.csv", params)
    assert response["Content-Disposition"].endswith(f'-2084-{this_year()}.csv"')
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"].startswith("text/csv")
    assert "Cases raised by raising sector and gender" in response.content.decode("utf-8-sig")
    response = c.get("/stats/export.xlsx", params)
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content)).active
    texts = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert "Cases raised: still open, or closed by reason" in texts
    assert 8 in texts


def test_viewing_and_exporting_are_audited(personas, client_for) -> None:
    make_facts(avesta(), 5)
    c = client_for(personas.council_member)
    year = str(this_year())
    c.get("/stats/", {"year": year})
    c.get("/stats/export.csv", {"year": year})
    c.get("/stats/export.xlsx")
    c.get(API, **bearer(personas.council_member))
    events = list(AuditEvent.objects.filter(action__startswith="stats.").order_by("id"))
    actions = [e.action for e in events]
    assert actions.count("stats.dashboard_viewed") == 2
    assert actions.count("stats.exported") == 2
    exported = [e for e in events if e.action == "stats.exported"]
    assert exported[0].details == {
        "municipality": "2084",
        "year": year,
        "via": "web",
        "format": "csv",
    }
    assert exported[1].details["format"] == "xlsx"
    assert all(e.actor_id == personas.council_member.pk for e in events)
    # A chart can be fetched on its own, so it is logged on its own, with the same details.
    c.get("/stats/chart/outcomes.svg")
    chart = AuditEvent.objects.filter(action="stats.chart_viewed").get()
    assert chart.details == {"municipality": "2084", "year": year, "via": "web"}


def test_refused_requests_write_no_event(personas, client_for) -> None:
    before = AuditEvent.objects.count()
    client_for(personas.practitioner).get("/stats/")
    client_for(personas.council_member).get("/stats/", {"year": "x"})
    assert AuditEvent.objects.filter(action__startswith="stats.").count() == 0
    assert AuditEvent.objects.count() >= before


def test_chart_is_script_free_svg_under_its_own_policy(personas, client_for) -> None:
    make_facts(avesta(), 3)
    make_facts(avesta(), 5, gender="M")
    c = client_for(personas.council_member)
    response = c.get("/stats/chart/raised-sector-gender.svg")
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b"<script" not in response.content
    assert "script-src" not in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert c.get("/stats/chart/nothing.svg").status_code == 404


def chart_values(svg: str) -> list[str]:
    """The figures a pygal chart draws (one ``<desc class="value">`` per bar or dot)."""
    return re.findall(r'<desc class="value">([^<]*)</desc>', svg)


def test_chart_draws_only_shown_figures(personas, client_for) -> None:
    make_facts(avesta(), 3)
    make_facts(avesta(), 12, gender="M", raising_sector="police")
    make_facts(avesta(), 30, gender="X", raising_sector="leisure")
    c = client_for(personas.council_member)
    outcomes = chart_values(c.get("/stats/chart/outcomes.svg").content.decode())
    assert outcomes[0] == "45"  # still open, then each reason; the total is in the table only
    assert set(outcomes[1:]) == {"0"}
    drawn = chart_values(c.get("/stats/chart/raised-sector-gender.svg").content.decode())
    table = dashboard_data(
        viewer=User.objects.get(pk=personas.council_member.pk),
        municipality_id=avesta().pk,
        year=this_year(),
    ).table("raised-sector-gender")
    assert table is not None
    shown = [cell.value for row in table.body_rows for cell in row.cells[:4]]
    assert "3" not in drawn
    assert len(drawn) == sum(1 for v in shown if v is not None)
    assert sorted(int(v) for v in drawn) == sorted(int(v) for v in shown if v is not None)


# --- API ---------------------------------------------------------------------------------------


def test_api_refusals(personas, client) -> None:
    assert client.get(API).status_code == 401
    assert client.get(API, **bearer(personas.outsider)).status_code == 404
    for who in ("practitioner", "auditor", "admin", "agreement_editor"):
        assert client.get(API, **bearer(getattr(personas, who))).status_code == 404
    member = bearer(personas.council_member)
    assert client.get(API, {"municipality": "2083"}, **member).status_code == 404
    assert client.post(API, **member).status_code == 405
    assert client.get(API, {"year": "1990"}, **member).status_code == 400
    ok = client.get(API, **member)
    assert ok.status_code == 200
    assert ok.json()["municipality_code"] == "2084"
    assert set(ok.json()) >= {"year", "preliminary", "threshold", "refreshed_at", "tables"}
    assert not set(ok.json()) & {"from", "to"}


def test_api_is_in_the_schema(client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/stats/dashboard" in schema["paths"]


# --- Queries and retention ---------------------------------------------------------------------


def _queries(c, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_facts(personas, world, client_for) -> None:
    c = client_for(personas.council_member)
    make_facts(avesta(), 5)
    c.get("/stats/")  # the session's first request does its own bookkeeping
    few = _queries(c, "/stats/")
    facts = make_facts(avesta(), 40, gender="M", consents_obtained=1, days_to_plan=4)
    make_facts(avesta(), 30, raising_sector="police", closed_month=this_month())
    InterventionFact.objects.bulk_create(
        InterventionFact(fact=f, kind="other", agency=world.avesta_school, sector="school")
        for f in facts
    )
    many = _queries(c, "/stats/")
    assert few == many
    assert many <= 30, many


def test_dashboard_data_query_count_is_small(personas, world) -> None:
    make_facts(avesta(), 50)
    with CaptureQueriesContext(connection) as ctx:
        data = dashboard_data(
            viewer=personas.council_member,
            municipality_id=avesta().pk,
            year=this_year(),
        )
    assert data.table("outcomes") is not None
    assert len(ctx.captured_queries) <= 15, [q["sql"] for q in ctx.captured_queries]


def test_totals_survive_retention(personas, client_for, active_consent) -> None:
    from samverkan.cases.models import Case, ClosureReason, Status
    from samverkan.cases.services import case_transition
    from samverkan.records.services import case_purge

    case = Case.objects.get(pk=active_consent.case_id)
    case_transition(
        actor=personas.practitioner,
        case=case,
        to=Status.CLOSED,
        closure_reason=ClosureReason.GOALS_MET,
        closure_outcome="Går i skolan igen.",
    )
    make_facts(avesta(), 6, raised_month=case.raised_at.date().replace(day=1))
    facts_refresh_all()
    c = client_for(personas.council_member)
    member = bearer(personas.council_member)
    before = c.get(API, **member).json()
    outcomes = api_tables(before)["outcomes"]
    assert outcomes["rows"][1]["values"] == [None]  # one case closed, goals met: withheld
    assert outcomes["rows"][-1]["values"] == [7]
    # Retention: the case and its personal data go; the fact stays, its link cut.
    assert case_purge(case_id=case.pk, cutoff=timezone.now() + timedelta(days=1)) is not None
    assert not Case.objects.filter(pk=case.pk).exists()
    assert CaseFact.objects.filter(case__isnull=True).count() == 7
    after = c.get(API, **member).json()
    assert [t["rows"] for t in after["tables"]] == [t["rows"] for t in before["tables"]]


def facts_refresh_all() -> None:
    from samverkan.stats.facts import facts_refresh

    facts_refresh()


def test_case_facts_keep_no_link_to_a_deleted_case_in_the_figures(personas) -> None:
    make_facts(avesta(), 5, case=None)
    data = dashboard_data(
        viewer=personas.council_member,
        municipality_id=avesta().pk,
        year=this_year(),
    )
    outcomes = data.table("outcomes")
    assert outcomes is not None
    assert outcomes.rows[-1].cells[0].value == 5


def test_dashboard_data_refuses_a_viewer_outside(personas) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        dashboard_data(
            viewer=personas.council_member,
            municipality_id=hedemora().pk,
            year=this_year(),
        )
    membership_add(
        actor=None,
        user=personas.council_member,
        agency=personas.outsider.memberships.first().agency,
        role=Role.COUNCIL_MEMBER,
    )
    fresh = User.objects.get(pk=personas.council_member.pk)
    assert dashboard_data(viewer=fresh, municipality_id=hedemora().pk, year=this_year())


# --- Review follow-ups: personas, meetings held, commitments -----------------------------------


@pytest.mark.parametrize("url", [*URLS, API])
def test_coordinator_gets_404_for_a_municipality_outside_their_groups(
    personas, client_for, url: str
) -> None:
    c = client_for(personas.coordinator)  # the Avesta group only
    extra = bearer(personas.coordinator) if url == API else {}
    assert c.get(url, {"municipality": "2084"}, **extra).status_code == 200
    assert c.get(url, {"municipality": "2083"}, **extra).status_code == 404


@pytest.mark.parametrize("url", [*URLS, API])
def test_council_member_of_a_deactivated_agency_gets_404(personas, client_for, url: str) -> None:
    c = client_for(personas.council_member)
    extra = bearer(personas.council_member) if url == API else {}
    assert c.get(url, **extra).status_code == 200
    agency = personas.council_member.memberships.get(role=Role.COUNCIL_MEMBER).agency
    agency.is_active = False
    agency.save(update_fields=["is_active"])
    assert c.get(url, **extra).status_code == 404


def test_meetings_count_only_meetings_that_have_started(personas, world) -> None:
    from samverkan.meetings.models import Meeting

    now = timezone.now()

    def meeting(starts: datetime) -> None:
        Meeting.objects.create(
            group=world.avesta_group,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            location="Rum 1",
            created_by=personas.coordinator,
        )

    meeting(now - timedelta(minutes=5))
    meeting(now + timedelta(minutes=2))  # booked, not held yet
    data = dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )
    meetings = data.table("meetings")
    assert meetings is not None
    assert meetings.rows[-1].is_total
    assert meetings.rows[-1].cells[0].value == 1


def test_commitments_last_column_is_the_row_total(personas) -> None:
    data = dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )
    commitments = data.table("commitments")
    assert commitments is not None
    assert commitments.has_row_totals
    assert commitments.columns[-1] == "Total"
    assert "Total" not in commitments.chart_columns  # the chart draws no doubled bar
