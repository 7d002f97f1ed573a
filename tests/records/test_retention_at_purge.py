"""What retention checks again at the moment it purges a case, rather than trusting the plan:
a legal hold placed since the plan was made, and the case's statistics facts as they are now."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case, ClosureReason, Youth
from samverkan.cases.services import concern_report_add
from samverkan.records import retention, services
from samverkan.records.models import LegalHold
from samverkan.records.services import legal_hold_place, retention_run
from samverkan.stats.facts import facts_refresh
from samverkan.stats.models import CaseFact
from tests.records.test_retention import _close, after_the_period

pytestmark = pytest.mark.django_db


def test_a_hold_placed_after_the_plan_keeps_the_case(personas, consent_case, monkeypatch):
    """Issue 19 mutation 8: the purge checks for a legal hold again, after the plan was made."""
    case = consent_case.case
    _close(personas, case)
    real_plan = retention.retention_plan

    def plan_then_hold(**kwargs: Any) -> retention.RetentionPlan:
        plan = real_plan(**kwargs)
        assert plan.due_case_ids == [case.pk]
        # An auditor places the hold while the run is between its plan and its purge.
        legal_hold_place(actor=personas.auditor, case=case, reason="Begäran från åklagare")
        return plan

    monkeypatch.setattr(services, "retention_plan", plan_then_hold)
    with after_the_period():
        report = retention_run(dry_run=False)
    assert report.plan.due_case_ids == [case.pk]
    assert report.purged_case_ids == []
    assert report.failed_case_ids == []
    assert Case.objects.filter(pk=case.pk).exists()
    assert Youth.objects.filter(pk=case.youth_id).exists()
    assert LegalHold.objects.filter(case_id=case.pk).exists()
    assert not AuditEvent.objects.filter(action="records.case_purged").exists()


def test_the_facts_are_brought_up_to_date_just_before_the_purge(
    personas, world, consent_case, active_consent
):
    """Issue 19 mutation 9: the case's statistics facts are refreshed just before its data
    goes, so changes since the last nightly build still reach the figures."""
    case = consent_case.case
    facts_refresh()  # the nightly build, while the case is still open
    fact = CaseFact.objects.get(case=case)
    assert (fact.closure_reason, fact.closed_month, fact.concern_reports) == ("", None, 0)
    assert fact.consents_obtained == 1
    # After that build: a report of concern, then the closure.
    concern_report_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        reported_on=timezone.localdate(),
    )
    _close(personas, case)
    with after_the_period():
        report = retention_run(dry_run=False)
    assert report.purged_case_ids == [case.pk]
    # The same fact, refreshed in place, its link to the purged case cut.
    fact = CaseFact.objects.get(pk=fact.pk)
    assert fact.case_id is None
    assert fact.closure_reason == ClosureReason.GOALS_MET
    assert fact.closed_month is not None
    assert fact.concern_reports == 1
    assert fact.consents_obtained == 1
    assert CaseFact.objects.count() == 1
