from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _

from samverkan.accounts.mfa import has_second_factor
from samverkan.accounts.services import session_expired
from samverkan.audit.services import request_reads
from samverkan.lib import context

Handler = Callable[[HttpRequest], HttpResponse]


class RequestContextMiddleware:
    """Binds a fresh request id, the source and the client address for the audit log."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = "api" if request.path.startswith("/api/") else "web"
        ip = context.client_ip(request.META, settings.PROXY_COUNT, settings.TRUSTED_PROXIES)
        # Everything after this middleware (allauth's rate limits, django-axes) reads the
        # client's address from REMOTE_ADDR; behind trusted proxies that is the proxy's.
        request.META["REMOTE_ADDR"] = ip or ""
        ctx = context.RequestContext(request_id=context.new_request_id(), source=source, ip=ip)
        with context.bound(ctx), request_reads():
            # The request's reads are appended to the audit log as the block ends, before the
            # response is returned; a failed append raises, and Django answers 500 instead.
            response = self.get_response(request)
        response["X-Request-ID"] = ctx.request_id
        return response


def _is_portal(request: HttpRequest) -> bool:
    """Pages of the guardian portal, which has its own login apart from staff accounts."""
    return request.path.startswith("/portal/")


_LAST_SEEN = "samverkan_last_seen"
_AUTH_AT = "samverkan_authenticated_at"


class SessionTimeoutMiddleware:
    """Ends a session after ``SESSION_IDLE_TIMEOUT`` idle or ``SESSION_ABSOLUTE_TIMEOUT`` in all.

    The idle clock is written at most once a minute so that reading pages does not cost a
    session write on every request.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # The guardian portal keeps its own clock (portal/session.py) and grants nothing
        # to a staff session, so a staff session neither ends nor stays alive there.
        if user is not None and user.is_authenticated and not _is_portal(request):
            now = time.time()
            last_seen = request.session.get(_LAST_SEEN, now)
            auth_at = request.session.setdefault(_AUTH_AT, now)
            idle = now - last_seen > settings.SESSION_IDLE_TIMEOUT
            expired = now - auth_at > settings.SESSION_ABSOLUTE_TIMEOUT
            if idle or expired:
                session_expired(user=user, reason="idle" if idle else "absolute")
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{reverse('account_login')}")
            if now - last_seen >= 60 or _LAST_SEEN not in request.session:
                request.session[_LAST_SEEN] = now
        return self.get_response(request)


class MfaRequiredMiddleware:
    """A signed-in account without a second factor may do nothing but enrol one.

    This is what makes the second factor mandatory: allauth asks for the factor at login once
    one exists, and this middleware closes every other page until it does.
    """

    ALLOWED_URL_NAMES = (
        "mfa_activate_totp",
        "mfa_index",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "account_logout",
        "account_reauthenticate",
        "set_language",
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._allowed: frozenset[str] | None = None

    def _allowed_paths(self) -> frozenset[str]:
        if self._allowed is None:
            self._allowed = frozenset(reverse(name) for name in self.ALLOWED_URL_NAMES)
        return self._allowed

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith((settings.STATIC_URL, "/api/"))
            and not _is_portal(request)
            and request.path not in self._allowed_paths()
            and not has_second_factor(user)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself. Authenticated responses are never cached."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(
            ("/accounts/", "/api/")
        ):
            # A view may let the browser keep a response for this user only, by setting
            # ``response.cache_privately`` with its own "private, max-age=…" (the council's
            # aggregate charts); every other authenticated response is never cached.
            if not getattr(response, "cache_privately", False):
                add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
        return response
