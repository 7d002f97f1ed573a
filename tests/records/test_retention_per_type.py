"""Retention per record type (issue 19, legal gap 5).

A closed case loses its meetings, reports of concern (with the statutory disclosures), consents
and journal each after that type's own period, and the case as a whole at the case period. A
record another rests on waits for it; a legal hold keeps everything; a dry run reports the
counts per type and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case, ConcernReport, Entry, EntryVersion
from samverkan.consent.models import Consent, Disclosure, StatutoryDisclosure
from samverkan.meetings.models import Action, AgendaItem
from samverkan.records import retention, services
from samverkan.records.models import PartialPurge
from samverkan.records.retention import retention_plan
from samverkan.records.services import legal_hold_place, retention_run
from samverkan.stats.facts import facts_refresh
from samverkan.stats.models import CaseFact
from tests.records.test_retention import build_rich_case, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def periods(settings: Any) -> Any:
    # Distinct periods, so that a type going on another's period shows.
    settings.RETENTION_CASE_YEARS = 5
    settings.RETENTION_JOURNAL_YEARS = 4
    settings.RETENTION_CONSENT_YEARS = 3
    settings.RETENTION_CONCERN_YEARS = 2
    settings.RETENTION_MEETING_YEARS = 1
    # The short-lived records must not blur the counts.
    for name in ("NOTIFICATION", "PORTAL_CODE", "EID_ORDER"):
        setattr(settings, f"RETENTION_{name}_DAYS", 100 * 366)
    return settings


def years_on(years: int) -> time_machine.travel:
    """Just past ``years`` after the closure made today."""
    return time_machine.travel(timezone.now() + dt.timedelta(days=years * 366 + 2), tick=False)


def held(case: Case) -> dict[str, int]:
    return {
        "agenda": AgendaItem.objects.filter(case=case).count(),
        "actions": Action.objects.filter(agenda_item__case=case).count(),
        "concern": ConcernReport.objects.filter(case=case).count(),
        "statutory": StatutoryDisclosure.objects.filter(entry__case=case).count(),
        "entries": Entry.objects.filter(case=case).count(),
        "versions": EntryVersion.objects.filter(entry__case=case).count(),
        "consents": Consent.objects.filter(case=case).count(),
    }


def test_each_type_goes_on_its_own_period_not_another(
    personas, world, consent_case, active_consent, periods
) -> None:
    rich = build_rich_case(personas, world, consent_case, active_consent)
    case = rich.case
    before = held(case)
    assert before == {
        "agenda": 1,
        "actions": 1,
        "concern": 1,
        "statutory": 1,
        "entries": 2,
        "versions": 3,
        "consents": 2,
    }
    with time_machine.travel(timezone.now() + dt.timedelta(days=300), tick=False):
        retention_run(dry_run=False)
    assert held(case) == before

    # One year: the meetings go, nothing else.
    with years_on(1):
        report = retention_run(dry_run=False)
    assert report.partially_purged_case_ids == [case.pk]
    assert set(report.removed_by_type) == {"meeting"}
    assert held(case) == {**before, "agenda": 0, "actions": 0}

    # Two years: the report of concern and the statutory disclosure (with its "shown to" row).
    with years_on(2):
        report = retention_run(dry_run=False)
    assert set(report.removed_by_type) == {"concern"}
    assert held(case) == {**before, "agenda": 0, "actions": 0, "concern": 0, "statutory": 0}
    assert not Disclosure.objects.filter(statutory__isnull=False).exists()

    # Three years: the consent nothing rests on goes; the one an entry was shown under stays
    # with the journal.
    shown_under = set(
        Disclosure.objects.filter(entry__case=case, consent__isnull=False).values_list(
            "consent_id", flat=True
        )
    )
    assert shown_under == {active_consent.pk}
    with years_on(3):
        report = retention_run(dry_run=False)
    assert set(report.removed_by_type) == {"consent"}
    assert list(Consent.objects.filter(case=case).values_list("pk", flat=True)) == [
        active_consent.pk
    ]
    assert Entry.objects.filter(case=case).count() == 2

    # Four years: the journal, and with it the consent it rested on. The case itself stays.
    with years_on(4):
        report = retention_run(dry_run=False)
    assert set(report.removed_by_type) == {"journal", "consent"}
    assert held(case) == dict.fromkeys(before, 0)
    assert Case.objects.filter(pk=case.pk).exists()
    assert report.purged_case_ids == []

    # Five years: the case as a whole.
    with years_on(5):
        report = retention_run(dry_run=False)
    assert report.purged_case_ids == [case.pk]
    assert not Case.objects.filter(pk=case.pk).exists()

    events = AuditEvent.objects.filter(action="records.case_records_purged", case_id=case.pk)
    assert [e.details["types"] for e in events.order_by("id")] == [
        ["meeting"],
        ["concern"],
        ["consent"],
        ["consent", "journal"],
    ]
    # Counts only in the details, never content.
    first = events.order_by("id").first()
    assert first is not None
    assert first.details["meeting__meetings_agendaitem"] == 1


def test_an_entry_a_statutory_disclosure_was_made_from_waits_for_it(
    personas, world, consent_case, active_consent, periods
) -> None:
    periods.RETENTION_JOURNAL_YEARS = 1
    periods.RETENTION_CONCERN_YEARS = 3
    rich = build_rich_case(personas, world, consent_case, active_consent)
    disclosed = StatutoryDisclosure.objects.get(entry__case=rich.case).entry_id
    with years_on(1):
        retention_run(dry_run=False)
    assert list(Entry.objects.filter(case=rich.case).values_list("pk", flat=True)) == [disclosed]
    with years_on(3):
        retention_run(dry_run=False)
    assert not Entry.objects.filter(case=rich.case).exists()
    assert not StatutoryDisclosure.objects.exists()


def test_the_dry_run_reports_counts_per_type_and_changes_nothing(
    personas, world, consent_case, active_consent, periods
) -> None:
    rich = build_rich_case(personas, world, consent_case, active_consent)
    with years_on(2):
        counts = row_counts()
        plan = retention_plan()
        assert plan.type_records == {
            "meeting": {"meetings.agendaitem": 1, "meetings.action": 1},
            "concern": {"cases.concernreport": 1, "consent.statutorydisclosure": 1},
        }
        assert plan.type_case_ids == {"meeting": [rich.case.pk], "concern": [rich.case.pk]}
        assert plan.due_case_ids == []
        out = StringIO()
        call_command("retention", "run", "--dry-run", stdout=out)
        assert row_counts() == counts
    text = out.getvalue()
    assert f"meeting records past their period: 2 in cases {rich.case.pk}" in text
    assert f"concern records past their period: 2 in cases {rich.case.pk}" in text
    assert "journal records past their period: 0 in cases none" in text
    assert "consent records past their period: 0 in cases none" in text
    assert "  meetings.agendaitem: 1" in text
    assert rich.pseudonym not in text
    assert not PartialPurge.objects.exists()
    assert not AuditEvent.objects.filter(action="records.case_records_purged").exists()


def test_a_legal_hold_keeps_every_type(
    personas, world, consent_case, active_consent, periods
) -> None:
    rich = build_rich_case(personas, world, consent_case, active_consent)
    before = held(rich.case)
    legal_hold_place(actor=personas.auditor, case=rich.case, reason="Begäran från åklagare")
    with years_on(4):
        assert retention_plan().type_case_ids == {}
        report = retention_run(dry_run=False)
    assert report.partially_purged_case_ids == []
    assert held(rich.case) == before


def test_a_hold_placed_after_the_plan_keeps_the_records(
    personas, world, consent_case, active_consent, periods, monkeypatch
) -> None:
    rich = build_rich_case(personas, world, consent_case, active_consent)
    before = held(rich.case)
    real_plan = retention.retention_plan

    def plan_then_hold(**kwargs: Any) -> retention.RetentionPlan:
        plan = real_plan(**kwargs)
        assert plan.partial_case_ids == [rich.case.pk]
        legal_hold_place(actor=personas.auditor, case=rich.case, reason="Begäran från åklagare")
        return plan

    monkeypatch.setattr(services, "retention_plan", plan_then_hold)
    with years_on(4):
        report = retention_run(dry_run=False)
    assert report.partially_purged_case_ids == []
    assert held(rich.case) == before


def test_the_figures_keep_what_a_partial_purge_removed(
    personas, world, consent_case, active_consent, periods
) -> None:
    rich = build_rich_case(personas, world, consent_case, active_consent)
    with years_on(2):
        retention_run(dry_run=False)
        facts_refresh()  # the nightly build after the purge
    fact = CaseFact.objects.get(case=rich.case)
    assert fact.meetings == 1
    assert fact.concern_reports == 1


def test_a_type_kept_longer_than_the_case_is_refused_at_start_up() -> None:
    env = {
        **os.environ,
        "SAMVERKAN_RETENTION_CASE_YEARS": "5",
        "SAMVERKAN_RETENTION_JOURNAL_YEARS": "7",
    }
    done = subprocess.run(
        [sys.executable, "-m", "samverkan", "retention", "run", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "SAMVERKAN_RETENTION_JOURNAL_YEARS (7) cannot be longer than" in done.stderr
