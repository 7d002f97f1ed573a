"""Staff pages for consent: the case's consents, one consent with its signers, recording
signatures and withdrawals, the scanned form, and statutory disclosure of one entry.

Reads go through ``consent.selectors`` (404 for anyone but the case's team and coordinator),
writes through ``consent.services``.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.reauthentication import is_reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.cases import rules as case_rules
from samverkan.cases.models import Case, Entry
from samverkan.consent import rules, selectors, services
from samverkan.consent.documents.document import receipt_available
from samverkan.consent.documents.uploads import EXTENSIONS
from samverkan.consent.forms import (
    ConsentForm,
    SignatureForm,
    StatutoryBasisChoiceForm,
    StatutoryDisclosureForm,
    WithdrawalForm,
)
from samverkan.consent.models import RequiredSigner
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure import statutory
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user
from samverkan.organisations.models import Agency


def _consent_form(case: Case, data: QueryDict | None = None) -> ConsentForm:
    agencies = services.consent_agency_choices(case)
    categories = [
        (c.pk, f"{c.get_sector_display()}: {c.label}")
        for c in case_rules.categories_for(agencies, general=False)
    ]
    return ConsentForm(
        data,
        agencies=[(a.pk, f"{a.name} ({a.get_sector_display()})") for a in agencies],
        categories=categories,
    )


@require_http_methods(["GET", "POST"])
def case_consents_view(request: HttpRequest, case_pk: int) -> HttpResponse:
    user = acting_user(request)
    listing = selectors.case_consents(viewer=user, case_pk=case_pk)
    form = None
    if listing.may_manage:
        form = _consent_form(listing.case, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                consent = services.consent_create(
                    actor=user,
                    case=listing.case,
                    agency_ids=[int(pk) for pk in data["agencies"]],
                    category_ids=[int(pk) for pk in data["categories"]],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    youth_also_signs=data["youth_also_signs"],
                    language=data["language"],
                )
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Consent #%(n)s has been drawn up. Print the form for the signers.")
                    % {"n": consent.pk},
                )
                return redirect("consent:detail", pk=consent.pk)
        status = 400
    else:
        status = 200
    context = {
        "listing": listing,
        "form": form,
        "youth_signs_from_age": settings.CONSENT_YOUTH_SIGNS_FROM_AGE,
    }
    return render(request, "consent/case_consents.html", context, status=status)


def _detail_page(
    request: HttpRequest,
    view: selectors.ConsentView,
    *,
    signature_forms: dict[int, SignatureForm] | None = None,
    withdrawal_form: WithdrawalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    case = view.consent.case
    may_manage = rules.can_manage_consents(user, case)
    forms_by_signer = signature_forms or {}
    unsigned = []
    for signer in view.signers:
        if not signer.signed:
            form = forms_by_signer.get(signer.signer.pk) or SignatureForm(
                prefix_id=signer.signer.pk
            )
            unsigned.append((signer, form))
    may_withdraw = rules.can_record_withdrawal(user, case) and view.withdrawal is None
    may_confirm = [
        s.signer.pk
        for s in view.signers
        if s.awaiting_confirmation
        and s.signature is not None
        and rules.can_confirm_signature(user, case, s.signature)
    ]
    # Signed by guardians only, and the youth reaches the signing age before it ends: staff can
    # add the youth as a signer, to record their co-signature (DESIGN rule 18).
    has_youth_row = any(s.signer.kind == "youth" for s in view.signers)
    cosign_from = next(
        (later.required_from for later in view.facts.later if later.kind == "youth"), None
    )
    may_add_youth = (
        may_manage
        and not has_youth_row
        and cosign_from is not None
        and cosign_from < view.consent.valid_until
        and view.state in ("pending", "active", "awaiting_cosignature")
    )
    return render(
        request,
        "consent/consent_detail.html",
        {
            "view": view,
            "case": case,
            "may_manage": may_manage,
            "may_sign": may_manage
            and bool(unsigned)
            and view.state in ("pending", "active", "awaiting_cosignature"),
            "may_confirm": may_confirm if view.state in ("pending", "awaiting_cosignature") else [],
            "unsigned": unsigned,
            "may_withdraw": may_withdraw
            and view.state in ("pending", "active", "awaiting_cosignature"),
            "may_add_youth": may_add_youth,
            "youth_cosign_from": cosign_from,
            "awaiting": view.facts.awaiting_at(view.at),
            "withdrawal_form": withdrawal_form
            or WithdrawalForm(signers=[(s.signer.pk, s.label) for s in view.signers]),
            "may_see_evidence": may_manage or view.identity_shown,
            "receipt_available": receipt_available(view),
        },
        status=status,
    )


@require_GET
def consent_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.consent_get(viewer=acting_user(request), pk=pk)
    return _detail_page(request, view)


@require_POST
def signature_add_view(request: HttpRequest, pk: int, signer_pk: int) -> HttpResponse:
    user = acting_user(request)
    view = selectors.consent_get(viewer=user, pk=pk)
    if not rules.can_manage_consents(user, view.consent.case):
        raise PermissionDenied
    signer = next((s.signer for s in view.signers if s.signer.pk == signer_pk), None)
    if signer is None:
        raise Http404
    form = SignatureForm(request.POST, request.FILES, prefix_id=signer_pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.signature_record(
                actor=user,
                signer=signer,
                method=data["method"],
                signed_on=data["signed_on"],
                evidence=data["evidence"] or None,
                maturity_assessment=data["maturity_assessment"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The signature has been recorded."))
            return redirect("consent:detail", pk=pk)
    view = selectors.consent_get(viewer=user, pk=pk)
    return _detail_page(request, view, signature_forms={signer_pk: form}, status=400)


@require_POST
def youth_cosigner_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the youth as a signer of a consent only guardians signed, so that their
    co-signature can be recorded; the guardians need not sign again."""
    user = acting_user(request)
    view = selectors.consent_get(viewer=user, pk=pk)
    if not rules.can_manage_consents(user, view.consent.case):
        raise PermissionDenied
    signer = services.youth_cosigner_ensure(consent=view.consent, actor=user)
    if signer is None:
        messages.error(request, _("This consent can no longer be signed."))
        return redirect("consent:detail", pk=pk)
    return HttpResponseRedirect(reverse("consent:detail", args=[pk]) + f"#sign-{signer.pk}")


