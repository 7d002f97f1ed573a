"""/api/v1/promises (anonymous, published only) and /api/v1/agreements (editors and council)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.organisations.models import Role
from samverkan.promises import services
from samverkan.promises.models import Agreement, AgreementVersion, Assessment
from tests.helpers import make_user
from tests.promises.conftest import DRAFT_TITLE, HEDEMORA_TITLE, PromiseWorld

JSON = "application/json"


def token(user: User, scope: Scope = Scope.READ) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="api-test", days=3, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def call(client: Client, method: str, url: str, body: dict[str, Any] | None, auth: dict[str, Any]):
    if body is None:
        return getattr(client, method)(url, **auth)
    return getattr(client, method)(url, data=body, content_type=JSON, **auth)


def agreement_writes(pw: PromiseWorld) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/api/v1/agreements/{pw.promise.pk}"
    c = pw.police_commitment.pk
    return [
        (
            "put",
            base,
            {
                "title": "Nytt",
                "period_start": "2019-03-22",
                "period_end": "2020-12-31",
                "focus_area": "Narkotika",
            },
        ),
        ("post", f"{base}/status", {"to": "assessed"}),
        ("post", f"{base}/extension", {"new_end": "2023-12-31", "reason": "Förlängt"}),
        ("post", f"{base}/publication", {"published": False}),
        ("post", f"{base}/links", {"succeeds_id": None, "overlap_ids": [pw.draft.pk]}),
        ("post", f"{base}/parties", {"name": "Räddningstjänsten", "kind": "other"}),
        (
            "post",
            f"{base}/signatories",
            {"party_id": pw.police.pk, "name": "A", "title": "B", "signed_on": "2019-03-22"},
        ),
        ("post", f"{base}/commitments", {"party_id": None, "text": "Nytt"}),
        ("put", f"{base}/commitments/{c}", {"text": "Ändrat", "status": "ongoing"}),
        (
            "post",
            f"{base}/commitments/{c}/activities",
            {"date": "2019-06-01", "description": "Vandring", "count": 1},
        ),
        ("post", f"{base}/follow-ups", {"date": "2020-01-01", "narrative": "Uppföljning"}),
        (
            "post",
            f"{base}/assessments",
            {
                "party_id": pw.municipality.pk,  # the agreement editor persona speaks for it
                "verdict": "fulfilled",
                "statement": "Ja",
                "assessed_on": "2021-01-01",
            },
        ),
    ]


def _versions() -> int:
    return AgreementVersion.objects.count()


# --- Public ----------------------------------------------------------------------------------


def test_public_list_and_detail_show_published_agreements_only(client, promise_world):
    listing = client.get("/api/v1/promises")
    assert listing.status_code == 200
    assert [p["id"] for p in listing.json()["items"]] == [promise_world.promise.pk]
    assert DRAFT_TITLE not in listing.content.decode()
    assert HEDEMORA_TITLE not in listing.content.decode()
    body = client.get(f"/api/v1/promises/{promise_world.promise.pk}").json()
    assert body["status"] == "active"
    assert body["fulfilment"] == "pending"
    assert {p["name"] for p in body["parties"]} == {"Polisen", "Avesta kommun"}
    assert all(p["assessment"] is None for p in body["parties"])
    assert {s["signed_on"] for s in body["signatories"]} == {"2019-03-22"}
    assert body["period_start"] == "2019-03-22"
    assert body["period_end"] == "2020-12-31"
    headings = {c["heading"] for c in body["commitments"]}
    assert headings == {"The police promise", "Joint"}
    assert "cause_analysis" not in body
    assert "versions" not in body
    assert "Interna anteckningar" not in listing.content.decode()
    by_code = client.get("/api/v1/promises?municipality=2083").json()
    assert by_code == {"count": 0, "limit": 20, "offset": 0, "items": []}


def test_public_unpublished_and_missing_answer_alike(client, personas, promise_world):
    for pk in (promise_world.draft.pk, promise_world.hedemora.pk, 999999):
        response = client.get(f"/api/v1/promises/{pk}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
    services.agreement_unpublish(actor=personas.agreement_editor, agreement=promise_world.promise)
    assert client.get(f"/api/v1/promises/{promise_world.promise.pk}").status_code == 404
    assert client.get("/api/v1/promises").json()["items"] == []


def test_public_shows_each_partys_assessment_and_fulfilment(client, personas, promise_world):
    for party in (promise_world.police, promise_world.municipality):
        services.assessment_record(
            actor=promise_world.assessor(party),
            agreement=promise_world.promise,
            party=party,
            verdict="fulfilled",
            statement="Uppfyllt.",
            assessed_on=date(2021, 1, 1),
        )
    body = client.get(f"/api/v1/promises/{promise_world.promise.pk}").json()
    assert body["fulfilment"] == "fulfilled"
    assert {p["assessment"]["verdict"] for p in body["parties"]} == {"fulfilled"}


def test_public_refuses_every_write(client, promise_world):
    before = _versions()
    pk = promise_world.promise.pk
    for method in ("post", "put", "patch", "delete"):
        assert call(client, method, f"/api/v1/promises/{pk}", {}, {}).status_code == 405
        assert call(client, method, "/api/v1/promises", {}, {}).status_code == 405
    assert _versions() == before


# --- Anonymous on the editors' API -----------------------------------------------------------


def test_anonymous_gets_401_on_every_agreements_endpoint(client, promise_world):
    before = _versions()
    reads = [
        ("get", "/api/v1/agreements", None),
        ("get", f"/api/v1/agreements/{promise_world.draft.pk}", None),
        ("post", "/api/v1/agreements", {"title": "X"}),
    ]
    for method, url, body in reads + agreement_writes(promise_world):
        response = call(client, method, url, body, {})
        assert response.status_code == 401, (method, url)
        assert DRAFT_TITLE not in response.content.decode()
    assert _versions() == before


# --- Editors and council ---------------------------------------------------------------------


NO_ACCESS = ["outsider", "admin", "auditor", "practitioner", "coordinator", "police", "no_role"]


@pytest.mark.parametrize("persona", NO_ACCESS)
def test_staff_without_the_role_get_404_and_an_empty_list(client, personas, promise_world, persona):
    before = _versions()
    for scope in (Scope.READ, Scope.WRITE):
        auth = token(getattr(personas, persona), scope)
        assert client.get("/api/v1/agreements", **auth).json() == []
        for pk in (promise_world.promise.pk, promise_world.draft.pk):
            assert client.get(f"/api/v1/agreements/{pk}", **auth).status_code == 404
        for method, url, body in agreement_writes(promise_world):
            response = call(client, method, url, body, auth)
            assert response.status_code == 404, (persona, method, url)
            assert response.json() == {"detail": "Not Found"}
        create = {
            "kind": "promise",
            "title": "X",
            "municipality_id": promise_world.promise.municipality_id,
            "period_start": "2024-01-01",
            "period_end": "2024-12-31",
            "focus_area": "X",
        }
        assert call(client, "post", "/api/v1/agreements", create, auth).status_code == 404
    assert _versions() == before


def test_another_municipalitys_editor_gets_404(client, promise_world):
    auth = token(promise_world.hedemora_editor, Scope.WRITE)
    assert [a["title"] for a in client.get("/api/v1/agreements", **auth).json()] == [HEDEMORA_TITLE]
    for method, url, body in agreement_writes(promise_world):
        assert call(client, method, url, body, auth).status_code == 404, url


def test_council_member_reads_and_gets_403_on_writes(client, personas, promise_world):
    before = _versions()
    auth = token(personas.council_member, Scope.WRITE)
    titles = {a["title"] for a in client.get("/api/v1/agreements", **auth).json()}
    assert DRAFT_TITLE in titles
    assert HEDEMORA_TITLE not in titles
    body = client.get(f"/api/v1/agreements/{promise_world.draft.pk}", **auth).json()
    assert body["cause_analysis"] == "Interna anteckningar."
    for method, url, payload in agreement_writes(promise_world):
        assert call(client, method, url, payload, auth).status_code == 403, url
    assert _versions() == before


@pytest.mark.parametrize("index", range(12))
def test_editor_writes_need_the_write_scope(client, personas, promise_world, index):
    method, url, body = agreement_writes(promise_world)[index]
    before = _versions()
    read = call(client, method, url, body, token(personas.agreement_editor, Scope.READ))
    assert read.status_code == 403
    assert _versions() == before
    write = call(client, method, url, body, token(personas.agreement_editor, Scope.WRITE))
    assert write.status_code in (200, 400), write.content  # 400: a rule refused it
    if write.status_code == 200:
        assert _versions() > before
    wrong = "delete" if method != "delete" else "post"
    assert call(client, wrong, url, body, token(personas.agreement_editor)).status_code == 405


class _AgreementCalls:
    """Writes to one agreement through the API, each expected to answer ``expect``."""

    def __init__(self, client: Client, pk: int, auth: dict[str, Any]) -> None:
        self.client, self.base, self.auth = client, f"/api/v1/agreements/{pk}", auth

    def post(self, suffix: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        r = self.client.post(self.base + suffix, data=body, content_type=JSON, **self.auth)
        assert r.status_code == expect, (suffix, r.content)
        return r.json()


def _create_a_cooperation(client: Client, auth: dict[str, Any], world) -> int:
    created = client.post(
        "/api/v1/agreements",
        data={
            "kind": "cooperation",
            "title": "Samverkan 2024",
            "municipality_id": world.avesta_school.municipality_id,
            "police_area_id": world.police.police_area_id,
            "period_start": "2024-01-01",
            "period_end": "2026-12-31",
            "focus_area": "Unga i riskzon",
        },
        content_type=JSON,
        **auth,
    )
    assert created.status_code == 201, created.content
    return created.json()["id"]


def _parties_and_a_commitment(api: _AgreementCalls, world) -> tuple[int, int, int]:
    api.post("/parties", {"name": "Polisen", "kind": "police", "agency_id": world.police.pk})
    body = api.post(
        "/parties",
        {"name": "Avesta kommun", "kind": "municipality", "agency_id": world.avesta_other.pk},
    )
    police, town = (p["id"] for p in body["parties"])
    body = api.post(
        "/commitments",
        {"party_id": police, "text": "Orossamtal", "target_count": 2, "target_unit": "per år"},
    )
    return police, town, body["commitments"][0]["id"]


def _sign_activate_and_publish(api: _AgreementCalls, parties: tuple[int, int]) -> None:
    """Refused while a draft without signatories, then signed, active and published."""
    refused = api.post("/publication", {"published": True}, expect=400)
    assert "draft cannot be published" in refused["detail"]
    refused = api.post("/status", {"to": "signed"}, expect=400)
    assert refused["errors"]["__all__"]
    for party in parties:
        api.post(
            "/signatories",
            {"party_id": party, "name": "N", "title": "T", "signed_on": "2024-01-01"},
        )
    api.post("/status", {"to": "signed"})
    api.post("/status", {"to": "active"})
    api.post("/publication", {"published": True})


def _follow_up_the_commitment(api: _AgreementCalls, commitment: int) -> None:
    api.post(
        f"/commitments/{commitment}/activities",
        {"date": "2024-02-01", "description": "Samtal", "count": 2},
    )
    api.post(
        "/follow-ups",
        {
            "date": "2024-06-01",
            "narrative": "Bra",
            "progress": [{"commitment_id": commitment, "progress": "done"}],
        },
    )


def _each_party_assesses_it_fulfilled(api: _AgreementCalls, world, police: int, town: int) -> None:
    """Each party's assessment comes from an editor of its own agency, with a token of their
    own; an unknown party is refused."""
    bad = api.post(
        "/assessments",
        {"party_id": 999999, "verdict": "fulfilled", "statement": "x", "assessed_on": "2024-12-31"},
        expect=400,
    )
    assert "party_id" in bad["errors"]
    police_auth = token(make_user("polis-avtal", world.police, Role.AGREEMENT_EDITOR), Scope.WRITE)
    for party, party_auth in ((police, police_auth), (town, api.auth)):
        r = api.client.post(
            api.base + "/assessments",
            data={
                "party_id": party,
                "verdict": "fulfilled",
                "statement": "Ja",
                "assessed_on": "2024-12-31",
            },
            content_type=JSON,
            **party_auth,
        )
        assert r.status_code == 200, r.content


def test_editor_runs_an_agreement_through_the_api(client, personas, world):
    auth = token(personas.agreement_editor, Scope.WRITE)
    pk = _create_a_cooperation(client, auth, world)
    api = _AgreementCalls(client, pk, auth)
    police, town, commitment = _parties_and_a_commitment(api, world)
    _sign_activate_and_publish(api, (police, town))
    _follow_up_the_commitment(api, commitment)
    _each_party_assesses_it_fulfilled(api, world, police, town)
    body = api.post("/status", {"to": "assessed"})
    assert body["status"] == "assessed"
    assert body["fulfilment"] == "fulfilled"
    assert body["commitments"][0]["progress"] == {
        "done": 2,
        "target": 2,
        "unit": "per år",
        "percent": 100,
    }
    assert next(v["number"] for v in body["versions"]) == len(body["versions"])
    public = client.get(f"/api/v1/promises/{pk}").json()
    assert public["fulfilment"] == "fulfilled"
    assert Assessment.objects.filter(agreement_id=pk).count() == 2
    assert Agreement.objects.get(pk=pk).published


def test_openapi_marks_promises_public_and_agreements_token_only(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for operation in operations.values():
            if path.startswith("/api/v1/promises"):
                assert "security" not in operation, path
            elif path.startswith("/api/v1/agreements"):
                assert operation["security"] == [{"BearerToken": []}], path
    assert set(paths["/api/v1/promises"]) == {"get"}
    assert set(paths["/api/v1/agreements"]) == {"get", "post"}
