"""The store of security state: used one-time codes and limiter counters (DESIGN rule 21).

Everything Samverkan and allauth keep in Django's cache is security state: allauth's record of
used TOTP codes (replay protection), its login rate-limit histories and their locks, and the
limiters of ``samverkan.lib.limits``. None of it may ever be evicted: an evicted used-code
marker lets a code work twice, an evicted counter resets a limit.

Django's own database cache culls *live* entries once the table passes ``MAX_ENTRIES`` (300 by
default), in key order: flooding it with rate-limit keys from many addresses evicted the
used-code markers and the per-account counters. This backend is that cache with four changes:

- live entries are never deleted by the backend; expired ones are removed as new ones come in;
- ``add`` is atomic even over an expired row, so two processes can never both claim one key;
- ``incr`` is atomic (the row is locked), so concurrent hits are all counted;
- a write that fails raises instead of being ignored, so a limiter can never silently stop
  counting (allauth then answers with an error: closed, not open).

With ``SAMVERKAN_CACHE_URL`` the state lives in Redis instead (django-redis); the deploy check
in ``web/checks.py`` insists that Redis itself never evicts (``maxmemory-policy noeviction``).
"""

from __future__ import annotations

import base64
import pickle
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import IntegrityError, connections, models, router, transaction
from django.utils.timezone import now as tz_now


class SecurityStateCache(DatabaseCache):
    _table: str  # set by DatabaseCache from LOCATION

    def _encode(self, value: Any) -> str:
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    def _expiry(self, timeout: float | None) -> datetime:
        if timeout is None:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.fromtimestamp(timeout, tz=UTC).replace(microsecond=0)

    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        q = connection.ops.quote_name
        table = q(self._table)
        adapt = connection.ops.adapt_datetimefield_value
        now = adapt(tz_now().replace(microsecond=0))
        expires = adapt(self._expiry(self.get_backend_timeout(timeout)))
        key_col, value_col, expires_col = q("cache_key"), q("value"), q("expires")
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - quoted table name
            if cursor.fetchone()[0] > self._max_entries:
                # Only what has expired; a live entry is never culled.
                cursor.execute(f"DELETE FROM {table} WHERE {expires_col} < %s", [now])  # noqa: S608
            if mode == "touch":
                cursor.execute(
                    f"UPDATE {table} SET {expires_col} = %s "  # noqa: S608
                    f"WHERE {key_col} = %s AND {expires_col} >= %s",
                    [expires, key, now],
                )
                return bool(cursor.rowcount)
            encoded = self._encode(value)
            if mode == "set":
                cursor.execute(
                    f"UPDATE {table} SET {value_col} = %s, {expires_col} = %s "  # noqa: S608
                    f"WHERE {key_col} = %s",
                    [encoded, expires, key],
                )
                if cursor.rowcount:
                    return True
            else:
                # add: an expired holder of the key does not count. Deleting it first keeps the
                # claim atomic: a concurrent add either waits for this row lock and then finds
                # the new row (and fails on the unique key), or inserts first and wins.
                cursor.execute(
                    f"DELETE FROM {table} WHERE {key_col} = %s AND {expires_col} < %s",  # noqa: S608
                    [key, now],
                )
            try:
                with transaction.atomic(using=db):
                    cursor.execute(
                        f"INSERT INTO {table} ({key_col}, {value_col}, {expires_col}) "  # noqa: S608
                        "VALUES (%s, %s, %s)",
                        [key, encoded, expires],
                    )
            except IntegrityError:
                if mode == "add":
                    return False
                # set raced another set that inserted first: the last writer wins.
                cursor.execute(
                    f"UPDATE {table} SET {value_col} = %s, {expires_col} = %s "  # noqa: S608
                    f"WHERE {key_col} = %s",
                    [encoded, expires, key],
                )
            return True

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        q = connection.ops.quote_name
        table = q(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = tz_now().replace(microsecond=0)
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {q('value')}, {q('expires')} FROM {table} "  # noqa: S608
                f"WHERE {q('cache_key')} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is not None:
                expires = self._stored_expiry(connection, row[1])
                if expires < now:
                    row = None
            if row is None:
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(row[0].encode()))  # noqa: S301 - our own rows
            new_value: int = value + delta
            cursor.execute(
                f"UPDATE {table} SET {q('value')} = %s WHERE {q('cache_key')} = %s",  # noqa: S608
                [self._encode(new_value), key],
            )
        return new_value

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self.incr(key, -delta, version)

    @staticmethod
    def _stored_expiry(connection: Any, value: Any) -> datetime:
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(
            expression
        ) + expression.get_db_converters(connection):
            value = converter(value, expression, connection)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
