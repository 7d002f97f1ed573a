"""The application role of docs/operations.md §3, with exactly the grants written there, can
write, seal, checkpoint and prune the audit log, and nothing more.

The grants are read from the documentation itself, so the two cannot drift apart.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from samverkan.audit.checkpoints import checkpoint_make
from samverkan.audit.sealing import audit_seal
from samverkan.audit.selectors import audit_verify
from samverkan.audit.services import audit_record

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="roles are PostgreSQL's"),
]

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def documented_grants() -> list[str]:
    """The statements of §3's second SQL block (run as the owner after migrating)."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text[text.index("## 3. Database roles on PostgreSQL") : text.index("## 4. ")]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)
    grants = blocks[1]
    lines = [line for line in grants.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in " ".join(lines).split(";") if s.strip()]


@pytest.fixture
def app_role() -> Iterator[str]:
    """A role with the documented grants; the test's transaction takes it away again."""
    role = f"samverkan_app_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role}")
        for statement in documented_grants():
            if statement.startswith("ALTER DEFAULT PRIVILEGES"):
                continue  # for tables of later migrations; nothing to show here
            cursor.execute(statement.replace("samverkan_app", role))
        cursor.execute(f"SET ROLE {role}")
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def refused(sql: str) -> str:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        return str(exc)
    return ""


def test_the_documented_role_writes_seals_checkpoints_and_verifies(app_role: str) -> None:
    with transaction.atomic():
        for n in range(3):
            audit_record(action="test.event", details={"n": n})
    assert audit_seal() == 3
    made = checkpoint_make()
    assert made.seq == 3
    result = audit_verify()
    assert (result.ok, result.count) == (True, 3)


def test_the_documented_role_cannot_rewrite_the_log(app_role: str) -> None:
    with transaction.atomic():
        audit_record(action="test.event")
    audit_seal()
    checkpoint_make()
    assert "permission denied" in refused("UPDATE audit_auditevent SET action = 'x.y'")
    assert "permission denied" in refused("TRUNCATE audit_auditevent")
    assert "append-only" in refused("DELETE FROM audit_auditevent")
    assert "append-only" in refused("UPDATE audit_auditevent SET seq = seq + 100")
    assert "permission denied" in refused("UPDATE audit_auditcheckpoint SET seq = 9")
    assert "permission denied" in refused("DELETE FROM audit_auditanchor")
    assert "must be owner" in refused("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
