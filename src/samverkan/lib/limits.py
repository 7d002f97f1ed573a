"""Sliding-window limiters on the security-state store (``lib/security_cache.py``).

Every count is an atomic increment in a store that never evicts a live entry (DESIGN rule 21),
so concurrent hits are all counted and no flood of other keys can reset a counter. Keys carry
only keyed hashes, never an address or an account name.

Hits are counted in fixed windows; a count is the current window's plus the share of the
previous window that still lies within one period (rounded up), so a limit neither resets at a
window's edge nor allows a double burst across it.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from samverkan.lib.env import Rate, parse_rate
from samverkan.lib.fields import search_hash

__all__ = ["Rate", "count", "exceeded", "hit", "hit_distinct", "parse_rate"]


def _key(bucket: str, subject: str, rate: Rate, window: int, *parts: str) -> str:
    digest = search_hash(f"limit:{bucket}", subject)[:40]
    return ":".join(("svk", "limit", bucket, str(rate.seconds), str(window), digest, *parts))


def _now(rate: Rate) -> tuple[int, float]:
    """The current window's number and how much of the previous one still counts (0 to 1)."""
    now = time.time()
    window = int(now) // rate.seconds
    return window, 1 - (now - window * rate.seconds) / rate.seconds


def _with_previous(bucket: str, subject: str, rate: Rate, window: int, share: float) -> int:
    previous = int(cache.get(_key(bucket, subject, rate, window - 1), 0))
    return math.ceil(previous * share)


def hit(bucket: str, subject: str, rate: Rate) -> int:
    """Count one hit for ``subject``; returns the count over the last period, this hit in it."""
    window, share = _now(rate)
    key = _key(bucket, subject, rate, window)
    # The entry outlives the next window, which still reads it as the previous one.
    current = 1 if cache.add(key, 1, timeout=2 * rate.seconds + 60) else int(cache.incr(key))
    return current + _with_previous(bucket, subject, rate, window, share)


def count(bucket: str, subject: str, rate: Rate) -> int:
    window, share = _now(rate)
    current = int(cache.get(_key(bucket, subject, rate, window), 0))
    return current + _with_previous(bucket, subject, rate, window, share)


def exceeded(bucket: str, subject: str, rate: Rate) -> bool:
    """Whether ``subject`` has already used up the period (without counting a hit)."""
    return count(bucket, subject, rate) >= rate.amount


def hit_distinct(bucket: str, subject: str, member: str, rate: Rate) -> int:
    """Count ``member`` once per window for ``subject``; returns the distinct members so far.

    Used for failures per address counted over distinct accounts: one colleague mistyping a
    password many times counts once, a client trying many accounts counts each.
    """
    window, _ = _now(rate)
    member_hash = search_hash(f"limit:{bucket}:member", member)[:40]
    marker = _key(bucket, subject, rate, window, member_hash)
    if cache.add(marker, 1, timeout=2 * rate.seconds + 60):
        return hit(bucket, subject, rate)
    return count(bucket, subject, rate)
