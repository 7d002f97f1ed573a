"""Situation-picture indicators (lägesbild): a series per area and its values per period.

The series are aggregate statistics (the police safety survey's problem index, shares from the
pupils' drug-use survey, counts of reported crimes), never personal data. A series belongs to
one municipality: its agreement editors keep it, its council members read it, and a published
series may be shown to anyone (the public promise tracker).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import Municipality


def plain(stored: Decimal) -> Decimal:
    """A value without the storage's trailing zeros (2.1, not 2.1000; 10, not 1E+1)."""
    value = Decimal(stored)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


class Direction(models.TextChoices):
    """Which way is good; the chart and the tracker say whether a change is an improvement."""

    HIGHER_IS_BETTER = "higher", _("Higher is better")
    LOWER_IS_BETTER = "lower", _("Lower is better")


class Indicator(models.Model):
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("municipality"),
    )
    # The survey's own area within or across the municipality ("Avesta centrum", "LPO Falun");
    # blank means the whole municipality.
    area = models.CharField(_("area"), max_length=150, blank=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=50, blank=True)
    source = models.CharField(_("source"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    direction = models.CharField(_("direction of good"), max_length=10, choices=Direction.choices)
    # An optional declared range (an index 0–6, a share 0–100): import rejects values outside it.
    min_value = models.DecimalField(
        _("lowest possible value"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("highest possible value"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("A published series may be shown to anyone, without logging in."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["municipality__name", "name", "area"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name", "area"], name="indicator_unique_name_in_area"
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=F("max_value")),
                name="indicator_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.area})" if self.area else self.name

    @property
    def area_label(self) -> str:
        return self.area or self.municipality.name


class IndicatorValue(models.Model):
    """One value of a series for one period.

    The period is stored twice on purpose: ``period_start`` orders and identifies it (unique per
    series), ``period_label`` is what the source calls it ("2019", "VT 2021", "2021 kv 3").
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name=_("indicator")
    )
    period_start = models.DateField(_("period start"))
    period_label = models.CharField(_("period"), max_length=30)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["indicator", "period_start"]
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period_start"], name="indicator_value_unique_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_label}: {self.value}"

    @property
    def display_value(self) -> Decimal:
        return plain(self.value)


class IndicatorValueHistory(models.Model):
    """A value as it stood before a replacing import overwrote it.

    Written by ``services.indicator_values_import`` in the import's transaction and never
    changed, so what a follow-up cited, or a chart once showed, can still be read.
    """

    indicator_value = models.ForeignKey(
        IndicatorValue,
        on_delete=models.CASCADE,
        related_name="history",
        verbose_name=_("indicator value"),
    )
    period_label = models.CharField(_("period"), max_length=30)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    note = models.CharField(_("note"), max_length=500, blank=True)
    replaced_at = models.DateTimeField(_("replaced"), default=timezone.now)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("replaced by"),
    )

    class Meta:
        ordering = ["-replaced_at", "-pk"]
        verbose_name = _("replaced indicator value")
        verbose_name_plural = _("replaced indicator values")

    def __str__(self) -> str:
        return f"{self.indicator_value_id} {self.period_label}: {self.value} (replaced)"

    @property
    def display_value(self) -> Decimal:
        return plain(self.value)
