"""Every write to agreements. Each function locks the agreement row, changes it, and — in the
same transaction — appends an audit event and a new ``AgreementVersion`` snapshot, so that every
change is versioned and audited or neither happens.

Decisions (DESIGN §3, issue 5):
- Status moves only along ``models.TRANSITIONS``; extending is its own call (a later end date
  and a reason); assessing needs every party's assessment first.
- Signing needs at least one party and a signatory for every party.
- After signing, the period changes only by extension: the signed text is what citizens were
  promised.
- A draft cannot be published: it is the parties' working paper until signed. Unpublishing is
  allowed at any time.
- An assessed agreement is closed: content no longer changes; its parties may still revise
  their own assessment, and it may be published or unpublished and linked to others.
- A police or municipality party names the agency that speaks for it; each party's
  assessment is recorded only by an agreement editor of that agency (``rules.can_assess_party``;
  an outside party without an agency by any editor of the municipality, on its behalf).
- Activities, follow-ups, signatures and assessments are never dated in the future. Activities,
  follow-ups and assessments are not dated before the agreement's period starts; a signature may
  be (signing comes before the period), and is taken as the signed paper says.
- Text the public will read (title, focus area, situation summary, party names, signatories,
  commitments, activities, follow-ups and their progress notes, assessments, extension reasons)
  is refused when it holds something shaped like an identity number
  (``lib.personnummer.looks_like_identity_number``).
- A follow-up cites values only of the series linked to the agreement's commitments.
- Links join agreements the actor may edit, both of them; a link to an agreement the actor
  cannot edit (so cannot see on the page) is kept as it is when they save theirs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.organisations.models import Agency, CollaborationGroup, Municipality, PoliceArea
from samverkan.promises import rules
from samverkan.promises.models import (
    RUNNING,
    TRANSITIONS,
    Activity,
    Agreement,
    AgreementStatus,
    AgreementVersion,
    Assessment,
    Commitment,
    CommitmentStatus,
    Extension,
    FollowUp,
    FollowUpProgress,
    Kind,
    Party,
    PartyKind,
    Progress,
    Signatory,
    Verdict,
)

MAX_TEXT = 5000
MAX_TARGET = 100_000
# Shared with the page and the API, which refuse the same request before calling the service.
ASSESS_OWN_PARTY_ONLY = gettext_lazy(
    "Only an agreement editor of the agency that speaks for the party records its assessment."
)


# --- Helpers ---------------------------------------------------------------------------------


def _require_editor(actor: User, agreement: Agreement) -> None:
    if not rules.can_edit_agreement(actor, agreement):
        raise ValidationError(_("Only an agreement editor of the municipality changes it."))


def _require_open(agreement: Agreement) -> None:
    if agreement.status == AgreementStatus.ASSESSED:
        raise ValidationError(
            _("The agreement has been assessed: its content can no longer change.")
        )


def _text(value: str, field: str, *, required: bool, message: str = "") -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [message or _("This field is required.")]})
    if len(value) > MAX_TEXT:
        raise ValidationError(
            {field: [_("Keep it shorter than %(max)d characters.") % {"max": MAX_TEXT}]}
        )
    return value


def _public_text(value: str, field: str, *, required: bool, message: str = "") -> str:
    """``_text`` for text the public will read: refused when it holds an identity number."""
    value = _text(value, field, required=required, message=message)
    if looks_like_identity_number(value):
        raise ValidationError(
            {
                field: [
                    _(
                        "This text is published: remove what looks like a personal identity "
                        "number. Write about the work, never about a person."
                    )
                ]
            }
        )
    return value


def _not_future(value: date, field: str) -> date:
    if value > timezone.localdate():
        raise ValidationError({field: [_("The date cannot be in the future.")]})
    return value


def _not_before_start(value: date, field: str, agreement: Agreement) -> None:
    """Work under an agreement, and its assessment, belong to its period; call with the locked
    row (the start no longer changes after signing, and these come only after it)."""
    if value < agreement.period_start:
        raise ValidationError(
            {
                field: [
                    _("The date cannot be before the agreement's period starts (%(start)s).")
                    % {"start": agreement.period_start.isoformat()}
                ]
            }
        )


def _lock(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update().get(pk=agreement.pk)


def snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement and everything in it, as plain JSON, read fresh from the database."""
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
        "commitments": [
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
        ],
        "follow_ups": [
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
        ],
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


