"""Every read of indicator series.

Indicators are aggregate statistics, not personal data, so reads are not audited (DESIGN rule 8
covers personal data); they still go through here so that a series outside the viewer's
municipalities answers 404 like a missing one (rule 7), and so that public code has exactly one
door: ``published_indicators``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import Http404

from samverkan.indicators import rules
from samverkan.indicators.models import Indicator, IndicatorValue, IndicatorValueHistory

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.organisations.models import Municipality


def _with_values(queryset: QuerySet[Indicator]) -> QuerySet[Indicator]:
    """Series with their values in period order: one extra query however many series."""
    return queryset.select_related("municipality").prefetch_related(
        Prefetch("values", queryset=IndicatorValue.objects.order_by("period_start"))
    )


def indicator_list(*, viewer: User | AnonymousUser) -> QuerySet[Indicator]:
    """The series the viewer may read, with the number of values and the latest period."""
    return (
        Indicator.objects.filter(rules.readable_filter(viewer))
        .select_related("municipality")
        .annotate(value_count=Count("values"), latest_period=Max("values__period_start"))
    )


def indicator_get(*, viewer: User | AnonymousUser, pk: int) -> Indicator:
    """One series with its values; 404 when it is missing or outside the viewer's reach."""
    indicator = _with_values(Indicator.objects.filter(rules.readable_filter(viewer))).filter(pk=pk)
    found = indicator.first()
    if found is None:
        raise Http404
    return found


def value_history(
    *, viewer: User | AnonymousUser, indicator: Indicator
) -> list[IndicatorValueHistory]:
    """What replacing imports overwrote in a series the viewer reads, newest first, with the
    value that stands now (``indicator_value``). Staff only: the public sees current values."""
    readable = Indicator.objects.filter(rules.readable_filter(viewer), pk=indicator.pk)
    return list(
        IndicatorValueHistory.objects.filter(indicator_value__indicator__in=readable)
        .select_related("indicator_value", "replaced_by")
        .order_by("-replaced_at", "-pk")
    )


def published_indicators(
    *, municipality: Municipality | None = None, ids: Iterable[int] | None = None
) -> QuerySet[Indicator]:
    """Published series with their values, for pages without login (the promise tracker).

    Narrow it further as needed, e.g. ``published_indicators().filter(commitments=c)``: the
    published filter is already applied and cannot be forgotten.
    """
    queryset = Indicator.objects.filter(published=True)
    if municipality is not None:
        queryset = queryset.filter(municipality=municipality)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return _with_values(queryset)


def published_indicator_get(*, pk: int) -> Indicator:
    """One published series; an unpublished one answers 404 exactly like a missing one."""
    found = published_indicators(ids=[pk]).first()
    if found is None:
        raise Http404
    return found
