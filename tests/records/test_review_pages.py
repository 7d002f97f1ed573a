"""Log review (loggkontroll) pages: who reaches them, what they show, what is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent, Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import InformationCategory
from samverkan.cases.services import entry_add
from samverkan.records.models import LogReview
from tests.consent.conftest import GUARDIAN_1_NAME, IDENTITY_NUMBERS, YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import assert_trio, count_queries

REVIEW = "/records/review/"
RECORD = "/records/review/record/"
PAST = "/records/review/past/"

NOT_AUDITORS = [
    "practitioner",
    "colleague",
    "other_agency",
    "police",
    "coordinator",
    "agreement_editor",
    "council_member",
    "admin",
    "outsider",
    "no_role",
]


def make_review(personas, **kwargs) -> LogReview:
    today = timezone.localdate()
    defaults = {
        "period_start": today - dt.timedelta(days=30),
        "period_end": today,
        "findings": "Inget att anmärka.",
        "signed_off_by": personas.auditor,
    }
    return LogReview.objects.create(**{**defaults, **kwargs})


def test_urls_are_named():
    assert reverse("records:review") == REVIEW
    assert reverse("records:review_record") == RECORD
    assert reverse("records:review_list") == PAST
    assert reverse("records:review_detail", args=[7]) == f"{PAST}7/"


@pytest.mark.parametrize(
    ("url", "method", "wrong", "data"),
    [
        (REVIEW, "get", "put", None),
        (REVIEW, "post", "put", {"identity_number": YOUTH_NUMBER}),
        (RECORD, "get", "put", None),
        (RECORD, "post", "put", {"findings": ""}),
        (PAST, "get", "post", None),
        ("detail", "get", "post", None),
    ],
)
def test_trio(client_for, personas, url, method, wrong, data):
    if url == "detail":
        url = f"{PAST}{make_review(personas).pk}/"
    assert_trio(
        client_for,
        url,
        allowed=personas.auditor,
        outsider=personas.outsider,
        method=method,
        wrong_method=wrong,
        data=data,
    )


@pytest.mark.parametrize("persona", NOT_AUDITORS)
def test_only_auditors_reach_any_page(client_for, personas, persona):
    review = make_review(personas)
    client = client_for(getattr(personas, persona))
    for url in (REVIEW, RECORD, PAST, f"{PAST}{review.pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.post(REVIEW, {"identity_number": YOUTH_NUMBER}).status_code == 404
    today = timezone.localdate().isoformat()
    posted = client.post(
        RECORD, {"date_from": today, "date_to": today, "findings": "x", "sign_off": "on"}
    )
    assert posted.status_code == 404
    assert LogReview.objects.count() == 1


def test_anonymous_is_sent_to_login(client_for):
    response = client_for(None).get(REVIEW)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_missing_review_is_404(client_for, personas):
    assert client_for(personas.auditor).get(f"{PAST}999999/").status_code == 404


def test_navigation_shows_log_review_to_auditors_only(client_for, personas):
    page = client_for(personas.auditor).get("/").content.decode()
    assert f'href="{REVIEW}"' in page
    # One audit-log page: the old address is no longer offered anywhere.
    assert 'href="/audit/"' not in page
    page = client_for(personas.admin).get("/").content.decode()
    assert f'href="{REVIEW}"' not in page


def test_auditor_start_page_and_navigation_lead_to_the_one_log_page(client_for, personas):
    response = client_for(personas.auditor).get("/")
    nav = [item["url"] for item in response.context["nav_items"]]
    assert nav.count(REVIEW) == 1
    assert "/audit/" not in nav
    start = response.content.decode()
    panel = start[start.index('id="h-auditor"') :]
    assert f'href="{REVIEW}"' in panel[: panel.index("</section>")]


def _entries(personas, world, consent_case, n: int = 1) -> str:
    text = "Kalle berättade om helgen på fritidsgården och om sina nya vänner."
    category = InformationCategory.objects.get(sector="school", code="attendance")
    for _ in range(n):
        entry_add(
            actor=personas.practitioner,
            case=consent_case.case,
            agency=world.avesta_school,
            category=category,
            text=text,
        )
    return text


def test_auditor_sees_metadata_but_no_case_content(
    client_for, personas, world, consent_case, active_consent
):
    text = _entries(personas, world, consent_case)
    case = consent_case.case
    # The team reads the case: entry reads, with their legal bases, go to the log.
    for user in (personas.practitioner, personas.other_agency):
        assert client_for(user).get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert AuditEvent.objects.filter(case_id=case.pk, action="entry.viewed").exists()
    client = client_for(personas.auditor)
    for url in (REVIEW, f"{REVIEW}?case={case.youth.pseudonym}", f"{REVIEW}?actor=anna"):
        page = client.get(url).content.decode()
        assert case.youth.pseudonym in page
        # The action in words, never as its code.
        assert "Read journal entries" in page
        assert "entry.viewed" not in page
        for secret in (text, "Kalle", YOUTH_NAME, GUARDIAN_1_NAME, "Testberg", *IDENTITY_NUMBERS):
            assert secret not in page, secret
        for number in IDENTITY_NUMBERS:
            assert number.replace("-", "") not in page
            assert number[2:] not in page


def test_search_is_audited_with_its_filters(client_for, personas, world):
    client = client_for(personas.auditor)
    response = client.get(
        REVIEW,
        {"actor": "anna", "agency": world.avesta_school.pk, "action": "auth.", "flagged": "on"},
    )
    assert response.status_code == 200
    searched = AuditEvent.objects.filter(
        action="records.log_searched", actor=personas.auditor
    ).latest("id")
    assert searched.details["actor"] == "anna"
    assert searched.details["agency"] == world.avesta_school.pk
    assert searched.details["action"] == "auth."
    assert searched.details["flagged"] is True
    assert searched.details["date_to"] == timezone.localdate().isoformat()
    assert searched.details["page"] == 1


def test_default_period_is_last_month_to_today(client_for, personas):
    form = client_for(personas.auditor).get(REVIEW).context["form"]
    today = timezone.localdate()
    start = form.cleaned_data["date_from"]
    assert form.cleaned_data["date_to"] == today
    assert start.day == 1
    assert start < today.replace(day=1) <= today


def test_bad_filters_are_reported_not_searched(client_for, personas):
    client = client_for(personas.auditor)
    before = AuditEvent.objects.filter(action="records.log_searched").count()
    response = client.get(REVIEW, {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["page"] is None
    # A personnummer typed into the case field is refused (sent back to the filters without
    # it) and never audited.
    response = client.get(REVIEW, {"case": YOUTH_NUMBER})
    assert response.status_code == 302
    assert YOUTH_NUMBER not in response["Location"]
    assert AuditEvent.objects.filter(action="records.log_searched").count() == before


def test_identity_number_search_by_post(client_for, personas, consent_case):
    client = client_for(personas.auditor)
    pseudonym = consent_case.case.youth.pseudonym
    response = client.post(
        REVIEW, {"identity_number": YOUTH_NUMBER, "date_from": "2026-01-01", "date_to": ""}
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(REVIEW)
    assert f"case={pseudonym}" in location
    assert "date_from=2026-01-01" in location
    for variant in (YOUTH_NUMBER, YOUTH_NUMBER.replace("-", ""), YOUTH_NUMBER[2:]):
        assert variant not in location
    searched = AuditEvent.objects.filter(action="records.log_searched").latest("id")
    assert searched.details == {"by_identity_number": True, "found": True}
    page = client.get(location)
    assert page.status_code == 200
    assert page.context["form"].cleaned_data["case"] == pseudonym
    # The log keeps the youth's id, not the pseudonym: it outlives a purged case.
    searched = AuditEvent.objects.filter(action="records.log_searched").latest("id")
    assert searched.details["youth"] == consent_case.case.youth_id
    assert pseudonym not in str(searched.details)
    # Neither the number nor its keyed hash is anywhere in the log.
    digest = consent_case.case.youth.identity_number_hash
    for event in AuditEvent.objects.filter(actor=personas.auditor):
        flat = f"{event.details} {event.object_id} {event.legal_basis}"
        assert digest not in flat
        assert YOUTH_NUMBER.replace("-", "")[2:] not in flat


def test_identity_number_search_unknown_or_invalid(client_for, personas):
    client = client_for(personas.auditor)
    unknown = "19800101-1231"  # valid, nobody registered with it
    response = client.post(REVIEW, {"identity_number": unknown})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No youth with that number" in page
    assert unknown not in page
    assert unknown.replace("-", "") not in page
    searched = AuditEvent.objects.filter(action="records.log_searched").latest("id")
    assert searched.details == {"by_identity_number": True, "found": False}
    response = client.post(REVIEW, {"identity_number": "19800101-1232"})
    assert response.status_code == 400
    assert response.context["identity_form"].errors["identity_number"]
    assert "19800101-1232" not in response.content.decode()


def test_htmx_request_gets_only_the_results(client_for, personas):
    response = client_for(personas.auditor).get(REVIEW, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"<table" in response.content


def test_flags_and_summary_are_shown(client_for, personas):
    with transaction.atomic():
        audit_record(action="entry.viewed", actor=personas.practitioner, outcome=Outcome.DENIED)
    response = client_for(personas.auditor).get(REVIEW, {"actor": "anna", "flagged": "on"})
    assert response.context["counts"]["denied"] == 1
    rows = response.context["rows"]
    assert [name for name, _ in rows[0].flags][:1] == ["denied"]
    assert "Record a review of this period" in response.content.decode()


def test_query_count_does_not_grow_with_events(client_for, personas, world, consent_case):
    client = client_for(personas.auditor)
    case = consent_case.case
    url = f"{REVIEW}?date_from=2000-01-01"
    client.get(url)

    def fill(n: int) -> None:
        with transaction.atomic():
            for i in range(n):
                audit_record(
                    action="entry.viewed",
                    actor=personas.other_agency if i % 2 else personas.practitioner,
                    agency=world.avesta_school,
                    case_id=case.pk + (i % 3),
                    legal_basis="statute:x:1" if i % 5 == 0 else "consent:1",
                    outcome=Outcome.DENIED if i % 7 == 0 else Outcome.ALLOWED,
                )

    fill(1)
    one = count_queries(client, url)
    fill(49)
    assert count_queries(client, url) == one
    flagged = f"{url}&flagged=on&case={case.youth.pseudonym}"
    # One more for the case filter: the audited scope names the youth by id (see LogFilters.scope).
    assert count_queries(client, flagged) == one + 1


def test_record_a_review(client_for, personas, consent_case):
    client = client_for(personas.auditor)
    today = timezone.localdate()
    start = today - dt.timedelta(days=3)
    with transaction.atomic():
        audit_record(action="entry.viewed", actor=personas.practitioner, outcome=Outcome.DENIED)
    pseudonym = consent_case.case.youth.pseudonym
    form = client.get(RECORD, {"date_from": start.isoformat(), "actor": "anna"})
    assert form.status_code == 200
    assert form.context["counts"]["denied"] >= 1
    response = client.post(
        RECORD,
        {
            "date_from": start.isoformat(),
            "date_to": today.isoformat(),
            "actor": "anna",
            "case": "",
            "flagged": "True",
            "findings": f"Ett nekat försök granskat; {pseudonym} utan anmärkning.",
            "sign_off": "on",
        },
    )
    review = LogReview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("records:review_detail", args=[review.pk])
    assert review.period_start == start
    assert review.period_end == today
    assert review.scope == {
        "date_from": start.isoformat(),
        "date_to": today.isoformat(),
        "actor": "anna",
    }
    assert review.flagged_events >= 1
    assert review.signed_off_by == personas.auditor
    recorded = AuditEvent.objects.get(action="records.log_review_recorded")
    assert recorded.actor == personas.auditor
    assert recorded.object_id == str(review.pk)
    assert recorded.details["flagged_events"] == review.flagged_events
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "nekat försök" in detail.content.decode()
    assert AuditEvent.objects.filter(
        action="records.log_review_viewed", object_id=str(review.pk)
    ).exists()
    listing = client.get(PAST).content.decode()
    assert reverse("records:review_detail", args=[review.pk]) in listing


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"findings": "", "sign_off": "on"}, "findings"),
        ({"findings": "Granskat.", "sign_off": ""}, "sign_off"),
        ({"findings": f"Gällde {YOUTH_NUMBER}.", "sign_off": "on"}, "findings"),
        ({"findings": "Granskat.", "sign_off": "on", "date_to": "2999-01-01"}, "date_to"),
        ({"findings": "Granskat.", "sign_off": "on", "date_from": "2999-01-01"}, "date_to"),
    ],
)
def test_record_refuses_incomplete_reviews(client_for, personas, data, field):
    today = timezone.localdate().isoformat()
    posted = {"date_from": today, "date_to": today, **data}
    response = client_for(personas.auditor).post(RECORD, posted)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not LogReview.objects.exists()
    assert not AuditEvent.objects.filter(action="records.log_review_recorded").exists()


def test_past_reviews_query_count_is_pinned(client_for, personas):
    client = client_for(personas.auditor)
    make_review(personas)
    client.get(PAST)
    one = count_queries(client, PAST)
    for _ in range(30):
        make_review(personas)
    assert count_queries(client, PAST) == one
    first = make_review(personas, scope={"date_from": "2026-01-01", "agency": 1, "youth": 1})
    client.get(f"{PAST}{first.pk}/")
    detail = count_queries(client, f"{PAST}{first.pk}/")
    for scope in ({}, {"date_from": "2026-01-01", "agency": 2, "actor": "anna", "youth": 2}):
        review = make_review(personas, scope=scope)
        assert count_queries(client, f"{PAST}{review.pk}/") <= detail


def test_a_search_that_finds_nothing_says_so(client_for, personas):
    # An empty page of results is falsy: the template must still show the (empty) results.
    client = client_for(personas.auditor)
    response = client.get(REVIEW, {"date_from": "2001-01-01", "date_to": "2001-01-31"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "No events match." in text
    assert "Correct the filters" not in text