def _record(
    *,
    actor: User | None,
    agreement: Agreement,
    action: str,
    obj: models.Model | None = None,
    details: Mapping[str, Any] | None = None,
) -> AgreementVersion:
    """Audit the change and write the next version; call inside the service's transaction."""
    agreement.updated_at = timezone.now()
    Agreement.objects.filter(pk=agreement.pk).update(updated_at=agreement.updated_at)
    audit_record(
        action=f"agreement.{action}",
        actor=actor,
        obj=obj or agreement,
        details={"agreement_id": agreement.pk, **(details or {})},
    )
    last = AgreementVersion.objects.filter(agreement=agreement).aggregate(n=Max("number"))["n"]
    return AgreementVersion.objects.create(
        agreement=agreement,
        number=(last or 0) + 1,
        action=action,
        snapshot=snapshot(agreement),
        created_by=actor,
    )


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationError({"period_end": [_("The period cannot end before it starts.")]})


def _check_target(target_count: int | None, target_unit: str) -> str:
    target_unit = target_unit.strip()
    if target_count is not None and not 0 < target_count <= MAX_TARGET:
        raise ValidationError({"target_count": [_("A target is a whole number above zero.")]})
    if target_count is None and target_unit:
        raise ValidationError({"target_count": [_("Give the number the unit counts.")]})
    if len(target_unit) > 100:
        raise ValidationError({"target_unit": [_("Keep the unit short.")]})
    return target_unit


# --- Agreements ------------------------------------------------------------------------------


def agreement_create(
    *,
    actor: User,
    kind: str,
    title: str,
    municipality: Municipality,
    period_start: date,
    period_end: date,
    focus_area: str,
    police_area: PoliceArea | None = None,
    situation_summary: str = "",
    cause_analysis: str = "",
    mandate: str = "",
) -> Agreement:
    if municipality.pk not in rules.editor_municipality_ids(actor):
        raise ValidationError(
            {"municipality": [_("You edit agreements only for your own municipalities.")]}
        )
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose a citizen promise or a cooperation agreement.")]})
    title = _public_text(title, "title", required=True, message=_("Give the agreement a title."))
    if len(title) > 200:
        raise ValidationError({"title": [_("Keep the title to at most 200 characters.")]})
    focus_area = _public_text(
        focus_area, "focus_area", required=True, message=_("Name the focus area.")
    )
    if len(focus_area) > 200:
        raise ValidationError({"focus_area": [_("Keep the focus area short.")]})
    situation_summary = _public_text(situation_summary, "situation_summary", required=False)
    mandate = _public_text(mandate, "mandate", required=False)
    _check_period(period_start, period_end)
    if (
        police_area is not None
        and not police_area.municipalities.filter(pk=municipality.pk).exists()
    ):
        raise ValidationError(
            {"police_area": [_("That police area does not serve the municipality.")]}
        )
    with transaction.atomic():
        agreement = Agreement.objects.create(
            kind=kind,
            title=title,
            municipality=municipality,
            police_area=police_area,
            period_start=period_start,
            period_end=period_end,
            focus_area=focus_area,
            situation_summary=situation_summary,
            cause_analysis=_text(cause_analysis, "cause_analysis", required=False),
            mandate=mandate,
            created_by=actor,
        )
        _record(actor=actor, agreement=agreement, action="created", details={"kind": kind})
    return agreement


