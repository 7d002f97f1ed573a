"""The cases part of the HTTP API (/api/v1/cases). Same selectors and rules as the pages.

Contract, as for the pages:
- every read goes through ``cases.selectors`` (which decide with ``disclosure.policy`` and audit),
  every write through ``cases.services`` (which audit inside their transaction);
- a case the caller may not open answers 404 exactly like a missing one; the write scope is
  checked only after that, so an outsider learns nothing from a 403;
- identity numbers travel only in JSON request bodies, and a response carries the youth's name
  or number only when the policy shows identity to this caller;
- a refusal by a service (``ValidationError``, screening included) answers 400 with the messages
  per field, ``__all__`` holding those that belong to no field. A body that does not match the
  schema answers django-ninja's 422 before any of this runs; neither depends on the case.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from samverkan.api.auth import require_scope
from samverkan.api.conventions import ErrorOut, FieldErrorsOut, caller
from samverkan.api.models import Scope
from samverkan.api.schemas import JsonIn
from samverkan.cases import rules, selectors, services
from samverkan.cases.models import Case, Factor, Gender
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.explain import case_page_notes
from samverkan.disclosure.policy import DenialReason, State
from samverkan.organisations.models import Agency
from samverkan.organisations.selectors import groups_of

router = Router(tags=["cases"])


# --- Schemas ---------------------------------------------------------------------------------


class RefOut(Schema):
    id: int
    name: str


class FactorOut(Schema):
    code: str
    label: str


class CaseRowOut(Schema):
    """A line of the caller's case list: the label they may see, never content."""

    id: int
    pseudonym: str
    youth_label: str = Field(
        description="The youth's name where identity is shown, else the pseudonym."
    )
    identity_shown: bool
    status: str
    status_label: str
    group: RefOut
    raising_agency: RefOut
    raised_at: datetime
    days_open: int


class CaseOut(Schema):
    id: int
    pseudonym: str
    youth_label: str = Field(
        description="The youth's name where identity is shown, else the pseudonym."
    )
    identity_shown: bool
    identity_number: str | None = Field(
        description="Only when identity is shown to the caller; null otherwise."
    )
    age: int | None = Field(description="Only when identity is shown to the caller.")
    status: str
    status_label: str
    group: RefOut
    raising_agency: RefOut
    raised_at: datetime
    closed_at: datetime | None
    closure_reason: str
    closure_outcome: str
    content_withheld: bool = Field(
        description="True while no consent or recorded statutory disclosure covers the caller's "
        "agency (DESIGN rule 16): reason, factors and the outcome at closing are then empty."
    )
    reason: str
    risk_factors: list[FactorOut]
    protective_factors: list[FactorOut]
    my_agencies: list[RefOut] = Field(description="The agencies the caller sits on the team for.")
    pseudonymous_team: bool = Field(
        description="True when some agency on the team knows the youth only by pseudonym: free "
        "text is then refused if it holds a name or an identity number."
    )


class CaseCreatedOut(CaseOut):
    warnings: list[str]


class CaseIn(JsonIn):
    group_id: int
    agency_id: int = Field(description="The agency the case is raised for.")
    identity_number: str = Field(
        max_length=20, description="Personnummer or samordningsnummer, 10 or 12 digits."
    )
    name: str = Field(max_length=200)
    gender: Gender = Gender.UNKNOWN
    reason: str
    risk_factors: list[str] = Field(default_factory=list, description="Factor codes.")
    protective_factors: list[str] = Field(default_factory=list, description="Factor codes.")


class EntryOut(Schema):
    id: int
    agency: RefOut
    category: str
    category_label: str
    text: str = Field(description="The text of the current version.")
    version: int
    created_at: datetime
    author: str = Field(description="Username of the entry's author.")
    basis: str = Field(
        description="Why the caller may see it: `own_agency`, `consent:<id>` or "
        "`statute:<basis code>:<id>` (a statutory disclosure of this one entry)."
    )
    basis_explanation: str = Field(
        description="The basis in plain words: who signed the consent and until when it is "
        "valid, or the statutory basis. Empty for the caller's own agency's entries."
    )


class HiddenOut(Schema):
    agency_id: int
    agency_name: str
    reason: DenialReason = Field(
        description="Why they are withheld: no consent names both agencies (`no_consent`), one "
        "does but not their category (`category`), or the consent that would cover them is "
        "waiting for a signature (`pending`), has expired (`expired`) or was withdrawn "
        "(`withdrawn`)."
    )
    explanation: str = Field(description="The same in one sentence, in the caller's language.")
    count: int


