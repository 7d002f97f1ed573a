"""The data-subject export page (*registerutdrag*) for the data-protection officer.

The identity number travels only in a POST body: never in a URL, where it would end up in the
browser's history, the proxy's access log and the Referer header. Only auditors reach the page
(everyone else: 404, as for a missing page), and making an export asks for the password again
(allauth's re-authentication), like the other sensitive actions. The archive is an attachment
named by the date only, never stored by the browser (``no-store``).

Two steps (issue 19, gap 6): the first POST (number and language) shows the items secrecy may
protect, for the auditor to choose which to redact and why; the second makes the archive with
those choices. Between the two the number travels in ``token``: encrypted with the service's
key and bound to the auditor, signed with a time limit, so the page never holds it readably
and a token outlives neither half an hour nor the auditor's session.

The password is asked for when the page is opened (GET). A POST made after the
re-authentication has lapsed is not suspended the way allauth's decorator suspends it (that
would keep the whole POST body, the number with it, in the session until the password is
given): the body is dropped and the auditor is sent to give the password and type the number
again.
"""

from __future__ import annotations

import json

from allauth.account.adapter import get_adapter
from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.reauthentication import is_reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from samverkan.lib.crypto import DecryptionError, decrypt, encrypt
from samverkan.lib.http import acting_user, require_visible
from samverkan.lib.pdf import PdfUnavailableError
from samverkan.lib.personnummer import IdentityNumberError, parse
from samverkan.records.forms import NeverEcho
from samverkan.records.rules import can_export_subject_data
from samverkan.records.subject_export import (
    RedactionCandidate,
    RedactionError,
    RedactionReason,
    subject_export,
    subject_export_review,
)

_SIGNING_SALT = "records.subject_export.redaction"
_SEAL_AAD = "records.subject_export.token"
_PREPARED_MAX_AGE = 30 * 60