def agreement_update(
    *,
    actor: User,
    agreement: Agreement,
    title: str,
    period_start: date,
    period_end: date,
    focus_area: str,
    police_area: PoliceArea | None,
    situation_summary: str,
    cause_analysis: str,
    mandate: str | None = None,
) -> Agreement:
    """``mandate=None`` leaves the mandate as it is (callers that predate the field)."""
    _require_editor(actor, agreement)
    title = _public_text(title, "title", required=True, message=_("Give the agreement a title."))
    focus_area = _public_text(
        focus_area, "focus_area", required=True, message=_("Name the focus area.")
    )
    situation_summary = _public_text(situation_summary, "situation_summary", required=False)
    if mandate is not None:
        mandate = _public_text(mandate, "mandate", required=False)
    _check_period(period_start, period_end)
    if (
        police_area is not None
        and not police_area.municipalities.filter(pk=agreement.municipality_id).exists()
    ):
        raise ValidationError(
            {"police_area": [_("That police area does not serve the municipality.")]}
        )
    with transaction.atomic():
        locked = _lock(agreement)
        _require_open(locked)
        if locked.status != AgreementStatus.DRAFT and (
            period_start != locked.period_start or period_end != locked.period_end
        ):
            raise ValidationError(
                {"period_end": [_("After signing, the period changes only by extension.")]}
            )
        locked.title = title[:200]
        locked.period_start, locked.period_end = period_start, period_end
        locked.focus_area = focus_area[:200]
        locked.police_area = police_area
        locked.situation_summary = situation_summary
        locked.cause_analysis = _text(cause_analysis, "cause_analysis", required=False)
        if mandate is not None:
            locked.mandate = mandate
        locked.save()
        _record(actor=actor, agreement=locked, action="updated")
    return locked


def agreement_transition(*, actor: User, agreement: Agreement, to: str) -> Agreement:
    """Sign, activate or close with assessment. Extension: ``agreement_extend``."""
    _require_editor(actor, agreement)
    if to == AgreementStatus.EXTENDED:
        raise ValidationError(_("Extending needs a new end date and a reason."))
    with transaction.atomic():
        locked = _lock(agreement)
        if to not in TRANSITIONS.get(locked.status, frozenset()):
            raise ValidationError(
                _("An agreement cannot go from “%(from)s” to “%(to)s”.")
                % {
                    "from": AgreementStatus(locked.status).label,
                    "to": AgreementStatus(to).label if to in AgreementStatus.values else to,
                }
            )
        parties = list(Party.objects.filter(agreement=locked))
        if to == AgreementStatus.SIGNED:
            signed = set(
                Signatory.objects.filter(agreement=locked).values_list("party_id", flat=True)
            )
            if not parties or any(p.pk not in signed for p in parties):
                raise ValidationError(
                    _("Every party must have a signatory before the agreement is signed.")
                )
        if to == AgreementStatus.ASSESSED:
            assessed = set(
                Assessment.objects.filter(agreement=locked).values_list("party_id", flat=True)
            )
            if any(p.pk not in assessed for p in parties):
                raise ValidationError(
                    _("Every party must record its assessment before the agreement is assessed.")
                )
        previous = locked.status
        locked.status = to
        locked.save(update_fields=["status"])
        _record(
            actor=actor,
            agreement=locked,
            action="status_changed",
            details={"from": previous, "to": to},
        )
    return locked


