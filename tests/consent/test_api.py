"""The consent API (/api/v1/cases/{id}/consents, /api/v1/consents/{id}/…): the same selectors,
rules and services as the pages, the endpoint trio, field errors and pinned query counts."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Entry, InformationCategory, Status
from samverkan.cases.services import case_transition, entry_add, team_add
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    EvidenceFile,
    RequiredSigner,
)
from samverkan.consent.services import consent_withdraw, signature_record
from tests import scans
from tests.cases.test_api import _fuzz, _wsgi_shares_the_test_connection
from tests.consent.conftest import (
    GUARDIAN_1_NAME,
    GUARDIAN_2_NAME,
    IDENTITY_NUMBERS,
    YOUTH_NAME,
    make_consent,
    sign_all,
)

JSON = "application/json"
# A real scan: the upload check decodes it and refuses a few magic bytes.
PNG = scans.scan_png()


def token(user: User, scope: Scope = Scope.READ) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="consent-api", days=3, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def call(client: Client, method: str, url: str, body: Any, auth: dict[str, Any]):
    if body is None:
        return getattr(client, method)(url, **auth)
    return getattr(client, method)(url, data=body, content_type=JSON, **auth)


def consent_body(world, consent_case, **overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    body: dict[str, Any] = {
        "agency_ids": [world.avesta_school.pk, world.avesta_social.pk],
        "category_ids": [consent_case.school_category.pk, consent_case.social_category.pk],
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=90)).isoformat(),
    }
    body.update(overrides)
    return body


def signers_of(consent: Consent) -> list[RequiredSigner]:
    return list(RequiredSigner.objects.filter(consent=consent).order_by("order"))


def endpoints(consent_case, consent: Consent, world) -> list[tuple[str, str, Any]]:
    """Every consent endpoint that names an object: (method, url, JSON body)."""
    signer = signers_of(consent)[0]
    return [
        ("get", f"/api/v1/cases/{consent_case.case.pk}/consents", None),
        (
            "post",
            f"/api/v1/cases/{consent_case.case.pk}/consents",
            consent_body(world, consent_case),
        ),
        ("get", f"/api/v1/consents/{consent.pk}", None),
        (
            "post",
            f"/api/v1/consents/{consent.pk}/signatures",
            {"signer_id": signer.pk, "method": "in_person"},
        ),
        (
            "post",
            f"/api/v1/consents/{consent.pk}/withdrawal",
            {"signer_id": signer.pk, "method": "oral"},
        ),
    ]


def assert_no_identity_numbers(content: bytes) -> None:
    text = content.decode()
    for number in IDENTITY_NUMBERS:
        digits = number.replace("-", "")
        for form in (number, digits, digits[2:], f"{digits[2:8]}-{digits[8:]}"):
            assert form not in text, form


def assert_no_names(content: bytes) -> None:
    text = content.decode()
    for name in (YOUTH_NAME, GUARDIAN_1_NAME, GUARDIAN_2_NAME):
        for part in name.split():
            assert part not in text, part


def nothing_written(before: dict[str, int]) -> None:
    assert counts() == before


def counts() -> dict[str, int]:
    return {
        "consents": Consent.objects.count(),
        "signatures": ConsentSignature.objects.count(),
        "withdrawals": ConsentWithdrawal.objects.count(),
        "evidence": EvidenceFile.objects.count(),
    }


# --- Schema ---------------------------------------------------------------------------------


def test_openapi_describes_the_consent_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/cases/{case_id}/consents"]) == {"get", "post"}
    assert set(paths["/api/v1/consents/{consent_id}"]) == {"get"}
    assert set(paths["/api/v1/consents/{consent_id}/signatures"]) == {"post"}
    assert set(paths["/api/v1/consents/{consent_id}/withdrawal"]) == {"post"}
    signature = paths["/api/v1/consents/{consent_id}/signatures"]["post"]
    content = signature["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert content["multipart/form-data"]["schema"]["properties"]["evidence"]["format"] == "binary"
    assert "evidence" not in content["application/json"]["schema"]["properties"]
    for operation in (
        signature,
        paths["/api/v1/consents/{consent_id}/withdrawal"]["post"],
        paths["/api/v1/cases/{case_id}/consents"]["post"],
    ):
        assert {"201", "400", "403", "404"} <= set(operation["responses"])
        assert operation["security"] == [{"BearerToken": []}]


# --- Need to know: 404 for everyone but the case's team and coordinator ----------------------


OFF_THE_TEAM = [
    "outsider",
    "council_member",
    "auditor",
    "admin",
    "agreement_editor",
    "colleague",  # same agency as the raising practitioner, but not on the team
    "police",  # sits in the group, not on this case's team
    "no_role",
]


@pytest.mark.parametrize("persona", OFF_THE_TEAM)
def test_everyone_off_the_team_gets_404_on_every_consent_endpoint(
    client, personas, world, consent_case, pending_consent, persona
):
    user = getattr(personas, persona)
    before = counts()
    for scope in (Scope.READ, Scope.WRITE):
        auth = token(user, scope)
        for method, url, body in endpoints(consent_case, pending_consent, world):
            response = call(client, method, url, body, auth)
            assert response.status_code == 404, (persona, scope, method, url)
            assert response.json() == {"detail": "Not Found"}
    nothing_written(before)


def test_missing_and_forbidden_consents_answer_alike(
    client, personas, world, consent_case, pending_consent
):
    auth = token(personas.outsider, Scope.WRITE)
    signer = signers_of(pending_consent)[0]
    pairs = [
        ("get", "/api/v1/cases/{}/consents", consent_case.case.pk, None),
        (
            "post",
            "/api/v1/cases/{}/consents",
            consent_case.case.pk,
            consent_body(world, consent_case),
        ),
        ("get", "/api/v1/consents/{}", pending_consent.pk, None),
        (
            "post",
            "/api/v1/consents/{}/signatures",
            pending_consent.pk,
            {"signer_id": signer.pk, "method": "in_person"},
        ),
        (
            "post",
            "/api/v1/consents/{}/withdrawal",
            pending_consent.pk,
            {"signer_id": signer.pk, "method": "oral"},
        ),
    ]
    for method, pattern, pk, body in pairs:
        missing = call(client, method, pattern.format(999999), body, auth)
        forbidden = call(client, method, pattern.format(pk), body, auth)
        assert missing.status_code == forbidden.status_code == 404
        assert missing.content == forbidden.content


# --- The trio per endpoint -----------------------------------------------------------------


def test_consent_list_trio(client, personas, consent_case, pending_consent):
    url = f"/api/v1/cases/{consent_case.case.pk}/consents"
    assert client.get(url, **token(personas.practitioner)).status_code == 200
    assert client.get(url, **token(personas.outsider, Scope.WRITE)).status_code == 404
    writer = token(personas.practitioner, Scope.WRITE)
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url, **writer).status_code == 405, method


def test_consent_create_trio(client, personas, world, consent_case):
    url = f"/api/v1/cases/{consent_case.case.pk}/consents"
    body = consent_body(world, consent_case)
    reader = token(personas.practitioner)
    writer = token(personas.practitioner, Scope.WRITE)
    assert call(client, "post", url, body, token(personas.outsider, Scope.WRITE)).status_code == 404
    response = call(client, "post", url, body, reader)
    assert response.status_code == 403
    assert response.json() == {"detail": "This token does not have the scope this action needs."}
    assert Consent.objects.count() == 0
    assert call(client, "put", url, body, writer).status_code == 405
    response = call(client, "post", url, body, writer)
    assert response.status_code == 201, response.content
    assert Consent.objects.count() == 1


def test_consent_detail_trio(client, personas, pending_consent):
    url = f"/api/v1/consents/{pending_consent.pk}"
    writer = token(personas.practitioner, Scope.WRITE)
    assert client.get(url, **token(personas.practitioner)).status_code == 200
    assert client.get(url, **token(personas.outsider, Scope.WRITE)).status_code == 404
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url, **writer).status_code == 405, method


def test_signature_trio(client, personas, pending_consent):
    url = f"/api/v1/consents/{pending_consent.pk}/signatures"
    body = {"signer_id": signers_of(pending_consent)[0].pk, "method": "in_person"}
    writer = token(personas.practitioner, Scope.WRITE)
    assert call(client, "post", url, body, token(personas.outsider, Scope.WRITE)).status_code == 404
    assert call(client, "post", url, body, token(personas.practitioner)).status_code == 403
    assert ConsentSignature.objects.count() == 0
    for method in ("get", "put", "delete"):
        assert call(client, method, url, None, writer).status_code == 405, method
    assert call(client, "post", url, body, writer).status_code == 201
    assert ConsentSignature.objects.count() == 1


def test_withdrawal_trio(client, personas, active_consent):
    url = f"/api/v1/consents/{active_consent.pk}/withdrawal"
    body = {"signer_id": signers_of(active_consent)[1].pk, "method": "oral"}
    writer = token(personas.practitioner, Scope.WRITE)
    assert call(client, "post", url, body, token(personas.outsider, Scope.WRITE)).status_code == 404
    assert call(client, "post", url, body, token(personas.practitioner)).status_code == 403
    assert ConsentWithdrawal.objects.count() == 0
    for method in ("get", "put", "delete"):
        assert call(client, method, url, None, writer).status_code == 405, method
    assert call(client, "post", url, body, writer).status_code == 201
    assert ConsentWithdrawal.objects.count() == 1


# --- Reading consents -----------------------------------------------------------------------


def test_the_raising_agency_reads_consents_with_names(client, personas, world, active_consent):
    response = client.get(f"/api/v1/consents/{active_consent.pk}", **token(personas.practitioner))
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "active"
    assert body["state_label"] == "Active"
    assert body["identity_shown"] is True
    assert body["youth_label"] == YOUTH_NAME
    assert [(s["kind"], s["label"], s["signed"]) for s in body["signers"]] == [
        ("guardian", GUARDIAN_1_NAME, True),
        ("guardian", GUARDIAN_2_NAME, True),
    ]
    signature = body["signers"][0]["signature"]
    assert (signature["method"], signature["recorded_by"], signature["evidence"]) == (
        "in_person",
        "anna",
        False,
    )
    assert [a["name"] for a in body["agencies"]] == ["Avesta skola", "Avesta socialtjänst"]
    assert {c["code"] for c in body["categories"]} == {"attendance", "assessment"}
    assert body["withdrawal"] is None
    assert body["disclosed"] == []
    assert body["last_day"] == (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    assert_no_identity_numbers(response.content)
    event = AuditEvent.objects.filter(action="consent.viewed").latest("id")
    assert (event.actor_id, event.object_id, event.source) == (
        personas.practitioner.pk,
        str(active_consent.pk),
        "api",
    )


def test_coordinator_off_the_team_sees_labels_and_the_pseudonym(
    client, personas, consent_case, pending_consent
):
    auth = token(personas.coordinator)
    listing = client.get(f"/api/v1/cases/{consent_case.case.pk}/consents", **auth)
    assert listing.status_code == 200
    body = listing.json()
    assert (body["may_manage"], body["may_record_withdrawal"]) == (True, True)
    [consent] = body["consents"]
    assert consent["state"] == "pending"
    assert consent["youth_label"] == consent_case.case.youth.pseudonym
    assert [s["label"] for s in consent["signers"]] == ["Guardian 1", "Guardian 2"]
    detail = client.get(f"/api/v1/consents/{pending_consent.pk}", **auth)
    for response in (listing, detail):
        assert_no_identity_numbers(response.content)
        assert_no_names(response.content)


def test_another_agency_sees_names_only_once_the_consent_is_active(
    client, personas, consent_case, pending_consent
):
    auth = token(personas.other_agency)
    url = f"/api/v1/consents/{pending_consent.pk}"
    pending = client.get(url, **auth)
    assert pending.json()["identity_shown"] is False
    assert_no_names(pending.content)
    listing = client.get(f"/api/v1/cases/{consent_case.case.pk}/consents", **auth).json()
    assert (listing["may_manage"], listing["may_record_withdrawal"]) == (False, True)
    sign_all(personas, pending_consent)
    active = client.get(url, **auth).json()
    assert active["identity_shown"] is True
    assert [s["label"] for s in active["signers"]] == [GUARDIAN_1_NAME, GUARDIAN_2_NAME]


def test_youth_signer_is_labelled_and_needs_a_maturity_assessment_under_15(
    client, personas, world, consent_case
):
    body = consent_body(world, consent_case, youth_also_signs=True, language="en")
    writer = token(personas.practitioner, Scope.WRITE)
    response = call(client, "post", f"/api/v1/cases/{consent_case.case.pk}/consents", body, writer)
    assert response.status_code == 201
    created = response.json()
    assert created["language"] == "en"
    assert [s["kind"] for s in created["signers"]] == ["guardian", "guardian", "youth"]
    youth = created["signers"][2]
    url = f"/api/v1/consents/{created['id']}/signatures"
    refused = call(client, "post", url, {"signer_id": youth["id"], "method": "in_person"}, writer)
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["maturity_assessment"]
    ok = call(
        client,
        "post",
        url,
        {
            "signer_id": youth["id"],
            "method": "in_person",
            "maturity_assessment": "Förstår vad samtycket innebär och vill delta.",
        },
        writer,
    )
    assert ok.status_code == 201
    assert "maturity" not in ok.content.decode().replace("maturity_assessment", "")
    assert "Förstår" not in ok.content.decode()
    coordinator = client.get(f"/api/v1/consents/{created['id']}", **token(personas.coordinator))
    assert coordinator.json()["signers"][2]["label"] == "The young person"


# --- Creating -------------------------------------------------------------------------------


def test_create_answers_with_the_pending_consent_and_audits(client, personas, world, consent_case):
    response = call(
        client,
        "post",
        f"/api/v1/cases/{consent_case.case.pk}/consents",
        consent_body(world, consent_case),
        token(personas.coordinator, Scope.WRITE),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    consent = Consent.objects.get(pk=body["id"])
    assert consent.created_by_id == personas.coordinator.pk
    assert body["state"] == "pending"
    assert body["case_id"] == consent_case.case.pk
    assert [s["signed"] for s in body["signers"]] == [False, False]
    created = AuditEvent.objects.get(action="consent.created", object_id=str(consent.pk))
    assert (created.actor_id, created.source, created.case_id) == (
        personas.coordinator.pk,
        "api",
        consent_case.case.pk,
    )


def test_the_last_day_is_counted_on_the_swedish_calendar(client, personas, world, consent_case):
    """A consent whose last day is the day the clocks go forward (a 23-hour day) still ends on
    that day."""
    today = timezone.localdate()
    year = today.year if (today.month, today.day) < (3, 25) else today.year + 1
    last_sunday = max(
        day for day in (dt.date(year, 3, d) for d in range(25, 32)) if day.weekday() == 6
    )
    response = call(
        client,
        "post",
        f"/api/v1/cases/{consent_case.case.pk}/consents",
        consent_body(world, consent_case, valid_until=last_sunday.isoformat()),
        token(personas.practitioner, Scope.WRITE),
    )
    assert response.status_code == 201, response.content
    assert response.json()["last_day"] == last_sunday.isoformat()


def test_a_team_member_who_does_not_obtain_consent_gets_403(client, personas, world, consent_case):
    response = call(
        client,
        "post",
        f"/api/v1/cases/{consent_case.case.pk}/consents",
        consent_body(world, consent_case),
        token(personas.other_agency, Scope.WRITE),
    )
    assert response.status_code == 403
    assert Consent.objects.count() == 0


def _far(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"agency_ids": ["school"]}, "agencies"),
        ({"agency_ids": ["school", "hedemora_school"]}, "agencies"),
        ({"category_ids": ["police"]}, "categories"),
        ({"category_ids": []}, "categories"),
        ({"valid_from": _far(-1)}, "valid_from"),
        ({"valid_until": _far(400)}, "valid_until"),
        ({"valid_from": _far(10), "valid_until": _far(5)}, "valid_until"),
        ({"language": "de"}, "language"),
        ({"valid_from": _far(400), "valid_until": _far(401)}, "valid_from"),
        ({"valid_from": "9999-12-31", "valid_until": "9999-12-31"}, "valid_from"),
        ({"valid_from": "0001-01-01", "valid_until": "9999-12-31"}, "valid_from"),
    ],
)
def test_create_refusals_are_field_errors(client, personas, world, consent_case, overrides, field):
    agencies = {
        "school": world.avesta_school.pk,
        "hedemora_school": world.hedemora_school.pk,
    }
    # A copy: the parameter is shared by every run of the test in one process (a re-run, or
    # mutmut running the suite twice), and names must not be replaced by ids twice.
    overrides = dict(overrides)
    if "agency_ids" in overrides:
        overrides["agency_ids"] = [agencies[a] for a in overrides["agency_ids"]]
    if overrides.get("category_ids"):
        overrides["category_ids"] = [
            InformationCategory.objects.get(sector="police", code="incidents").pk
        ]
    response = call(
        client,
        "post",
        f"/api/v1/cases/{consent_case.case.pk}/consents",
        consent_body(world, consent_case, **overrides),
        token(personas.practitioner, Scope.WRITE),
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"]
    assert body["detail"]
    assert Consent.objects.count() == 0


def test_create_rejects_a_body_that_breaks_the_schema(client, personas, world, consent_case):
    url = f"/api/v1/cases/{consent_case.case.pk}/consents"
    writer = token(personas.practitioner, Scope.WRITE)
    for overrides in ({"valid_from": "den första"}, {"agency_ids": "1,2"}, {"language": "x" * 6}):
        response = call(client, "post", url, consent_body(world, consent_case, **overrides), writer)
        assert response.status_code == 422, overrides
    assert Consent.objects.count() == 0


def test_no_consent_is_drawn_up_on_a_closed_case(client, personas, world, consent_case):
    case_transition(
        actor=personas.practitioner,
        case=consent_case.case,
        to=Status.CLOSED,
        closure_reason="goals_met",
        closure_outcome="Klart.",
    )
    response = call(
        client,
        "post",
        f"/api/v1/cases/{consent_case.case.pk}/consents",
        consent_body(world, consent_case),
        token(personas.practitioner, Scope.WRITE),
    )
    assert response.status_code == 403
    assert Consent.objects.count() == 0


# --- Signatures -----------------------------------------------------------------------------


def test_both_guardians_sign_in_person_and_the_consent_becomes_active(
    client, personas, pending_consent
):
    url = f"/api/v1/consents/{pending_consent.pk}/signatures"
    writer = token(personas.practitioner, Scope.WRITE)
    first, second = signers_of(pending_consent)
    one = call(client, "post", url, {"signer_id": first.pk, "method": "in_person"}, writer)
    assert one.status_code == 201, one.content
    assert (one.json()["state"], [s["signed"] for s in one.json()["signers"]]) == (
        "pending",
        [True, False],
    )
    two = call(
        client,
        "post",
        url,
        {
            "signer_id": second.pk,
            "method": "in_person",
            "signed_on": timezone.localdate().isoformat(),
        },
        writer,
    )
    assert two.status_code == 201
    assert two.json()["state"] == "active"
    signature = ConsentSignature.objects.get(signer=second)
    assert (signature.method, signature.witness_id, signature.recorded_by_id) == (
        "in_person",
        personas.practitioner.pk,
        personas.practitioner.pk,
    )
    assert AuditEvent.objects.filter(action="consent.activated", source="api").count() == 1
    again = call(client, "post", url, {"signer_id": second.pk, "method": "in_person"}, writer)
    assert again.status_code == 400
    assert list(again.json()["errors"]) == ["__all__"]


def test_a_paper_signature_is_sent_with_its_scan_as_multipart(client, personas, pending_consent):
    signer = signers_of(pending_consent)[0]
    response = client.post(
        f"/api/v1/consents/{pending_consent.pk}/signatures",
        data={
            "signer_id": str(signer.pk),
            "method": "paper",
            "signed_on": "",
            "evidence": SimpleUploadedFile("blankett.png", PNG, content_type="image/png"),
        },
        **token(personas.coordinator, Scope.WRITE),
    )
    assert response.status_code == 201, response.content
    signature = response.json()["signers"][0]["signature"]
    assert (signature["method"], signature["evidence"], signature["recorded_by"]) == (
        "paper",
        True,
        "eva",
    )
    stored = ConsentSignature.objects.select_related("evidence").get(signer=signer).evidence
    assert stored is not None
    # Stored re-encoded without metadata (tests/consent/test_uploads.py), so not byte for byte.
    assert stored.content_type == "image/png"
    assert 0 < stored.size == len(base64.b64decode(stored.content_b64))


@pytest.mark.parametrize(
    ("method", "upload", "field"),
    [
        ("paper", None, "evidence"),  # paper needs the scan
        ("paper", ("blankett.txt", b"just text, not a scan"), "evidence"),
        ("paper", ("blankett.png", b"%PDF-1.4 a pdf named png"), "evidence"),
        ("paper", ("blankett.pdf", b"%PDF-" + bytes(range(7, 62))), "evidence"),  # junk
        ("in_person", ("blankett.png", PNG), "evidence"),  # witnessed: no scan
    ],
)
def test_signature_upload_refusals_store_nothing(
    client, personas, pending_consent, method, upload, field
):
    signer = signers_of(pending_consent)[0]
    data: dict[str, Any] = {"signer_id": str(signer.pk), "method": method}
    if upload is not None:
        data["evidence"] = SimpleUploadedFile(upload[0], upload[1])
    before = counts()
    response = client.post(
        f"/api/v1/consents/{pending_consent.pk}/signatures",
        data=data,
        **token(personas.practitioner, Scope.WRITE),
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    nothing_written(before)


def test_signature_refusals(client, personas, world, consent_case, pending_consent):
    url = f"/api/v1/consents/{pending_consent.pk}/signatures"
    writer = token(personas.practitioner, Scope.WRITE)
    other = make_consent(personas, world, consent_case)
    foreign = signers_of(other)[0]
    before = counts()
    response = call(client, "post", url, {"signer_id": foreign.pk, "method": "in_person"}, writer)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["signer_id"]
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    signer = signers_of(pending_consent)[0]
    response = call(
        client,
        "post",
        url,
        {"signer_id": signer.pk, "method": "in_person", "signed_on": future},
        writer,
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["signed_on"]
    bodies: list[Any] = [
        {"signer_id": signer.pk, "method": "electronic"},  # only from e-ID
        {"signer_id": "x", "method": "in_person"},
        {"method": "in_person"},
        [],
    ]
    for body in bodies:
        response = call(client, "post", url, body, writer)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"][0] == "body"
    response = client.post(url, data="{broken", content_type=JSON, **writer)
    assert response.status_code == 400
    form = client.post(url, data={"signer_id": str(signer.pk), "method": "electronic"}, **writer)
    assert form.status_code == 422
    assert form.json()["detail"][0]["loc"] == ["form", "payload", "method"]
    nothing_written(before)


def test_only_those_who_obtain_consent_record_signatures(client, personas, pending_consent):
    response = call(
        client,
        "post",
        f"/api/v1/consents/{pending_consent.pk}/signatures",
        {"signer_id": signers_of(pending_consent)[0].pk, "method": "in_person"},
        token(personas.other_agency, Scope.WRITE),
    )
    assert response.status_code == 403
    assert ConsentSignature.objects.count() == 0


# --- Withdrawal and what crosses ------------------------------------------------------------


def _entries(client: Client, case_pk: int, auth: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_pk}/entries", **auth)
    assert response.status_code == 200
    return response.json()


def test_entries_cross_only_under_an_active_consent_and_stop_at_withdrawal(
    client, personas, world, consent_case, pending_consent
):
    case = consent_case.case
    team_add(actor=personas.coordinator, case=case, user=personas.police, agency=world.police)
    shared = entry_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text="Frånvaro 40 % i oktober.",
    )
    entry_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        category=InformationCategory.objects.get(sector="school", code="wellbeing"),
        text="Mår sämre sedan hösten.",
    )
    social = token(personas.other_agency)
    police = token(personas.police)

    def hidden(body: dict[str, Any]) -> list[tuple[str, int]]:
        return [(h["reason"], h["count"]) for h in body["hidden"]]

    body = _entries(client, case.pk, social)
    assert body["entries"] == []
    assert hidden(body) == [("category", 1), ("pending", 1)]
    assert "waiting for signatures" in body["hidden"][1]["explanation"]

    sign_all(personas, pending_consent)
    body = _entries(client, case.pk, social)
    [entry] = body["entries"]
    assert (entry["id"], entry["basis"]) == (shared.pk, f"consent:{pending_consent.pk}")
    last_day = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    assert entry["basis_explanation"] == (
        f"Shared under consent #{pending_consent.pk}, signed by {GUARDIAN_1_NAME} and "
        f"{GUARDIAN_2_NAME}, valid until {last_day}."
    )
    assert hidden(body) == [("category", 1)]
    assert "does not cover" in body["hidden"][0]["explanation"]
    # The police are not named by the consent: nothing crosses to them.
    body = _entries(client, case.pk, police)
    assert body["entries"] == []
    assert hidden(body) == [("no_consent", 2)]
    assert_no_names(client.get(f"/api/v1/cases/{case.pk}/entries", **police).content)

    response = call(
        client,
        "post",
        f"/api/v1/consents/{pending_consent.pk}/withdrawal",
        {"signer_id": signers_of(pending_consent)[1].pk, "method": "written"},
        token(personas.other_agency, Scope.WRITE),
    )
    assert response.status_code == 201, response.content
    withdrawn = response.json()
    assert withdrawn["state"] == "withdrawn"
    assert withdrawn["withdrawal"]["method"] == "written"
    assert withdrawn["disclosed"] == [
        {"agency": {"id": world.avesta_social.pk, "name": world.avesta_social.name}, "entries": 1}
    ]
    body = _entries(client, case.pk, social)
    assert body["entries"] == []
    assert hidden(body) == [("category", 1), ("withdrawn", 1)]
    assert [(e["consent_id"], e["state"], e["count"]) for e in body["ended_consents"]] == [
        (pending_consent.pk, "withdrawn", 1)
    ]
    event = AuditEvent.objects.get(action="consent.withdrawn")
    assert (event.actor_id, event.source) == (personas.other_agency.pk, "api")


def test_withdrawal_refusals(client, personas, world, consent_case, active_consent):
    url = f"/api/v1/consents/{active_consent.pk}/withdrawal"
    writer = token(personas.practitioner, Scope.WRITE)
    other = make_consent(personas, world, consent_case)
    response = call(
        client, "post", url, {"signer_id": signers_of(other)[0].pk, "method": "oral"}, writer
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["signer_id"]
    signer = signers_of(active_consent)[0].pk
    for method in ("portal", "email", ""):
        response = call(client, "post", url, {"signer_id": signer, "method": method}, writer)
        assert response.status_code == 422, method
    assert ConsentWithdrawal.objects.count() == 0
    assert (
        call(client, "post", url, {"signer_id": signer, "method": "oral"}, writer).status_code
        == 201
    )
    again = call(client, "post", url, {"signer_id": signer, "method": "oral"}, writer)
    assert again.status_code == 400
    assert list(again.json()["errors"]) == ["__all__"]
    # Signing a withdrawn consent is refused too.
    pending_signer = signers_of(other)[0]
    consent_withdraw(
        consent=other, signer=pending_signer, method="oral", actor=personas.practitioner
    )
    response = call(
        client,
        "post",
        f"/api/v1/consents/{other.pk}/signatures",
        {"signer_id": pending_signer.pk, "method": "in_person"},
        writer,
    )
    assert response.status_code == 400
    assert ConsentWithdrawal.objects.count() == 2


def test_a_withdrawal_is_recorded_on_a_closed_case(client, personas, active_consent, consent_case):
    case_transition(
        actor=personas.practitioner,
        case=consent_case.case,
        to=Status.CLOSED,
        closure_reason="goals_met",
        closure_outcome="Klart.",
    )
    response = call(
        client,
        "post",
        f"/api/v1/consents/{active_consent.pk}/withdrawal",
        {"signer_id": signers_of(active_consent)[0].pk, "method": "oral"},
        token(personas.coordinator, Scope.WRITE),
    )
    assert response.status_code == 201
    assert response.json()["state"] == "withdrawn"


def test_no_identity_number_in_any_answer(client, personas, world, consent_case, active_consent):
    """Every endpoint, for the raising agency (who sees names), successes and refusals."""
    auth = token(personas.practitioner, Scope.WRITE)
    responses = [
        call(client, m, u, b, auth) for m, u, b in endpoints(consent_case, active_consent, world)
    ]
    responses.append(client.get(f"/api/v1/cases/{consent_case.case.pk}/entries", **auth))
    assert {r.status_code for r in responses} <= {200, 201, 400}
    for response in responses:
        assert_no_identity_numbers(response.content)


# --- Query counts ---------------------------------------------------------------------------


def _queries(client: Client, url: str, auth: dict[str, Any]) -> int:
    """Queries of a second read: the first marks the token used (at most once a minute) and
    records which entries crossed to the caller's agency."""
    client.get(url, **auth)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **auth)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["practitioner", "other_agency", "coordinator"])
