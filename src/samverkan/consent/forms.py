from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.consent.models import SignatureMethod, WithdrawalMethod
from samverkan.disclosure.statutory import StatutoryBasis, enabled_bases


class DateInput(forms.DateInput):
    input_type = "date"


class ConsentForm(forms.Form):
    agencies = forms.MultipleChoiceField(
        label=_("Agencies that may share information with each other"),
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.MultipleChoiceField(
        label=_("Information they may share"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only what is needed; a consent may cover some categories and not others."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    valid_until = forms.DateField(label=_("Valid until (last day)"), widget=DateInput)
    youth_also_signs = forms.BooleanField(
        label=_("The young person signs too, although under the age where that is the rule"),
        required=False,
        help_text=_(
            "Whoever records the young person's signature then records a maturity assessment."
        ),
    )
    language = forms.ChoiceField(
        label=_("Language of the form"),
        choices=[("sv", _("Swedish")), ("en", _("English"))],
    )

    def __init__(
        self,
        *args: Any,
        agencies: list[tuple[int, str]],
        categories: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        today = timezone.localdate()
        kwargs.setdefault(
            "initial",
            {
                "valid_from": today,
                "valid_until": today + timedelta(days=30 * settings.CONSENT_MAX_MONTHS - 1),
                "language": "sv",
            },
        )
        super().__init__(*args, **kwargs)
        age = settings.CONSENT_YOUTH_SIGNS_FROM_AGE
        self.fields["youth_also_signs"].label = _(
            "The young person signs too, although younger than %(age)s"
        ) % {"age": age}
        self.fields["youth_also_signs"].help_text = _(
            "From %(age)s the young person always signs. A younger one may sign too if mature "
            "enough: whoever records that signature records their assessment of the maturity."
        ) % {"age": age}
        self.fields["agencies"].choices = agencies  # type: ignore[attr-defined]
        self.fields["categories"].choices = categories  # type: ignore[attr-defined]


class SignatureForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How it was signed"),
        choices=[
            (SignatureMethod.PAPER.value, SignatureMethod.PAPER.label),
            (SignatureMethod.IN_PERSON.value, SignatureMethod.IN_PERSON.label),
        ],
        widget=forms.RadioSelect,
    )
    signed_on = forms.DateField(label=_("Date on the form"), required=False, widget=DateInput)
    evidence = forms.FileField(
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    maturity_assessment = forms.CharField(
        label=_("Maturity assessment (a young person under the signing age)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, prefix_id: int, **kwargs: Any) -> None:
        kwargs["prefix"] = f"signer{prefix_id}"
        super().__init__(*args, **kwargs)
        self.fields["evidence"].label = _("Scanned form (PDF, JPEG or PNG, at most %(mb)s MB)") % {
            "mb": settings.CONSENT_EVIDENCE_MAX_BYTES // 1048576
        }


class WithdrawalForm(forms.Form):
    signer = forms.ChoiceField(label=_("Who withdrew it"))
    method = forms.ChoiceField(
        label=_("How"),
        choices=[
            (WithdrawalMethod.ORAL.value, WithdrawalMethod.ORAL.label),
            (WithdrawalMethod.WRITTEN.value, WithdrawalMethod.WRITTEN.label),
        ],
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label=_("I confirm: the consent stops covering anything from now on."),
    )

    def __init__(self, *args: Any, signers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signer"].choices = signers  # type: ignore[attr-defined]


class StatutoryBasisChoiceForm(forms.Form):
    """The first step, sent by GET: which basis, so the next step can show its conditions."""

    basis = forms.ChoiceField(label=_("Statutory basis"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["basis"].choices = [  # type: ignore[attr-defined]
            (b.code, b.display) for b in enabled_bases()
        ]


class StatutoryDisclosureForm(forms.Form):
    to_agency = forms.ChoiceField(label=_("Disclose to"))
    basis = forms.ChoiceField(label=_("Statutory basis"))
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Why the disclosure is necessary and lawful. It is flagged for the data-protection "
            "officer's log review."
        ),
    )

    def __init__(
        self,
        *args: Any,
        agencies: list[tuple[int, str]],
        basis: StatutoryBasis | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].choices = agencies  # type: ignore[attr-defined]
        self.fields["basis"].choices = [  # type: ignore[attr-defined]
            (b.code, b.display) for b in enabled_bases()
        ]
        if basis is not None:
            # Chosen in the first step: the page names it beside a link to choose again.
            self.fields["basis"].initial = basis.code
            self.fields["basis"].widget = forms.HiddenInput()
        # One required box per condition of the provision, in the words it is stored with
        # (DESIGN rule 17). The service checks them again.
        for condition in basis.conditions if basis is not None else ():
            self.fields[f"condition_{condition.code}"] = forms.BooleanField(
                label=str(condition.text), required=True
            )

    def confirmed_conditions(self) -> list[str]:
        return [
            name.removeprefix("condition_")
            for name, value in self.cleaned_data.items()
            if name.startswith("condition_") and value
        ]
