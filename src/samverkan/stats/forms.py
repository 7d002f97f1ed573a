"""The dashboard's filter: municipality (by its public kommunkod) and a calendar year.

Periods are whole calendar years, never free month ranges: two overlapping periods could be
subtracted from each other to reach the few cases of a single month (docs/statistics.md §6).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import Municipality


class DashboardForm(forms.Form):
    municipality = forms.ChoiceField(label=_("Municipality"))
    year = forms.TypedChoiceField(
        label=_("Year"),
        coerce=int,
        help_text=_("The current year is shown up to today, and its figures are preliminary."),
    )

    def __init__(
        self,
        data: dict[str, Any] | None,
        *,
        municipalities: list[Municipality],
        years: list[int],
        initial: dict[str, Any],
    ) -> None:
        super().__init__(data, initial=initial)
        choice = cast(forms.ChoiceField, self.fields["municipality"])
        choice.choices = [(m.code, m.name) for m in municipalities]
        year = cast(forms.TypedChoiceField, self.fields["year"])
        year.choices = [(str(y), str(y)) for y in years]
        self.by_code = {m.code: m for m in municipalities}
