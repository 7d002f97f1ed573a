"""The append-only, hash-chained audit log (DESIGN rule 8).

Rows are written only by ``samverkan.audit.services.audit_record``. The database refuses
UPDATE, DELETE and TRUNCATE on the event table through triggers (see the migrations); the
chain head row is the one place a writer must lock, which serialises writers so the chain
cannot fork.
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
    # Foreign keys carry no database constraint: the log must outlive any row it names, and a
    # constraint would let a purge of other data be blocked by, or cascade into, the log.
    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
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
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["actor", "occurred_at"], name="audit_actor_time")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def to_record(self) -> EventRecord:
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
    """Exactly one row (pk 1): the last sequence number and hash. Writers lock it."""

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
