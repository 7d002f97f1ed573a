"""An aggregate both databases have: the ids of related rows as one text column, so a list
page reads a row and its many-to-many ids in one query instead of one per relation."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Aggregate, F, Func, IntegerField, OuterRef, Subquery, TextField
from django.db.models.functions import Cast


class JoinedIds(Aggregate):
    """``'3,7,12'``: the values of an integer column, comma-separated (order not kept)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(Cast(expression, TextField()), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def related_ids(model: Any, owner: str, column: str, outer: str = "pk", **where: Any) -> Subquery:
    """A subquery giving, for each row of the outer query, the ``column`` ids of the rows of
    ``model`` (say, a many-to-many table) whose ``owner`` column equals the outer row's
    ``outer``, among those matching ``where``; NULL when there are none."""
    rows = (
        model.objects.filter(**{owner: OuterRef(outer)}, **where)
        .values(owner)
        .annotate(ids=JoinedIds(column))
        .values("ids")
    )
    return Subquery(rows, output_field=TextField())


def parse_ids(text: str | None) -> frozenset[int]:
    """The ids ``JoinedIds`` joined; empty for no rows (the subquery gives NULL)."""
    return frozenset(int(part) for part in text.split(",")) if text else frozenset()


class ListedCount(Func):
    """How many items an event's ``details[key]`` list names, or 1 where it names none: an
    event that covers many objects (``entry.viewed``, D29) counts as that many, any other as
    one. Both databases: ``jsonb_array_length`` / ``json_array_length``."""

    output_field = IntegerField()

    def __init__(self, field: str, key: str, **extra: Any) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"not a details key: {key!r}")
        self.key = key
        super().__init__(F(field), **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(jsonb_array_length({column} -> '{self.key}'), 1)", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(json_array_length({column}, '$.{self.key}'), 1)", params
