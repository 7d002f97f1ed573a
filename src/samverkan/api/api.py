"""The HTTP API at /api/v1/. It reads through the same selectors and rules as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.http import HttpRequest
from ninja import Schema

from samverkan.accounts.models import User
from samverkan.api.auth import BearerToken, require_scope
from samverkan.api.errors import ErrorOut
from samverkan.api.idempotency import idempotent
from samverkan.api.models import Scope
from samverkan.api.openapi import DocumentedErrorsAPI
from samverkan.api.selectors import token_get, token_list
from samverkan.api.services import token_revoke
from samverkan.organisations.selectors import groups_of, memberships_of

api = DocumentedErrorsAPI(
    title="Samverkan API",
    version="1",
    description=(
        "Personal access tokens: `Authorization: Bearer svk_…`, created with "
        "`samverkan token create` or on the account page."
    ),
    urls_namespace="api-v1",
    docs_url=None,  # the interactive docs page loads scripts from a CDN; the CSP forbids that
    openapi_url="/openapi.json",
    auth=BearerToken(),
)
api.add_decorator(idempotent, mode="view")  # the Idempotency-Key header on writes


def _register_routers() -> None:
    # Imported here, after ``api`` exists, because the routers' modules import this one's
    # schemas and helpers.
    from samverkan.cases.api import router as cases_router
    from samverkan.consent.api import cases_router as case_consents_router
    from samverkan.consent.api import router as consents_router
    from samverkan.meetings.api import router as meetings_router
    from samverkan.promises.api import agreements_router, promises_router
    from samverkan.stats.api import router as stats_router

    api.add_router("/cases", cases_router)
    api.add_router("/cases", case_consents_router)
    api.add_router("/consents", consents_router)
    api.add_router("/meetings", meetings_router)
    api.add_router("/promises", promises_router)  # anonymous: published agreements only
    api.add_router("/agreements", agreements_router)
    api.add_router("/stats", stats_router)


class AgencyOut(Schema):
    id: int
    name: str
    sector: str
    role: str


class GroupOut(Schema):
    id: int
    name: str
    municipality: str
    agency_id: int
    role: str


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    agencies: list[AgencyOut]
    groups: list[GroupOut]
    token_scope: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _caller(request: HttpRequest) -> User:
    """The token's owner; BearerToken has already refused every request without one."""
    return cast("User", request.user)


@api.get("/me", response=MeOut, summary="The caller's identity, agencies and roles")
def me(request: HttpRequest) -> MeOut:
    user = _caller(request)
    return MeOut(
        id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        agencies=[
            AgencyOut(id=m.agency_id, name=m.agency.name, sector=m.agency.sector, role=m.role)
            for m in memberships_of(user=user)
        ],
        groups=[
            GroupOut(
                id=g.group_id,
                name=g.group.name,
                municipality=g.group.municipality.name,
                agency_id=g.agency_id,
                role=g.role,
            )
            for g in groups_of(user=user)
        ],
        token_scope=request.api_token.scope,  # type: ignore[attr-defined]
    )


@api.get("/tokens", response=list[TokenOut], summary="The caller's own tokens")
def tokens(request: HttpRequest) -> list[TokenOut]:
    mine = token_list(viewer=_caller(request))
    return [TokenOut.model_validate(t, from_attributes=True) for t in mine]


@api.delete(
    "/tokens/{token_id}",
    response={200: TokenOut, 403: ErrorOut, 404: ErrorOut},
    summary="Revoke one of the caller's tokens (needs the write scope)",
)
def revoke_token(request: HttpRequest, token_id: int) -> TokenOut:
    user = _caller(request)
    token = token_get(viewer=user, pk=token_id)
    require_scope(request, Scope.WRITE)
    revoked = token_revoke(actor=user, token=token)
    return TokenOut.model_validate(revoked, from_attributes=True)


_register_routers()
