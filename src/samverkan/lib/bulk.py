"""Writing many prepared rows at once: COPY on PostgreSQL, ``bulk_create`` elsewhere.

Only the services' bulk helpers call this (``cases.services.cases_create_bulk`` and its kin):
they decide which tables they write and in what order, and the rows they are given were made by
the same per-row functions their single-row services use. This module only moves rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.utils import timezone

BATCH = 2000

Rows = Mapping[type[models.Model], Sequence[models.Model]]


def _copy_rows(model: type[models.Model], rows: Sequence[models.Model], now: datetime) -> None:
    """``bulk_create`` for PostgreSQL through COPY, several times faster at scale.

    Keys are drawn from the table's own sequence first, so the rows get the ids an INSERT
    would have given them, and relations set to objects saved in an earlier call are
    resolved to those objects' ids, as ``bulk_create`` does.
    """
    meta = model._meta
    fields = list(meta.concrete_fields)
    pk = meta.pk
    if pk is None:
        raise TypeError(f"{meta.label} has no primary key")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if isinstance(pk, models.AutoField | models.BigAutoField) and rows[0].pk is None:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(rows)],
            )
            for row, (key,) in zip(rows, cursor.fetchall(), strict=True):
                row.pk = key
        for f in (f for f in fields if f.is_relation):
            for row in rows:
                if getattr(row, f.attname) is None and f.is_cached(row):  # type: ignore[attr-defined]
                    related = f.get_cached_value(row)  # type: ignore[attr-defined]
                    if related is not None:
                        setattr(row, f.attname, related.pk)
        for f in (f for f in fields if getattr(f, "auto_now_add", False)):
            for row in rows:
                if getattr(row, f.attname) is None:
                    setattr(row, f.attname, now)
        attnames = [f.attname for f in fields]
        columns = ", ".join(quote(f.column or f.attname) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = row.__dict__
                copy.write_row([values[name] for name in attnames])


def refuse_in_production() -> None:
    """Bulk writes skip the one-row services' permission checks and audit: they are for
    synthetic data only, never in a production database, whoever calls them."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("bulk writes are for synthetic data, never in production")


def insert_rows(model: type[models.Model], rows: Sequence[models.Model]) -> int:
    """Insert unsaved rows of one model; their keys are set afterwards. Returns the count."""
    refuse_in_production()
    if rows:
        if connection.vendor == "postgresql":
            _copy_rows(model, rows, timezone.now())
        else:
            model._default_manager.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def insert_in_order(order: Sequence[type[models.Model]], rows: Rows) -> Counter[str]:
    """The rows of the tables in ``order``, written in that order (parents before children);
    other tables in ``rows`` are left to the service that owns them."""
    refuse_in_production()
    counts = Counter[str]()
    for model in order:
        if rows.get(model):
            counts[model._meta.label] += insert_rows(model, rows[model])
    return counts


def insert_values(
    model: type[models.Model], names: Sequence[str], values: Iterable[Sequence[Any]]
) -> int:
    """Insert rows given as plain value tuples (one per row, in the order of ``names``), without
    a model instance each: for the millions of audit events of a national-scale data set."""
    refuse_in_production()
    if connection.vendor != "postgresql":
        count, batch = 0, []
        for row in values:
            batch.append(model(**dict(zip(names, row, strict=True))))
            if len(batch) >= BATCH:
                count += len(model._default_manager.bulk_create(batch))
                batch = []
        return count + len(model._default_manager.bulk_create(batch))
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    json = [isinstance(f, models.JSONField) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.name) for f in fields)  # type: ignore[union-attr]
    count = 0
    statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in values:
            copy.write_row([Jsonb(v) if j else v for v, j in zip(row, json, strict=True)])
            count += 1
    return count
