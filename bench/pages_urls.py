"""The project's URLs plus two bench-only pages behind the same middleware and login.

- ``/bench/bare/``: the smallest signed-in answer, a few bytes of text: what the middleware,
  the session and the login check cost with no page around them;
- ``/bench/layout/``: ``base.html`` with empty blocks: that plus the site's layout (header,
  navigation from the context processors, language form).

Both send an anonymous visitor to the login page exactly as the project's views do
(``samverkan.lib.http.acting_user``). For ``bench/pages.py`` only.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.http import require_GET

from samverkan.lib.http import acting_user
from samverkan.urls import urlpatterns as project_urlpatterns


@require_GET
def bare_view(request: HttpRequest) -> HttpResponse:
    acting_user(request)
    return HttpResponse(b"ok\n", content_type="text/plain; charset=utf-8")


@require_GET
def layout_view(request: HttpRequest) -> HttpResponse:
    acting_user(request)
    return render(request, "base.html")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/bare/", bare_view, name="bench_bare"),
    path("bench/layout/", layout_view, name="bench_layout"),
    *cast("list[URLPattern | URLResolver]", project_urlpatterns),
]
