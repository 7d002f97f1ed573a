from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.promises.models import (
    AgreementStatus,
    CommitmentStatus,
    Kind,
    PartyKind,
    Progress,
    Verdict,
)

_PUBLIC = _("Published with the agreement: write for citizens, and never about a person.")
JOINT = ""  # the choice value for a joint commitment ("Gemensamt")


class _Form(forms.Form):
    """Field ids carry the form's name: the detail page holds several forms with a "name" or a
    "date" field, and a label must point at exactly one element."""

    id_prefix = "agreement"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class AgreementFields(_Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    period_start = forms.DateField(label=_("Period from"), widget=_date_widget())
    period_end = forms.DateField(label=_("Period to"), widget=_date_widget())
    focus_area = forms.CharField(
        label=_("Focus area"),
        max_length=200,
        help_text=_("The prioritised problem, in a few words."),
    )
    police_area = forms.TypedChoiceField(
        label=_("Police area"), coerce=int, required=False, empty_value=None
    )
    situation_summary = forms.CharField(
        label=_("Situation summary (lägesbild)"),
        required=False,
        widget=_textarea(5),
        help_text=_PUBLIC,
    )
    cause_analysis = forms.CharField(
        label=_("Cause analysis notes"),
        required=False,
        widget=_textarea(5),
        help_text=_("For the parties: not shown to the public."),
    )
    mandate = forms.CharField(
        label=_("Mandate and commitments (mandat och åtagande)"),
        required=False,
        widget=_textarea(5),
        help_text=_(
            "What the collaboration may do and who answers for what, as written into the "
            "agreement. Published with the agreement: write for citizens, and never about a "
            "person."
        ),
    )

    def __init__(self, *args: Any, police_areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["police_area"].choices = [("", _("None")), *police_areas]  # type: ignore[attr-defined]


class AgreementCreateForm(AgreementFields):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    municipality = forms.TypedChoiceField(label=_("Municipality"), coerce=int)

    field_order = ["kind", "title", "municipality", "police_area", "period_start", "period_end"]

    def __init__(
        self,
        *args: Any,
        municipalities: list[tuple[int, str]],
        police_areas: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, police_areas=police_areas, **kwargs)
        self.fields["municipality"].choices = municipalities  # type: ignore[attr-defined]


class PartyForm(_Form):
    id_prefix = "party"
    name = forms.CharField(label=_("Party"), max_length=150)
    kind = forms.ChoiceField(
        label=_("Kind of party"),
        choices=PartyKind.choices,
        help_text=_("Decides the heading of its commitments: “Polisen lovar”, “Kommunen lovar”."),
    )
    agency = forms.TypedChoiceField(
        label=_("Agency that speaks for the party"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_(
            "Only agreement editors of this agency record the party's assessment. Required for "
            "the police and the municipality; an outside party may have none."
        ),
    )

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", _("None (an outside party)")), *agencies]  # type: ignore[attr-defined]


class _WithParty(_Form):
    party = forms.TypedChoiceField(label=_("Party"), coerce=int)

    def __init__(self, *args: Any, parties: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = parties  # type: ignore[attr-defined]


class SignatoryForm(_WithParty):
    id_prefix = "signatory"
    name = forms.CharField(label=_("Name"), max_length=150)
    title = forms.CharField(label=_("Title"), max_length=150, help_text=_("E.g. kommunalråd."))
    signed_on = forms.DateField(label=_("Date signed"), widget=_date_widget())
    place = forms.CharField(label=_("Place"), max_length=100, required=False)


class _CommitmentFields(_Form):
    text = forms.CharField(label=_("Commitment"), widget=_textarea(3), help_text=_PUBLIC)
    target_count = forms.IntegerField(
        label=_("Target (a number, optional)"), required=False, min_value=1, max_value=100_000
    )
    target_unit = forms.CharField(
        label=_("Unit of the target"),
        max_length=100,
        required=False,
        help_text=_("E.g. “occasions a year”."),
    )
    indicators = forms.TypedMultipleChoiceField(label=_("Indicators"), coerce=int, required=False)
    group = forms.TypedChoiceField(
        label=_("Collaboration group"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("The group the commitment set up or runs, e.g. the SSPF group it started."),
    )

    def __init__(
        self,
        *args: Any,
        indicators: list[tuple[int, str]],
        groups: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicators"].choices = indicators  # type: ignore[attr-defined]
        if not indicators:
            del self.fields["indicators"]
        # Only the groups the editor may link are offered; a forged value fails validation.
        self.fields["group"].choices = [("", _("None")), *(groups or [])]  # type: ignore[attr-defined]


class CommitmentForm(_CommitmentFields):
    id_prefix = "commitment"
    party = forms.TypedChoiceField(
        label=_("Responsible party"), coerce=int, required=False, empty_value=None
    )

    field_order = ["party", "text", "target_count", "target_unit", "indicators", "group"]

    def __init__(
        self,
        *args: Any,
        parties: list[tuple[int, str]],
        indicators: list[tuple[int, str]],
        groups: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, indicators=indicators, groups=groups, **kwargs)
        self.fields["party"].choices = [(JOINT, _("Joint (Gemensamt)")), *parties]  # type: ignore[attr-defined]


class CommitmentEditForm(_CommitmentFields):
    id_prefix = "commitment"
    status = forms.ChoiceField(label=_("Status"), choices=CommitmentStatus.choices)


class ActivityForm(_Form):
    id_prefix = "activity"
    date = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=_date_widget())
    description = forms.CharField(label=_("What was done"), widget=_textarea(2), help_text=_PUBLIC)
    count = forms.IntegerField(
        label=_("Counts toward the target"), min_value=0, max_value=100_000, initial=1
    )


class FollowUpForm(_Form):
    """The narrative, and for each commitment where it stands (fields ``progress_<id>``)."""

    id_prefix = "follow_up"
    date = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=_date_widget())
    narrative = forms.CharField(label=_("Follow-up"), widget=_textarea(5), help_text=_PUBLIC)

    indicator_values = forms.TypedMultipleChoiceField(
        label=_("Indicator values"),
        coerce=int,
        required=False,
        help_text=_(
            "Values of the indicators linked to the commitments that this follow-up cites. "
            "The public sees only the values of published indicators."
        ),
    )

    def __init__(
        self,
        *args: Any,
        commitments: list[tuple[int, str]],
        indicator_values: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if indicator_values:
            self.fields["indicator_values"].choices = indicator_values  # type: ignore[attr-defined]
        else:
            del self.fields["indicator_values"]
        for pk, label in commitments:
            self.fields[f"progress_{pk}"] = forms.ChoiceField(
                label=_("Progress: %(commitment)s") % {"commitment": label},
                choices=[("", _("Not reported")), *Progress.choices],
                required=False,
            )
            self.fields[f"note_{pk}"] = forms.CharField(
                label=_("Note: %(commitment)s") % {"commitment": label},
                required=False,
                max_length=2000,
            )

    def progress(self) -> dict[int, tuple[str, str]]:
        out: dict[int, tuple[str, str]] = {}
        for name, value in self.cleaned_data.items():
            if name.startswith("progress_") and value:
                pk = int(name.removeprefix("progress_"))
                out[pk] = (value, self.cleaned_data.get(f"note_{pk}", ""))
        return out


class AssessmentForm(_WithParty):
    id_prefix = "assessment"
    verdict = forms.ChoiceField(label=_("Verdict"), choices=Verdict.choices)
    statement = forms.CharField(label=_("Statement"), widget=_textarea(3), help_text=_PUBLIC)
    assessed_on = forms.DateField(
        label=_("Date"), initial=timezone.localdate, widget=_date_widget()
    )


class StatusForm(_Form):
    id_prefix = "status"
    to = forms.ChoiceField(
        label=_("New status"),
        choices=[
            (s.value, s.label)
            for s in (AgreementStatus.SIGNED, AgreementStatus.ACTIVE, AgreementStatus.ASSESSED)
        ],
    )


class ExtendForm(_Form):
    id_prefix = "extend"
    new_end = forms.DateField(label=_("New end date"), widget=_date_widget())
    reason = forms.CharField(label=_("Reason"), widget=_textarea(2), help_text=_PUBLIC)


class LinksForm(_Form):
    id_prefix = "links"
    succeeds = forms.TypedChoiceField(
        label=_("Succeeds"), coerce=int, required=False, empty_value=None
    )
    overlaps = forms.TypedMultipleChoiceField(label=_("Overlaps"), coerce=int, required=False)

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["succeeds"].choices = [("", _("None")), *candidates]  # type: ignore[attr-defined]
        self.fields["overlaps"].choices = candidates  # type: ignore[attr-defined]