def agreement_extend(*, actor: User, agreement: Agreement, new_end: date, reason: str) -> Extension:
    _require_editor(actor, agreement)
    reason = _public_text(
        reason, "reason", required=True, message=_("Give the reason for extending.")
    )
    with transaction.atomic():
        locked = _lock(agreement)
        if AgreementStatus.EXTENDED not in TRANSITIONS[locked.status]:
            raise ValidationError(_("Only an active agreement can be extended."))
        if new_end <= locked.period_end:
            raise ValidationError(
                {"new_end": [_("The new end date must be later than the current one.")]}
            )
        extension = Extension.objects.create(
            agreement=locked,
            previous_end=locked.period_end,
            new_end=new_end,
            reason=reason,
            recorded_by=actor,
        )
        previous = locked.status
        locked.status = AgreementStatus.EXTENDED
        locked.period_end = new_end
        locked.save(update_fields=["status", "period_end"])
        _record(
            actor=actor,
            agreement=locked,
            action="extended",
            obj=extension,
            details={"from": previous, "to": AgreementStatus.EXTENDED},
        )
    return extension


def agreement_publish(*, actor: User, agreement: Agreement) -> Agreement:
    _require_editor(actor, agreement)
    with transaction.atomic():
        locked = _lock(agreement)
        if locked.status == AgreementStatus.DRAFT:
            raise ValidationError(_("A draft cannot be published: sign the agreement first."))
        if not locked.published:
            locked.published = True
            locked.published_at = timezone.now()
            locked.save(update_fields=["published", "published_at"])
            _record(actor=actor, agreement=locked, action="published")
    return locked


def agreement_unpublish(*, actor: User, agreement: Agreement) -> Agreement:
    _require_editor(actor, agreement)
    with transaction.atomic():
        locked = _lock(agreement)
        if locked.published:
            locked.published = False
            locked.published_at = None
            locked.save(update_fields=["published", "published_at"])
            _record(actor=actor, agreement=locked, action="unpublished")
    return locked


def agreement_link(
    *,
    actor: User,
    agreement: Agreement,
    succeeds: Agreement | None,
    overlaps: Sequence[Agreement] = (),
) -> Agreement:
    """Set the agreement this one succeeds and those it overlaps; links show on both sides."""
    _require_editor(actor, agreement)
    others = [a for a in [succeeds, *overlaps] if a is not None]
    if any(a.pk == agreement.pk for a in others):
        raise ValidationError({"succeeds": [_("An agreement cannot be linked to itself.")]})
    # A link changes both agreements (each shows it, and each gets a version), so the actor
    # must be an editor of both; this also keeps anyone from learning of others' drafts.
    if any(not rules.can_edit_agreement(actor, a) for a in others):
        raise ValidationError({"succeeds": [_("You can link only agreements you may edit.")]})
    ancestor_id = succeeds.pk if succeeds is not None else None
    seen: set[int] = set()
    while ancestor_id is not None and ancestor_id not in seen:  # no cycles, read from the rows
        if ancestor_id == agreement.pk:
            raise ValidationError(
                {"succeeds": [_("That would make the agreement succeed itself.")]}
            )
        seen.add(ancestor_id)
        ancestor_id = (
            Agreement.objects.filter(pk=ancestor_id).values_list("succeeds_id", flat=True).first()
        )
    with transaction.atomic():
        locked = _lock(agreement)
        # Links to agreements the actor may not edit are not theirs to change, and the page
        # does not show them (``selectors.agreement_detail``): keep them as they are.
        kept = locked.succeeds
        if kept is not None and not rules.can_edit_agreement(actor, kept):
            if succeeds is not None and succeeds.pk != kept.pk:
                raise ValidationError(
                    {"succeeds": [_("The agreement already succeeds one you may not edit.")]}
                )
            succeeds = kept
        hidden = [a for a in locked.overlaps.all() if not rules.can_edit_agreement(actor, a)]
        locked.succeeds = succeeds
        locked.save(update_fields=["succeeds"])
        locked.overlaps.set([*overlaps, *hidden])
        _record(
            actor=actor,
            agreement=locked,
            action="linked",
            details={
                "succeeds_id": succeeds.pk if succeeds else None,
                "overlaps": [a.pk for a in overlaps],
            },
        )
        for other in others:  # the other side's version history shows the link too
            _record(
                actor=actor, agreement=other, action="linked_from", details={"from_id": locked.pk}
            )
    return locked


