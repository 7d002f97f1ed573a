"""The ``Idempotency-Key`` header on API writes (issue 17, point 6).

A client whose answer was lost (in the kill -9 test, two writes committed without their answer
reaching the client) must be able to send the write again without it happening twice: the
repeat gets the first answer, the write runs once, and the replay is audited.
"""

from __future__ import annotations

import importlib
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.client import BOUNDARY, encode_multipart
from django.utils import timezone

from samverkan.api.idempotency import fingerprint, parse_key
from samverkan.api.models import ApiToken, IdempotencyKey, Scope
from samverkan.api.services import (
    IDEMPOTENCY_CLAIM_TIMEOUT,
    ClaimOutcome,
    idempotency_claim,
    idempotency_store,
    token_create,
    token_revoke,
)
from samverkan.api.tasks import idempotency_prune
from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case, Entry
from samverkan.cases.services import case_raise, team_add
from samverkan.consent.models import ConsentWithdrawal, RequiredSigner
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.jobs.registry import Every, registry
from samverkan.organisations.services import group_member_add
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.consent.conftest import consent_case, make_consent, sign_all  # noqa: F401 - a fixture

JSON = "application/json"
REPLAYED = "Idempotent-Replayed"


def bearer(user: Any, scope: Scope = Scope.WRITE) -> tuple[ApiToken, dict[str, Any]]:
    issued = token_create(actor=None, user=user, name="idempotency", days=3, scope=scope)
    return issued.token, {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def post(
    client: Client,
    url: str,
    body: dict[str, Any],
    auth: dict[str, Any],
    key: str | None = None,
    **extra: Any,
):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data=body, content_type=JSON, **auth, **extra)


def actions() -> Counter[str]:
    return Counter(AuditEvent.objects.values_list("action", flat=True))


@pytest.fixture
def case(personas, world) -> Case:
    return case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=YOUTH_NUMBER,
        name=YOUTH_NAME,
        gender="M",
        reason="Hög frånvaro sedan höstlovet.",
        risk_factors=["high_absence"],
    ).case


def entries_url(case: Case) -> str:
    return f"/api/v1/cases/{case.pk}/entries"


def entry(world, text: str = "Frånvarande hela veckan.") -> dict[str, Any]:
    return {"agency_id": world.avesta_school.pk, "category": "attendance", "text": text}


# --- Replay ----------------------------------------------------------------------------------


def test_a_repeat_gets_the_first_answer_and_the_write_happens_once(client, personas, world, case):
    token, auth = bearer(personas.practitioner)
    url = entries_url(case)
    first = post(client, url, entry(world), auth, key="entry-2026-001")
    assert first.status_code == 201, first.content
    assert REPLAYED not in first
    before = actions()

    again = post(client, url, entry(world), auth, key="entry-2026-001")

    assert again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again[REPLAYED] == "true"
    assert Entry.objects.filter(case=case).count() == 1
    # The write wrote nothing again; the token's use and the replay itself are audited.
    assert actions() - before == Counter({"api_token.used": 1, "api_request.replayed": 1})
    replayed = AuditEvent.objects.get(action="api_request.replayed")
    created = AuditEvent.objects.get(action="entry.created")
    assert (replayed.actor_id, replayed.case_id, replayed.source) == (
        personas.practitioner.pk,
        case.pk,
        "api",
    )
    assert replayed.details["token_id"] == token.pk
    assert replayed.details["status"] == 201
    first_at = IdempotencyKey.objects.get().created_at
    assert replayed.details["original_at"] == first_at.isoformat(timespec="seconds")
    assert abs(first_at - created.occurred_at) < timedelta(seconds=1)

    # A replay needs a token that still works: the answer is not handed to anyone else.
    token_revoke(actor=personas.practitioner, token=token)
    assert post(client, url, entry(world), auth, key="entry-2026-001").status_code == 401
    assert actions()["api_request.replayed"] == 1


def test_raising_a_case_twice_with_one_key_raises_one_case_and_keeps_the_answer_encrypted(
    client, personas, world
):
    _, auth = bearer(personas.practitioner)
    number = "20130704-2380"  # fictional; the check digit is right
    body = {
        "group_id": world.avesta_group.pk,
        "agency_id": world.avesta_school.pk,
        "identity_number": number,
        "name": "Lisa Exempelsson",
        "gender": "F",
        "reason": "Oro för skolnärvaron.",
        "risk_factors": ["high_absence"],
        "protective_factors": [],
    }
    first = post(client, "/api/v1/cases", body, auth, key="raise-lisa")
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/cases", body, auth, key="raise-lisa")
    assert (again.status_code, again.content, again[REPLAYED]) == (201, first.content, "true")
    assert Case.objects.count() == 1
    assert actions()["case.raised"] == 1
    # The stored answer holds the identity number, so it is stored encrypted (DESIGN rule 10).
    stored = IdempotencyKey.objects.get()
    assert number.encode() in stored.body
    raw = IdempotencyKey.objects.values_list("body_enc", flat=True).get()
    assert number not in raw
    assert "Lisa" not in raw


