"""The portal's limiters hold through a flood of the security-state store (DESIGN rule 21)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from samverkan.portal import services
from tests.helpers import flood_security_store


def test_the_portal_code_limit_survives_a_flood(pending_consent, store):
    for n in range(services.CODE_REQUESTS_PER_IP):
        assert not services.throttled(
            "code_request",
            "10.8.0.1",
            limit=services.CODE_REQUESTS_PER_IP,
            window=services.CODE_WINDOW,
        ), n
    flood_security_store()
    assert services.throttled(
        "code_request", "10.8.0.1", limit=services.CODE_REQUESTS_PER_IP, window=services.CODE_WINDOW
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_code_requests_are_all_counted():
    """The old get-then-set lost hits under concurrency; each hit must count exactly once."""
    threads, per_thread = 4, 10
    limit = threads * per_thread - 1
    start = threading.Barrier(threads)
    refused: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                refused.append(
                    services.throttled(
                        "code_request", "10.8.0.2", limit=limit, window=services.CODE_WINDOW
                    )
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors, errors
    assert refused.count(True) == 1, "hits were lost: the last one over the limit was not refused"
