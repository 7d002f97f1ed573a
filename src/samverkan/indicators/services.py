"""Every write to indicator series. Each function runs in one transaction and audits inside it.

The services check the permission themselves as well as the views do: the API or a command
calling them must not be able to skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.indicators import rules
from samverkan.indicators.csv_import import ParsedRow, RowError, parse_values_csv
from samverkan.indicators.models import (
    Direction,
    Indicator,
    IndicatorValue,
    IndicatorValueHistory,
)
from samverkan.organisations.models import Municipality

_FIELDS = (
    "name",
    "area",
    "unit",
    "source",
    "description",
    "direction",
    "min_value",
    "max_value",
    "published",
)


def _check_fields(
    *, name: str, source: str, direction: str, min_value: Decimal | None, max_value: Decimal | None
) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Enter the name of the series.")]
    if not source.strip():
        errors["source"] = [_("Enter where the figures come from.")]
    if direction not in Direction.values:
        errors["direction"] = [_("Choose whether higher or lower values are better.")]
    if min_value is not None and max_value is not None and min_value > max_value:
        errors["max_value"] = [_("The highest value must not be below the lowest.")]
    if errors:
        raise ValidationError(errors)


def indicator_create(
    *,
    actor: User,
    municipality: Municipality,
    name: str,
    source: str,
    direction: str,
    area: str = "",
    unit: str = "",
    description: str = "",
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    published: bool = False,
) -> Indicator:
    if not rules.can_edit_in(actor, municipality):
        raise PermissionDenied
    _check_fields(
        name=name, source=source, direction=direction, min_value=min_value, max_value=max_value
    )
    name, area = " ".join(name.split()), " ".join(area.split())
    if Indicator.objects.filter(municipality=municipality, name=name, area=area).exists():
        raise ValidationError({"name": [_("The municipality already has a series by this name.")]})
    with transaction.atomic():
        indicator = Indicator.objects.create(
            municipality=municipality,
            name=name,
            area=area,
            unit=unit.strip(),
            source=source.strip(),
            description=description.strip(),
            direction=direction,
            min_value=min_value,
            max_value=max_value,
            published=published,
            created_by=actor,
        )
        audit_record(
            action="indicator.created",
            actor=actor,
            obj=indicator,
            details={"published": published},
        )
    return indicator


def indicator_update(
    *,
    actor: User,
    indicator: Indicator,
    name: str,
    source: str,
    direction: str,
    area: str = "",
    unit: str = "",
    description: str = "",
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    published: bool = False,
) -> Indicator:
    """Change the definition. A narrower range must still hold every stored value."""
    if not rules.can_edit_indicator(actor, indicator):
        raise PermissionDenied
    _check_fields(
        name=name, source=source, direction=direction, min_value=min_value, max_value=max_value
    )
    name, area = " ".join(name.split()), " ".join(area.split())
    with transaction.atomic():
        locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
        clash = Indicator.objects.filter(
            municipality_id=locked.municipality_id, name=name, area=area
        ).exclude(pk=locked.pk)
        if clash.exists():
            raise ValidationError(
                {"name": [_("The municipality already has a series by this name.")]}
            )
        values = IndicatorValue.objects.filter(indicator=locked)
        if min_value is not None and values.filter(value__lt=min_value).exists():
            raise ValidationError(
                {"min_value": [_("Some stored values are below this lowest value.")]}
            )
        if max_value is not None and values.filter(value__gt=max_value).exists():
            raise ValidationError(
                {"max_value": [_("Some stored values are above this highest value.")]}
            )
        new = {
            "name": name,
            "area": area,
            "unit": unit.strip(),
            "source": source.strip(),
            "description": description.strip(),
            "direction": direction,
            "min_value": min_value,
            "max_value": max_value,
            "published": published,
        }
        changed = sorted(key for key in _FIELDS if getattr(locked, key) != new[key])
        for key, value in new.items():
            setattr(locked, key, value)
        locked.save()
        audit_record(
            action="indicator.updated",
            actor=actor,
            obj=locked,
            details={"fields": changed, "published": published},
        )
    return locked


class ImportRejectedError(Exception):
    """Nothing was imported; ``errors`` names every bad row (and file-level problems)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    created: int
    replaced: int


def _clashes(rows: list[ParsedRow], existing: dict[date, IndicatorValue]) -> list[RowError]:
    """The rows whose period already has a value: errors unless the import replaces."""
    return [
        RowError(
            row.row,
            _("period %(period)s already has the value %(value)s; choose “replace” to overwrite it")
            % {"period": row.period_label, "value": existing[row.period_start].value},
        )
        for row in rows
        if row.period_start in existing
    ]


def indicator_values_import(
    *, actor: User, indicator: Indicator, data: bytes, replace: bool = False
) -> ImportResult:
    """Import every row of the CSV, or none of them.

    Without ``replace`` a period that already has a value is an error on its row; with it the
    stored value (and note) is overwritten, and what it was is kept as an
    ``IndicatorValueHistory`` row (when anything changed), so that nothing is lost silently.
    Periods not in the file are left as they are.
    """
    if not rules.can_edit_indicator(actor, indicator):
        raise PermissionDenied
    with transaction.atomic():
        # Locked so that two imports into one series cannot interleave their checks and writes.
        locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
        parsed = parse_values_csv(data, min_value=locked.min_value, max_value=locked.max_value)
        if parsed.errors:
            raise ImportRejectedError(parsed.errors)
        existing = {v.period_start: v for v in IndicatorValue.objects.filter(indicator=locked)}
        if not replace and (clashes := _clashes(parsed.rows, existing)):
            raise ImportRejectedError(clashes)
        to_create: list[IndicatorValue] = []
        to_update: list[IndicatorValue] = []
        history: list[IndicatorValueHistory] = []
        for row in parsed.rows:
            stored = existing.get(row.period_start)
            if stored is not None and (stored.period_label, stored.value, stored.note) != (
                row.period_label,
                row.value,
                row.note,
            ):
                history.append(
                    IndicatorValueHistory(
                        indicator_value=stored,
                        period_label=stored.period_label,
                        value=stored.value,
                        note=stored.note,
                        replaced_by=actor,
                    )
                )
            if stored is None:
                to_create.append(
                    IndicatorValue(
                        indicator=locked,
                        period_start=row.period_start,
                        period_label=row.period_label,
                        value=row.value,
                        note=row.note,
                    )
                )
            else:
                stored.period_label, stored.value, stored.note = (
                    row.period_label,
                    row.value,
                    row.note,
                )
                to_update.append(stored)
        IndicatorValue.objects.bulk_create(to_create)
        IndicatorValue.objects.bulk_update(to_update, ["period_label", "value", "note"])
        IndicatorValueHistory.objects.bulk_create(history)
        locked.save(update_fields=["updated_at"])
        audit_record(
            action="indicator.values_imported",
            actor=actor,
            obj=locked,
            details={
                "rows": len(parsed.rows),
                "created": len(to_create),
                "replaced": len(to_update),
                "replace": replace,
                # The periods whose value, label or note changed; the old values are in
                # IndicatorValueHistory, shown on the series' page.
                "changed_periods": [h.period_label for h in history],
            },
        )
    return ImportResult(created=len(to_create), replaced=len(to_update))