def test_side_effects_after_commit_happen_once(
    client,
    personas,
    world,
    consent_case,  # noqa: F811 - the fixture imported above
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """A withdrawal tells the team by e-mail after it commits. Wrapped in the request's
    transaction, the service's on_commit still sends once; a replay sends nothing."""
    consent = make_consent(personas, world, consent_case)
    sign_all(personas, consent)
    signer = RequiredSigner.objects.filter(consent=consent).order_by("order").first()
    assert signer is not None
    _, auth = bearer(personas.practitioner)
    url = f"/api/v1/consents/{consent.pk}/withdrawal"
    body = {"signer_id": signer.pk, "method": "oral"}
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, url, body, auth, key="withdraw-1")
    assert first.status_code == 201, first.content
    sent = len(mailoutbox)
    assert sent > 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post(client, url, body, auth, key="withdraw-1")
    # Without the key this repeat is refused (400: already withdrawn); with it, the answer.
    assert (again.status_code, again.content, again[REPLAYED]) == (201, first.content, "true")
    assert callbacks == []
    assert len(mailoutbox) == sent
    assert ConsentWithdrawal.objects.count() == 1


# --- Refusals that are stored, and refusals of the key ---------------------------------------


def test_a_refused_write_is_stored_and_replayed_and_its_key_stays_used(
    client, personas, world, case
):
    _, auth = bearer(personas.practitioner)
    url = entries_url(case)
    refused = post(client, url, entry(world, text="   "), auth, key="blank")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["text"]
    again = post(client, url, entry(world, text="   "), auth, key="blank")
    assert (again.status_code, again.content, again[REPLAYED]) == (400, refused.content, "true")
    # The key answered that request; the corrected request needs a key of its own.
    corrected = post(client, url, entry(world), auth, key="blank")
    assert corrected.status_code == 422
    assert Entry.objects.count() == 0
    assert post(client, url, entry(world), auth, key="blank-2").status_code == 201


