"""Append, then seal (docs/decisions.md D28): events are written without a place in the chain.

* ``id`` becomes the primary key, the order of writing; existing events get ``id = seq``.
* ``seq``, ``prev_hash`` and ``hash`` stay as they are on every existing event (nothing is
  rewritten, so ``audit verify`` passes across the change); on a new event they are empty until
  the sealer sets them, once.
* The PostgreSQL trigger lets exactly that one update through: an unsealed event gains a place
  past the chain head (the sealer moves the head after its events, in the same transaction),
  a link and a hash of the right form, and nothing else about it changes. Everything else
  stays refused. SQLite seals each event as it is written and keeps refusing every update (but
  pruning's).
* A check constraint keeps every event wholly unsealed (no number, link or hash) or wholly
  sealed with a positive number: a row that is neither would stop the sealer for good, and a
  number at or below zero would sit outside the chain, where pruning's gate could delete it.
* ``AuditCheckpoint``: signed checkpoints, append-only like the anchors.
"""

import importlib

from django.db import migrations, models

_PRUNING = importlib.import_module("samverkan.audit.migrations.0003_pruning_anchor")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION samverkan_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash = ''
        AND NEW.seq > (SELECT coalesce(max(seq), 0) FROM audit_chainhead)
        AND NEW.hash ~ '^[0-9a-f]{64}$' AND NEW.prev_hash ~ '^[0-9a-f]{64}$'
        AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash')
            = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
        RETURN NEW;
    END IF;
    IF TG_LEVEL = 'ROW' AND EXISTS (SELECT 1 FROM audit_prunegate) THEN
        IF TG_OP = 'DELETE' AND OLD.seq <= (
            SELECT coalesce(max(pruned_through), 0) FROM audit_auditanchor
        ) THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.ip_salt = '' AND OLD.seq <= (
            SELECT coalesce(max(ip_truncated_through), 0) FROM audit_auditanchor
        ) AND (to_jsonb(NEW) - 'ip' - 'ip_salt') = (to_jsonb(OLD) - 'ip' - 'ip_salt') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit_auditevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

PG_CHECKPOINT_TRIGGERS = """
CREATE OR REPLACE FUNCTION samverkan_audit_checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit_auditcheckpoint is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION samverkan_audit_checkpoint_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION samverkan_audit_checkpoint_append_only();
"""
PG_CHECKPOINT_TRIGGERS_REVERSE = """
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_no_update ON audit_auditcheckpoint;
DROP FUNCTION IF EXISTS samverkan_audit_checkpoint_append_only();
"""

# The rules of 0003 (the id, too, must stay as it was), and the same refusal for checkpoints.
# tests/conftest.py restores these.
SQLITE_FORWARD = [
    _PRUNING.SQLITE_FORWARD[0].replace(
        "NEW.seq IS OLD.seq", "NEW.id IS OLD.id AND NEW.seq IS OLD.seq"
    ),
    *_PRUNING.SQLITE_FORWARD[1:],
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE
       ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit_auditcheckpoint is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE
       ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit_auditcheckpoint is append-only: DELETE refused'); END;""",
]
SQLITE_REVERSE = [
    *_PRUNING.SQLITE_REVERSE,
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete;",
]


SEALED_WHOLE = (
    "(seq IS NULL AND prev_hash = '' AND hash = '') OR (seq > 0 AND prev_hash <> '' AND hash <> '')"
)


