from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import GroupRole, Municipality, PoliceArea, Sector


class AgencyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.all(), required=False
    )
    police_area = forms.ModelChoiceField(
        label=_("Police area"), queryset=PoliceArea.objects.all(), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("municipality")) == bool(data.get("police_area")):
            raise forms.ValidationError(_("Choose either a municipality or a police area."))
        return data


class AgencyEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class GroupForm(forms.Form):
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.all()
    )
    name = forms.CharField(label=_("Name"), max_length=150)
    min_age = forms.IntegerField(label=_("Target age from"), min_value=0, max_value=30, initial=10)
    max_age = forms.IntegerField(label=_("Target age to"), min_value=0, max_value=30, initial=17)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("min_age") is not None
            and data.get("max_age") is not None
            and data["min_age"] > data["max_age"]
        ):
            self.add_error("max_age", _("The upper age must not be below the lower age."))
        return data


class GroupMemberForm(forms.Form):
    membership = forms.ChoiceField(label=_("Person and agency"))
    role = forms.ChoiceField(label=_("Role in the group"), choices=GroupRole.choices)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["membership"].choices = choices  # type: ignore[attr-defined]
