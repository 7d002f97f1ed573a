"""Queries run on every page, built by the ORM once per process and then run again with new
values: building and compiling a query costs more CPU than running it (issue 18's profile),
and these few run on every request with only the user id changing.

Only for ``values``/``values_list``/``count``-shaped queries whose rows come back as plain
values, with one integer parameter and nothing else that changes between runs (no clock).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# A value no id takes, to find where the parameter lands among the compiled query's parameters.
_PROBE = -7_340_033


# The SQL, its parameters and the places of the value among them.
_Compiled = tuple[str, tuple[Any, ...], tuple[int, ...]]


class CompiledValues:
    """``build(value)`` is a queryset; ``rows(value)`` runs its SQL, compiled at the first call
    per database, with ``value`` in the probe's places."""

    def __init__(self, build: Callable[[int], QuerySet[Any]]) -> None:
        self._build = build
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        # Per database, not per alias only: the SQL differs between engines, and a test run
        # points an alias at a database of its own.
        key = (using, connection.vendor, str(connection.settings_dict["NAME"]))
        if key not in self._compiled:
            query = self._build(_PROBE).query
            sql, params = query.get_compiler(using=using).as_sql()
            slots = tuple(i for i, p in enumerate(params) if p == _PROBE)
            if not slots or str(_PROBE) in sql:
                raise ValueError("the value must reach the query as a parameter")
            self._compiled[key] = (sql, tuple(params), slots)
        return self._compiled[key]

    def rows(self, value: int, using: str = "default") -> list[tuple[Any, ...]]:
        sql, params, slots = self._compile(using)
        values = list(params)
        for slot in slots:
            values[slot] = value
        with connections[using].cursor() as cursor:
            cursor.execute(sql, values)
            return list(cursor.fetchall())
