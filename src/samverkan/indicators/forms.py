from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from samverkan.indicators.csv_import import MAX_BYTES
from samverkan.indicators.models import Indicator
from samverkan.organisations.models import Municipality


class IndicatorForm(forms.ModelForm):
    """Validates the definition; the service stores it (the form's save is never called)."""

    class Meta:
        model = Indicator
        fields = [
            "municipality",
            "name",
            "area",
            "unit",
            "source",
            "direction",
            "min_value",
            "max_value",
            "description",
            "published",
        ]
        help_texts = {
            "area": _("The part of the municipality, if not the whole, e.g. “Avesta centrum”."),
            "unit": _("E.g. “index 0–6”, “per cent of pupils in year 9”, “reported crimes”."),
            "source": _("E.g. “Polisens trygghetsmätning”, “CAN Skolelevers drogvanor”."),
            "min_value": _("Optional. Values below it are refused on import."),
            "max_value": _("Optional. Values above it are refused on import."),
        }
        widgets = {
            "direction": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, municipality_ids: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["municipality"]
        field.queryset = Municipality.objects.filter(pk__in=municipality_ids)  # type: ignore[attr-defined]
        field.empty_label = None  # type: ignore[attr-defined]
        if self.instance.pk is not None:
            # A series stays in its municipality: moving it would hand it to other editors.
            field.disabled = True

    def validate_unique(self) -> None:
        """The service reports a clashing name in words; skip the model's generic message."""


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 text with a header row: period, value and optionally note (or period, värde, "
            "anteckning), separated by commas or semicolons. At most 1 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    replace = forms.BooleanField(
        label=_("Replace values of periods that already have one"),
        required=False,
        help_text=_("Without this, a period that already has a value stops the whole import."),
    )

    def clean_file(self) -> bytes:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        # Read one byte more than allowed, so a lying size cannot make us read the whole file.
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return data
