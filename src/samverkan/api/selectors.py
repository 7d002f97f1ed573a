from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from samverkan.api.models import ApiToken

if TYPE_CHECKING:
    from samverkan.accounts.models import User


def token_list(*, viewer: User) -> QuerySet[ApiToken]:
    """A user's own tokens; nobody else's, administrators included."""
    return ApiToken.objects.filter(user=viewer).order_by("-created_at")


def token_get(*, viewer: User, pk: int) -> ApiToken:
    try:
        return token_list(viewer=viewer).get(pk=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
