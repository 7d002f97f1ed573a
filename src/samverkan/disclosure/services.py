"""The one write of the disclosure layer: the record that an entry reached another agency."""

from __future__ import annotations

from collections.abc import Sequence

from samverkan.cases.models import Entry
from samverkan.consent.models import Disclosure
from samverkan.disclosure.policy import Decision


def disclosures_record(*, crossed: Sequence[tuple[Entry, Decision]]) -> None:
    """Remember the first time each entry reached another agency, and under which basis.

    Called by the disclosure selectors inside their audit transaction; repeats are ignored.
    """
    rows: list[Disclosure] = []
    for entry, decision in crossed:
        if decision.to_agency_id is None:
            continue
        kind, _sep, rest = decision.basis.partition(":")
        if kind == "consent":
            rows.append(
                Disclosure(entry=entry, to_agency_id=decision.to_agency_id, consent_id=int(rest))
            )
        elif kind == "statute":
            rows.append(
                Disclosure(
                    entry=entry,
                    to_agency_id=decision.to_agency_id,
                    statutory_id=int(rest.rsplit(":", 1)[1]),
                )
            )
    if rows:
        Disclosure.objects.bulk_create(rows, ignore_conflicts=True)