@require_POST
def signature_confirm_view(request: HttpRequest, pk: int, signer_pk: int) -> HttpResponse:
    """A second staff member confirms a signature another recorded (where the deployment asks
    for that). The one who recorded it is refused with 403 by the service, which audits it."""
    user = acting_user(request)
    view = selectors.consent_get(viewer=user, pk=pk)
    if not rules.can_manage_consents(user, view.consent.case):
        raise PermissionDenied
    signer = next((s for s in view.signers if s.signer.pk == signer_pk), None)
    if signer is None or signer.signature is None:
        raise Http404
    try:
        services.signature_confirm(actor=user, signature=signer.signature)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _detail_page(request, selectors.consent_get(viewer=user, pk=pk), status=400)
    messages.success(request, _("The signature has been confirmed."))
    return redirect("consent:detail", pk=pk)


@require_POST
def withdrawal_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    view = selectors.consent_get(viewer=user, pk=pk)
    if not rules.can_record_withdrawal(user, view.consent.case):
        raise PermissionDenied
    form = WithdrawalForm(request.POST, signers=[(s.signer.pk, s.label) for s in view.signers])
    if form.is_valid():
        signer = RequiredSigner.objects.get(
            pk=int(form.cleaned_data["signer"]), consent=view.consent
        )
        try:
            services.consent_withdraw(
                consent=view.consent,
                signer=signer,
                method=form.cleaned_data["method"],
                actor=user,
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(
                request,
                _("The withdrawal has been recorded. Nothing more is shared under this consent."),
            )
            return redirect("consent:detail", pk=pk)
    return _detail_page(request, view, withdrawal_form=form, status=400)


@require_GET
def evidence_view(request: HttpRequest, pk: int, signer_pk: int) -> HttpResponse:
    import base64

    evidence = selectors.evidence_get(
        viewer=acting_user(request), consent_pk=pk, signer_pk=signer_pk
    )
    response = HttpResponse(
        base64.b64decode(evidence.content_b64), content_type=evidence.content_type
    )
    # Always a download: a scan served inline could be a document crafted to run in our origin.
    extension = EXTENSIONS.get(evidence.content_type, "")
    response["Content-Disposition"] = f'attachment; filename="consent-{pk}-form{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _disclosure_agencies(
    access: disclosure_selectors.CaseAccess, entry: Entry
) -> list[tuple[int, str]]:
    return [
        (m.agency_id, m.agency.name)
        for m in access.case.team.all()
        if m.removed_at is None and m.agency_id != entry.agency_id
    ]


