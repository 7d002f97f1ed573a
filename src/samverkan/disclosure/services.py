"""The one write of the disclosure layer: the record that an entry reached another agency."""

from __future__ import annotations

from collections.abc import Sequence

from samverkan.cases.models import Entry
from samverkan.consent.models import Disclosure
from samverkan.disclosure.policy import Decision


def disclosures_record(*, crossed: Sequence[tuple[Entry, Decision]]) -> None:
    """Remember the first time each entry reached another agency, and under which basis.

    Called by the disclosure selectors as they show entries, in one statement; repeats are
    ignored.
    """
    rows: list[Disclosure] = []
    for entry, decision in crossed:
        key = recorded_as(decision)
        if key is None or decision.to_agency_id is None:
            continue
        kind, basis_id = key
        rows.append(
            Disclosure(
                entry=entry,
                to_agency_id=decision.to_agency_id,
                consent_id=basis_id if kind == "consent" else None,
                statutory_id=basis_id if kind == "statute" else None,
            )
        )
    if rows:
        Disclosure.objects.bulk_create(rows, ignore_conflicts=True)


def recorded_as(decision: Decision) -> tuple[str, int] | None:
    """The consent (``("consent", id)``) or statutory disclosure (``("statute", id)``) a
    disclosure under this decision is recorded against; None for one not recorded."""
    if decision.to_agency_id is None:
        return None
    kind, _sep, rest = decision.basis.partition(":")
    if kind == "consent":
        return kind, int(rest)
    if kind == "statute":
        return kind, int(rest.rsplit(":", 1)[1])
    return None
