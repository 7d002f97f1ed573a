from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.cases.models import (
    TRANSITIONS,
    ClosureReason,
    Factor,
    FactorKind,
    Gender,
    Status,
)
from samverkan.organisations.models import Sector


class RaiseCaseForm(forms.Form):
    group_agency = forms.ChoiceField(label=_("Group, and the agency you raise it for"))
    identity_number = forms.CharField(
        label=_("Personal identity number or coordination number"),
        max_length=20,
        help_text=_("10 or 12 digits. It is stored encrypted and never shown in addresses."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    name = forms.CharField(label=_("The youth's name"), max_length=200)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    reason = forms.CharField(
        label=_("Reason for raising the case"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Read by every agency on the team: do not write names or identity numbers."),
    )
    risk_factors = forms.MultipleChoiceField(
        label=_("Risk factors"), required=False, widget=forms.CheckboxSelectMultiple
    )
    protective_factors = forms.MultipleChoiceField(
        label=_("Protective factors"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, group_agencies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group_agency"].choices = group_agencies  # type: ignore[attr-defined]
        factors = list(Factor.objects.filter(is_active=True))
        self.fields["risk_factors"].choices = [  # type: ignore[attr-defined]
            (f.code, f.label) for f in factors if f.kind == FactorKind.RISK
        ]
        self.fields["protective_factors"].choices = [  # type: ignore[attr-defined]
            (f.code, f.label) for f in factors if f.kind == FactorKind.PROTECTIVE
        ]


class EntryForm(forms.Form):
    agency = forms.ChoiceField(label=_("Written for"))
    category = forms.ChoiceField(label=_("Information category"))
    text = forms.CharField(label=_("Entry"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(
        self,
        *args: Any,
        agencies: list[tuple[int, str]],
        categories: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = agencies  # type: ignore[attr-defined]
        self.fields["category"].choices = categories  # type: ignore[attr-defined]


class CorrectEntryForm(forms.Form):
    text = forms.CharField(label=_("Corrected text"), widget=forms.Textarea(attrs={"rows": 5}))


class StatusForm(forms.Form):
    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = TRANSITIONS[current]
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in Status.choices if value in allowed
        ]

    closure_reason = forms.ChoiceField(
        label=_("Reason for closing"),
        choices=[("", "–"), *ClosureReason.choices],
        required=False,
    )
    closure_outcome = forms.CharField(
        label=_("Outcome at closing"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GuardianForm(forms.Form):
    name = forms.CharField(label=_("Guardian's name"), max_length=200)
    identity_number = forms.CharField(
        label=_("Personal identity number (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    email = forms.EmailField(label=_("E-mail address (optional)"), required=False)
    has_custody = forms.BooleanField(label=_("Has custody"), required=False, initial=True)


class ConcernForm(forms.Form):
    agency = forms.ChoiceField(label=_("Reported by agency"))
    reported_on = forms.DateField(
        label=_("Reported on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = agencies  # type: ignore[attr-defined]


class TeamAddForm(forms.Form):
    member = forms.ChoiceField(label=_("Practitioner and agency"))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = choices  # type: ignore[attr-defined]


class FindYouthForm(forms.Form):
    identity_number = forms.CharField(
        label=_("Personal identity number or coordination number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )


class FactorForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FactorKind.choices)
    label_sv = forms.CharField(label=_("Label in Swedish"), max_length=120)
    label_en = forms.CharField(label=_("Label in English"), max_length=120)


class CategoryForm(forms.Form):
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    label_sv = forms.CharField(label=_("Label in Swedish"), max_length=120)
    label_en = forms.CharField(label=_("Label in English"), max_length=120)
