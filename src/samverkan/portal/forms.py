"""Forms of the guardian portal. Addresses, codes and identity numbers come only in POST bodies."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=254)


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=12)


class DevEidForm(forms.Form):
    identity_number = forms.CharField(
        label=gettext_lazy("Personal identity number"),
        max_length=20,
        help_text=gettext_lazy("12 digits, for example YYYYMMDD-NNNN."),
    )
