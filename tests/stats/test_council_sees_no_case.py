"""A council member sees aggregates only: every page of a real case answers 404 to them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from samverkan.consent.models import Consent
from samverkan.meetings.services import agenda_item_add, meeting_schedule
from tests.cases.conftest import case_world  # noqa: F401 - the fixture, shared
from tests.plans.conftest import PlanWorld, plan_world  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.django_db


def test_council_member_gets_404_on_every_case_url(personas, world, plan_world, client_for):  # noqa: F811
    pw: PlanWorld = plan_world
    case = pw.cw.case
    starts = timezone.now() + dt.timedelta(days=2)
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        location="Stadshuset, rum 3",
    )
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case)
    consent = Consent.objects.filter(case=case).first()
    urls = [
        reverse("cases:detail", args=[case.pk]),
        reverse("cases:team", args=[case.pk]),
        reverse("cases:entry_add", args=[case.pk]),
        reverse("cases:status", args=[case.pk]),
        reverse("cases:guardian_add", args=[case.pk]),
        reverse("cases:concern_add", args=[case.pk]),
        reverse("cases:group_index", args=[world.avesta_group.pk]),
        reverse("consent:case", args=[case.pk]),
        reverse("plans:detail", args=[case.pk]),
        reverse("plans:goal", args=[case.pk, pw.goal.pk]),
        reverse("plans:intervention", args=[case.pk, pw.school_intervention.pk]),
        reverse("plans:pdf", args=[case.pk]),
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("meetings:ics", args=[meeting.pk]),
        reverse("meetings:minutes", args=[meeting.pk, item.pk]),
    ]
    if consent is not None:
        urls.append(reverse("consent:detail", args=[consent.pk]))
    c = client_for(personas.council_member, reauth=True)
    for url in urls:
        response = c.get(url)
        if response.status_code == 405:  # a form's target: it takes POST only
            response = c.post(url, {})
        assert response.status_code == 404, url
    # The same pages are there for the case team: the 404 is the council member's alone.
    team = client_for(personas.practitioner)
    assert team.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert team.get(reverse("plans:detail", args=[case.pk])).status_code == 200
    # And the case list is not in the council member's navigation.
    assert 'href="/cases/"' not in c.get("/").content.decode()
    listing = c.get(reverse("cases:list"))
    assert listing.status_code == 404 or case.youth.pseudonym not in listing.content.decode()


def test_council_member_gets_404_on_a_consent(personas, client_for, active_consent) -> None:
    c = client_for(personas.council_member, reauth=True)
    assert c.get(reverse("consent:detail", args=[active_consent.pk])).status_code == 404
    assert c.get(reverse("consent:case", args=[active_consent.case_id])).status_code == 404
    case_api = f"/api/v1/cases/{active_consent.case_id}"
    from tests.stats.test_dashboard import bearer

    assert c.get(case_api, **bearer(personas.council_member)).status_code == 404