def copy_seq_to_id(apps, schema_editor):
    """Existing events keep their number as their id; the triggers would refuse the update."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update;"
            "UPDATE audit_auditevent SET id = seq;"
            "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update;"
        )
    elif vendor == "sqlite":
        for statement in _PRUNING.SQLITE_REVERSE:
            schema_editor.execute(statement)
        schema_editor.execute("UPDATE audit_auditevent SET id = seq")
    else:
        raise RuntimeError(f"Samverkan supports SQLite and PostgreSQL, not {vendor}")


def id_becomes_key(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            ALTER TABLE audit_auditevent DROP CONSTRAINT audit_auditevent_pkey;
            ALTER TABLE audit_auditevent ALTER COLUMN id SET NOT NULL;
            ALTER TABLE audit_auditevent ADD CONSTRAINT audit_auditevent_pkey PRIMARY KEY (id);
            ALTER TABLE audit_auditevent ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;
            SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'),
                          coalesce((SELECT max(id) FROM audit_auditevent), 0) + 1, false);
            ALTER TABLE audit_auditevent ALTER COLUMN seq DROP NOT NULL;
            ALTER TABLE audit_auditevent ADD CONSTRAINT audit_auditevent_seq_key UNIQUE (seq);
            CREATE INDEX audit_unsealed ON audit_auditevent (id) WHERE seq IS NULL;
            ALTER TABLE audit_auditevent ADD CONSTRAINT audit_event_sealed_whole
                CHECK ((seq IS NULL AND prev_hash = '' AND hash = '')
                       OR (seq > 0 AND prev_hash <> '' AND hash <> '')) NOT VALID;
            ALTER TABLE audit_auditevent VALIDATE CONSTRAINT audit_event_sealed_whole;
            """
        )
        schema_editor.execute(PG_FUNCTION)
    else:
        # SQLite cannot change a primary key in place: Django's own table rebuild copies every
        # column by name (``id`` holds the old numbers already) and recreates the indexes of
        # the model as it now is. The rebuild drops the triggers, which come back below.
        model = apps.get_model("audit", "AuditEvent")
        schema_editor._remake_table(model)
        for statement in SQLITE_FORWARD[: len(_PRUNING.SQLITE_FORWARD)]:
            schema_editor.execute(statement)


def checkpoint_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CHECKPOINT_TRIGGERS)
    else:
        for statement in SQLITE_FORWARD[len(_PRUNING.SQLITE_FORWARD) :]:
            schema_editor.execute(statement)


def checkpoint_triggers_reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CHECKPOINT_TRIGGERS_REVERSE)
    else:
        for statement in SQLITE_REVERSE[len(_PRUNING.SQLITE_REVERSE) :]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_pruning_anchor")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL("ALTER TABLE audit_auditevent ADD COLUMN id bigint NULL"),
                migrations.RunPython(copy_seq_to_id),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="seq",
                    field=models.BigIntegerField(
                        blank=True, null=True, unique=True, verbose_name="sequence number"
                    ),
                ),
                migrations.AddField(
                    model_name="auditevent",
                    name="id",
                    field=models.BigAutoField(primary_key=True, serialize=False),
                    preserve_default=False,
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="prev_hash",
                    field=models.CharField(blank=True, default="", max_length=64),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="hash",
                    field=models.CharField(blank=True, default="", max_length=64),
                ),
                migrations.AlterModelOptions(
                    name="auditevent",
                    options={
                        "ordering": ["id"],
                        "verbose_name": "audit event",
                        "verbose_name_plural": "audit events",
                    },
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(
                        condition=models.Q(("seq__isnull", True)),
                        fields=["id"],
                        name="audit_unsealed",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="auditevent",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("hash", ""), ("prev_hash", ""), ("seq__isnull", True)),
                            models.Q(
                                ("seq__gt", 0),
                                models.Q(("prev_hash", ""), _negated=True),
                                models.Q(("hash", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="audit_event_sealed_whole",
                    ),
                ),
            ],
        ),
        # Not reversible: going back would need every event sealed and the old key restored.
        migrations.RunPython(id_becomes_key),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="created")),
                ("seq", models.BigIntegerField(verbose_name="sequence number")),
                ("hash", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=16, verbose_name="key")),
                ("signature", models.CharField(max_length=128)),
            ],
            options={
                "verbose_name": "audit checkpoint",
                "verbose_name_plural": "audit checkpoints",
                "ordering": ["-id"],
            },
        ),
        migrations.RunPython(checkpoint_triggers, checkpoint_triggers_reverse),
    ]
