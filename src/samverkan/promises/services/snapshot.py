"""The whole agreement as plain JSON, stored with each ``AgreementVersion``."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from samverkan.promises.models import (
    Agreement,
    Assessment,
    Commitment,
    Extension,
    FollowUp,
    Party,
    Signatory,
)


def _commitments(agreement: Agreement) -> list[dict[str, Any]]:
    commitments = list(
        Commitment.objects.filter(agreement=agreement)
        .annotate(done=Sum("activities__count"))
        .order_by("order", "pk")
    )
    indicator_ids: dict[int, list[int]] = {}
    for c_id, i_id in Commitment.indicators.through.objects.filter(
        commitment__agreement=agreement
    ).values_list("commitment_id", "indicator_id"):
        indicator_ids.setdefault(c_id, []).append(i_id)
    return [
        {
            "id": c.pk,
            "party_id": c.party_id,
            "text": c.text,
            "target_count": c.target_count,
            "target_unit": c.target_unit,
            "status": c.status,
            "done": c.done or 0,
            "indicator_ids": sorted(indicator_ids.get(c.pk, [])),
            "group_id": c.group_id,
        }
        for c in commitments
    ]


def _follow_ups(agreement: Agreement) -> list[dict[str, Any]]:
    return [
        {
            "id": f.pk,
            "date": f.date.isoformat(),
            # The value as cited: a replacing import may change the stored value later.
            "indicator_values": [
                {
                    "id": v.pk,
                    "indicator_id": v.indicator_id,
                    "period": v.period_label,
                    "value": str(v.display_value),
                }
                for v in sorted(f.indicator_values.all(), key=lambda v: v.pk)
            ],
        }
        for f in FollowUp.objects.filter(agreement=agreement)
        .prefetch_related("indicator_values")
        .order_by("pk")
    ]


def snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement and everything in it, as plain JSON, read fresh from the database."""
    commitments = _commitments(agreement)
    return {
        "kind": agreement.kind,
        "title": agreement.title,
        "municipality_id": agreement.municipality_id,
        "police_area_id": agreement.police_area_id,
        "period_start": agreement.period_start.isoformat(),
        "period_end": agreement.period_end.isoformat(),
        "focus_area": agreement.focus_area,
        "situation_summary": agreement.situation_summary,
        "cause_analysis": agreement.cause_analysis,
        "mandate": agreement.mandate,
        "status": agreement.status,
        "published": agreement.published,
        "succeeds_id": agreement.succeeds_id,
        "overlaps": sorted(agreement.overlaps.values_list("pk", flat=True)),
        "parties": [
            {"id": p.pk, "name": p.name, "kind": p.kind, "agency_id": p.agency_id}
            for p in Party.objects.filter(agreement=agreement).order_by("pk")
        ],
        "signatories": [
            {
                "party_id": s.party_id,
                "name": s.name,
                "title": s.title,
                "signed_on": s.signed_on.isoformat(),
                "place": s.place,
            }
            for s in Signatory.objects.filter(agreement=agreement).order_by("pk")
        ],
        "commitments": commitments,
        "follow_ups": _follow_ups(agreement),
        "assessments": [
            {
                "party_id": a.party_id,
                "verdict": a.verdict,
                "statement": a.statement,
                "assessed_on": a.assessed_on.isoformat(),
            }
            for a in Assessment.objects.filter(agreement=agreement).order_by("party_id")
        ],
        "extensions": [
            {"previous_end": e.previous_end.isoformat(), "new_end": e.new_end.isoformat()}
            for e in Extension.objects.filter(agreement=agreement).order_by("pk")
        ],
    }
