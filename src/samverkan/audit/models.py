"""The append-only, hash-chained audit log (DESIGN rule 8).

Rows are written only by ``samverkan.audit.services.audit_record``. The database refuses
UPDATE, DELETE and TRUNCATE on the event table through triggers (see the migrations), with one
exception: an unsealed event may be sealed once. Writers append events without a place in the
chain; the sealer (``samverkan.audit.sealing``) numbers, links and hashes committed events in
batches, holding the chain head row, which only it locks (docs/decisions.md D28). SQLite has
one writer at a time and seals each event as it is written.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.audit.chain import GENESIS_HASH, EventRecord


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    DENIED = "denied", _("Denied")


class AuditEvent(models.Model):
    # The order of writing: the database assigns it without a lock. Events written before
    # sealing was decoupled carry their chain position here too.
    id = models.BigAutoField(primary_key=True)
    # The place in the chain, set once by the sealer (NULL until then): 1, 2, 3 … without gaps.
    seq = models.BigIntegerField(_("sequence number"), null=True, blank=True, unique=True)
    # Foreign keys carry no database constraint: the log must outlive any row it names, and a
    # constraint would let a purge of other data be blocked by, or cascade into, the log.
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("actor"),
    )
    agency = models.ForeignKey(
        "organisations.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("agency"),
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    case_id = models.BigIntegerField(_("case"), null=True, blank=True, db_index=True)
    legal_basis = models.CharField(_("legal basis"), max_length=120, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=10, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # The IP address enters the hash through a salted commitment (see chain.py), so that
    # truncation can replace the address and drop the salt without breaking the chain.
    ip_salt = models.CharField(max_length=32, blank=True, default="", db_default="")
    ip_commitment = models.CharField(max_length=64, blank=True, default="", db_default="")
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Both empty until the event is sealed.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            # The sealer's work list: small, because sealing keeps up.
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed"
            ),
        ]
        constraints = [
            # Wholly unsealed, or wholly sealed with a place in the chain (migration 0004).
            models.CheckConstraint(
                condition=models.Q(seq__isnull=True, prev_hash="", hash="")
                | (models.Q(seq__gt=0) & ~models.Q(prev_hash="") & ~models.Q(hash="")),
                name="audit_event_sealed_whole",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '-'} {self.action}"

    @property
    def sealed(self) -> bool:
        return self.seq is not None

    def to_record(self) -> EventRecord:
        if self.seq is None:
            raise ValueError(
                f"audit event {self.pk} is not sealed yet: it has no place in the chain"
            )
        return EventRecord(
            seq=self.seq,
            occurred_at=self.occurred_at,
            action=self.action,
            outcome=self.outcome,
            actor_id=self.actor_id,
            agency_id=self.agency_id,
            object_type=self.object_type,
            object_id=self.object_id,
            case_id=self.case_id,
            legal_basis=self.legal_basis,
            request_id=self.request_id,
            source=self.source,
            ip=self.ip,
            ip_salt=self.ip_salt,
            ip_commitment=self.ip_commitment,
            details=self.details,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


class ChainHead(models.Model):
    """Exactly one row (pk 1): the last sealed sequence number and hash. The sealer locks it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="chain_head_single_row")
        ]

    def __str__(self) -> str:
        return f"head {self.seq}"


class AuditAnchor(models.Model):
    """A signed pruning checkpoint (DESIGN rule 19): where the chain now starts.

    Written only by ``samverkan.audit.pruning.audit_prune``, never changed or deleted (the
    migrations add the same triggers as on the event table). The newest row is the anchor that
    verification starts from: events up to ``pruned_through`` are gone and the first event left
    links to ``pruned_hash``; IP addresses up to ``ip_truncated_through`` may be truncated. The
    signature (HMAC under the audit key) makes a forged or altered anchor fail verification.
    """

    created_at = models.DateTimeField(_("created"))
    pruned_through = models.BigIntegerField(_("pruned through event"))
    pruned_hash = models.CharField(max_length=64)
    pruned_time = models.DateTimeField(_("time of the last pruned event"), null=True, blank=True)
    ip_truncated_through = models.BigIntegerField(_("IP addresses truncated through event"))
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")

    def __str__(self) -> str:
        return f"anchor {self.pruned_through}"


class PruneGate(models.Model):
    """Present only inside the pruning transaction; the triggers let pruning through while it is.

    A row here never commits: the pruning service removes it before its transaction ends, so
    other connections never see it (SQLite serialises writers; PostgreSQL hides uncommitted rows).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "prune gate"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain head: sequence number, hash and time (D28).

    Signed with Ed25519 under a key kept apart from the HMAC key (``SAMVERKAN_AUDIT_SIGNING_KEY``),
    made by the worker every hour and on ``samverkan audit checkpoint``, and published without
    personal data (``/audit/checkpoints/``). Whoever keeps a copy can later prove that the log
    still extends it, even against someone holding the database and the audit key. Append-only,
    like the events.
    """

    created_at = models.DateTimeField(_("created"))
    seq = models.BigIntegerField(_("sequence number"))
    hash = models.CharField(max_length=64)
    key_id = models.CharField(_("key"), max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"checkpoint {self.seq}"