def test_the_same_key_for_another_request_is_422(client, personas, world, case):
    _, auth = bearer(personas.practitioner, Scope.WRITE)
    url = entries_url(case)
    assert post(client, url, entry(world), auth, key="k1").status_code == 201
    other_body = post(
        client, url, entry(world, text="Något annat."), auth, key="k1", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert other_body.status_code == 422
    assert other_body.json() == {
        "detail": "This Idempotency-Key was used for a different request. "
        "Send a new key with a new request."
    }
    assert REPLAYED not in other_body
    meeting = {
        "group_id": world.avesta_group.pk,
        "starts_at": "2026-12-20T10:00:00+01:00",
        "ends_at": "2026-12-20T11:00:00+01:00",
        "location": "Rum 4",
    }
    other_path = post(client, "/api/v1/meetings", meeting, auth, key="k1")
    assert other_path.status_code == 422
    assert Entry.objects.count() == 1


def test_keys_belong_to_a_token_not_to_its_user(client, personas, world, case):
    _, first_auth = bearer(personas.practitioner)
    _, second_auth = bearer(personas.practitioner)
    _, colleague_auth = bearer(personas.colleague)
    group_member_add(
        actor=None, group=world.avesta_group, user=personas.colleague, agency=world.avesta_school
    )
    team_add(
        actor=personas.coordinator, case=case, user=personas.colleague, agency=world.avesta_school
    )
    url = entries_url(case)
    for auth in (first_auth, second_auth, colleague_auth):
        response = post(client, url, entry(world), auth, key="shared-key")
        assert response.status_code == 201, response.content
        assert REPLAYED not in response
    assert Entry.objects.count() == 3
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 3
    # Without a working token there is no token to key by: 401, and nothing is stored.
    for key in ("shared-key", "not a key"):
        assert post(client, url, entry(world), {}, key=key).status_code == 401
    assert IdempotencyKey.objects.count() == 3


@pytest.mark.parametrize(
    "header",
    [
        "",
        "x" * 256,
        "two words",
        "tab\there",
        "åäö",
        '"bad \\escape"',
        '"in"side"',
    ],
)
def test_a_malformed_key_is_400_and_nothing_is_written(client, personas, world, case, header):
    _, auth = bearer(personas.practitioner)
    response = post(
        client, entries_url(case), entry(world), auth, key=header, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The Idempotency-Key header must be 1 to 255 visible ASCII characters."
    }
    assert Entry.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    # A read ignores the header, whatever it holds.
    read = client.get(entries_url(case), HTTP_IDEMPOTENCY_KEY=header, **auth)
    assert read.status_code == 200
    assert IdempotencyKey.objects.count() == 0


def test_key_syntax():
    assert parse_key("x" * 255) == "x" * 255
    assert (
        parse_key("8e03978e-40d5-43e8-bc93-6894a57f9324") == "8e03978e-40d5-43e8-bc93-6894a57f9324"
    )
    # The draft's structured-field string names the same key as the bare text.
    assert parse_key('"8e03978e-40d5"') == "8e03978e-40d5"
    assert parse_key('"a\\"b"') == 'a"b'
    for bad in ("", "x" * 256, "a b", '""', "\x7f", '"a b"'):
        assert parse_key(bad) is None, bad


# --- In flight, expiry, pruning --------------------------------------------------------------


def _claim_as_a_running_request(token: ApiToken, url: str, body: dict[str, Any], key: str):
    request = RequestFactory().post(url, data=body, content_type=JSON)
    return idempotency_claim(
        token=token, key=key, method="POST", path=url, fingerprint=fingerprint(request)
    )


def test_a_repeat_while_the_first_request_runs_is_409(client, personas, world, case):
    token, auth = bearer(personas.practitioner)
    url = entries_url(case)
    outcome, _claim = _claim_as_a_running_request(token, url, entry(world), "busy")
    assert outcome is ClaimOutcome.RUN
    response = post(client, url, entry(world), auth, key="busy", HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    # The message follows Accept-Language, as the field errors do.
    assert response.json() == {
        "detail": "En begäran med den här Idempotency-Key behandlas fortfarande. Försök igen."
    }
    assert Entry.objects.count() == 0
    assert actions()["api_token.used"] == 1  # answered without running, but audited as a use


def test_a_claim_left_by_a_dead_request_is_taken_over_after_the_timeout(
    client, personas, world, case
):
    """A process killed before its write committed leaves an unanswered claim, and no write."""
    token, auth = bearer(personas.practitioner)
    url = entries_url(case)
    _claim_as_a_running_request(token, url, entry(world), "crashed")
    later = timezone.now() + IDEMPOTENCY_CLAIM_TIMEOUT + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        response = post(client, url, entry(world), auth, key="crashed")
        assert response.status_code == 201, response.content
        assert REPLAYED not in response
        assert post(client, url, entry(world), auth, key="crashed")[REPLAYED] == "true"
    assert Entry.objects.count() == 1


def test_a_request_that_lost_its_claim_cannot_store_its_answer(personas, world, case):
    token, _auth = bearer(personas.practitioner)
    url = entries_url(case)
    outcome, slow = _claim_as_a_running_request(token, url, entry(world), "slow")
    assert outcome is ClaimOutcome.RUN
    with time_machine.travel(timezone.now() + IDEMPOTENCY_CLAIM_TIMEOUT + timedelta(seconds=1)):
        outcome, retry = _claim_as_a_running_request(token, url, entry(world), "slow")
    assert outcome is ClaimOutcome.RUN
    assert retry.pk == slow.pk

    def store(claim: IdempotencyKey) -> bool:
        return idempotency_store(
            claim=claim, status=201, content_type=JSON, language="sv", body=b"{}"
        )

    assert store(slow) is False
    assert store(retry) is True
    assert store(retry) is False  # answered once


def test_after_24_hours_the_key_runs_again_even_before_the_job_prunes_it(
    client, personas, world, case
):
    _, auth = bearer(personas.practitioner)
    url = entries_url(case)
    assert post(client, url, entry(world), auth, key="daily").status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59), tick=False):
        assert post(client, url, entry(world), auth, key="daily")[REPLAYED] == "true"
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1), tick=False):
        again = post(client, url, entry(world), auth, key="daily")
        assert again.status_code == 201
        assert REPLAYED not in again
        # A different body is no misuse of an expired key either.
        other = post(client, url, entry(world, text="Ny vecka."), auth, key="daily-2")
        assert other.status_code == 201
    assert Entry.objects.count() == 3
    assert IdempotencyKey.objects.count() == 2