class SubjectExportForm(forms.Form):
    identity_number = forms.CharField(
        label=gettext_lazy("Identity number"),
        help_text=gettext_lazy(
            "Personal identity number or coordination number of the youth or guardian who asked "
            "for the extract: 10 or 12 digits."
        ),
        max_length=20,
        # Never written back into the page, not even on the 400 page of a refused form.
        widget=NeverEcho(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the extract"),
        choices=[("sv", "Svenska"), ("en", "English")],
    )

    def clean_identity_number(self) -> str:
        raw: str = self.cleaned_data["identity_number"]
        try:
            return parse(raw, today=timezone.localdate()).digits
        except IdentityNumberError as exc:
            raise forms.ValidationError(str(exc.message)) from None


def _field(key: str) -> str:
    return "redact_" + key.replace(":", "_")


class RedactionForm(forms.Form):
    """One choice per item offered: not redacted, or redacted for a reason."""

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: object, candidates: list[RedactionCandidate], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.candidates = candidates
        choices = [("", _("Do not redact")), *RedactionReason.choices]
        for candidate in candidates:
            self.fields[_field(candidate.key)] = forms.ChoiceField(
                label=candidate.description,
                choices=choices,
                required=False,
                initial=candidate.suggested if candidate.default else "",
            )

    def redactions(self) -> dict[str, str]:
        return {c.key: self.cleaned_data.get(_field(c.key)) or "" for c in self.candidates}


def _token(user_pk: int, digits: str, language: str, keys: list[str]) -> str:
    # The items the auditor was shown go with the token: an item that appears before release
    # (a report of concern recorded meanwhile) must be reviewed, not released unseen.
    plain = json.dumps({"n": digits, "l": language, "u": user_pk, "k": sorted(keys)})
    return signing.TimestampSigner(salt=_SIGNING_SALT).sign(encrypt(plain, aad=_SEAL_AAD))


def _untoken(token: str, user_pk: int) -> tuple[str, str, list[str]] | None:
    try:
        sealed = signing.TimestampSigner(salt=_SIGNING_SALT).unsign(
            token, max_age=_PREPARED_MAX_AGE
        )
        data = json.loads(decrypt(sealed, aad=_SEAL_AAD))
    except (signing.BadSignature, DecryptionError, ValueError):
        return None
    if data.get("u") != user_pk or data.get("l") not in ("sv", "en"):
        return None
    return str(data["n"]), str(data["l"]), [str(k) for k in data.get("k", [])]


def _page(
    request: HttpRequest, form: SubjectExportForm, *, status: int = 200, **extra: object
) -> HttpResponse:
    response = render(request, "records/export_form.html", {"form": form, **extra}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def subject_export_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_export_subject_data, user)
    if request.method != "POST":
        return _subject_export_form(request)
    if is_reauthentication_required(request, app=""):
        return _reauthenticate_without_the_number(request)
    return _subject_export(request)


def _initial() -> dict[str, str]:
    language = (translation.get_language() or "sv")[:2]
    return {"language": language if language in ("sv", "en") else "sv"}


@reauthentication_required
def _subject_export_form(request: HttpRequest) -> HttpResponse:
    return _page(request, SubjectExportForm(initial=_initial()))


def _reauthenticate_without_the_number(request: HttpRequest) -> HttpResponse:
    """Send the auditor to give the password again, keeping nothing of the POST body."""
    methods = get_adapter().get_reauthentication_methods(request.user)
    target = methods[0]["url"] if methods else reverse("account_reauthenticate")
    messages.info(
        request,
        _(
            "Your confirmation of the password has lapsed. Give the password, then type the "
            "identity number again: it was not kept."
        ),
    )
    next_url = reverse("records:subject_export")
    return HttpResponseRedirect(f"{target}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


def _review_page(request: HttpRequest, form: RedactionForm, *, status: int = 200) -> HttpResponse:
    response = render(request, "records/export_review.html", {"form": form}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _subject_export(request: HttpRequest) -> HttpResponse:
    if "token" in request.POST:
        return _subject_export_release(request)
    user = acting_user(request)
    initial = _initial()
    form = SubjectExportForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    digits = form.cleaned_data["identity_number"]
    language = form.cleaned_data["language"]
    candidates = subject_export_review(actor=user, identity_number=digits, language=language)
    if candidates is None:
        # A fresh form: the number typed is not shown again.
        return _page(request, SubjectExportForm(initial=initial), nothing_held=True)
    review = RedactionForm(
        initial={"token": _token(user.pk, digits, language, [c.key for c in candidates])},
        candidates=candidates,
    )
    return _review_page(request, review)


def _changed_while_prepared(request: HttpRequest, initial: dict[str, str]) -> HttpResponse:
    return _page(
        request,
        SubjectExportForm(initial=initial),
        status=400,
        error=_("The data changed while the extract was prepared. Prepare it again."),
    )


def _subject_export_release(request: HttpRequest) -> HttpResponse:
    """The second step: the archive, with the redactions chosen."""
    user = acting_user(request)
    initial = _initial()
    opened = _untoken(request.POST.get("token", ""), user.pk)
    if opened is None:
        return _page(
            request,
            SubjectExportForm(initial=initial),
            status=400,
            error=_("The prepared extract has expired. Type the identity number again."),
        )
    digits, language, reviewed = opened
    candidates = subject_export_review(actor=user, identity_number=digits, language=language)
    if candidates is None:
        return _page(request, SubjectExportForm(initial=initial), nothing_held=True)
    if sorted(c.key for c in candidates) != reviewed:
        return _changed_while_prepared(request, initial)
    review = RedactionForm(request.POST, candidates=candidates)
    if not review.is_valid():
        return _review_page(request, review, status=400)
    try:
        archive = subject_export(
            actor=user,
            identity_number=digits,
            language=language,
            redactions=review.redactions(),
        )
    except RedactionError:
        return _changed_while_prepared(request, initial)
    except PdfUnavailableError:
        return _page(
            request,
            SubjectExportForm(initial=initial),
            status=503,
            error=_("This server cannot make PDF files: ask the administrator to install Pango."),
        )
    if archive is None:
        # A fresh form: the number typed is not shown again.
        return _page(
            request,
            SubjectExportForm(initial=initial),
            nothing_held=True,
        )
    response = HttpResponse(archive.content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=archive.filename
    )
    response["Cache-Control"] = "no-store"
    return response