class EndedConsentOut(Schema):
    consent_id: int
    state: State = Field(description="`withdrawn` or `expired`.")
    ended_at: datetime
    count: int = Field(description="How many entries reached the caller's agency under it.")


class EntryListOut(Schema):
    case_id: int
    entries: list[EntryOut]
    hidden: list[HiddenOut] = Field(
        description="Entries withheld from the caller, counted per agency and reason; never their "
        "content."
    )
    ended_consents: list[EndedConsentOut] = Field(
        description="Consents that have ended (withdrawn or expired) under which entries reached "
        "the caller's agency: those stay with the recipient, marked as disclosed under that "
        "consent."
    )


class EntryIn(JsonIn):
    agency_id: int = Field(description="An agency the caller sits on the team for.")
    category: str = Field(max_length=40, description="Information category code.")
    text: str


class TeamMemberOut(Schema):
    id: int
    user_id: int
    username: str
    name: str
    agency: RefOut
    added_at: datetime


class TeamOut(Schema):
    case_id: int
    pseudonym: str
    status: str
    status_label: str
    group: RefOut
    members: list[TeamMemberOut]


# --- Helpers ---------------------------------------------------------------------------------


def _factors(factors: list[Factor]) -> list[FactorOut]:
    return [FactorOut(code=f.code, label=str(f.label)) for f in factors]


def _case_out(access: disclosure_selectors.CaseAccess) -> CaseOut:
    case = access.case
    youth = disclosure_selectors.youth_of(access)
    content = disclosure_selectors.case_content(access)
    return CaseOut(
        id=case.pk,
        pseudonym=case.youth.pseudonym,
        youth_label=access.youth_label,
        identity_shown=access.identity.allowed,
        identity_number=access.identity_number or None,
        age=youth.age_on() if youth is not None else None,
        status=case.status,
        status_label=str(case.get_status_display()),
        group=RefOut(id=case.group_id, name=case.group.name),
        raising_agency=RefOut(id=case.raising_agency_id, name=case.raising_agency.name),
        raised_at=case.raised_at,
        closed_at=case.closed_at,
        closure_reason=case.closure_reason,
        closure_outcome=(content.closure_outcome or "") if content else "",
        content_withheld=content is None,
        reason=content.reason if content else "",
        risk_factors=_factors(content.risk_factors) if content else [],
        protective_factors=_factors(content.protective_factors) if content else [],
        my_agencies=[RefOut(id=a.pk, name=a.name) for a in access.my_agencies],
        pseudonymous_team=access.pseudonymous_team,
    )


def _entry_out(view: disclosure_selectors.EntryView, explanation: str = "") -> EntryOut:
    entry = view.entry
    return EntryOut(
        id=entry.pk,
        agency=RefOut(id=entry.agency_id, name=entry.agency.name),
        category=entry.category.code,
        category_label=str(entry.category.label),
        text=view.text,
        version=view.current.number,
        created_at=entry.created_at,
        author=entry.created_by.username,
        basis=view.basis,
        basis_explanation=explanation,
    )


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise HttpError(403, "The case is closed.")


# --- Endpoints -------------------------------------------------------------------------------


@router.get("", response=list[CaseRowOut], summary="The cases the caller sits on the team of")
def case_list(request: HttpRequest) -> list[CaseRowOut]:
    rows = selectors.my_cases(viewer=caller(request))
    return [
        CaseRowOut(
            id=row.case.pk,
            pseudonym=row.case.youth.pseudonym,
            youth_label=row.label,
            identity_shown=row.identity_shown,
            status=row.case.status,
            status_label=str(row.case.get_status_display()),
            group=RefOut(id=row.case.group_id, name=row.case.group.name),
            raising_agency=RefOut(id=row.case.raising_agency_id, name=row.case.raising_agency.name),
            raised_at=row.case.raised_at,
            days_open=row.days_open,
        )
        for row in rows
    ]


