"""The promises part of the HTTP API. Same selectors, rules and services as the pages.

- ``/api/v1/promises`` is anonymous (``auth=None`` on each operation) and reads only through
  the published-only selectors: an unpublished or missing agreement answers 404 alike.
- ``/api/v1/agreements`` is for token holders who read agreements (editors and council
  members of the municipality): an agreement they may not read answers 404 exactly like a
  missing one; a write then needs the write scope (403) and the editor role (403).
- A refusal by a service (``ValidationError``) answers 400 with messages per field (``__all__``
  for the rest), through the API's one handler (``samverkan.api.conventions``).

The schemas, and how a selector's detail becomes one, are in ``promises.api_schemas``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from samverkan.accounts.models import User
from samverkan.api.auth import require_scope
from samverkan.api.conventions import ErrorOut, FieldErrorsOut, caller
from samverkan.api.models import Scope
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.organisations.models import CollaborationGroup, Municipality, PoliceArea
from samverkan.promises import rules, selectors, services
from samverkan.promises.api_schemas import (
    ActivityIn,
    AgreementDetailOut,
    AgreementIn,
    AgreementRowOut,
    AgreementUpdateIn,
    AssessmentIn,
    CommitmentIn,
    CommitmentUpdateIn,
    ExtensionIn,
    FollowUpIn,
    LinksIn,
    PartyIn,
    PromiseFilters,
    PromiseOut,
    PromisePageOut,
    PublicationIn,
    SignatoryIn,
    StatusIn,
    agreement_out,
    promise_out,
    row_out,
)
from samverkan.promises.models import Agreement, Commitment, Party

promises_router = Router(tags=["promises (public)"])
agreements_router = Router(tags=["agreements"])


# --- Helpers ---------------------------------------------------------------------------------


def _for_change(request: HttpRequest, agreement_id: int) -> tuple[User, Agreement]:
    """404 unless the caller reads it; then the write scope and the editor role (403)."""
    user = caller(request)
    agreement = selectors.agreement_open(viewer=user, pk=agreement_id)
    require_scope(request, Scope.WRITE)
    if not rules.can_edit_agreement(user, agreement):
        raise HttpError(403, "Only an agreement editor of the municipality changes it.")
    return user, agreement


def _detail(user: User, agreement_id: int) -> AgreementDetailOut:
    return agreement_out(selectors.agreement_detail(viewer=user, pk=agreement_id))


def _party(agreement: Agreement, party_id: int | None, field: str = "party_id") -> Party | None:
    if party_id is None:
        return None
    party = agreement.parties.filter(pk=party_id).first()
    if party is None:
        raise ValidationError({field: [_("Choose one of the agreement's parties.")]})
    return party


def _required_party(agreement: Agreement, party_id: int) -> Party:
    party = _party(agreement, party_id)
    if party is None:  # _party already refuses a missing one; this keeps the type narrow
        raise ValidationError({"party_id": [_("Choose one of the agreement's parties.")]})
    return party


def _indicators(ids: list[int] | None) -> list[Indicator] | None:
    if ids is None:
        return None
    found = list(Indicator.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"indicator_ids": [_("No such indicator.")]})
    return found


def _group(user: User, agreement: Agreement, group_id: int | None) -> CollaborationGroup | None:
    """One answer for a group that does not exist and one the caller may not link."""
    if group_id is None:
        return None
    group = CollaborationGroup.objects.filter(
        pk=group_id, pk__in=rules.linkable_group_ids(user, agreement)
    ).first()
    if group is None:
        raise ValidationError(
            {"group_id": [_("Link only a collaboration group of the agreement's municipality.")]}
        )
    return group


def _police_area(police_area_id: int | None) -> PoliceArea | None:
    if police_area_id is None:
        return None
    area = PoliceArea.objects.filter(pk=police_area_id).first()
    if area is None:
        raise ValidationError({"police_area_id": [_("No such police area.")]})
    return area


WRITE_RESPONSES = {
    200: AgreementDetailOut,
    400: FieldErrorsOut,
    403: ErrorOut,
    404: ErrorOut,
}


# --- Public ----------------------------------------------------------------------------------


@promises_router.get(
    "",
    auth=None,
    response=PromisePageOut,
    summary="Published promises and agreements, optionally of one municipality (kommunkod), "
    "a page at a time",
)
def promise_list(request: HttpRequest, filters: Query[PromiseFilters]) -> PromisePageOut:
    page = PromisePageOut(count=0, limit=filters.limit, offset=filters.offset, items=[])
    town = None
    if filters.municipality is not None:
        town = Municipality.objects.filter(code=filters.municipality).first()
        if town is None:
            return page
    page.count = selectors.published_promises(town).count()
    page.items = [
        promise_out(d)
        for d in selectors.published_details(town, offset=filters.offset, limit=filters.limit)
    ]
    return page


@promises_router.get(
    "/{promise_id}",
    auth=None,
    response={200: PromiseOut, 404: ErrorOut},
    summary="One published promise or agreement",
)
def promise_detail(request: HttpRequest, promise_id: int) -> PromiseOut:
    return promise_out(selectors.promise_public_detail(promise_id))


# --- Editors and council ---------------------------------------------------------------------


@agreements_router.get(
    "", response=list[AgreementRowOut], summary="Agreements of the caller's municipalities"
)
def agreement_list(request: HttpRequest) -> list[AgreementRowOut]:
    qs = selectors.agreements_for(viewer=caller(request)).order_by(
        "municipality__name", "-period_start"
    )
    return [row_out(a) for a in qs]


@agreements_router.post(
    "",
    response={
        201: AgreementDetailOut,
        400: FieldErrorsOut,
        403: ErrorOut,
        404: ErrorOut,
    },
    summary="Create a draft agreement (agreement editors; needs the write scope)",
)
def agreement_create(request: HttpRequest, payload: AgreementIn) -> Status[AgreementDetailOut]:
    user = caller(request)
    if not rules.can_view_agreements(user):
        raise HttpError(404, "Not Found")
    require_scope(request, Scope.WRITE)
    if not rules.can_create_agreements(user):
        raise HttpError(403, "Only agreement editors create agreements.")
    town = Municipality.objects.filter(pk=payload.municipality_id).first()
    if town is None:
        raise ValidationError({"municipality_id": [_("No such municipality.")]})
    agreement = services.agreement_create(
        actor=user,
        kind=payload.kind.value,
        title=payload.title,
        municipality=town,
        police_area=_police_area(payload.police_area_id),
        period_start=payload.period_start,
        period_end=payload.period_end,
        focus_area=payload.focus_area,
        situation_summary=payload.situation_summary,
        cause_analysis=payload.cause_analysis,
        mandate=payload.mandate,
    )
    return Status(201, _detail(user, agreement.pk))


@agreements_router.get(
    "/{agreement_id}",
    response={200: AgreementDetailOut, 404: ErrorOut},
    summary="One agreement with everything in it, published or not",
)
def agreement_detail(request: HttpRequest, agreement_id: int) -> AgreementDetailOut:
    return _detail(caller(request), agreement_id)


@agreements_router.put(
    "/{agreement_id}", response=WRITE_RESPONSES, summary="Change an agreement's text and period"
)
def agreement_update(
    request: HttpRequest, agreement_id: int, payload: AgreementUpdateIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    services.agreement_update(
        actor=user,
        agreement=agreement,
        title=payload.title,
        police_area=_police_area(payload.police_area_id),
        period_start=payload.period_start,
        period_end=payload.period_end,
        focus_area=payload.focus_area,
        situation_summary=payload.situation_summary,
        cause_analysis=payload.cause_analysis,
        mandate=payload.mandate,
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/status",
    response=WRITE_RESPONSES,
    summary="Sign, activate or close as assessed (extension: /extension)",
)
def agreement_status(
    request: HttpRequest, agreement_id: int, payload: StatusIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    services.agreement_transition(actor=user, agreement=agreement, to=payload.to.value)
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/extension",
    response=WRITE_RESPONSES,
    summary="Extend a running agreement to a later end date, with a reason",
)
def agreement_extension(
    request: HttpRequest, agreement_id: int, payload: ExtensionIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    services.agreement_extend(
        actor=user, agreement=agreement, new_end=payload.new_end, reason=payload.reason
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/publication",
    response=WRITE_RESPONSES,
    summary="Publish or stop publishing (a draft cannot be published)",
)
def agreement_publication(
    request: HttpRequest, agreement_id: int, payload: PublicationIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    if payload.published:
        services.agreement_publish(actor=user, agreement=agreement)
    else:
        services.agreement_unpublish(actor=user, agreement=agreement)
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/links",
    response=WRITE_RESPONSES,
    summary="Set the agreement this one succeeds and those it overlaps",
)
def agreement_links(
    request: HttpRequest, agreement_id: int, payload: LinksIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    editable = selectors.link_candidates(viewer=user, agreement=agreement)
    wanted = {i for i in (payload.succeeds_id, *payload.overlap_ids) if i is not None}
    found = {a.pk: a for a in editable.filter(pk__in=wanted)}
    if agreement.pk in wanted:
        raise ValidationError({"succeeds_id": [_("An agreement cannot be linked to itself.")]})
    if len(found) != len(wanted):
        raise ValidationError({"succeeds_id": [_("You can link only agreements you may edit.")]})
    services.agreement_link(
        actor=user,
        agreement=agreement,
        succeeds=found[payload.succeeds_id] if payload.succeeds_id else None,
        overlaps=[found[i] for i in payload.overlap_ids],
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/parties", response=WRITE_RESPONSES, summary="Add a party (drafts only)"
)
def party_create(
    request: HttpRequest, agreement_id: int, payload: PartyIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    agency = None
    if payload.agency_id is not None:
        agency = selectors.party_agencies(agreement).filter(pk=payload.agency_id).first()
        if agency is None:
            raise ValidationError(
                {
                    "agency_id": [
                        _(
                            "Choose an active agency of the municipality or of a police "
                            "area that serves it."
                        )
                    ]
                }
            )
    services.party_add(
        actor=user,
        agreement=agreement,
        name=payload.name,
        kind=payload.kind.value,
        agency=agency,
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/signatories", response=WRITE_RESPONSES, summary="Add a signatory"
)
def signatory_create(
    request: HttpRequest, agreement_id: int, payload: SignatoryIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    services.signatory_add(
        actor=user,
        agreement=agreement,
        party=_required_party(agreement, payload.party_id),
        name=payload.name,
        title=payload.title,
        signed_on=payload.signed_on,
        place=payload.place,
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/commitments", response=WRITE_RESPONSES, summary="Add a commitment"
)
def commitment_create(
    request: HttpRequest, agreement_id: int, payload: CommitmentIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    services.commitment_add(
        actor=user,
        agreement=agreement,
        party=_party(agreement, payload.party_id),
        text=payload.text,
        target_count=payload.target_count,
        target_unit=payload.target_unit,
        indicators=_indicators(payload.indicator_ids) or [],
        group=_group(user, agreement, payload.group_id),
    )
    return Status(200, _detail(user, agreement_id))


def _commitment(agreement: Agreement, commitment_id: int) -> Commitment:
    commitment = agreement.commitments.filter(pk=commitment_id).first()
    if commitment is None:
        raise HttpError(404, "Not Found")
    commitment.agreement = agreement
    return commitment


@agreements_router.put(
    "/{agreement_id}/commitments/{commitment_id}",
    response=WRITE_RESPONSES,
    summary="Change a commitment's text, target, status or indicators",
)
def commitment_update(
    request: HttpRequest, agreement_id: int, commitment_id: int, payload: CommitmentUpdateIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    commitment = _commitment(agreement, commitment_id)
    services.commitment_update(
        actor=user,
        commitment=commitment,
        text=payload.text,
        status=payload.status.value,
        target_count=payload.target_count,
        target_unit=payload.target_unit,
        indicators=_indicators(payload.indicator_ids),
        group=_group(user, agreement, payload.group_id)
        if "group_id" in payload.model_fields_set
        else services.KEEP,
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/commitments/{commitment_id}/activities",
    response=WRITE_RESPONSES,
    summary="Log an activity against a commitment",
)
def activity_create(
    request: HttpRequest, agreement_id: int, commitment_id: int, payload: ActivityIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    commitment = _commitment(agreement, commitment_id)
    services.activity_add(
        actor=user,
        commitment=commitment,
        on=payload.date,
        description=payload.description,
        count=payload.count,
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/follow-ups", response=WRITE_RESPONSES, summary="Record a follow-up"
)
def follow_up_create(
    request: HttpRequest, agreement_id: int, payload: FollowUpIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    # Looked up among the values the agreement may cite, so no other id is told apart.
    wanted = set(payload.indicator_value_ids)
    values = list(
        IndicatorValue.objects.filter(
            pk__in=wanted, indicator__commitments__agreement=agreement
        ).distinct()
    )
    if len(values) != len(wanted):
        raise ValidationError(
            {
                "indicator_value_ids": [
                    _("Cite only values of the indicators linked to the commitments.")
                ]
            }
        )
    services.follow_up_add(
        actor=user,
        agreement=agreement,
        on=payload.date,
        narrative=payload.narrative,
        progress={
            p.commitment_id: services.ProgressEntry(progress=p.progress.value, note=p.note)
            for p in payload.progress
        },
        indicator_values=values,
    )
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/assessments",
    response=WRITE_RESPONSES,
    summary="Record one party's fulfilment assessment (editors of the party's agency only)",
)
def assessment_create(
    request: HttpRequest, agreement_id: int, payload: AssessmentIn
) -> Status[AgreementDetailOut]:
    user, agreement = _for_change(request, agreement_id)
    party = _required_party(agreement, payload.party_id)
    if not rules.can_assess_party(user, agreement, party):
        raise HttpError(403, str(services.ASSESS_OWN_PARTY_ONLY))
    services.assessment_record(
        actor=user,
        agreement=agreement,
        party=party,
        verdict=payload.verdict.value,
        statement=payload.statement,
        assessed_on=payload.assessed_on,
    )
    return Status(200, _detail(user, agreement_id))
