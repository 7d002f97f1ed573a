"""Putting a service's ValidationError onto the form the user submitted."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def add_validation_errors(
    form: forms.BaseForm, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Field errors go to their field (``aliases`` maps a service's name for a field to the
    form's); errors for no field of the form show above it, so none is lost."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            name = (aliases or {}).get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
