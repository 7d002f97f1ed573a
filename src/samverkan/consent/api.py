"""The consent part of the HTTP API: /api/v1/cases/{id}/consents and /api/v1/consents/{id}.

The same contract as the pages and the cases API:
- every read goes through ``consent.selectors`` (the case's team and its coordinator; 404 for
  everyone else, exactly as for a missing consent), every write through ``consent.services``;
- the write scope is checked only after visibility, and whether the caller may make the change
  (``consent.rules``) after that, so an outsider learns nothing from a 403;
- signers are shown as the caller may see them: names only where the policy shows the youth's
  identity to the caller, otherwise "Guardian 1", "Guardian 2", "The young person". No identity
  number, e-ID reference or maturity assessment is ever in an answer;
- every consent in an answer carries its state, derived at the moment of the request.

A signature on paper needs the scanned form, so ``POST /consents/{id}/signatures`` takes either
a JSON body (in person) or ``multipart/form-data`` with the file in ``evidence``.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pydantic
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestValidationError

from samverkan.accounts.models import User
from samverkan.api.auth import require_scope
from samverkan.api.conventions import ErrorOut, FieldErrorsOut, caller
from samverkan.api.models import Scope
from samverkan.api.schemas import JsonIn
from samverkan.cases.models import Case
from samverkan.consent import rules, selectors, services
from samverkan.consent.models import Purpose, RequiredSigner, SignatureMethod, WithdrawalMethod
from samverkan.disclosure.policy import State

cases_router = Router(tags=["consents"])
router = Router(tags=["consents"])

STATE_LABELS = {
    State.PENDING: gettext_lazy("Waiting for signatures"),
    State.ACTIVE: gettext_lazy("Active"),
    State.AWAITING_COSIGNATURE: gettext_lazy("Awaiting a co-signature"),
    State.EXPIRED: gettext_lazy("Expired"),
    State.WITHDRAWN: gettext_lazy("Withdrawn"),
}


# --- Schemas ---------------------------------------------------------------------------------


class RefOut(Schema):
    id: int
    name: str


class ConsentAgencyOut(Schema):
    id: int
    name: str
    sector: str


class ConsentCategoryOut(Schema):
    id: int
    sector: str
    code: str
    label: str


class SignatureOut(Schema):
    method: str = Field(description="`paper`, `in_person` or `electronic`.")
    method_label: str
    signed_at: datetime = Field(description="When it took effect: when it was recorded.")
    signed_on: date = Field(description="The date the signer wrote on the form.")
    recorded_by: str | None = Field(
        description="Username of the staff member who recorded it; null for e-ID."
    )
    evidence: bool = Field(description="Whether a scanned form is stored with it.")
    awaiting_confirmation: bool = Field(
        description="Recorded by staff and not yet confirmed by a second staff member, where "
        "the deployment requires that (`SAMVERKAN_CONSENT_SIGNATURE_CONFIRMATION`): it does "
        "not count towards the state until confirmed."
    )
    confirmed_by: str | None = Field(
        description="Username of the second staff member who confirmed it; null if none did."
    )
    confirmed_at: datetime | None


class SignerOut(Schema):
    id: int = Field(description="What `signer_id` takes in the signature and withdrawal calls.")
    kind: str = Field(description="`guardian` or `youth`.")
    label: str = Field(
        description="The name where the caller may see the youth's identity; otherwise "
        "'Guardian 1', 'Guardian 2' or 'The young person'."
    )
    signed: bool
    signature: SignatureOut | None


class WithdrawalOut(Schema):
    signer_id: int
    method: str = Field(description="`oral`, `written` or `portal`.")
    method_label: str
    withdrawn_at: datetime


class ConsentOut(Schema):
    id: int
    case_id: int
    pseudonym: str
    youth_label: str = Field(
        description="The youth's name where identity is shown to the caller, else the pseudonym."
    )
    identity_shown: bool
    purpose: str
    purpose_label: str
    state: State = Field(
        description="Derived at the moment of the request: `pending` until every required "
        "signer has signed (and before `valid_from`), then `active`, then `expired` or "
        "`withdrawn`."
    )
    state_label: str
    agencies: list[ConsentAgencyOut] = Field(description="The agencies that may share.")
    categories: list[ConsentCategoryOut] = Field(description="What they may share.")
    valid_from: datetime
    valid_until: datetime = Field(description="The end: the start of the day after the last day.")
    last_day: date = Field(description="The last whole day the consent covers (Swedish time).")
    ends_at: datetime = Field(
        description="The earliest of: `valid_until`, the withdrawal, and the youth's 18th "
        "birthday where the youth has not signed."
    )
    language: str = Field(description="The language of the printed form: `sv` or `en`.")
    created_at: datetime
    signers: list[SignerOut] = Field(description="Everyone who must sign, in order.")
    withdrawal: WithdrawalOut | None


class DisclosedOut(Schema):
    agency: RefOut
    entries: int = Field(description="How many entries first reached that agency under it.")


class ConsentDetailOut(ConsentOut):
    disclosed: list[DisclosedOut] = Field(
        description="Per receiving agency, the entries disclosed under this consent. They stay "
        "with the recipient after a withdrawal."
    )


class ConsentListOut(Schema):
    case_id: int
    may_manage: bool = Field(
        description="Whether the caller may draw up consents and record signatures here."
    )
    may_record_withdrawal: bool
    consents: list[ConsentOut] = Field(description="Newest first.")


class ConsentIn(JsonIn):
    agency_ids: list[int] = Field(
        max_length=50,
        description="At least two agencies of the case's collaboration group (or the raising "
        "agency).",
    )
    category_ids: list[int] = Field(
        max_length=100, description="Information categories of the chosen agencies' sectors."
    )
    valid_from: date = Field(description="The first day; not in the past.")
    valid_until: date = Field(
        description="The last day; at most `SAMVERKAN_CONSENT_MAX_MONTHS` months on."
    )
    youth_also_signs: bool = Field(
        False,
        description="The youth signs too although younger than the age where that is the rule.",
    )
    language: str = Field("sv", max_length=5, description="Language of the form: `sv` or `en`.")


class SignatureIn(JsonIn):
    signer_id: int
    method: Literal["in_person", "paper"] = Field(
        description="`in_person` (witnessed by the caller) or `paper` (with the scanned form, "
        "sent as multipart/form-data)."
    )
    signed_on: date | None = Field(
        None, description="The date on the form; today when left out. Not in the future."
    )
    maturity_assessment: str = Field(
        "",
        max_length=4000,
        description="Required when the young person signs below the age where that is the rule.",
    )


class WithdrawalIn(JsonIn):
    signer_id: int = Field(description="The signer who withdrew it.")
    method: Literal["oral", "written"] = Field(description="How the signer withdrew it.")


# --- Helpers ---------------------------------------------------------------------------------


def _consent_out(view: selectors.ConsentView) -> dict[str, Any]:
    consent = view.consent
    withdrawal = getattr(consent, "withdrawal", None)
    signers = []
    for signer_view in view.signers:
        signature = signer_view.signature
        signers.append(
            SignerOut(
                id=signer_view.signer.pk,
                kind=signer_view.signer.kind,
                label=signer_view.label,
                signed=signature is not None,
                signature=None
                if signature is None
                else SignatureOut(
                    method=signature.method,
                    method_label=str(SignatureMethod(signature.method).label),
                    signed_at=signature.signed_at,
                    signed_on=signature.signed_on,
                    recorded_by=signature.recorded_by.username
                    if signature.recorded_by is not None
                    else None,
                    evidence=signature.evidence_id is not None,
                    awaiting_confirmation=signer_view.awaiting_confirmation,
                    confirmed_by=signature.confirmed_by.username
                    if signature.confirmed_by is not None
                    else None,
                    confirmed_at=signature.confirmed_at,
                ),
            )
        )
    return {
        "id": consent.pk,
        "case_id": consent.case_id,
        "pseudonym": consent.youth.pseudonym,
        "youth_label": view.youth_label,
        "identity_shown": view.identity_shown,
        "purpose": consent.purpose,
        "purpose_label": str(Purpose(consent.purpose).label),
        "state": view.state,
        "state_label": str(STATE_LABELS[view.state]),
        "agencies": [
            ConsentAgencyOut(id=a.pk, name=a.name, sector=a.sector) for a in view.agencies
        ],
        "categories": [
            ConsentCategoryOut(id=c.pk, sector=c.sector, code=c.code, label=str(c.label))
            for c in sorted(consent.categories.all(), key=lambda c: (c.sector, c.order, c.pk))
        ],
        "valid_from": consent.valid_from,
        "valid_until": consent.valid_until,
        # Counted on the Swedish calendar: a day is not 24 hours when the clocks change.
        "last_day": timezone.localtime(consent.valid_until).date() - timedelta(days=1),
        "ends_at": view.active_until,
        "language": consent.language,
        "created_at": consent.created_at,
        "signers": signers,
        "withdrawal": None
        if withdrawal is None
        else WithdrawalOut(
            signer_id=withdrawal.signer_id,
            method=withdrawal.method,
            method_label=str(WithdrawalMethod(withdrawal.method).label),
            withdrawn_at=withdrawal.withdrawn_at,
        ),
    }


def _detail_out(view: selectors.ConsentView) -> ConsentDetailOut:
    return ConsentDetailOut(
        **_consent_out(view),
        disclosed=[
            DisclosedOut(agency=RefOut(id=agency.pk, name=agency.name), entries=count)
            for agency, count in view.disclosed
        ],
    )


def _signer(view: selectors.ConsentView, signer_id: int) -> RequiredSigner:
    signer = next((s.signer for s in view.signers if s.signer.pk == signer_id), None)
    if signer is None:
        raise ValidationError({"signer_id": [_("That person is not a signer of this consent.")]})
    return signer


def _signature_schema(*, multipart: bool) -> dict[str, Any]:
    schema = copy.deepcopy(SignatureIn.model_json_schema())
    if multipart:
        # A form has no null: leave the date out instead.
        schema["properties"]["signed_on"] = {"type": "string", "format": "date"}
        schema["properties"]["evidence"] = {
            "type": "string",
            "format": "binary",
            "description": "The scanned, signed form: PDF, JPEG or PNG, at most "
            "`SAMVERKAN_CONSENT_EVIDENCE_MAX_MB` MB. Required for `paper`, refused for "
            "`in_person`.",
        }
    return schema


_SIGNATURE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _signature_schema(multipart=False)},
            "multipart/form-data": {"schema": _signature_schema(multipart=True)},
        },
    }
}


def _signature_payload(request: HttpRequest) -> tuple[SignatureIn, UploadedFile | None]:
    """The body as JSON (in person) or as multipart/form-data (with the scanned form)."""
    evidence: UploadedFile | None = None
    data: Any
    if request.content_type == "multipart/form-data":
        data = {key: value for key, value in request.POST.items() if value != ""}
        files = request.FILES.getlist("evidence")
        if len(files) > 1:
            raise HttpError(400, "Send one scanned form per signature.")
        evidence = files[0] if files else None
        source = "form"
    else:
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "Cannot parse request body") from None
        source = "body"
    try:
        # The request tells the JSON type check a form (text) from a JSON body.
        return SignatureIn.model_validate(data, context={"request": request}), evidence
    except pydantic.ValidationError as exc:
        # The shape django-ninja gives its own 422s, without echoing what was sent.
        errors = [
            {"type": e["type"], "loc": [source, "payload", *e["loc"]], "msg": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


def _require_manage(user: User, case: Case) -> None:
    if not rules.can_manage_consents(user, case):
        raise HttpError(
            403,
            "Only the group's coordinator or the raising agency obtains consent on an open case.",
        )


# --- Endpoints -------------------------------------------------------------------------------


@cases_router.get(
    "/{case_id}/consents",
    response={200: ConsentListOut, 404: ErrorOut},
    summary="The consents of a case, newest first (the case's team and its coordinator)",
)
def consent_list(request: HttpRequest, case_id: int) -> ConsentListOut:
    listing = selectors.case_consents(viewer=caller(request), case_pk=case_id)
    return ConsentListOut(
        case_id=listing.case.pk,
        may_manage=listing.may_manage,
        may_record_withdrawal=listing.may_record_withdrawal,
        consents=[ConsentOut(**_consent_out(view)) for view in listing.consents],
    )


@cases_router.post(
    "/{case_id}/consents",
    response={201: ConsentDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Draw up a consent for the signers to sign (needs the write scope)",
)
def consent_create(
    request: HttpRequest, case_id: int, payload: ConsentIn
) -> Status[ConsentDetailOut]:
    user = caller(request)
    case = selectors.consent_case(viewer=user, case_pk=case_id)
    require_scope(request, Scope.WRITE)
    _require_manage(user, case)
    consent = services.consent_create(
        actor=user,
        case=case,
        agency_ids=payload.agency_ids,
        category_ids=payload.category_ids,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        youth_also_signs=payload.youth_also_signs,
        language=payload.language,
    )
    return Status(201, _detail_out(selectors.consent_get(viewer=user, pk=consent.pk)))


@router.get(
    "/{consent_id}",
    response={200: ConsentDetailOut, 404: ErrorOut},
    summary="One consent with its signers and what was disclosed under it",
)
def consent_detail(request: HttpRequest, consent_id: int) -> ConsentDetailOut:
    return _detail_out(selectors.consent_get(viewer=caller(request), pk=consent_id))


@router.post(
    "/{consent_id}/signatures",
    response={201: ConsentDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Record a signature given in person or on paper (needs the write scope)",
    openapi_extra=_SIGNATURE_BODY,
)
def signature_create(request: HttpRequest, consent_id: int) -> Status[ConsentDetailOut]:
    user = caller(request)
    view = selectors.consent_get(viewer=user, pk=consent_id)
    require_scope(request, Scope.WRITE)
    _require_manage(user, view.consent.case)
    payload, evidence = _signature_payload(request)
    services.signature_record(
        actor=user,
        signer=_signer(view, payload.signer_id),
        method=payload.method,
        signed_on=payload.signed_on,
        evidence=evidence,
        maturity_assessment=payload.maturity_assessment,
    )
    return Status(201, _detail_out(selectors.consent_get(viewer=user, pk=consent_id)))


@router.post(
    "/{consent_id}/signatures/{signer_id}/confirm",
    response={200: ConsentDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Confirm, as a second staff member, a signature another recorded (needs the write "
    "scope; only where the deployment requires confirmation)",
)
def signature_confirm(
    request: HttpRequest, consent_id: int, signer_id: int
) -> Status[ConsentDetailOut]:
    user = caller(request)
    view = selectors.consent_get(viewer=user, pk=consent_id)
    signer = next((s for s in view.signers if s.signer.pk == signer_id), None)
    if signer is None or signer.signature is None:
        raise Http404
    require_scope(request, Scope.WRITE)
    _require_manage(user, view.consent.case)
    try:
        services.signature_confirm(actor=user, signature=signer.signature)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return Status(200, _detail_out(selectors.consent_get(viewer=user, pk=consent_id)))


@router.post(
    "/{consent_id}/withdrawal",
    response={201: ConsentDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Record that a signer withdrew the consent, orally or in writing (needs the write "
    "scope); it takes effect at once",
)
def withdrawal_create(
    request: HttpRequest, consent_id: int, payload: WithdrawalIn
) -> Status[ConsentDetailOut]:
    user = caller(request)
    view = selectors.consent_get(viewer=user, pk=consent_id)
    require_scope(request, Scope.WRITE)
    if not rules.can_record_withdrawal(user, view.consent.case):
        raise HttpError(403, "You may not record a withdrawal on this case.")
    services.consent_withdraw(
        consent=view.consent,
        signer=_signer(view, payload.signer_id),
        method=payload.method,
        actor=user,
    )
    return Status(201, _detail_out(selectors.consent_get(viewer=user, pk=consent_id)))