def test_consent_list_and_detail_query_counts_do_not_grow(
    client, personas, world, consent_case, active_consent, persona
):
    auth = token(getattr(personas, persona))
    listing = f"/api/v1/cases/{consent_case.case.pk}/consents"
    detail = f"/api/v1/consents/{active_consent.pk}"
    entry_add(
        actor=personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text="Anteckning 0",
    )
    client.get(f"/api/v1/cases/{consent_case.case.pk}/entries", **token(personas.other_agency))
    before = (_queries(client, listing, auth), _queries(client, detail, auth))
    for i in range(4):
        consent = make_consent(personas, world, consent_case)
        signature_record(
            actor=personas.practitioner,
            signer=signers_of(consent)[0],
            method="paper",
            evidence=SimpleUploadedFile(f"scan{i}.png", PNG),
        )
    for i in range(5):
        entry_add(
            actor=personas.practitioner,
            case=consent_case.case,
            agency=world.avesta_school,
            category=consent_case.school_category,
            text=f"Anteckning {i + 1}",
        )
    client.get(f"/api/v1/cases/{consent_case.case.pk}/entries", **token(personas.other_agency))
    assert len(client.get(listing, **auth).json()["consents"]) == 5
    assert client.get(detail, **auth).json()["disclosed"][0]["entries"] == 6
    assert (_queries(client, listing, auth), _queries(client, detail, auth)) == before


