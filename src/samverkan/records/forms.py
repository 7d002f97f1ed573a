from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.audit.models import Outcome
from samverkan.lib.personnummer import IdentityNumberError, looks_like_identity_number, parse
from samverkan.organisations.models import Agency
from samverkan.records.review import LogFilters

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReviewFilterForm(forms.Form):
    """The log review filters, sent by GET: nothing in them may identify a person."""

    date_from = forms.DateField(label=_("From date"), widget=_DATE)
    date_to = forms.DateField(label=_("To date"), widget=_DATE)
    actor = forms.CharField(label=_("Username"), required=False, max_length=150)
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.order_by("name"),
        required=False,
        empty_label=_("All"),
    )
    case = forms.CharField(
        label=_("Case (pseudonym)"),
        required=False,
        max_length=20,
        help_text=_("For example AVE-2026-0042. Every case of that youth is included."),
    )
    action = forms.CharField(
        label=_("Action begins with"),
        required=False,
        max_length=60,
        help_text=_("For example entry. or consent."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("All")), *Outcome.choices]
    )
    flagged = forms.BooleanField(label=_("Flagged events only"), required=False)

    def clean_case(self) -> str:
        value = " ".join(self.cleaned_data["case"].split()).upper()
        if looks_like_identity_number(value):
            raise forms.ValidationError(
                _("Search by identity number with its own form on this page, never here.")
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The period must end on or after its start."))
        return data

    def filters(self) -> LogFilters:
        data = self.cleaned_data
        agency = data.get("agency")
        return LogFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            actor=data.get("actor", "").strip(),
            agency_id=agency.pk if agency is not None else None,
            case=data.get("case", ""),
            action=data.get("action", "").strip(),
            outcome=data.get("outcome", ""),
            flagged_only=bool(data.get("flagged")),
        )


class _NeverEcho(forms.TextInput):
    """A text box that never puts the submitted value back into the page."""

    def format_value(self, value: Any) -> str | None:
        return None


class IdentitySearchForm(forms.Form):
    """A search by identity number, sent by POST so that the number is never in a URL, a
    browser history or an access log. The number is hashed at once and never shown again."""

    identity_number = forms.CharField(
        label=_("Personal identity number"),
        max_length=20,
        widget=_NeverEcho(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("10 or 12 digits. The number is not kept, not even in the audit log."),
    )
    # The period of the page the search was made from, carried over to the results.
    date_from = forms.DateField(required=False, widget=forms.HiddenInput)
    date_to = forms.DateField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Shown on the same page as the filter form, which has its own date fields.
        kwargs.setdefault("auto_id", "identity_%s")
        super().__init__(*args, **kwargs)

    def clean_identity_number(self) -> str:
        try:
            return parse(self.cleaned_data["identity_number"], today=timezone.localdate()).digits
        except IdentityNumberError as exc:
            raise forms.ValidationError([exc.message]) from None


class ReviewRecordForm(ReviewFilterForm):
    """Recording a review: the period and filters it covered, the findings, the sign-off."""

    findings = forms.CharField(
        label=_("Findings"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=10000,
        help_text=_(
            "What you looked at, what the flagged events turned out to be, and what follows. "
            "No identity numbers; refer to cases by pseudonym."
        ),
    )
    sign_off = forms.BooleanField(
        label=_("I have reviewed the log for this period and sign off these findings."),
    )

    field_order = ["date_from", "date_to", "findings", "sign_off"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The filters come along from the review page as they were; only the period, the
        # findings and the sign-off are typed here.
        for name in ("actor", "agency", "case", "action", "outcome", "flagged"):
            self.fields[name].widget = forms.HiddenInput()
