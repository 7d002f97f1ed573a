"""The writes of agreements as a whole, their parties and their signatories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.organisations.models import Agency, Municipality, PoliceArea
from samverkan.promises import rules
from samverkan.promises.models import (
    TRANSITIONS,
    Agreement,
    AgreementStatus,
    Assessment,
    Extension,
    Kind,
    Party,
    PartyKind,
    Signatory,
)
from samverkan.promises.services.common import (
    _check_period,
    _lock,
    _not_future,
    _public_text,
    _record,
    _require_editor,
    _require_open,
    _text,
)

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
