"""Pages of the guardian portal (``/portal/``), for guardians and young people.

The portal has its own login, apart from staff accounts (``portal.session``). E-mail addresses,
codes and identity numbers travel only in POST bodies, never in a URL. Every page works
without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.lib.forms import add_validation_errors
from samverkan.portal import eid, eid_dev, selectors, services
from samverkan.portal.forms import CodeForm, DevEidForm, EmailForm
from samverkan.portal.session import (
    CHALLENGE,
    EID_ORDER,
    client_ip,
    current_subject,
    forget,
    log_in,
    portal_login_required,
    subject_of,
)
from samverkan.portal.subjects import LoginRefusedError, PortalSubject


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("portal_subject", subject_of(request))
    context.setdefault("eid_available", eid.is_available())
    return render(request, f"portal/{template}", context, status=status)


# --- Login ---------------------------------------------------------------------------------


@never_cache
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    if current_subject(request) is not None:
        return redirect("portal:consent_list")
    return redirect("portal:login")


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one of the code login: the address, by POST. The answer is the same page for every
    address (the code page), so no one learns whether an address is recorded."""
    if current_subject(request) is not None:
        return redirect("portal:consent_list")
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.login_code_request(
                email=form.cleaned_data["email"], ip=client_ip(request)
            )
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
            subject = services.login_code_verify(
                challenge=str(challenge), code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except LoginRefusedError as exc:
            if exc.reason in ("locked", "expired", "missing", "shared_address"):
                request.session.pop(CHALLENGE, None)
                messages.error(request, exc.message)
                return redirect("portal:login")
            form.add_error("code", exc.message)
        else:
            log_in(request, subject)
            return redirect("portal:consent_list")
    return _render(
        request,
        "code.html",
        {"form": form, "minutes": int(services.CODE_LIFETIME.total_seconds() // 60)},
    )


@never_cache
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    subject = subject_of(request)
    if subject is not None:
        services.logout_record(subject)
    forget(request)
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
    if not services.eid_start_allowed(ip=client_ip(request)):
        messages.error(request, _("Too many attempts. Wait a quarter of an hour and try again."))
        return redirect(
            "portal:login" if purpose == eid.EidPurpose.LOGIN else "portal:consent_list"
        )
    try:
        started = provider.start(purpose=purpose, end_user_ip=client_ip(request), text_to_sign=text)
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
    if current_subject(request) is not None:
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
    subject = current_subject(request) if is_sign else None
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
            subject = services.subject_for_identity(
                identity_number=result.completion.identity_number
            )
        except LoginRefusedError as exc:
            messages.error(request, exc.message)
            return redirect("portal:login")
        log_in(request, subject)
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
        services.consent_sign(
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
        {"consents": selectors.consent_list(subject=subject), "is_youth": subject.kind == "youth"},
    )


@never_cache
@require_GET
@portal_login_required
def consent_detail_view(request: HttpRequest, subject: PortalSubject, pk: int) -> HttpResponse:
    return _render(
        request,
        "consent_detail.html",
        {"c": selectors.consent_get(subject=subject, pk=pk), "is_youth": subject.kind == "youth"},
    )


@never_cache
@require_POST
@portal_login_required
def consent_sign_view(request: HttpRequest, subject: PortalSubject, pk: int) -> HttpResponse:
    """Start an e-ID signing order for the subject's own signature. A guardian who logged in
    with an e-mail code signs with e-ID all the same: the e-ID is the signature."""
    try:
        view, text = selectors.sign_prepare(subject=subject, pk=pk)
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
            services.consent_withdraw_by_subject(subject=subject, pk=pk)
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
        view = selectors.withdraw_prepare(subject=subject, pk=pk)
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
    log = selectors.access_log(subject=subject, page_number=request.GET.get("page"))
    return _render(request, "access_log.html", {"log": log, "is_youth": subject.kind == "youth"})
