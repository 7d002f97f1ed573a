"""Security state is never evicted (DESIGN rule 21; issue 17, finding 1).

Used TOTP codes and limiter counters lived in Django's database cache, which culls live
entries past 300: 320 failed logins from distinct addresses flushed the record of a used code
(it then worked again) and the per-account cap on second-factor guesses. Each test here floods
the store and proves that neither replay nor a counter reset works, on the database store and,
where a Redis server is given (``SAMVERKAN_TEST_REDIS_URL``; CI always gives one), on Redis.
"""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.test import Client

from samverkan.lib import limits
from samverkan.lib.security_cache import SecurityStateCache
from samverkan.lib.totp import totp_code
from samverkan.web.checks import cache_never_evicts
from tests.conftest import REDIS_URL, REQUIRE_REDIS, redis_cache_settings
from tests.helpers import PASSWORD, flood_security_store

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"
FLOOD = 400  # as in tests.helpers.flood_security_store


def _password(client: Client, username: str, *, ip: str = "10.9.0.1"):
    return client.post(LOGIN, {"login": username, "password": PASSWORD}, REMOTE_ADDR=ip)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@time_machine.travel("2026-03-02 10:00:05 +00:00", tick=False)
def test_a_used_totp_code_is_refused_after_the_store_is_flooded(personas, store):
    user = personas.practitioner
    code = totp_code(user.totp_secret)
    first = Client()
    _password(first, "anna")
    first.post(MFA, {"code": code}, REMOTE_ADDR="10.9.0.1")
    assert _logged_in(first)

    flood_security_store()
    if store == "database":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM samverkan_cache")
            assert cursor.fetchone()[0] >= FLOOD, "the flood did not fill the store"

    replay = Client()
    assert _password(replay, "anna").status_code == 302
    replay.post(MFA, {"code": code}, REMOTE_ADDR="10.9.0.1")
    assert not _logged_in(replay), "a used TOTP code worked a second time"


@time_machine.travel("2026-03-02 10:00:05 +00:00", tick=False)
def test_the_second_factor_guess_cap_survives_a_flood(personas, store):
    user = personas.colleague
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert _password(client, "bertil").status_code == 302
    right = totp_code(user.totp_secret)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(10):  # the per-account cap of SAMVERKAN_LOGIN_RATE_LIMIT, 10/15m/key
        client.post(MFA, {"code": wrong}, REMOTE_ADDR="10.9.0.1")
    assert not _logged_in(client)

    flood_security_store()

    # Even the right code is refused: the cap still counts the ten wrong guesses.
    response = client.post(MFA, {"code": right}, REMOTE_ADDR="10.9.0.1")
    assert not _logged_in(client), "the flood reset the per-account guess counter"
    assert "Too many failed login attempts" in response.content.decode()


def test_a_live_entry_is_never_culled(db):
    """The store itself, directly: Django's database cache loses the first key here."""
    store = SecurityStateCache("samverkan_cache", {"OPTIONS": {"MAX_ENTRIES": 50}})
    assert store.add("a-used-code", "y", timeout=300)
    assert store.add("a-soon-expired-one", "y", timeout=-1)
    for n in range(200):
        store.set(f"z-flood-{n:04d}", n, timeout=300)
    assert store.get("a-used-code") == "y"
    assert store.add("a-used-code", "y", timeout=300) is False
    assert store.get("z-flood-0000") == 0
    # Expired rows do go, so the table does not grow for ever.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM samverkan_cache WHERE cache_key LIKE %s", ["%soon-expired%"]
        )
        assert cursor.fetchone()[0] == 0


def test_add_over_an_expired_entry_claims_it_once(db):
    with time_machine.travel("2026-03-02 10:00:00 +00:00", tick=False) as traveller:
        assert cache.add("claim", 1, timeout=30)
        assert not cache.add("claim", 2, timeout=30)
        traveller.shift(31)
        assert cache.add("claim", 3, timeout=30)
        assert not cache.add("claim", 4, timeout=30)
        assert cache.get("claim") == 3


def test_incr_needs_a_live_key_and_counts(store, db):
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")
    cache.add("counter", 1, timeout=60)
    assert cache.incr("counter") == 2
    assert cache.incr("counter", 5) == 7
    assert cache.decr("counter", 2) == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_all_counted(personas):
    """Four processes' worth of threads hitting one limiter: no hit is lost."""
    threads, per_thread = 4, 15
    rate = limits.Rate(1000, 3600)
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                limits.hit("test", "one-client", rate)
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            close_old_connections()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors, errors
    assert limits.count("test", "one-client", rate) == threads * per_thread


def test_a_limiter_key_holds_no_address_or_account(db):
    limits.hit_distinct("login-address", "10.1.2.3", "anna", limits.Rate(5, 60))
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM samverkan_cache")
        keys = " ".join(row[0] for row in cursor.fetchall())
    assert "10.1.2.3" not in keys
    assert "anna" not in keys


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/15m", limits.Rate(20, 900)),
        ("5/s", limits.Rate(5, 1)),
        ("1/2d", limits.Rate(1, 172800)),
    ],
)
def test_rates_parse(text, rate):
    assert limits.parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "20", "20/", "20/15x", "a/15m", "0/15m", "5/0m", "-1/m"])
def test_malformed_rates_are_refused(text):
    with pytest.raises(ValueError, match="rate"):
        limits.parse_rate(text)


def test_the_deploy_check_accepts_the_database_store(settings):
    assert cache_never_evicts(None) == []


@pytest.mark.skipif(not REDIS_URL and not REQUIRE_REDIS, reason="no Redis server given")
def test_the_deploy_check_refuses_a_redis_that_evicts(settings):
    assert REDIS_URL, "SAMVERKAN_REQUIRE_REDIS=1 but SAMVERKAN_TEST_REDIS_URL is not set"
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    before = str(server.config_get("maxmemory-policy")["maxmemory-policy"])
    settings.CACHES = redis_cache_settings()
    try:
        server.config_set("maxmemory-policy", "noeviction")
        assert cache_never_evicts(None) == []
        server.config_set("maxmemory-policy", "volatile-lru")
        problems = cache_never_evicts(None)
        assert [p.id for p in problems] == ["samverkan.E010"]
        assert "volatile-lru" in problems[0].msg
    finally:
        server.config_set("maxmemory-policy", before)


def test_the_deploy_check_reports_an_unreachable_redis(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "IGNORE_EXCEPTIONS": False},
        }
    }
    problems = cache_never_evicts(None)
    assert [p.id for p in problems] == ["samverkan.W011"]


def test_a_limit_does_not_reset_at_a_window_edge(db):
    """Ten hits just before the edge of a fixed window still count just after it."""
    rate = limits.Rate(10, 900)
    with time_machine.travel("2026-03-02 10:14:59 +00:00", tick=False) as traveller:
        for _ in range(10):
            limits.hit("edge", "one-client", rate)
        assert limits.exceeded("edge", "one-client", rate)
        traveller.shift(2)  # into the next window
        assert limits.hit("edge", "one-client", rate) > rate.amount
        traveller.shift(900)  # a whole period after the ten: they no longer count
        assert not limits.exceeded("edge", "one-client", rate)