# --- Parties and signatories -----------------------------------------------------------------


def _check_party_agency(agreement: Agreement, kind: str, agency: Agency | None) -> None:
    """The agency that speaks for a party: the police party through an agency of a police area
    serving the municipality, the municipality party through one of its own agencies."""
    if agency is None:
        if kind != PartyKind.OTHER:
            raise ValidationError(
                {
                    "agency": [
                        _(
                            "Choose the agency that speaks for the party: only its agreement "
                            "editors record the party's assessment."
                        )
                    ]
                }
            )
        return
    of_municipality = agency.municipality_id == agreement.municipality_id
    of_police = (
        agency.police_area_id is not None
        and PoliceArea.objects.filter(
            pk=agency.police_area_id, municipalities=agreement.municipality_id
        ).exists()
    )
    if not agency.is_active or not (of_municipality or of_police):
        raise ValidationError(
            {
                "agency": [
                    _(
                        "Choose an active agency of the municipality or of a police area that "
                        "serves it."
                    )
                ]
            }
        )
    if kind == PartyKind.POLICE and not of_police:
        raise ValidationError(
            {"agency": [_("The police party speaks through an agency of the police area.")]}
        )
    if kind == PartyKind.MUNICIPALITY and not of_municipality:
        raise ValidationError(
            {"agency": [_("The municipality party speaks through one of its own agencies.")]}
        )


def party_add(
    *, actor: User, agreement: Agreement, name: str, kind: str, agency: Agency | None = None
) -> Party:
    """``agency`` speaks for the party (required unless ``kind`` is other): only its agreement
    editors record the party's assessment."""
    _require_editor(actor, agreement)
    name = _public_text(name, "name", required=True, message=_("Name the party."))[:150]
    if kind not in PartyKind.values:
        raise ValidationError({"kind": [_("Choose the kind of party.")]})
    _check_party_agency(agreement, kind, agency)
    with transaction.atomic():
        locked = _lock(agreement)
        if locked.status != AgreementStatus.DRAFT:
            raise ValidationError(_("Parties are added while the agreement is a draft."))
        if Party.objects.filter(agreement=locked, name=name).exists():
            raise ValidationError({"name": [_("The agreement already has that party.")]})
        # One voice per party: were two parties linked to one agency, one editor would assess
        # for both, which is what linking parties to agencies prevents.
        if agency is not None and Party.objects.filter(agreement=locked, agency=agency).exists():
            raise ValidationError(
                {"agency": [_("Another party of the agreement already speaks through it.")]}
            )
        party = Party.objects.create(agreement=locked, name=name, kind=kind, agency=agency)
        _record(
            actor=actor,
            agreement=locked,
            action="party_added",
            obj=party,
            details={"kind": kind, "agency_id": agency.pk if agency else None},
        )
    return party


def signatory_add(
    *,
    actor: User,
    agreement: Agreement,
    party: Party,
    name: str,
    title: str,
    signed_on: date,
    place: str = "",
) -> Signatory:
    _require_editor(actor, agreement)
    if party.agreement_id != agreement.pk:
        raise ValidationError({"party": [_("Choose one of the agreement's parties.")]})
    name = _public_text(name, "name", required=True, message=_("Give the signatory's name."))
    title = _public_text(title, "title", required=True, message=_("Give the signatory's title."))
    place = _public_text(place, "place", required=False)
    # Only not in the future: signing usually comes before the period starts, and the date is
    # copied from the signed paper, which the register must not contradict.
    _not_future(signed_on, "signed_on")
    with transaction.atomic():
        locked = _lock(agreement)
        _require_open(locked)
        signatory = Signatory.objects.create(
            agreement=locked,
            party=party,
            name=name[:150],
            title=title[:150],
            signed_on=signed_on,
            place=place[:100],
        )
        _record(actor=actor, agreement=locked, action="signatory_added", obj=signatory)
    return signatory


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