@require_http_methods(["GET", "POST"])
def statutory_disclosure_view(request: HttpRequest, case_pk: int, entry_pk: int) -> HttpResponse:
    """Two steps, both behind a fresh password (DESIGN rule 17): choose the basis (a GET form),
    then confirm each of its conditions, choose the recipient and justify (the POST)."""
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=case_pk)
    entry_view = disclosure_selectors.entry_history(access, entry_pk)
    if entry_view is None:
        raise Http404
    entry = entry_view.entry
    if not rules.can_disclose_statutory(user, entry):
        raise PermissionDenied
    if request.method == "POST":
        if is_reauthentication_required(request, app=""):
            # Not allauth's decorator: it would keep the POST body (the justification) in the
            # session until the password is given. The person starts the form again instead.
            return _reauthenticate_before_disclosure(request, case_pk, entry_pk)
        return _statutory_disclosure(request, access, entry_view)
    return _statutory_disclosure_form(request, access, entry_view)


def _reauthenticate_before_disclosure(
    request: HttpRequest, case_pk: int, entry_pk: int
) -> HttpResponse:
    methods = get_adapter().get_reauthentication_methods(request.user)
    target = methods[0]["url"] if methods else reverse("account_reauthenticate")
    messages.info(
        request,
        _(
            "Confirm your password before a disclosure without consent. The form was not kept: "
            "fill it in again."
        ),
    )
    next_url = reverse("consent:disclose", args=[case_pk, entry_pk])
    return HttpResponseRedirect(f"{target}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


@reauthentication_required
def _statutory_disclosure_form(
    request: HttpRequest,
    access: disclosure_selectors.CaseAccess,
    entry_view: disclosure_selectors.EntryView,
) -> HttpResponse:
    chooser = StatutoryBasisChoiceForm(request.GET if "basis" in request.GET else None)
    basis = statutory.basis_by_code(chooser.cleaned_data["basis"]) if chooser.is_valid() else None
    form = None
    if basis is not None:
        agencies = sorted(set(_disclosure_agencies(access, entry_view.entry)), key=lambda a: a[1])
        form = StatutoryDisclosureForm(agencies=agencies, basis=basis)
    return _disclosure_page(request, access, entry_view, chooser, basis, form)


def _statutory_disclosure(
    request: HttpRequest,
    access: disclosure_selectors.CaseAccess,
    entry_view: disclosure_selectors.EntryView,
) -> HttpResponse:
    user = acting_user(request)
    entry = entry_view.entry
    basis = statutory.basis_by_code(request.POST.get("basis", ""))
    agencies = sorted(set(_disclosure_agencies(access, entry)), key=lambda a: a[1])
    form = StatutoryDisclosureForm(request.POST, agencies=agencies, basis=basis)
    chooser = StatutoryBasisChoiceForm(initial={"basis": basis.code} if basis else None)
    if form.is_valid():
        try:
            services.statutory_disclose(
                actor=user,
                entry=entry,
                to_agency_id=int(form.cleaned_data["to_agency"]),
                basis_code=form.cleaned_data["basis"],
                justification=form.cleaned_data["justification"],
                conditions_confirmed=form.confirmed_conditions(),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc, aliases={"basis": "basis"})
        else:
            recipient = Agency.objects.get(pk=int(form.cleaned_data["to_agency"]))
            messages.success(
                request,
                _(
                    "The entry has been disclosed to %(agency)s. "
                    "The disclosure is logged for review."
                )
                % {"agency": recipient.name},
            )
            return redirect("cases:entry", pk=access.case.pk, entry_pk=entry.pk)
    return _disclosure_page(request, access, entry_view, chooser, basis, form, status=400)


def _disclosure_page(
    request: HttpRequest,
    access: disclosure_selectors.CaseAccess,
    entry_view: disclosure_selectors.EntryView,
    chooser: StatutoryBasisChoiceForm,
    basis: statutory.StatutoryBasis | None,
    form: StatutoryDisclosureForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    response = render(
        request,
        "consent/statutory_disclosure.html",
        {
            "access": access,
            "entry_view": entry_view,
            "chooser": chooser,
            "basis": basis,
            "form": form,
            "language": translation.get_language(),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