@router.post(
    "",
    response={201: CaseCreatedOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Raise a case (needs the write scope)",
)
def case_create(request: HttpRequest, payload: CaseIn) -> Status[CaseCreatedOut]:
    user = caller(request)
    groups = {gm.group_id: gm.group for gm in groups_of(user=user)}
    if not any(rules.can_raise_case(user, group) for group in groups.values()):
        raise Http404  # as the page: nothing to raise a case for
    require_scope(request, Scope.WRITE)
    group = groups.get(payload.group_id)
    agency = Agency.objects.filter(pk=payload.agency_id).first()
    if group is None or agency is None:
        raise ValidationError(_("You cannot raise a case for that agency in this group."))
    raised = services.case_raise(
        actor=user,
        group=group,
        agency=agency,
        identity_number=payload.identity_number,
        name=payload.name,
        gender=Gender(payload.gender).value,
        reason=payload.reason,
        risk_factors=payload.risk_factors,
        protective_factors=payload.protective_factors,
    )
    access = disclosure_selectors.case_open(viewer=user, pk=raised.case.pk)
    created = CaseCreatedOut(**_case_out(access).model_dump(), warnings=raised.warnings)
    return Status(201, created)


@router.get(
    "/{case_id}",
    response={200: CaseOut, 404: ErrorOut},
    summary="One case, as the caller may see it",
)
def case_detail(request: HttpRequest, case_id: int) -> CaseOut:
    return _case_out(disclosure_selectors.case_open(viewer=caller(request), pk=case_id))


@router.get(
    "/{case_id}/entries",
    response={200: EntryListOut, 404: ErrorOut},
    summary="The journal entries the caller may see, and how many are withheld per agency",
)
def entry_list(request: HttpRequest, case_id: int) -> EntryListOut:
    access = disclosure_selectors.case_open(viewer=caller(request), pk=case_id)
    listing = disclosure_selectors.entry_listing(access)
    notes = case_page_notes(access, listing)
    return EntryListOut(
        case_id=access.case.pk,
        entries=[
            _entry_out(view, notes.explanations.get(view.entry.pk, "")) for view in listing.visible
        ],
        hidden=[
            HiddenOut(
                agency_id=group.agency.pk,
                agency_name=group.agency.name,
                reason=group.reason,
                explanation=explanation,
                count=group.count,
            )
            for group, explanation in zip(listing.hidden, notes.hidden, strict=True)
        ],
        ended_consents=[
            EndedConsentOut(
                consent_id=ended.number,
                state=ended.state,
                ended_at=ended.ended_at,
                count=ended.count,
            )
            for ended in notes.ended
        ],
    )


@router.post(
    "/{case_id}/entries",
    response={201: EntryOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Write a journal entry for an agency the caller sits on the team for "
    "(needs the write scope)",
)
def entry_create(request: HttpRequest, case_id: int, payload: EntryIn) -> Status[EntryOut]:
    user = caller(request)
    access = disclosure_selectors.case_open(viewer=user, pk=case_id)
    require_scope(request, Scope.WRITE)
    _require_open(access.case)
    agency = next((a for a in access.my_agencies if a.pk == payload.agency_id), None)
    if agency is None:
        raise ValidationError(
            {"agency_id": [_("You can write only for an agency you sit on the team for.")]}
        )
    # A code names a category of the agency's own sector or of the general ones.
    category = rules.writable_category(agency, payload.category)
    if category is None:
        raise ValidationError({"category": [_("That category does not belong to your sector.")]})
    entry = services.entry_add(
        actor=user, case=access.case, agency=agency, category=category, text=payload.text
    )
    view = disclosure_selectors.entry_history(access, entry.pk)
    if view is None:  # the author's own agency always sees its entry; kept as a guard
        raise Http404
    return Status(201, _entry_out(view))


@router.get(
    "/{case_id}/team",
    response={200: TeamOut, 404: ErrorOut},
    summary="The case team (for the team and the group's coordinator); no case content",
)
def case_team(request: HttpRequest, case_id: int) -> TeamOut:
    case = selectors.case_card(viewer=caller(request), pk=case_id)
    return TeamOut(
        case_id=case.pk,
        pseudonym=case.youth.pseudonym,
        status=case.status,
        status_label=str(case.get_status_display()),
        group=RefOut(id=case.group_id, name=case.group.name),
        members=[
            TeamMemberOut(
                id=m.pk,
                user_id=m.user_id,
                username=m.user.username,
                name=m.user.get_full_name() or m.user.username,
                agency=RefOut(id=m.agency_id, name=m.agency.name),
                added_at=m.added_at,
            )
            for m in case.team.all()
        ],
    )
