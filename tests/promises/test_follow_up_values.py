"""Follow-ups cite indicator values (issue 5 item 2): only values of series linked to the
agreement's commitments; shown to staff, on the council report, and — only for published
series — on the public tracker, its PDF and /api/v1/promises."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from samverkan.api.models import Scope
from samverkan.audit.models import AuditEvent
from samverkan.indicators.models import Direction, Indicator, IndicatorValue
from samverkan.promises import services
from samverkan.promises.models import AgreementVersion, FollowUp
from tests.promises.conftest import PromiseWorld
from tests.promises.test_api import token
from tests.promises.test_public import pdf_ready, pdf_text  # noqa: F401 - fixture

PUBLIC_SERIES = "Problemindex narkotika"
HIDDEN_SERIES = "Intern serie om skolk"


def _series(pw: PromiseWorld, name: str, value: str, *, published: bool) -> IndicatorValue:
    indicator = Indicator.objects.create(
        municipality=pw.promise.municipality,
        name=name,
        unit="index 0–6",
        source="Polisens trygghetsmätning",
        direction=Direction.LOWER_IS_BETTER,
        published=published,
    )
    return IndicatorValue.objects.create(
        indicator=indicator,
        period_start=date(2019, 1, 1),
        period_label="VT 2019",
        value=Decimal(value),
    )


@pytest.fixture
def cited(personas, promise_world: PromiseWorld) -> tuple[IndicatorValue, IndicatorValue]:
    """A published and an unpublished series, both linked to the joint commitment."""
    public = _series(promise_world, PUBLIC_SERIES, "2.7", published=True)
    hidden = _series(promise_world, HIDDEN_SERIES, "4.4", published=False)
    services.commitment_update(
        actor=personas.agreement_editor,
        commitment=promise_world.joint_commitment,
        text=promise_world.joint_commitment.text,
        status="ongoing",
        indicators=Indicator.objects.filter(pk__in=[public.indicator_id, hidden.indicator_id]),
    )
    return public, hidden


def _follow_up(personas, pw: PromiseWorld, values) -> FollowUp:
    return services.follow_up_add(
        actor=personas.agreement_editor,
        agreement=pw.promise,
        on=date(2019, 9, 1),
        narrative="Vandringarna har kommit igång.",
        indicator_values=values,
    )


def test_a_follow_up_cites_values_and_the_version_and_audit_record_them(
    personas, promise_world, cited
):
    follow_up = _follow_up(personas, promise_world, cited)
    assert {v.pk for v in follow_up.indicator_values.all()} == {v.pk for v in cited}
    version = AgreementVersion.objects.filter(agreement=promise_world.promise).first()
    assert version is not None
    assert version.action == "follow_up_added"
    [entry] = version.snapshot["follow_ups"]
    assert entry["id"] == follow_up.pk
    assert {(v["id"], v["value"]) for v in entry["indicator_values"]} == {
        (cited[0].pk, "2.7"),
        (cited[1].pk, "4.4"),
    }
    event = AuditEvent.objects.filter(action="agreement.follow_up_added").get()
    assert event.details["indicator_value_ids"] == sorted(v.pk for v in cited)


def test_values_of_an_unlinked_series_are_refused(personas, promise_world, cited):
    unlinked = _series(promise_world, "Ej kopplad serie", "1.0", published=True)
    before = FollowUp.objects.count()
    with pytest.raises(ValidationError, match="linked to the commitments") as exc:
        _follow_up(personas, promise_world, [cited[0], unlinked])
    assert "indicator_values" in exc.value.message_dict
    assert FollowUp.objects.count() == before


def test_editor_page_offers_and_records_the_values(client_for, personas, promise_world, cited):
    client = client_for(personas.agreement_editor)
    url = reverse("promises:detail", args=[promise_world.promise.pk])
    html = client.get(url).content.decode()
    assert 'name="indicator_values"' in html
    assert f"{PUBLIC_SERIES}: VT 2019 = 2.7 index 0–6" in html
    response = client.post(
        reverse("promises:follow_up_add", args=[promise_world.promise.pk]),
        {"date": "2019-09-01", "narrative": "Uppföljning.", "indicator_values": [cited[1].pk]},
    )
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(agreement=promise_world.promise)
    assert [v.pk for v in follow_up.indicator_values.all()] == [cited[1].pk]
    html = client.get(url).content.decode()
    assert "Indicator values cited in the follow-up of 2019-09-01" in html
    assert "4.4" in html  # staff see the unpublished series they keep


def test_editor_page_refuses_a_value_outside_the_choices(
    client_for, personas, promise_world, cited
):
    unlinked = _series(promise_world, "Ej kopplad serie", "1.0", published=True)
    response = client_for(personas.agreement_editor).post(
        reverse("promises:follow_up_add", args=[promise_world.promise.pk]),
        {"date": "2019-09-01", "narrative": "Uppföljning.", "indicator_values": [unlinked.pk]},
    )
    assert response.status_code == 400
    assert not FollowUp.objects.exists()


def test_api_records_and_returns_the_values(client, personas, promise_world, cited):
    auth = token(personas.agreement_editor, Scope.WRITE)
    url = f"/api/v1/agreements/{promise_world.promise.pk}/follow-ups"
    body = {"date": "2019-09-01", "narrative": "Via API.", "indicator_value_ids": [cited[0].pk]}
    response = client.post(url, data=body, content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    [follow_up] = response.json()["follow_ups"]
    [value] = follow_up["indicator_values"]
    assert value["id"] == cited[0].pk
    assert value["value"] == "2.7"
    assert value["period"] == "VT 2019"
    unlinked = _series(promise_world, "Ej kopplad serie", "1.0", published=True)
    body["indicator_value_ids"] = [unlinked.pk]
    response = client.post(url, data=body, content_type="application/json", **auth)
    assert response.status_code == 400
    assert "indicator_value_ids" in response.json()["errors"]


def test_only_published_series_values_show_publicly(client, personas, promise_world, cited):
    _follow_up(personas, promise_world, cited)
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    html = anonymous.get(reverse("tracker:detail", args=[promise_world.promise.pk])).content
    text = html.decode()
    assert "Indicator values cited in the follow-up of 2019-09-01" in text
    assert PUBLIC_SERIES in text
    assert "2.7" in text
    assert HIDDEN_SERIES not in text
    assert "4.4" not in text
    data = anonymous.get(f"/api/v1/promises/{promise_world.promise.pk}").json()
    [follow_up] = data["follow_ups"]
    assert [v["id"] for v in follow_up["indicator_values"]] == [cited[0].pk]
    listed = anonymous.get("/api/v1/promises").content.decode()
    assert HIDDEN_SERIES not in listed
    assert '"4.4"' not in listed
    feed = anonymous.get(reverse("tracker:feed")).content.decode()
    assert HIDDEN_SERIES not in feed


def test_council_report_shows_the_latest_follow_ups_values(
    client_for, personas, promise_world, cited
):
    _follow_up(personas, promise_world, cited)
    html = client_for(personas.council_member).get("/promises/council/").content.decode()
    assert PUBLIC_SERIES in html
    assert HIDDEN_SERIES in html


def test_public_pdf_shows_only_published_values(pdf_ready, personas, promise_world, cited):  # noqa: F811
    _follow_up(personas, promise_world, cited)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("tracker:pdf", args=[promise_world.promise.pk])
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert PUBLIC_SERIES in text
    assert HIDDEN_SERIES not in text
