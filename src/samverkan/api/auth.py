from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from samverkan.api.models import ApiToken, Scope
from samverkan.api.services import token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer svk_…``. Sets ``request.user`` and ``request.api_token``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


def require_scope(request: HttpRequest, scope: Scope) -> None:
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    if not token.allows(scope):
        raise HttpError(403, "This token does not have the scope this action needs.")