def test_entry_list_query_count_does_not_grow_with_consents(
    client, personas, world, consent_case, active_consent
):
    auth = token(personas.other_agency)
    url = f"/api/v1/cases/{consent_case.case.pk}/entries"

    def add(n: int) -> None:
        for i in range(n):
            entry_add(
                actor=personas.practitioner,
                case=consent_case.case,
                agency=world.avesta_school,
                category=consent_case.school_category,
                text=f"Anteckning {i}",
            )

    add(1)
    client.get(url, **auth)
    one = _queries(client, url, auth)
    add(10)
    second = make_consent(personas, world, consent_case)
    sign_all(personas, second)
    client.get(url, **auth)
    assert len(client.get(url, **auth).json()["entries"]) == 11
    assert _queries(client, url, auth) == one
    assert Entry.objects.count() == 11


# --- Generated input ------------------------------------------------------------------------


def test_generated_consent_requests_never_meet_a_server_error(
    personas, world, consent_case, pending_consent
):
    """Schemathesis over the consent operations, with ids that exist in half of the examples so
    that requests reach the handlers and the services (as the cases API's own fuzz test)."""
    writer = token_create(
        actor=None, user=personas.practitioner, name="fuzz", days=3, scope=Scope.WRITE
    ).text
    real = {
        "case_id": consent_case.case.pk,
        "consent_id": pending_consent.pk,
        "signer_id": signers_of(pending_consent)[0].pk,
    }
    answered: dict[str, set[int]] = {}
    with _wsgi_shares_the_test_connection():
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        operations = [
            result.ok()
            for result in schema.get_all_operations()
            if isinstance(result, Ok) and "consents" in result.ok().path
        ]
        assert len(operations) == 6
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(
                    operation,
                    mode,
                    headers={"Authorization": f"Bearer {writer}"},
                    real=real,
                    answered=answered,
                )
    assert 200 in answered["GET /api/v1/consents/{consent_id}"]
    assert answered["POST /api/v1/consents/{consent_id}/signatures"] & {201, 400}
    assert answered["POST /api/v1/cases/{case_id}/consents"] & {201, 400}
