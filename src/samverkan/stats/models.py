"""Anonymised facts for the council's statistics (DESIGN rules 11 and 13).

A ``CaseFact`` holds what the statistics need about one case and nothing that names a person:
no identity number, name, pseudonym, free text or exact date. Months replace dates and whole
days replace durations. Its link to the case is cut (``SET_NULL``) when retention purges the
case, so the totals do not change when personal data goes.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.cases.models import Case, ClosureReason, Gender
from samverkan.organisations.models import Agency, Municipality, Sector
from samverkan.plans.models import InterventionKind, InterventionStatus


class AgeBand(models.TextChoices):
    UNDER_13 = "under_13", _("Under 13")
    FROM_13_TO_15 = "13_15", _("13–15")
    FROM_16_TO_17 = "16_17", _("16–17")
    ADULT = "18_plus", _("18 or older")


class CaseFact(models.Model):
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="stats_fact"
    )
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    raising_sector = models.CharField(max_length=20, choices=Sector.choices)
    age_band = models.CharField(max_length=10, choices=AgeBand.choices)
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)
    # The first day of the month: enough for periods, and not an exact date to match against.
    raised_month = models.DateField()
    closed_month = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=20, choices=ClosureReason.choices, blank=True)
    consents_obtained = models.PositiveSmallIntegerField(default=0)
    consents_withdrawn = models.PositiveSmallIntegerField(default=0)
    consents_expired = models.PositiveSmallIntegerField(default=0)
    consent_declined = models.BooleanField(default=False)
    days_to_consent = models.PositiveIntegerField(null=True, blank=True)
    days_to_first_meeting = models.PositiveIntegerField(null=True, blank=True)
    days_to_plan = models.PositiveIntegerField(null=True, blank=True)
    meetings = models.PositiveSmallIntegerField(default=0)  # meetings at which it was on the agenda
    concern_reports = models.PositiveSmallIntegerField(default=0)
    goals = models.PositiveSmallIntegerField(default=0)
    goals_achieved = models.PositiveSmallIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["municipality", "raised_month"])]

    def __str__(self) -> str:
        return f"case fact {self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.closed_month is not None


class InterventionFact(models.Model):
    fact = models.ForeignKey(CaseFact, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(max_length=20, choices=InterventionKind.choices)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    status = models.CharField(max_length=12, choices=InterventionStatus.choices)

    def __str__(self) -> str:
        return f"intervention fact {self.pk}"
