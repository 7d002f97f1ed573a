from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def mfa_never_bypassed(app_configs: Any, **kwargs: Any) -> list[Error]:
    """allauth can accept a fixed TOTP code for testing; Samverkan never allows it."""
    if getattr(settings, "MFA_TOTP_INSECURE_BYPASS_CODE", None):
        return [Error("MFA_TOTP_INSECURE_BYPASS_CODE must not be set", id="samverkan.E001")]
    return []


@register(deploy=True)
def cache_never_evicts(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Security state in Redis is safe only while Redis never evicts a key (DESIGN rule 21).

    Every key Samverkan keeps there has a lifetime, so even the ``volatile-*`` policies would
    evict used-code markers and limiter counters under memory pressure.
    """
    backend = settings.CACHES["default"]["BACKEND"]
    if backend == "samverkan.lib.security_cache.SecurityStateCache":
        return []
    if backend != "django_redis.cache.RedisCache":
        return [
            Error(
                f"The cache backend {backend} may evict security state; use the default "
                "database store or Redis (SAMVERKAN_CACHE_URL)",
                id="samverkan.E012",
            )
        ]
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError, ResponseError

    try:
        policy = get_redis_connection("default").config_get("maxmemory-policy")
    except ResponseError:  # managed services often refuse CONFIG
        return [
            Warning(
                "Cannot read Redis's maxmemory-policy; make sure it is noeviction, or used "
                "one-time codes and limiter counters can be evicted",
                id="samverkan.W012",
            )
        ]
    except (RedisError, OSError) as exc:
        return [
            Warning(
                f"Redis (SAMVERKAN_CACHE_URL) cannot be reached: {type(exc).__name__}",
                id="samverkan.W011",
            )
        ]
    value = policy.get("maxmemory-policy")
    if value != "noeviction":
        return [
            Error(
                f"Redis evicts keys (maxmemory-policy {value}); security state needs "
                "maxmemory-policy noeviction",
                id="samverkan.E010",
            )
        ]
    return []
