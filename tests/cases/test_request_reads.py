"""Issue 18: a request's reads are appended to the audit log together, in one statement, before
the response leaves the server; a failed append turns the page into an error, never into a page
whose reading was not logged."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from samverkan.api.models import ApiToken
from samverkan.api.services import LAST_USED_RESOLUTION, token_create
from samverkan.audit import services
from samverkan.audit.models import AuditEvent
from samverkan.audit.services import audit_read, request_reads
from samverkan.cases.services import entry_add
from samverkan.lib.compiled import CompiledValues
from samverkan.organisations.models import Membership


def _inserts(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "INSERT INTO" in q["sql"]]


def test_the_reads_of_a_page_are_one_insert_at_the_end(client_for, personas, case_world, world):
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Anteckning",
    )
    client = client_for(personas.practitioner)
    url = reverse("cases:detail", args=[case_world.case.pk])
    client.get(url)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    audit = [sql for sql in _inserts(ctx) if "audit_auditevent" in sql]
    assert len(audit) == 1
    # The append is the request's last statement but for the chain head's (inline sealing).
    last_write = max(
        i for i, q in enumerate(ctx.captured_queries) if "audit_auditevent" in q["sql"]
    )
    assert all(
        "audit_chainhead" in q["sql"] or "SAVEPOINT" in q["sql"]
        for q in ctx.captured_queries[last_write + 1 :]
    )
    actions = list(
        AuditEvent.objects.filter(id__gt=last).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["case.viewed", "entry.viewed"]


def test_a_failed_append_answers_500_without_the_page(
    client_for, personas, case_world, world, monkeypatch
):
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Hemlig anteckning om frånvaro",
    )
    client = client_for(personas.practitioner)
    client.raise_request_exception = False
    url = reverse("cases:detail", args=[case_world.case.pk])
    assert "Hemlig anteckning" in client.get(url).content.decode()

    def fail(records):
        raise DatabaseError("the audit log cannot be written")

    monkeypatch.setattr(services, "_append", fail)
    response = client.get(url)
    assert response.status_code == 500
    assert "Hemlig anteckning" not in response.content.decode()


def test_reads_outside_a_request_are_appended_at_once(personas):
    before = AuditEvent.objects.count()
    audit_read(action="user.viewed", actor=personas.practitioner, obj=personas.police)
    assert AuditEvent.objects.count() == before + 1


def _read_then_fail(block: AbstractContextManager[object], personas) -> None:
    with block:
        audit_read(action="user.viewed", actor=personas.practitioner, obj=personas.coordinator)
        raise RuntimeError("it failed after the read")


def test_reads_inside_the_block_wait_for_its_end_and_survive_a_rollback(personas):
    before = AuditEvent.objects.count()
    with request_reads():
        audit_read(action="user.viewed", actor=personas.practitioner, obj=personas.police)
        # A read made inside a transaction that then rolls back was still made.
        with pytest.raises(RuntimeError):
            _read_then_fail(transaction.atomic(), personas)
        assert AuditEvent.objects.count() == before
    assert AuditEvent.objects.count() == before + 2


def test_reads_are_appended_when_the_block_raises(personas):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        _read_then_fail(request_reads(), personas)
    assert AuditEvent.objects.count() == before + 1


def test_the_token_is_marked_used_at_most_once_a_minute(personas):
    issued = token_create(actor=personas.practitioner, user=personas.practitioner, name="t", days=1)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.text}")
    assert client.get("/api/v1/cases").status_code == 200
    first = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert first is not None
    assert client.get("/api/v1/cases").status_code == 200
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == first
    stale = timezone.now() - LAST_USED_RESOLUTION - dt.timedelta(seconds=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=stale)
    assert client.get("/api/v1/cases").status_code == 200
    marked = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert marked is not None
    assert marked > stale
    # Every use is still in the log.
    used = AuditEvent.objects.filter(action="api_token.used", object_id=str(issued.token.pk))
    assert used.count() == 3


def test_a_compiled_query_gives_what_the_orm_gives(personas):
    def build(user_id: int):
        return Membership.objects.filter(user_id=user_id).order_by("pk").values_list("pk", "role")

    compiled = CompiledValues(build)
    for user in (personas.practitioner, personas.police, personas.coordinator):
        assert compiled.rows(user.pk) == list(build(user.pk))


def test_a_query_that_inlines_the_value_is_refused(db):
    # A value written into the SQL text cannot be replaced by another: refused, not run wrong.
    compiled = CompiledValues(
        lambda value: Membership.objects.extra(where=[f"id = {value}"])  # noqa: S610
    )
    with pytest.raises(ValueError, match="parameter"):
        compiled.rows(1)
