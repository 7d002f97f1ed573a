"""The writes of commitments, activities, follow-ups and assessments."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.organisations.models import CollaborationGroup
from samverkan.promises import rules
from samverkan.promises.models import (
    RUNNING,
    Activity,
    Agreement,
    AgreementStatus,
    Assessment,
    Commitment,
    CommitmentStatus,
    FollowUp,
    FollowUpProgress,
    Party,
    Progress,
    Verdict,
)
from samverkan.promises.services.common import (
    ASSESS_OWN_PARTY_ONLY,
    MAX_TARGET,
    _check_target,
    _lock,
    _not_before_start,
    _not_future,
    _public_text,
    _record,
    _require_editor,
    _require_open,
)

# --- Commitments and activities --------------------------------------------------------------


class Keep(enum.Enum):
    """Leave a link as it is (``commitment_update(group=KEEP)``)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _check_indicators(agreement: Agreement, indicators: Iterable[Indicator]) -> list[Indicator]:
    chosen = list(indicators)
    if any(i.municipality_id != agreement.municipality_id for i in chosen):
        raise ValidationError(
            {"indicators": [_("Link only indicators of the agreement's municipality.")]}
        )
    return chosen


def _check_group(
    actor: User, agreement: Agreement, group: CollaborationGroup | None
) -> CollaborationGroup | None:
    # The same message for a group of another municipality and one the editor may not see: the
    # answer must not tell which groups exist where the editor has no view.
    if group is not None and group.pk not in rules.linkable_group_ids(actor, agreement):
        raise ValidationError(
            {"group": [_("Link only a collaboration group of the agreement's municipality.")]}
        )
    return group


def commitment_add(
    *,
    actor: User,
    agreement: Agreement,
    party: Party | None,
    text: str,
    target_count: int | None = None,
    target_unit: str = "",
    indicators: Iterable[Indicator] = (),
    group: CollaborationGroup | None = None,
) -> Commitment:
    """``party=None`` is a joint commitment (*Gemensamt*). ``group``: the collaboration group
    the commitment set up or runs (``rules.linkable_group_ids``)."""
    _require_editor(actor, agreement)
    if party is not None and party.agreement_id != agreement.pk:
        raise ValidationError({"party": [_("Choose one of the agreement's parties.")]})
    text = _public_text(text, "text", required=True, message=_("Write the commitment."))
    target_unit = _check_target(target_count, target_unit)
    chosen = _check_indicators(agreement, indicators)
    group = _check_group(actor, agreement, group)
    with transaction.atomic():
        locked = _lock(agreement)
        _require_open(locked)
        last = Commitment.objects.filter(agreement=locked).aggregate(n=Max("order"))["n"]
        commitment = Commitment.objects.create(
            agreement=locked,
            party=party,
            text=text,
            target_count=target_count,
            target_unit=target_unit,
            order=(last or 0) + 1,
            group=group,
        )
        commitment.indicators.set(chosen)
        _record(actor=actor, agreement=locked, action="commitment_added", obj=commitment)
    return commitment


def commitment_update(
    *,
    actor: User,
    commitment: Commitment,
    text: str,
    status: str,
    target_count: int | None = None,
    target_unit: str = "",
    indicators: Iterable[Indicator] | None = None,
    group: CollaborationGroup | Keep | None = KEEP,
) -> Commitment:
    """``indicators=None`` and ``group=KEEP`` leave those links as they are; ``group=None``
    removes the group link."""
    agreement = commitment.agreement
    _require_editor(actor, agreement)
    text = _public_text(text, "text", required=True, message=_("Write the commitment."))
    if status not in CommitmentStatus.values:
        raise ValidationError({"status": [_("Choose a status.")]})
    target_unit = _check_target(target_count, target_unit)
    chosen = None if indicators is None else _check_indicators(agreement, indicators)
    if not isinstance(group, Keep):
        group = _check_group(actor, agreement, group)
    with transaction.atomic():
        locked_agreement = _lock(agreement)
        _require_open(locked_agreement)
        locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
        previous = locked.status
        locked.text, locked.status = text, status
        locked.target_count, locked.target_unit = target_count, target_unit
        if not isinstance(group, Keep):
            locked.group = group
        locked.save()
        if chosen is not None:
            locked.indicators.set(chosen)
        _record(
            actor=actor,
            agreement=locked_agreement,
            action="commitment_updated",
            obj=locked,
            details={"from": previous, "to": status},
        )
    return locked