def test_the_hourly_job_deletes_keys_past_24_hours(client, personas, world, case):
    job = registry.get("api.idempotency_prune")
    assert job.every is Every.HOUR
    _, auth = bearer(personas.practitioner)
    url = entries_url(case)
    post(client, url, entry(world), auth, key="old")
    with time_machine.travel(timezone.now() + timedelta(hours=20), tick=False):
        post(client, url, entry(world, text="Senare."), auth, key="newer")
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1), tick=False):
        result = idempotency_prune.call()
    assert result == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["newer"]


# --- Failures: nothing is stored, nothing is kept --------------------------------------------


def test_a_crash_after_the_write_rolls_it_back_with_the_key(personas, world, case, monkeypatch):
    """The entry is written, then building the answer fails: the write and the claim go
    together, so the retry runs afresh and the entry exists once."""
    _, auth = bearer(personas.practitioner)
    url = entries_url(case)
    client = Client(raise_request_exception=False)

    def crash(*args: Any, **kwargs: Any) -> None:
        assert Entry.objects.count() == 1  # the write has happened in this transaction
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(disclosure_selectors, "entry_history", crash)
    failed = post(client, url, entry(world), auth, key="crash")
    assert failed.status_code == 500
    assert Entry.objects.count() == 0
    assert actions()["entry.created"] == 0
    assert IdempotencyKey.objects.count() == 0
    monkeypatch.undo()

    retry = post(client, url, entry(world), auth, key="crash")
    assert retry.status_code == 201, retry.content
    assert REPLAYED not in retry
    assert Entry.objects.count() == 1


def test_a_server_error_answer_is_not_stored_and_the_retry_runs(
    personas, world, case, monkeypatch, settings
):
    """With DEBUG, django-ninja turns the exception into a 500 answer itself; that answer is not
    stored either, and the write under it is rolled back."""
    settings.DEBUG = True
    _, auth = bearer(personas.practitioner)
    url = entries_url(case)
    client = Client(raise_request_exception=False)
    monkeypatch.setattr(disclosure_selectors, "entry_history", lambda *a, **k: 1 / 0)
    failed = post(client, url, entry(world), auth, key="debug")
    assert failed.status_code == 500
    assert Entry.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    monkeypatch.undo()
    assert post(client, url, entry(world), auth, key="debug").status_code == 201
    assert Entry.objects.count() == 1


def test_a_multipart_body_is_the_same_request_whatever_its_boundary():
    def request(boundary: str, content: bytes) -> str:
        upload = SimpleUploadedFile("blankett.pdf", content, content_type="application/pdf")
        data = encode_multipart(boundary, {"method": "paper", "evidence": upload})
        return fingerprint(
            RequestFactory().generic(
                "POST",
                "/api/v1/consents/1/signatures",
                data,
                content_type=f"multipart/form-data; boundary={boundary}",
            )
        )

    assert request(BOUNDARY, b"%PDF-1.4 one") == request("other-boundary", b"%PDF-1.4 one")
    assert request(BOUNDARY, b"%PDF-1.4 one") != request(BOUNDARY, b"%PDF-1.4 two")


# --- Concurrency -----------------------------------------------------------------------------

_SEED = importlib.import_module("samverkan.cases.migrations.0002_default_factors_and_categories")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_repeats_write_once(personas, world):
    """Requests with one key at the same time, each on its own connection: one writes, the
    others get its answer or 409, never a second entry."""
    _SEED.seed(apps, None)  # a transactional test that ran earlier emptied the seeded tables
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=YOUTH_NUMBER,
        name=YOUTH_NAME,
        gender="M",
        reason="Hög frånvaro sedan höstlovet.",
        risk_factors=["high_absence"],
    ).case
    _, auth = bearer(personas.practitioner)
    url = entries_url(case)
    body = entry(world)
    start = threading.Barrier(4)
    answers: list[tuple[int, bytes, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            start.wait()
            response = post(Client(), url, body, auth, key="together")
            with lock:
                answers.append((response.status_code, response.content, REPLAYED in response))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(answers) == 4
    assert Entry.objects.filter(case=case).count() == 1
    ran = [content for status, content, replayed in answers if status == 201 and not replayed]
    assert len(ran) == 1
    for status, content, _replayed in answers:
        assert status == 409 or (status, content) == (201, ran[0]), (status, content)
