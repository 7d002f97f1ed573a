"""Build a valid chain from unsealed events, for the tests of the pure chain functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from samverkan.audit.chain import GENESIS_HASH, EventRecord, compute_hash


def seal(events: Iterable[EventRecord], key: bytes) -> list[EventRecord]:
    """Number and chain the events from the genesis, as the audit service would."""
    sealed: list[EventRecord] = []
    prev_hash = GENESIS_HASH
    for index, event in enumerate(events, start=1):
        linked = replace(event, seq=index, prev_hash=prev_hash, hash="")
        linked = replace(linked, hash=compute_hash(linked, key))
        sealed.append(linked)
        prev_hash = linked.hash
    return sealed