def activity_add(
    *, actor: User, commitment: Commitment, on: date, description: str, count: int = 1
) -> Activity:
    agreement = commitment.agreement
    _require_editor(actor, agreement)
    description = _public_text(
        description, "description", required=True, message=_("Say what was done.")
    )
    _not_future(on, "date")
    if not 0 <= count <= MAX_TARGET:
        raise ValidationError({"count": [_("Count a whole number, zero or more.")]})
    with transaction.atomic():
        locked = _lock(agreement)
        if locked.status not in RUNNING:
            raise ValidationError(_("Activities are logged while the agreement is active."))
        _not_before_start(on, "date", locked)
        activity = Activity.objects.create(
            commitment=commitment, date=on, description=description, count=count, recorded_by=actor
        )
        _record(
            actor=actor,
            agreement=locked,
            action="activity_added",
            obj=activity,
            details={"commitment_id": commitment.pk, "count": count},
        )
    return activity


# --- Follow-ups and assessments --------------------------------------------------------------


@dataclass(frozen=True)
class ProgressEntry:
    progress: str
    note: str = ""


def follow_up_add(
    *,
    actor: User,
    agreement: Agreement,
    on: date,
    narrative: str,
    progress: Mapping[int, ProgressEntry] | None = None,
    indicator_values: Iterable[IndicatorValue] = (),
) -> FollowUp:
    """``progress`` maps commitment ids of this agreement to where each stands;
    ``indicator_values`` are the values the follow-up cites, each of a series linked to one of
    the agreement's commitments."""
    _require_editor(actor, agreement)
    narrative = _public_text(
        narrative, "narrative", required=True, message=_("Write the follow-up.")
    )
    _not_future(on, "date")
    progress = progress or {}
    notes = {
        pk: _public_text(entry.note, "progress", required=False) for pk, entry in progress.items()
    }
    cited = list({v.pk: v for v in indicator_values}.values())
    with transaction.atomic():
        locked = _lock(agreement)
        if locked.status == AgreementStatus.DRAFT:
            raise ValidationError(_("A draft has nothing to follow up yet."))
        _not_before_start(on, "date", locked)
        own = set(Commitment.objects.filter(agreement=locked).values_list("pk", flat=True))
        if any(pk not in own for pk in progress):
            raise ValidationError(
                {"progress": [_("Report progress only on this agreement's commitments.")]}
            )
        if any(e.progress not in Progress.values for e in progress.values()):
            raise ValidationError({"progress": [_("Choose where each commitment stands.")]})
        linked = set(
            Commitment.indicators.through.objects.filter(commitment__agreement=locked).values_list(
                "indicator_id", flat=True
            )
        )
        if any(v.indicator_id not in linked for v in cited):
            raise ValidationError(
                {
                    "indicator_values": [
                        _("Cite only values of the indicators linked to the commitments.")
                    ]
                }
            )
        follow_up = FollowUp.objects.create(
            agreement=locked, date=on, narrative=narrative, recorded_by=actor
        )
        FollowUpProgress.objects.bulk_create(
            FollowUpProgress(
                follow_up=follow_up,
                commitment_id=pk,
                progress=entry.progress,
                note=notes[pk],
            )
            for pk, entry in progress.items()
        )
        follow_up.indicator_values.set(cited)
        _record(
            actor=actor,
            agreement=locked,
            action="follow_up_added",
            obj=follow_up,
            details={"indicator_value_ids": sorted(v.pk for v in cited)},
        )
    return follow_up


def assessment_record(
    *,
    actor: User,
    agreement: Agreement,
    party: Party,
    verdict: str,
    statement: str,
    assessed_on: date,
) -> Assessment:
    """A party's own fulfilment assessment; recording again replaces the party's earlier one.

    Only an editor who speaks for the party records it (``rules.can_assess_party``).
    """
    _require_editor(actor, agreement)
    if party.agreement_id != agreement.pk:
        raise ValidationError({"party": [_("Only a party of the agreement assesses it.")]})
    if not rules.can_assess_party(actor, agreement, party):
        raise ValidationError({"party": [ASSESS_OWN_PARTY_ONLY]})
    if verdict not in Verdict.values:
        raise ValidationError(
            {"verdict": [_("Choose fulfilled, partly fulfilled or not fulfilled.")]}
        )
    statement = _public_text(
        statement, "statement", required=True, message=_("Write the party's statement.")
    )
    _not_future(assessed_on, "assessed_on")
    with transaction.atomic():
        locked = _lock(agreement)
        if locked.status not in RUNNING | {AgreementStatus.ASSESSED}:
            raise ValidationError(_("A party assesses the agreement once it is active."))
        _not_before_start(assessed_on, "assessed_on", locked)
        assessment, created = Assessment.objects.update_or_create(
            agreement=locked,
            party=party,
            defaults={
                "verdict": verdict,
                "statement": statement,
                "assessed_on": assessed_on,
                "recorded_by": actor,
                "recorded_at": timezone.now(),
            },
        )
        _record(
            actor=actor,
            agreement=locked,
            action="assessment_recorded",
            obj=assessment,
            details={"party_id": party.pk, "verdict": verdict, "replaced": not created},
        )
    return assessment
