"""``append_bulk``: many events with their own times, chained exactly as ``audit_record`` chains
one, and checked as strictly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from samverkan.accounts.models import User
from samverkan.audit.chain import compute_hash
from samverkan.audit.models import AuditEvent, ChainHead
from samverkan.audit.sealing import audit_seal
from samverkan.audit.selectors import audit_verify
from samverkan.audit.services import AuditDetailError, PreparedEvent, append_bulk, audit_record
from samverkan.lib.bulk import insert_rows

pytestmark = pytest.mark.django_db

THEN = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def events(n: int, **overrides: object) -> list[PreparedEvent]:
    fields: dict[str, object] = {"action": "case.viewed", "object_type": "cases.case"}
    fields.update(overrides)
    return [
        PreparedEvent(occurred_at=THEN + timedelta(minutes=i), object_id=str(i), **fields)  # type: ignore[arg-type]
        for i in range(n)
    ]


def test_appended_events_chain_onto_recorded_ones_and_verify() -> None:
    audit_record(action="municipality.created", object_type="organisations.municipality")
    assert append_bulk(events(3, details={"identity_shown": False})) == 3
    audit_record(action="municipality.created", object_type="organisations.municipality")
    audit_seal()  # the sealer's work on PostgreSQL; SQLite has sealed inline
    result = audit_verify()
    assert result.ok, result.problem
    stored = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert [e.occurred_at for e in stored[1:4]] == [THEN + timedelta(minutes=i) for i in range(3)]
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (5, stored[-1].hash)


def test_each_hash_is_the_chain_functions_own() -> None:
    from django.conf import settings

    append_bulk(events(2))
    for event in AuditEvent.objects.order_by("seq"):
        assert event.hash == compute_hash(event.to_record(), settings.AUDIT_KEY)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"action": "Viewed"}, ValueError),
        ({"outcome": "maybe"}, ValueError),
        ({"details": {"note": "20100101-1234"}}, AuditDetailError),
        ({"details": {"Bad Key": 1}}, AuditDetailError),
    ],
)
def test_refuses_what_audit_record_refuses_and_appends_nothing(overrides, error) -> None:
    with pytest.raises(error):
        append_bulk([*events(2), *events(1, **overrides)])
    assert not AuditEvent.objects.exists()
    assert ChainHead.objects.get_or_create(pk=1)[0].seq == 0


def test_nothing_to_append_leaves_the_head() -> None:
    """Events written before are sealed first (on PostgreSQL), so the head is theirs."""
    audit_record(action="municipality.created", object_type="organisations.municipality")
    assert append_bulk([]) == 0
    assert ChainHead.objects.get().seq == 1


def test_bulk_writes_are_refused_in_production(settings: Any) -> None:
    """Bulk writes skip the one-row services' checks: never in a production database, whoever
    calls them (synth refuses first; this holds for any other caller)."""
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        append_bulk([])
    with pytest.raises(ImproperlyConfigured):
        insert_rows(User, [])
