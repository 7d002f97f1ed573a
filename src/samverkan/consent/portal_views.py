"""Pages of the guardian portal (``/portal/``), for guardians and young people.

The portal has its own login, apart from staff accounts: the session holds only the subject's
kind and id (``portal_subject``), is given a new key at login and logout, and ends after
``portal.IDLE_TIMEOUT_SECONDS`` without a request. A staff login grants nothing here, and a
portal login nothing on staff pages (they look at ``request.user`` only). E-mail addresses,
codes and identity numbers travel only in POST bodies, never in a URL. Every page works
without JavaScript.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.consent import eid, eid_dev, portal
from samverkan.consent.portal import LoginRefusedError, PortalSubject
from samverkan.lib.forms import add_validation_errors

SUBJECT = "portal_subject"
SEEN = "portal_seen"
CHALLENGE = "portal_challenge"
EID_ORDER = "portal_eid"

View = Callable[..., HttpResponse]


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=254)


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=12)


class DevEidForm(forms.Form):
    identity_number = forms.CharField(
        label=gettext_lazy("Personal identity number"),
        max_length=20,
        help_text=gettext_lazy("12 digits, for example YYYYMMDD-NNNN."),
    )


# --- Session -------------------------------------------------------------------------------


def _ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _subject_of(request: HttpRequest) -> PortalSubject | None:
    stored = request.session.get(SUBJECT)
    if not isinstance(stored, dict) or stored.get("kind") not in (portal.GUARDIAN, portal.YOUTH):
        return None
    return PortalSubject(kind=stored["kind"], id=int(stored["id"]))


def _forget(request: HttpRequest) -> None:
    for key in (SUBJECT, SEEN, CHALLENGE, EID_ORDER):
        request.session.pop(key, None)
    request.session.cycle_key()


def _log_in(request: HttpRequest, subject: PortalSubject) -> None:
    request.session.pop(CHALLENGE, None)
    request.session.cycle_key()  # a key seen before login is worth nothing after it
    request.session[SUBJECT] = {"kind": subject.kind, "id": subject.id}
    request.session[SEEN] = time.time()


def _current_subject(request: HttpRequest) -> PortalSubject | None:
    """The logged-in subject; None, with the session ended, after the idle timeout."""
    subject = _subject_of(request)
    if subject is None:
        return None
    now = time.time()
    seen = float(request.session.get(SEEN, 0))
    if now - seen > portal.IDLE_TIMEOUT_SECONDS:
        portal.logout_record(subject, reason="idle")
        _forget(request)
        messages.info(request, _("You were logged out after 15 minutes without activity."))
        return None
    if now - seen >= 30:
        request.session[SEEN] = now
    return subject


def portal_login_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        subject = _current_subject(request)
        if subject is None:
            return redirect("portal:login")
        return view(request, subject, *args, **kwargs)

    return wrapper


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("portal_subject", _subject_of(request))
    context.setdefault("eid_available", eid.is_available())
    return render(request, f"portal/{template}", context, status=status)


# --- Login ---------------------------------------------------------------------------------


@never_cache
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    if _current_subject(request) is not None:
        return redirect("portal:consent_list")
    return redirect("portal:login")


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one of the code login: the address, by POST. The answer is the same page for every
    address (the code page), so no one learns whether an address is recorded."""
    if _current_subject(request) is not None:
        return redirect("portal:consent_list")
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = portal.login_code_request(email=form.cleaned_data["email"], ip=_ip(request))
        except LoginRefusedError as exc:
            form.add_error(None, exc.message)
        else:
            request.session[CHALLENGE] = challenge
            return redirect("portal:code")
    return _render(request, "login.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    challenge = request.session.get(CHALLENGE)
    if not challenge:
        return redirect("portal:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subject = portal.login_code_verify(
                challenge=str(challenge), code=form.cleaned_data["code"], ip=_ip(request)
            )
        except LoginRefusedError as exc:
            if exc.reason in ("locked", "expired", "missing", "shared_address"):
                request.session.pop(CHALLENGE, None)
                messages.error(request, exc.message)
                return redirect("portal:login")
            form.add_error("code", exc.message)
        else:
            _log_in(request, subject)
            return redirect("portal:consent_list")
    return _render(
        request,
        "code.html",
        {"form": form, "minutes": int(portal.CODE_LIFETIME.total_seconds() // 60)},
    )


@never_cache
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    subject = _subject_of(request)
    if subject is not None:
        portal.logout_record(subject)
    _forget(request)
    messages.success(request, _("You have logged out."))
    return redirect("portal:login")


# --- e-ID ----------------------------------------------------------------------------------


def _provider() -> eid.EidProvider:
    try:
        return eid.get_provider()
    except ImproperlyConfigured:
        raise Http404 from None


def _start_order(
    request: HttpRequest, *, purpose: eid.EidPurpose, text: str = "", **extra: Any
) -> HttpResponse:
    provider = _provider()
    if not portal.eid_start_allowed(ip=_ip(request)):
        messages.error(request, _("Too many attempts. Wait a quarter of an hour and try again."))
        return redirect(
            "portal:login" if purpose == eid.EidPurpose.LOGIN else "portal:consent_list"
        )
    try:
        started = provider.start(purpose=purpose, end_user_ip=_ip(request), text_to_sign=text)
    except eid.EidError:
        messages.error(request, _("The e-ID service could not be reached. Try again later."))
        return redirect(
            "portal:login" if purpose == eid.EidPurpose.LOGIN else "portal:consent_list"
        )
    # The reference stays in the session: collecting takes it from there, never from the request.
    request.session[EID_ORDER] = {
        "reference": started.reference,
        "purpose": str(purpose),
        "launch_url": started.launch_url,
        "text_sha256": eid.text_sha256(text) if text else "",
        **extra,
    }
    return redirect("portal:eid_wait")


@never_cache
@require_POST
def eid_login_view(request: HttpRequest) -> HttpResponse:
    if _current_subject(request) is not None:
        return redirect("portal:consent_list")
    return _start_order(request, purpose=eid.EidPurpose.LOGIN)


@never_cache
@require_http_methods(["GET", "POST"])
def eid_wait_view(request: HttpRequest) -> HttpResponse:
    """Waiting for the person to approve in their e-ID app; "Continue" collects the order."""
    order = request.session.get(EID_ORDER)
    if not isinstance(order, dict):
        return redirect("portal:home")
    is_sign = order["purpose"] == eid.EidPurpose.SIGN
    subject = _current_subject(request) if is_sign else None
    if is_sign and subject is None:
        request.session.pop(EID_ORDER, None)
        return redirect("portal:login")
    if request.method == "POST":
        result = _provider().collect(order["reference"])
        if result.status == eid.EidStatus.PENDING:
            messages.info(request, _("The e-ID has not been approved yet."))
            return redirect("portal:eid_wait")
        request.session.pop(EID_ORDER, None)
        if result.status == eid.EidStatus.FAILED or result.completion is None:
            messages.error(request, _eid_failure(result.hint))
            if is_sign:
                return redirect("portal:consent_detail", pk=order["consent"])
            return redirect("portal:login")
        if is_sign:
            assert subject is not None  # noqa: S101 (checked above)
            return _finish_signing(request, subject, order, result.completion)
        try:
            subject = portal.subject_for_identity(identity_number=result.completion.identity_number)
        except LoginRefusedError as exc:
            messages.error(request, exc.message)
            return redirect("portal:login")
        _log_in(request, subject)
        return redirect("portal:consent_list")
    return _render(
        request,
        "eid_wait.html",
        {
            "is_sign": is_sign,
            "launch_url": order["launch_url"],
            "development": eid.is_development(),
        },
    )


def _finish_signing(
    request: HttpRequest,
    subject: PortalSubject,
    order: dict[str, Any],
    completion: eid.EidCompletion,
) -> HttpResponse:
    try:
        portal.consent_sign(
            subject=subject,
            pk=int(order["consent"]),
            signer_pk=int(order["signer"]),
            expected_text_sha256=order["text_sha256"],
            completion=completion,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Thank you. Your signature has been recorded."))
    return redirect("portal:consent_detail", pk=int(order["consent"]))


def _eid_failure(hint: str) -> str:
    if hint == "user_cancel":
        return _("The e-ID was cancelled.")
    if hint == "expired":
        return _("The e-ID order expired before it was approved. Please start again.")
    return _("The e-ID could not be completed. Please start again.")


@never_cache
@require_POST
def eid_cancel_view(request: HttpRequest) -> HttpResponse:
    order = request.session.pop(EID_ORDER, None)
    if isinstance(order, dict):
        _provider().cancel(order["reference"])
        messages.info(request, _("The e-ID was cancelled."))
        if order["purpose"] == eid.EidPurpose.SIGN:
            return redirect("portal:consent_detail", pk=int(order["consent"]))
    return redirect("portal:home")


@never_cache
@require_http_methods(["GET", "POST"])
def eid_dev_view(request: HttpRequest, reference: str) -> HttpResponse:
    """The development provider's stand-in for the e-ID app: not real identification."""
    if not eid.is_development():
        raise Http404
    order = eid_dev.order_view(reference)
    if order is None:
        raise Http404
    form = DevEidForm(request.POST or None)
    answered = ""
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "cancel":
                eid_dev.order_cancel(reference=reference)
                answered = "cancelled"
            elif form.is_valid():
                eid_dev.order_approve(
                    reference=reference, identity_number=form.cleaned_data["identity_number"]
                )
                answered = "approved"
        except ValidationError as exc:
            add_validation_errors(form, exc)
        # The template never writes the typed number back into the field, right or wrong.
        order = eid_dev.order_view(reference) or order
    return _render(
        request,
        "eid_dev.html",
        {"order": order, "form": form, "answered": answered, "portal_subject": None},
    )


# --- Consents ------------------------------------------------------------------------------


@never_cache
@require_GET
@portal_login_required
def consent_list_view(request: HttpRequest, subject: PortalSubject) -> HttpResponse:
    return _render(
        request,
        "consent_list.html",
        {"consents": portal.consent_list(subject=subject), "is_youth": subject.kind == "youth"},
    )


@never_cache
@require_GET
@portal_login_required
def consent_detail_view(request: HttpRequest, subject: PortalSubject, pk: int) -> HttpResponse:
    return _render(
        request,
        "consent_detail.html",
        {"c": portal.consent_get(subject=subject, pk=pk), "is_youth": subject.kind == "youth"},
    )


@never_cache
@require_POST
@portal_login_required
def consent_sign_view(request: HttpRequest, subject: PortalSubject, pk: int) -> HttpResponse:
    """Start an e-ID signing order for the subject's own signature. A guardian who logged in
    with an e-mail code signs with e-ID all the same: the e-ID is the signature."""
    try:
        view, text = portal.sign_prepare(subject=subject, pk=pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("portal:consent_detail", pk=pk)
    return _start_order(
        request, purpose=eid.EidPurpose.SIGN, text=text, consent=view.number, signer=view.mine.pk
    )


@never_cache
@require_http_methods(["GET", "POST"])
@portal_login_required
def consent_withdraw_view(request: HttpRequest, subject: PortalSubject, pk: int) -> HttpResponse:
    """A confirmation page (GET), then the withdrawal itself (POST with ``confirm=yes``)."""
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            portal.consent_withdraw_by_subject(subject=subject, pk=pk)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _(
                    "Your consent has been withdrawn. From now on no information is shared "
                    "under it."
                ),
            )
        return redirect("portal:consent_detail", pk=pk)
    try:
        view = portal.withdraw_prepare(subject=subject, pk=pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("portal:consent_detail", pk=pk)
    return _render(
        request,
        "withdraw_confirm.html",
        {"c": view, "is_youth": subject.kind == "youth", "missing": request.method == "POST"},
    )


@never_cache
@require_GET
@portal_login_required
def access_log_view(request: HttpRequest, subject: PortalSubject) -> HttpResponse:
    log = portal.access_log(subject=subject, page_number=request.GET.get("page"))
    return _render(request, "access_log.html", {"log": log, "is_youth": subject.kind == "youth"})
