"""Legal holds for auditors (``/records/holds/``): the list, placing one, releasing one.

Only the case's id and pseudonym are ever shown; everyone but an auditor gets 404.
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from samverkan.lib.http import acting_user, require_visible
from samverkan.records import rules
from samverkan.records.models import LegalHold
from samverkan.records.selectors import legal_hold_find_case, legal_hold_get, legal_holds
from samverkan.records.services import legal_hold_place, legal_hold_release


class LegalHoldForm(forms.Form):
    pseudonym = forms.CharField(
        label=gettext_lazy("Case pseudonym"),
        max_length=20,
        help_text=gettext_lazy("As on the case, for example AVE-2026-0042."),
    )
    case_number = forms.IntegerField(
        label=gettext_lazy("Case number"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("Only needed when the pseudonym has several cases."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the hold"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "For example the request or proceedings that need the records kept. No names or "
            "identity numbers."
        ),
    )


@require_http_methods(["GET", "POST"])
def hold_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.can_manage_legal_holds, user)
    form = LegalHoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = legal_hold_find_case(
                viewer=user, pseudonym=data["pseudonym"], case_id=data["case_number"]
            )
            legal_hold_place(actor=user, case=case, reason=data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Case %(case)s is on legal hold: retention keeps it.") % {"case": case.pk},
            )
            return redirect("records:holds")
    holds = legal_holds(viewer=user)
    return render(request, "records/hold_list.html", {"holds": holds, "form": form})


@require_http_methods(["GET", "POST"])
def hold_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.can_manage_legal_holds, user)
    return _hold_release(request, legal_hold_get(viewer=user, pk=pk))


@reauthentication_required
def _hold_release(request: HttpRequest, hold: LegalHold) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST":
        try:
            legal_hold_release(actor=user, hold=hold)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("The legal hold on case %(case)s has been released.") % {"case": hold.case_id},
            )
        return redirect("records:holds")
    return render(request, "records/hold_release.html", {"hold": hold})
