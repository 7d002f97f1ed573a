from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.plans.models import InterventionKind, InterventionStatus

_TEAM_READS = _(
    "Every agency on the team reads it, and the family gets it in their copy of the plan: "
    "write in plain words."
)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GoalForm(forms.Form):
    text = forms.CharField(
        label=_("Goal"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_TEAM_READS,
    )


class GoalEditForm(GoalForm):
    achieved = forms.BooleanField(label=_("The goal has been achieved"), required=False)


class _InterventionFields(forms.Form):
    responsible = forms.TypedChoiceField(label=_("Responsible"), coerce=int)
    start_date = forms.DateField(
        label=_("Start"), initial=timezone.localdate, widget=_date_widget()
    )
    end_date = forms.DateField(label=_("End (optional)"), required=False, widget=_date_widget())
    status = forms.ChoiceField(label=_("Status"), choices=InterventionStatus.choices)
    description = forms.CharField(
        label=_("What is done"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_TEAM_READS,
    )

    def __init__(self, *args: Any, responsible: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = responsible  # type: ignore[attr-defined]


class InterventionForm(_InterventionFields):
    agency = forms.TypedChoiceField(label=_("Agency"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind of intervention"), choices=InterventionKind.choices)

    field_order = ["agency", "kind", "description", "responsible", "start_date", "end_date"]

    def __init__(
        self,
        *args: Any,
        agencies: list[tuple[int, str]],
        responsible: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, responsible=responsible, **kwargs)
        self.fields["agency"].choices = agencies  # type: ignore[attr-defined]


class InterventionEditForm(_InterventionFields):
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Read by every agency on the team: no names or identity numbers."),
    )


class FollowUpForm(forms.Form):
    date = forms.DateField(label=_("Follow-up date"), widget=_date_widget())
