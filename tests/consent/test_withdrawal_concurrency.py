"""Withdrawal under load (issue 4, acceptance; DESIGN rule 4): readers of the journal run in
parallel threads, each on its own database connection, while another thread commits a
withdrawal. No read that starts after the withdrawal has committed may return an entry the
withdrawn consent covered.

PostgreSQL only: that is where requests run truly in parallel (CI runs the suite on it). On
SQLite one writer excludes every other, so the test says nothing there and is skipped.
"""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection

from samverkan.accounts.models import User
from samverkan.cases.services import entry_add
from samverkan.consent.models import Consent, RequiredSigner, WithdrawalMethod
from samverkan.consent.services import consent_withdraw
from samverkan.disclosure import selectors as disclosure_selectors

pytestmark = [
    pytest.mark.postgresql,
    # Committed data, so that the threads' own connections see it.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="parallel readers and a committing writer need PostgreSQL (CI's second pass)",
    ),
]

_SEED = importlib.import_module("samverkan.cases.migrations.0002_default_factors_and_categories")

READERS = 4
BEFORE = 0.6  # seconds of reading before the withdrawal
AFTER = 0.8  # and after it has committed


@pytest.fixture(autouse=True)
def _seeded(transactional_db: None) -> None:
    """The factors and information categories the migrations seed: a transactional test that
    ran earlier ends by emptying every table, them included."""
    _SEED.seed(apps, None)


@dataclass(frozen=True)
class Read:
    started: float
    ended: float
    visible: frozenset[int]


def test_no_read_that_starts_after_a_withdrawal_commits_sees_what_it_covered(
    personas, world, consent_case, active_consent
):
    covered = {
        entry_add(
            actor=personas.practitioner,
            case=consent_case.case,
            agency=world.avesta_school,
            category=consent_case.school_category,
            text=f"Frånvaro vecka {week}.",
        ).pk
        for week in range(40, 45)
    }
    case_pk = consent_case.case.pk
    reads: list[Read] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    stop = threading.Event()
    committed: list[float] = []

    def reader() -> None:
        try:
            viewer = User.objects.get(pk=personas.other_agency.pk)  # no shared per-user cache
            while not stop.is_set():
                started = time.monotonic()
                access = disclosure_selectors.case_open(viewer=viewer, pk=case_pk)
                listing = disclosure_selectors.entry_listing(access)
                read = Read(
                    started=started,
                    ended=time.monotonic(),
                    visible=frozenset(v.entry.pk for v in listing.visible),
                )
                with lock:
                    reads.append(read)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def withdrawer() -> None:
        try:
            time.sleep(BEFORE)
            consent = Consent.objects.select_related("case", "youth").get(pk=active_consent.pk)
            signer = RequiredSigner.objects.filter(consent=consent).order_by("order").first()
            assert signer is not None
            consent_withdraw(
                consent=consent,
                signer=signer,
                method=WithdrawalMethod.ORAL,
                actor=User.objects.get(pk=personas.practitioner.pk),
            )
            # The service has returned, so its transaction has committed: any read that starts
            # from here on must not see the covered entries.
            committed.append(time.monotonic())
            time.sleep(AFTER)
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()
            connection.close()

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    threads.append(threading.Thread(target=withdrawer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    [commit] = committed

    after = [r for r in reads if r.started > commit]
    before = [r for r in reads if r.ended < commit]
    leaked = [r for r in after if r.visible & covered]
    assert not leaked, f"{len(leaked)} of {len(after)} reads after the commit saw covered entries"
    # Not vacuous: the readers saw the entries while the consent held, and kept reading after.
    assert len(after) >= READERS
    assert any(r.visible >= covered for r in before)
