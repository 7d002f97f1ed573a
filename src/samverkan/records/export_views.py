"""The data-subject export page (*registerutdrag*) for the data-protection officer.

The identity number travels only in a POST body: never in a URL, where it would end up in the
browser's history, the proxy's access log and the Referer header. Only auditors reach the page
(everyone else: 404, as for a missing page), and making an export asks for the password again
(allauth's re-authentication), like the other sensitive actions. The archive is an attachment
named by the date only, never stored by the browser (``no-store``).
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from samverkan.lib.http import acting_user, require_visible
from samverkan.lib.pdf import PdfUnavailableError
from samverkan.lib.personnummer import IdentityNumberError, parse
from samverkan.records.rules import can_export_subject_data
from samverkan.records.subject_export import subject_export


class SubjectExportForm(forms.Form):
    identity_number = forms.CharField(
        label=gettext_lazy("Identity number"),
        help_text=gettext_lazy(
            "Personal identity number or coordination number of the youth or guardian who asked "
            "for the extract: 10 or 12 digits."
        ),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
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
    return _subject_export(request)


@reauthentication_required
def _subject_export(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    language = (translation.get_language() or "sv")[:2]
    initial = {"language": language if language in ("sv", "en") else "sv"}
    if request.method != "POST":
        return _page(request, SubjectExportForm(initial=initial))
    form = SubjectExportForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        archive = subject_export(
            actor=user,
            identity_number=form.cleaned_data["identity_number"],
            language=form.cleaned_data["language"],
        )
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
