from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.meetings.models import ActionStatus

PRESENT = "present"
ABSENT = "absent"


class ScheduleForm(forms.Form):
    group = forms.ChoiceField(label=_("Collaboration group"))
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    location = forms.CharField(
        label=_("Location"),
        max_length=200,
        help_text=_("A room or an address. It goes into calendar invitations: no names."),
    )

    def __init__(self, *args: Any, groups: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = groups  # type: ignore[attr-defined]

    def moment(self, time_field: str) -> datetime:
        """A time on the chosen date, in the local time zone (Europe/Stockholm)."""
        return timezone.make_aware(
            datetime.combine(self.cleaned_data["date"], self.cleaned_data[time_field])
        )


class AgendaAddForm(forms.Form):
    case = forms.ChoiceField(label=_("Case (pseudonym)"))

    def __init__(self, *args: Any, cases: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = cases  # type: ignore[attr-defined]


class AttendanceForm(forms.Form):
    """One choice per seat in the group, named ``seat_<user id>_<agency id>``."""

    def __init__(
        self, *args: Any, seats: list[tuple[int, int, str, bool | None]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Not recorded")), (PRESENT, _("Present")), (ABSENT, _("Absent"))]
        for user_id, agency_id, label, present in seats:
            initial = "" if present is None else (PRESENT if present else ABSENT)
            self.fields[f"seat_{user_id}_{agency_id}"] = forms.ChoiceField(
                label=label, choices=choices, required=False, initial=initial
            )

    def marks(self) -> dict[tuple[int, int], bool | None]:
        result: dict[tuple[int, int], bool | None] = {}
        for name, value in self.cleaned_data.items():
            _prefix, user_id, agency_id = name.split("_")
            result[(int(user_id), int(agency_id))] = None if not value else value == PRESENT
        return result


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Record or correct the minutes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Read by everyone in the group: use the pseudonym, never names or numbers."),
    )


class ActionForm(forms.Form):
    text = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 2}))
    responsible = forms.ChoiceField(label=_("Responsible"))
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, responsible: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = responsible  # type: ignore[attr-defined]

    def responsible_ids(self) -> tuple[int, int | None]:
        """(agency id, user id or None) from a choice ``agency:<a>`` or ``user:<u>:<a>``."""
        kind, *ids = self.cleaned_data["responsible"].split(":")
        if kind == "user":
            return int(ids[1]), int(ids[0])
        return int(ids[0]), None


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
