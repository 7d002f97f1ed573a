from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.audit.models import Outcome
from samverkan.lib.personnummer import IdentityNumberError, looks_like_identity_number, parse
from samverkan.organisations.models import Agency
from samverkan.records.review import LogFilters

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The characters of a username (Django's username validator) and of an action name.
_USERNAME = re.compile(r"[\w.@+-]*")
_ACTION = re.compile(r"[a-z0-9_.]*")


def _hides_numbers(value: Any) -> bool:
    return isinstance(value, str) and looks_like_identity_number(value)


class NoNumberEcho(forms.TextInput):
    """A filter box that shows its value again, unless the value looks like an identity
    number: that is refused by the form and must not be written into the error page."""

    def format_value(self, value: Any) -> str | None:
        return None if _hides_numbers(value) else super().format_value(value)


class NoNumberHidden(forms.HiddenInput):
    """The same for a filter carried along in a hidden field."""

    def format_value(self, value: Any) -> str | None:
        return None if _hides_numbers(value) else super().format_value(value)


def _no_identity_number(value: str) -> None:
    if looks_like_identity_number(value):
        raise forms.ValidationError(
            _("Search by identity number with its own form on this page, never here.")
        )


class ReviewFilterForm(forms.Form):
    """The log review filters, sent by GET: nothing in them may identify a person."""

    date_from = forms.DateField(label=_("From date"), widget=_DATE)
    date_to = forms.DateField(label=_("To date"), widget=_DATE)
    actor = forms.CharField(
        label=_("Username"), required=False, max_length=150, widget=NoNumberEcho
    )
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
        widget=NoNumberEcho,
        help_text=_("For example AVE-2026-0042. Every case of that youth is included."),
    )
    action = forms.CharField(
        label=_("Action begins with"),
        required=False,
        max_length=60,
        widget=NoNumberEcho,
        help_text=_("For example entry. or consent."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("All")), *Outcome.choices]
    )
    flagged = forms.BooleanField(label=_("Flagged events only"), required=False)

    def clean_actor(self) -> str:
        value: str = self.cleaned_data["actor"].strip()
        _no_identity_number(value)
        if not _USERNAME.fullmatch(value):
            raise forms.ValidationError(
                _("A username has only letters, digits and the characters . @ + - _")
            )
        return value

    def clean_case(self) -> str:
        value = " ".join(self.cleaned_data["case"].split()).upper()
        _no_identity_number(value)
        return value

    def clean_action(self) -> str:
        value: str = self.cleaned_data["action"].strip().lower()
        _no_identity_number(value)
        if not _ACTION.fullmatch(value):
            raise forms.ValidationError(
                _("An action has only the letters a to z, digits, full stops and underscores.")
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


class NeverEcho(forms.TextInput):
    """A text box that never puts the submitted value back into the page."""

    def format_value(self, value: Any) -> str | None:
        return None


class IdentitySearchForm(forms.Form):
    """A search by identity number, sent by POST so that the number is never in a URL, a
    browser history or an access log. The number is hashed at once and never shown again."""

    identity_number = forms.CharField(
        label=_("Personal identity number"),
        max_length=20,
        widget=NeverEcho(attrs={"autocomplete": "off", "inputmode": "numeric"}),
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
            "No identity numbers or names; refer to a case by its pseudonym, which is replaced "
            "by “[gallrat ärende]” when the case is purged."
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
            self.fields[name].widget = NoNumberHidden()
