from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from samverkan.lib.fields import search_hash


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The key django-axes counts failures against: one per account name.

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
    # django-axes stores this value. People type identity numbers into login fields, so it keeps
    # a keyed hash of the name, never the name: the counter works the same (DESIGN rule 10).
    return search_hash("login", str(value).strip().lower())
