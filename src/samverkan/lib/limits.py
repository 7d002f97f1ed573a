"""Fixed-window limiters on the security-state store (``lib/security_cache.py``).

Every count is an atomic increment in a store that never evicts a live entry (DESIGN rule 21),
so concurrent hits are all counted and no flood of other keys can reset a counter. Keys carry
only keyed hashes, never an address or an account name.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from samverkan.lib.env import Rate, parse_rate
from samverkan.lib.fields import search_hash

__all__ = ["Rate", "count", "exceeded", "hit", "hit_distinct", "parse_rate"]


def _key(bucket: str, subject: str, rate: Rate, *parts: str) -> str:
    window = int(time.time()) // rate.seconds
    digest = search_hash(f"limit:{bucket}", subject)[:40]
    return ":".join(("svk", "limit", bucket, str(rate.seconds), str(window), digest, *parts))


def hit(bucket: str, subject: str, rate: Rate) -> int:
    """Count one hit for ``subject`` in the current window; returns the window's count."""
    key = _key(bucket, subject, rate)
    # The entry outlives its window by a little, so it cannot expire between add and incr.
    if cache.add(key, 1, timeout=rate.seconds + 60):
        return 1
    return int(cache.incr(key))


def count(bucket: str, subject: str, rate: Rate) -> int:
    return int(cache.get(_key(bucket, subject, rate), 0))


def exceeded(bucket: str, subject: str, rate: Rate) -> bool:
    """Whether ``subject`` has already used up the window (without counting a hit)."""
    return count(bucket, subject, rate) >= rate.amount


def hit_distinct(bucket: str, subject: str, member: str, rate: Rate) -> int:
    """Count ``member`` once per window for ``subject``; returns the distinct members so far.

    Used for failures per address counted over distinct accounts: one colleague mistyping a
    password many times counts once, a client trying many accounts counts each.
    """
    marker = _key(bucket, subject, rate, search_hash(f"limit:{bucket}:member", member)[:40])
    if cache.add(marker, 1, timeout=rate.seconds + 60):
        return hit(bucket, subject, rate)
    return count(bucket, subject, rate)
