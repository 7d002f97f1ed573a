"""The shapes of the promises part of the HTTP API (``samverkan.promises.api``): what its
operations take and answer, and how a selector's ``AgreementDetail`` becomes an answer.
"""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from samverkan.api.schemas import JsonIn
from samverkan.promises import selectors
from samverkan.promises.models import (
    Activity,
    Agreement,
    AgreementStatus,
    CommitmentStatus,
    FollowUp,
    Kind,
    PartyKind,
    Progress,
    Verdict,
)

# Each published agreement carries all its commitments, activities and follow-ups, so a page is
# kept short; the ordering ends on the id, so paging by offset misses and repeats nothing.
PROMISE_PAGE_SIZE = 20
MAX_PROMISE_PAGE_SIZE = 100


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


# --- Answers from the selectors' details ---------------------------------------------------


def _link(agreement: Agreement) -> LinkOut:
    return LinkOut(id=agreement.pk, title=agreement.title)


def row_out(a: Agreement) -> AgreementRowOut:
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


def _party_out(r: selectors.PartyRow) -> PartyOut:
    return PartyOut(
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


def _commitment_out(r: selectors.CommitmentRow, heading: str) -> CommitmentOut:
    return CommitmentOut(
        id=r.commitment.pk,
        party_id=r.commitment.party_id,
        heading=heading,
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


def _activity_out(x: Activity) -> ActivityOut:
    return ActivityOut(
        id=x.pk,
        commitment_id=x.commitment_id,
        date=x.date,
        description=x.description,
        count=x.count,
    )


def _follow_up_out(f: FollowUp) -> FollowUpOut:
    return FollowUpOut(
        id=f.pk,
        date=f.date,
        narrative=f.narrative,
        progress=[
            FollowUpProgressOut(commitment_id=p.commitment_id, progress=p.progress, note=p.note)
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


def promise_out(detail: selectors.AgreementDetail) -> PromiseOut:
    a = detail.agreement
    headings = {row.commitment.pk: group.heading for group in detail.groups for row in group.rows}
    return PromiseOut(
        **row_out(a).model_dump(),
        police_area=a.police_area.name if a.police_area else None,
        situation_summary=a.situation_summary,
        mandate=a.mandate,
        published_at=a.published_at,
        fulfilment=detail.fulfilment,
        parties=[_party_out(r) for r in detail.parties],
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
        commitments=[_commitment_out(r, headings[r.commitment.pk]) for r in detail.commitments],
        activities=[_activity_out(x) for x in detail.activities],
        follow_ups=[_follow_up_out(f) for f in detail.follow_ups],
        extensions=[
            ExtensionOut(previous_end=e.previous_end, new_end=e.new_end, reason=e.reason)
            for e in detail.extensions
        ],
        succeeds=_link(detail.predecessor) if detail.predecessor else None,
        succeeded_by=[_link(x) for x in detail.successors],
        overlaps=[_link(x) for x in detail.overlaps],
    )


def agreement_out(detail: selectors.AgreementDetail) -> AgreementDetailOut:
    return AgreementDetailOut(
        **promise_out(detail).model_dump(),
        cause_analysis=detail.agreement.cause_analysis,
        versions=[
            VersionOut(number=v.number, action=v.action, created_at=v.created_at)
            for v in detail.versions
        ],
    )
