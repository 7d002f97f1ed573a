"""The dashboard's filter: municipality (by its public kommunkod) and whole months."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import Municipality

MONTH_FORMAT = "%Y-%m"
# Nobody needs a longer view on one page, and the page lists one row per month of meetings.
MAX_MONTHS = 120


class MonthField(forms.DateField):
    """A whole month as YYYY-MM, cleaned to its first day."""

    widget = forms.DateInput(format=MONTH_FORMAT, attrs={"type": "month"})
    input_formats = [MONTH_FORMAT]

    def to_python(self, value: Any) -> date | None:
        result = super().to_python(value)
        return result.replace(day=1) if result else None


class DashboardForm(forms.Form):
    municipality = forms.ChoiceField(label=_("Municipality"))

    def __init__(
        self,
        data: dict[str, Any] | None,
        *,
        municipalities: list[Municipality],
        initial: dict[str, Any],
    ) -> None:
        super().__init__(data, initial=initial)
        choice = cast(forms.ChoiceField, self.fields["municipality"])
        choice.choices = [(m.code, m.name) for m in municipalities]
        self.fields["from"] = MonthField(
            label=_("From month"), help_text=_("Year and month, e.g. 2026-01.")
        )
        self.fields["to"] = MonthField(
            label=_("To month"), help_text=_("Year and month, e.g. 2026-12.")
        )
        self.by_code = {m.code: m for m in municipalities}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end:
            if start > end:
                raise ValidationError(_("The first month must not come after the last."))
            if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
                raise ValidationError(_("Choose at most %(n)d months.") % {"n": MAX_MONTHS})
        return data
