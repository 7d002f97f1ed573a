"""The promises part of the HTTP API. Same selectors, rules and services as the pages.

- ``/api/v1/promises`` is anonymous (``auth=None`` on each operation) and reads only through
  the published-only selectors: an unpublished or missing agreement answers 404 alike.
- ``/api/v1/agreements`` is for token holders who read agreements (editors and council
  members of the municipality): an agreement they may not read answers 404 exactly like a
  missing one; a write then needs the write scope (403) and the editor role (403).
- A refusal by a service answers 400 with messages per field (``__all__`` for the rest).

Nothing here imports ``samverkan.api.api``: that module imports this one while it is built.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from samverkan.accounts.models import User
from samverkan.api.auth import require_scope
from samverkan.api.errors import ErrorOut, FieldErrorsOut, field_errors
from samverkan.api.models import Scope
from samverkan.api.schemas import JsonIn
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.organisations.models import CollaborationGroup, Municipality, PoliceArea
from samverkan.promises import rules, selectors, services
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    Commitment,
    CommitmentStatus,
    Kind,
    Party,
    PartyKind,
    Progress,
    Verdict,
)

promises_router = Router(tags=["promises (public)"])
agreements_router = Router(tags=["agreements"])

# Each published agreement carries all its commitments, activities and follow-ups, so a page is
# kept short; the ordering ends on the id, so paging by offset misses and repeats nothing.
PROMISE_PAGE_SIZE = 20
MAX_PROMISE_PAGE_SIZE = 100


# --- Schemas ---------------------------------------------------------------------------------


class AssessmentOut(Schema):
    verdict: str
    verdict_label: str
    statement: str
    assessed_on: date


class PartyOut(Schema):
    id: int
    name: str
    kind: str
    agency_id: int | None = Field(
        description="The agency that speaks for the party: only its agreement editors record "
        "the party's assessment. null: an outside party."
    )
    agency: str | None = Field(description="The agency's name.")
    assessment: AssessmentOut | None = Field(description="The party's own assessment, if any.")


class SignatoryOut(Schema):
    name: str
    title: str
    party_id: int
    party: str
    signed_on: date
    place: str


class ProgressOut(Schema):
    done: int = Field(description="Activities counted so far, summed over the period.")
    target: int | None
    unit: str
    percent: int | None


class CommitmentOut(Schema):
    id: int
    party_id: int | None = Field(description="null: a joint commitment.")
    heading: str = Field(description="“The police promise”, “The municipality promises”, “Joint”.")
    text: str
    status: str
    progress: ProgressOut
    indicator_ids: list[int]
    group_id: int | None = Field(
        default=None, description="The collaboration group the commitment set up or runs."
    )
    group: str | None = Field(default=None, description="That group's name.")


class ActivityOut(Schema):
    id: int
    commitment_id: int
    date: date
    description: str
    count: int


class FollowUpProgressOut(Schema):
    commitment_id: int
    progress: str
    note: str


class FollowUpIndicatorValueOut(Schema):
    id: int
    indicator_id: int
    indicator: str
    unit: str
    period: str
    value: str = Field(description='As a decimal string, e.g. "2.7".')


class FollowUpOut(Schema):
    id: int
    date: date
    narrative: str
    progress: list[FollowUpProgressOut]
    indicator_values: list[FollowUpIndicatorValueOut] = Field(
        description="Indicator values the follow-up cites; on /promises only those of "
        "published indicators."
    )


class ExtensionOut(Schema):
    previous_end: date
    new_end: date
    reason: str


class LinkOut(Schema):
    id: int
    title: str


class AgreementRowOut(Schema):
    id: int
    kind: str
    title: str
    municipality: str
    municipality_code: str
    period_start: date
    period_end: date
    focus_area: str
    status: str
    published: bool
    past_end: bool = Field(
        description="Still active or extended after its end date: the parties should extend or "
        "assess it. Derived from today's date."
    )


class PromiseOut(AgreementRowOut):
    police_area: str | None
    situation_summary: str
    mandate: str = Field(
        default="",
        description="Mandate and commitments (mandat och åtagande) of a cooperation agreement.",
    )
    published_at: datetime | None
    fulfilment: str = Field(
        description="fulfilled only when every party has assessed it fulfilled; pending while "
        "any party has not assessed it; else not_fulfilled."
    )
    parties: list[PartyOut]
    signatories: list[SignatoryOut]
    commitments: list[CommitmentOut]
    activities: list[ActivityOut]
    follow_ups: list[FollowUpOut]
    extensions: list[ExtensionOut]
    succeeds: LinkOut | None
    succeeded_by: list[LinkOut]
    overlaps: list[LinkOut]


class AgreementOut(PromiseOut):
    cause_analysis: str


class VersionOut(Schema):
    number: int
    action: str
    created_at: datetime


class AgreementDetailOut(AgreementOut):
    versions: list[VersionOut]


class AgreementIn(JsonIn):
    kind: Kind
    title: str = Field(max_length=200)
    municipality_id: int
    police_area_id: int | None = None
    period_start: date
    period_end: date
    focus_area: str = Field(max_length=200)
    situation_summary: str = ""
    cause_analysis: str = ""
    mandate: str = ""


class AgreementUpdateIn(JsonIn):
    title: str = Field(max_length=200)
    police_area_id: int | None = None
    period_start: date
    period_end: date
    focus_area: str = Field(max_length=200)
    situation_summary: str = ""
    cause_analysis: str = ""
    mandate: str | None = Field(default=None, description="null: leave unchanged.")


class PartyIn(JsonIn):
    name: str = Field(max_length=150)
    kind: PartyKind
    agency_id: int | None = Field(
        default=None,
        description="The agency that speaks for the party; required for police and "
        "municipality parties.",
    )


class PromiseFilters(Schema):
    # Four digits, as every kommunkod: other text, a NUL character too, is refused before it
    # reaches a query (PostgreSQL raises on NUL).
    municipality: str | None = Field(
        default=None, pattern=r"^[0-9]{4}$", description="A kommunkod, e.g. 2084."
    )
    limit: int = Field(default=PROMISE_PAGE_SIZE, ge=1, le=MAX_PROMISE_PAGE_SIZE)
    # Bounded so that no offset overflows the database's integers (a 422, not a 500).
    offset: int = Field(default=0, ge=0, le=1_000_000)


class PromisePageOut(Schema):
    count: int = Field(description="How many published agreements match, on every page.")
    limit: int
    offset: int
    items: list[PromiseOut]


class SignatoryIn(JsonIn):
    party_id: int
    name: str = Field(max_length=150)
    title: str = Field(max_length=150)
    signed_on: date
    place: str = Field(default="", max_length=100)


class CommitmentIn(JsonIn):
    party_id: int | None = Field(default=None, description="null: a joint commitment.")
    text: str
    target_count: int | None = None
    target_unit: str = Field(default="", max_length=100)
    indicator_ids: list[int] = Field(default_factory=list)
    group_id: int | None = Field(
        default=None,
        description="A collaboration group of the agreement's municipality the caller may see.",
    )


class CommitmentUpdateIn(JsonIn):
    text: str
    status: CommitmentStatus
    target_count: int | None = None
    target_unit: str = Field(default="", max_length=100)
    indicator_ids: list[int] | None = Field(default=None, description="null: leave unchanged.")
    group_id: int | None = Field(
        default=None, description="Left out: unchanged; null: no group; else as when adding."
    )


class ActivityIn(JsonIn):
    date: date
    description: str
    count: int = 1


class ProgressIn(JsonIn):
    commitment_id: int
    progress: Progress
    note: str = ""


class FollowUpIn(JsonIn):
    date: date
    narrative: str
    progress: list[ProgressIn] = Field(default_factory=list)
    indicator_value_ids: list[int] = Field(
        default_factory=list,
        description="Values of indicators linked to the agreement's commitments.",
    )


class AssessmentIn(JsonIn):
    party_id: int
    verdict: Verdict
    statement: str
    assessed_on: date


class StatusIn(JsonIn):
    to: AgreementStatus


class ExtensionIn(JsonIn):
    new_end: date
    reason: str


class PublicationIn(JsonIn):
    published: bool


class LinksIn(JsonIn):
    succeeds_id: int | None = None
    overlap_ids: list[int] = Field(default_factory=list)


# --- Helpers ---------------------------------------------------------------------------------


def _caller(request: HttpRequest) -> User:
    """The token's owner; the API's BearerToken has refused every request without one."""
    return cast("User", request.user)


def _link(agreement: Agreement) -> LinkOut:
    return LinkOut(id=agreement.pk, title=agreement.title)


def _row(a: Agreement) -> AgreementRowOut:
    return AgreementRowOut(
        id=a.pk,
        kind=a.kind,
        title=a.title,
        municipality=a.municipality.name,
        municipality_code=a.municipality.code,
        period_start=a.period_start,
        period_end=a.period_end,
        focus_area=a.focus_area,
        status=a.status,
        published=a.published,
        past_end=a.past_end,
    )


def _promise_out(detail: selectors.AgreementDetail) -> PromiseOut:
    a = detail.agreement
    headings = {row.commitment.pk: group.heading for group in detail.groups for row in group.rows}
    return PromiseOut(
        **_row(a).model_dump(),
        police_area=a.police_area.name if a.police_area else None,
        situation_summary=a.situation_summary,
        mandate=a.mandate,
        published_at=a.published_at,
        fulfilment=detail.fulfilment,
        parties=[
            PartyOut(
                id=r.party.pk,
                name=r.party.name,
                kind=r.party.kind,
                agency_id=r.party.agency_id,
                agency=r.party.agency.name if r.party.agency else None,
                assessment=AssessmentOut(
                    verdict=r.assessment.verdict,
                    verdict_label=str(r.assessment.get_verdict_display()),
                    statement=r.assessment.statement,
                    assessed_on=r.assessment.assessed_on,
                )
                if r.assessment
                else None,
            )
            for r in detail.parties
        ],
        signatories=[
            SignatoryOut(
                name=s.name,
                title=s.title,
                party_id=s.party_id,
                party=s.party.name,
                signed_on=s.signed_on,
                place=s.place,
            )
            for s in detail.signatories
        ],
        commitments=[
            CommitmentOut(
                id=r.commitment.pk,
                party_id=r.commitment.party_id,
                heading=headings[r.commitment.pk],
                text=r.commitment.text,
                status=r.commitment.status,
                progress=ProgressOut(
                    done=r.progress.done,
                    target=r.progress.target,
                    unit=r.progress.unit,
                    percent=r.progress.percent,
                ),
                indicator_ids=[i.pk for i in r.indicators],
                group_id=r.commitment.group_id,
                group=r.commitment.group.name if r.commitment.group else None,
            )
            for r in detail.commitments
        ],
        activities=[
            ActivityOut(
                id=x.pk,
                commitment_id=x.commitment_id,
                date=x.date,
                description=x.description,
                count=x.count,
            )
            for x in detail.activities
        ],
        follow_ups=[
            FollowUpOut(
                id=f.pk,
                date=f.date,
                narrative=f.narrative,
                progress=[
                    FollowUpProgressOut(
                        commitment_id=p.commitment_id, progress=p.progress, note=p.note
                    )
                    for p in f.progress.all()
                ],
                indicator_values=[
                    FollowUpIndicatorValueOut(
                        id=v.pk,
                        indicator_id=v.indicator_id,
                        indicator=str(v.indicator),
                        unit=v.indicator.unit,
                        period=v.period_label,
                        value=str(v.display_value),
                    )
                    for v in f.indicator_values.all()
                ],
            )
            for f in detail.follow_ups
        ],
        extensions=[
            ExtensionOut(previous_end=e.previous_end, new_end=e.new_end, reason=e.reason)
            for e in detail.extensions
        ],
        succeeds=_link(detail.predecessor) if detail.predecessor else None,
        succeeded_by=[_link(x) for x in detail.successors],
        overlaps=[_link(x) for x in detail.overlaps],
    )


def _agreement_out(detail: selectors.AgreementDetail) -> AgreementDetailOut:
    return AgreementDetailOut(
        **_promise_out(detail).model_dump(),
        cause_analysis=detail.agreement.cause_analysis,
        versions=[
            VersionOut(number=v.number, action=v.action, created_at=v.created_at)
            for v in detail.versions
        ],
    )


def _for_change(request: HttpRequest, agreement_id: int) -> tuple[User, Agreement]:
    """404 unless the caller reads it; then the write scope and the editor role (403)."""
    user = _caller(request)
    agreement = selectors.agreement_open(viewer=user, pk=agreement_id)
    require_scope(request, Scope.WRITE)
    if not rules.can_edit_agreement(user, agreement):
        raise HttpError(403, "Only an agreement editor of the municipality changes it.")
    return user, agreement


def _detail(user: User, agreement_id: int) -> AgreementDetailOut:
    return _agreement_out(selectors.agreement_detail(viewer=user, pk=agreement_id))


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
        _promise_out(d)
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
    return _promise_out(selectors.promise_public_detail(promise_id))


# --- Editors and council ---------------------------------------------------------------------


@agreements_router.get(
    "", response=list[AgreementRowOut], summary="Agreements of the caller's municipalities"
)
def agreement_list(request: HttpRequest) -> list[AgreementRowOut]:
    qs = selectors.agreements_for(viewer=_caller(request)).order_by(
        "municipality__name", "-period_start"
    )
    return [_row(a) for a in qs]


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
def agreement_create(
    request: HttpRequest, payload: AgreementIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user = _caller(request)
    if not rules.can_view_agreements(user):
        raise HttpError(404, "Not Found")
    require_scope(request, Scope.WRITE)
    if not rules.can_create_agreements(user):
        raise HttpError(403, "Only agreement editors create agreements.")
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(201, _detail(user, agreement.pk))


@agreements_router.get(
    "/{agreement_id}",
    response={200: AgreementDetailOut, 404: ErrorOut},
    summary="One agreement with everything in it, published or not",
)
def agreement_detail(request: HttpRequest, agreement_id: int) -> AgreementDetailOut:
    return _detail(_caller(request), agreement_id)


@agreements_router.put(
    "/{agreement_id}", response=WRITE_RESPONSES, summary="Change an agreement's text and period"
)
def agreement_update(
    request: HttpRequest, agreement_id: int, payload: AgreementUpdateIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/status",
    response=WRITE_RESPONSES,
    summary="Sign, activate or close as assessed (extension: /extension)",
)
def agreement_status(
    request: HttpRequest, agreement_id: int, payload: StatusIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
        services.agreement_transition(actor=user, agreement=agreement, to=payload.to.value)
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/extension",
    response=WRITE_RESPONSES,
    summary="Extend a running agreement to a later end date, with a reason",
)
def agreement_extension(
    request: HttpRequest, agreement_id: int, payload: ExtensionIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
        services.agreement_extend(
            actor=user, agreement=agreement, new_end=payload.new_end, reason=payload.reason
        )
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/publication",
    response=WRITE_RESPONSES,
    summary="Publish or stop publishing (a draft cannot be published)",
)
def agreement_publication(
    request: HttpRequest, agreement_id: int, payload: PublicationIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
        if payload.published:
            services.agreement_publish(actor=user, agreement=agreement)
        else:
            services.agreement_unpublish(actor=user, agreement=agreement)
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/links",
    response=WRITE_RESPONSES,
    summary="Set the agreement this one succeeds and those it overlaps",
)
def agreement_links(
    request: HttpRequest, agreement_id: int, payload: LinksIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    editable = selectors.link_candidates(viewer=user, agreement=agreement)
    try:
        wanted = {i for i in (payload.succeeds_id, *payload.overlap_ids) if i is not None}
        found = {a.pk: a for a in editable.filter(pk__in=wanted)}
        if agreement.pk in wanted:
            raise ValidationError({"succeeds_id": [_("An agreement cannot be linked to itself.")]})
        if len(found) != len(wanted):
            raise ValidationError(
                {"succeeds_id": [_("You can link only agreements you may edit.")]}
            )
        services.agreement_link(
            actor=user,
            agreement=agreement,
            succeeds=found[payload.succeeds_id] if payload.succeeds_id else None,
            overlaps=[found[i] for i in payload.overlap_ids],
        )
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/parties", response=WRITE_RESPONSES, summary="Add a party (drafts only)"
)
def party_create(
    request: HttpRequest, agreement_id: int, payload: PartyIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/signatories", response=WRITE_RESPONSES, summary="Add a signatory"
)
def signatory_create(
    request: HttpRequest, agreement_id: int, payload: SignatoryIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
        services.signatory_add(
            actor=user,
            agreement=agreement,
            party=_required_party(agreement, payload.party_id),
            name=payload.name,
            title=payload.title,
            signed_on=payload.signed_on,
            place=payload.place,
        )
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/commitments", response=WRITE_RESPONSES, summary="Add a commitment"
)
def commitment_create(
    request: HttpRequest, agreement_id: int, payload: CommitmentIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
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
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    commitment = _commitment(agreement, commitment_id)
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/commitments/{commitment_id}/activities",
    response=WRITE_RESPONSES,
    summary="Log an activity against a commitment",
)
def activity_create(
    request: HttpRequest, agreement_id: int, commitment_id: int, payload: ActivityIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    commitment = _commitment(agreement, commitment_id)
    try:
        services.activity_add(
            actor=user,
            commitment=commitment,
            on=payload.date,
            description=payload.description,
            count=payload.count,
        )
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/follow-ups", response=WRITE_RESPONSES, summary="Record a follow-up"
)
def follow_up_create(
    request: HttpRequest, agreement_id: int, payload: FollowUpIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))


@agreements_router.post(
    "/{agreement_id}/assessments",
    response=WRITE_RESPONSES,
    summary="Record one party's fulfilment assessment (editors of the party's agency only)",
)
def assessment_create(
    request: HttpRequest, agreement_id: int, payload: AssessmentIn
) -> Status[AgreementDetailOut | FieldErrorsOut]:
    user, agreement = _for_change(request, agreement_id)
    try:
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
    except ValidationError as exc:
        return Status(400, field_errors(exc))
    return Status(200, _detail(user, agreement_id))
