"""The portal's own login session, apart from staff accounts.

The session holds only the subject's kind and id (``SUBJECT``), is given a new key at login and
logout, and ends after ``IDLE_TIMEOUT_SECONDS`` without a request. A staff login grants nothing
here, and a portal login nothing on staff pages (they look at ``request.user`` only).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from samverkan.portal import services
from samverkan.portal.subjects import GUARDIAN, YOUTH, PortalSubject

SUBJECT = "portal_subject"
SEEN = "portal_seen"
CHALLENGE = "portal_challenge"
EID_ORDER = "portal_eid"
IDLE_TIMEOUT_SECONDS = 15 * 60

View = Callable[..., HttpResponse]


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def subject_of(request: HttpRequest) -> PortalSubject | None:
    stored = request.session.get(SUBJECT)
    if not isinstance(stored, dict) or stored.get("kind") not in (GUARDIAN, YOUTH):
        return None
    return PortalSubject(kind=stored["kind"], id=int(stored["id"]))


def forget(request: HttpRequest) -> None:
    for key in (SUBJECT, SEEN, CHALLENGE, EID_ORDER):
        request.session.pop(key, None)
    request.session.cycle_key()


def log_in(request: HttpRequest, subject: PortalSubject) -> None:
    request.session.pop(CHALLENGE, None)
    request.session.cycle_key()  # a key seen before login is worth nothing after it
    request.session[SUBJECT] = {"kind": subject.kind, "id": subject.id}
    request.session[SEEN] = time.time()


def current_subject(request: HttpRequest) -> PortalSubject | None:
    """The logged-in subject; None, with the session ended, after the idle timeout."""
    subject = subject_of(request)
    if subject is None:
        return None
    now = time.time()
    seen = float(request.session.get(SEEN, 0))
    if now - seen > IDLE_TIMEOUT_SECONDS:
        services.logout_record(subject, reason="idle")
        forget(request)
        messages.info(request, _("You were logged out after 15 minutes without activity."))
        return None
    if now - seen >= 30:
        request.session[SEEN] = now
    return subject


def portal_login_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        subject = current_subject(request)
        if subject is None:
            return redirect("portal:login")
        return view(request, subject, *args, **kwargs)

    return wrapper
