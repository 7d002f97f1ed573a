"""Anonymised facts for the council's statistics (DESIGN rules 11 and 13).

A ``CaseFact`` holds what the statistics need about one case and nothing that names a person:
no identity number, name, pseudonym, free text or exact date. Months replace dates and whole
days replace durations. Its link to the case is cut (``SET_NULL``) when retention purges the
case, so the totals do not change when personal data goes.

Nothing in a fact tells when it was built or in which order: its key is random (not a
sequence that follows the order in which cases were raised, built or purged), a refresh
updates it in place under the same key, and it carries no time of building. The one time kept
is that of the last full build (``FactsBuild``), the nightly job that rebuilds every case.
"""

from __future__ import annotations

import uuid

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
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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

    class Meta:
        indexes = [models.Index(fields=["municipality", "raised_month"])]

    def __str__(self) -> str:
        return f"case fact {self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.closed_month is not None


class InterventionFact(models.Model):
    # Random too: intervention facts are rebuilt in the order of their cases.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    fact = models.ForeignKey(CaseFact, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(max_length=20, choices=InterventionKind.choices)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    status = models.CharField(max_length=12, choices=InterventionStatus.choices)

    def __str__(self) -> str:
        return f"intervention fact {self.pk}"


class FactsBuild(models.Model):
    """One full build of the facts (the nightly job): what the dashboard shows as "figures
    built at". A refresh of single cases (before a purge) writes none, so the time shown
    never points at the minute a case was closed or purged."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    cases = models.PositiveIntegerField()  # cases rebuilt

    class Meta:
        ordering = ["-finished_at"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"facts build {self.finished_at:%Y-%m-%d %H:%M}"
