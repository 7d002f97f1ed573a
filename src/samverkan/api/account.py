"""The caller's own part of the API: /me and /tokens (mounted at the root by
``samverkan.web.api``).

Each operation keeps the ``operation_id`` it had when it was defined on the ``NinjaAPI`` object
in ``samverkan.api.api``: clients generated from the OpenAPI document name their methods by it.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from samverkan.api.auth import require_scope
from samverkan.api.conventions import ErrorOut, caller
from samverkan.api.models import Scope
from samverkan.api.selectors import token_get, token_list
from samverkan.api.services import token_revoke
from samverkan.organisations.selectors import groups_of, memberships_of

router = Router()


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


@router.get(
    "/me",
    response=MeOut,
    summary="The caller's identity, agencies and roles",
    operation_id="samverkan_api_api_me",
)
def me(request: HttpRequest) -> MeOut:
    user = caller(request)
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


@router.get(
    "/tokens",
    response=list[TokenOut],
    summary="The caller's own tokens",
    operation_id="samverkan_api_api_tokens",
)
def tokens(request: HttpRequest) -> list[TokenOut]:
    mine = token_list(viewer=caller(request))
    return [TokenOut.model_validate(t, from_attributes=True) for t in mine]


@router.delete(
    "/tokens/{token_id}",
    response={200: TokenOut, 403: ErrorOut, 404: ErrorOut},
    summary="Revoke one of the caller's tokens (needs the write scope)",
    operation_id="samverkan_api_api_revoke_token",
)
def revoke_token(request: HttpRequest, token_id: int) -> TokenOut:
    user = caller(request)
    token = token_get(viewer=user, pk=token_id)
    require_scope(request, Scope.WRITE)
    revoked = token_revoke(actor=user, token=token)
    return TokenOut.model_validate(revoked, from_attributes=True)
