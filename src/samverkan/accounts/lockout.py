from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account name that django-axes counts failures against.

    allauth authenticates with ``username`` in the credentials; the login form posts the field
    ``login``. Lower-cased because usernames are matched case-insensitively at login, so ``Anna``
    and ``anna`` must share one counter.
    """
    value: Any = None
    if credentials:
        value = credentials.get("username")
    if value is None:
        value = request.POST.get("login") or request.POST.get("username")
    if value is None:
        return None
    return str(value).strip().lower()
