"""Downloads of a consent's documents: the printable form, the receipt (PDF and JSON) and the
FHIR R4 export.

Each reads the consent through ``consent.selectors.consent_get`` with its own audit action, so
only the case's team and its coordinator get one (everyone else: 404, as for a missing
consent), and each download is in the audit log. The documents are attachments named by the
consent number only, never stored by the browser (``no-store``). ``?lang=sv`` or ``?lang=en``
overrides the consent's own language.

PDFs are made by ``lib.pdf``; without WeasyPrint's Pango they answer 503 with a page saying so.
``document_urlpatterns`` is included by ``consent/urls.py`` under the ``consent`` namespace.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from samverkan.consent import selectors
from samverkan.consent.documents import fhir, pdf, receipt
from samverkan.consent.documents.document import (
    ConsentDocument,
    document_of,
    filename,
    receipt_available,
)
from samverkan.consent.documents.text import LANGUAGES
from samverkan.consent.selectors import ConsentView
from samverkan.lib.http import acting_user
from samverkan.lib.pdf import PdfUnavailableError


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    response["Cache-Control"] = "no-store"
    return response


def _refused(
    request: HttpRequest, *, status: int, message: str, consent_pk: int | None = None
) -> HttpResponse:
    response = render(
        request,
        "consent/documents/refused.html",
        {
            "heading": _("The document cannot be made"),
            "message": message,
            "consent_pk": consent_pk,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _json_refused(status: int, message: str) -> HttpResponse:
    response = JsonResponse({"detail": message}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _bad_language() -> str:
    return _("Documents can be made in Swedish (lang=sv) or English (lang=en) only.")


def _not_signed() -> str:
    return _(
        "There is no receipt yet: the receipt is made once at least one signature has been "
        "recorded."
    )


def _pdf_unavailable() -> str:
    return _("This server cannot make PDF files: ask the administrator to install Pango.")


def _requested(request: HttpRequest) -> tuple[str | None, bool]:
    """(the language asked for with ``?lang=``, if any; whether it is one we write in)."""
    requested = request.GET.get("lang") or None
    return requested, requested is None or requested in LANGUAGES


def _document(view: ConsentView, requested: str | None) -> ConsentDocument:
    """In the language asked for, else the one the consent was drawn up in."""
    return document_of(view, requested or view.consent.language)


def _pdf(request: HttpRequest, view: ConsentView, doc: ConsentDocument, kind: str) -> HttpResponse:
    try:
        content = pdf.form_pdf(doc) if kind == "form" else pdf.receipt_pdf(doc)
    except PdfUnavailableError:
        return _refused(request, status=503, message=_pdf_unavailable(), consent_pk=view.consent.pk)
    return _attachment(HttpResponse(content, content_type="application/pdf"), filename(kind, doc))


def _json(data: dict[str, Any], *, content_type: str, name: str) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return _attachment(HttpResponse(body, content_type=content_type), name)


@require_safe
def form_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The form to print and sign: who may share what with whom, for how long, how to withdraw."""
    user = acting_user(request)
    requested, ok = _requested(request)
    if not ok:
        return _refused(request, status=400, message=_bad_language())
    view = selectors.consent_get(viewer=user, pk=pk, audit_action="consent.form_downloaded")
    return _pdf(request, view, _document(view, requested), "form")


@require_safe
def receipt_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt, once someone has signed (409 before: there is nothing to give a receipt for)."""
    user = acting_user(request)
    requested, ok = _requested(request)
    if not ok:
        return _refused(request, status=400, message=_bad_language())
    view = selectors.consent_get(viewer=user, pk=pk, audit_action="consent.receipt_downloaded")
    if not receipt_available(view):
        return _refused(request, status=409, message=_not_signed(), consent_pk=view.consent.pk)
    return _pdf(request, view, _document(view, requested), "receipt_pdf")


@require_safe
def receipt_json_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    requested, ok = _requested(request)
    if not ok:
        return _json_refused(400, _bad_language())
    view = selectors.consent_get(viewer=user, pk=pk, audit_action="consent.receipt_downloaded")
    if not receipt_available(view):
        return _json_refused(409, _not_signed())
    doc = _document(view, requested)
    return _json(
        receipt.receipt_json(doc),
        content_type="application/json",
        name=filename("receipt_json", doc),
    )


@require_safe
def fhir_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The consent as a FHIR R4 Consent resource, in any state."""
    user = acting_user(request)
    requested, ok = _requested(request)
    if not ok:
        return _json_refused(400, _bad_language())
    view = selectors.consent_get(viewer=user, pk=pk, audit_action="consent.fhir_exported")
    doc = _document(view, requested)
    return _json(
        fhir.fhir_consent(doc),
        content_type=fhir.FHIR_CONTENT_TYPE,
        name=filename("fhir", doc),
    )


document_urlpatterns = [
    path("<int:pk>/form.pdf", form_pdf_view, name="form_pdf"),
    path("<int:pk>/receipt.pdf", receipt_pdf_view, name="receipt_pdf"),
    path("<int:pk>/receipt.json", receipt_json_view, name="receipt_json"),
    path("<int:pk>/fhir.json", fhir_view, name="fhir"),
]
