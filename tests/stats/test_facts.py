from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone

from samverkan.cases.models import Case, ClosureReason, Status, Youth
from samverkan.cases.services import case_raise, case_transition
from samverkan.consent.models import Consent, RequiredSigner, WithdrawalMethod
from samverkan.consent.services import consent_create, consent_withdraw
from samverkan.disclosure.facts import STOCKHOLM
from samverkan.meetings.models import AgendaItem, Meeting
from samverkan.plans.models import ActionPlan
from samverkan.stats import facts as facts_module
from samverkan.stats.facts import FactsRefreshError, age_band, facts_refresh
from samverkan.stats.models import AgeBand, CaseFact, FactsBuild, InterventionFact
from samverkan.stats.tasks import stats_refresh
from tests.consent.conftest import sign_all

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 12) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), STOCKHOLM), tick=False)


def fact_of(case_id: int) -> CaseFact:
    facts_refresh(case_ids=[case_id])
    return CaseFact.objects.get(case_id=case_id)


def today() -> dt.date:
    return timezone.localdate()


@pytest.mark.parametrize(
    ("birth", "on", "band"),
    [
        (dt.date(2012, 3, 15), dt.date(2025, 3, 14), AgeBand.UNDER_13),
        (dt.date(2012, 3, 15), dt.date(2025, 3, 15), AgeBand.FROM_13_TO_15),
        (dt.date(2010, 3, 15), dt.date(2026, 3, 15), AgeBand.FROM_16_TO_17),
        (dt.date(2008, 3, 15), dt.date(2026, 3, 15), AgeBand.ADULT),
    ],
)
def test_age_band_turns_on_the_birthday(birth: dt.date, on: dt.date, band: AgeBand) -> None:
    assert age_band(birth, on) == band


# --- P3: nothing in a fact tells when or in which order it was built ------------------------


def test_refresh_builds_one_fact_per_case_and_updates_it_in_place(active_consent) -> None:
    case = Case.objects.get(pk=active_consent.case_id)
    assert facts_refresh() == Case.objects.count()
    fact = CaseFact.objects.get(case=case)
    assert isinstance(fact.pk, uuid.UUID)
    assert fact.consents_obtained == 1
    assert fact.days_to_consent is not None
    assert fact.raised_month.day == 1
    stale = InterventionFact.objects.create(
        fact=fact, kind="other", agency=case.raising_agency, sector="school", status="done"
    )
    CaseFact.objects.filter(pk=fact.pk).update(consents_obtained=9)
    facts_refresh(case_ids=[case.pk])
    facts_refresh()
    again = CaseFact.objects.get(case=case)
    assert again.pk == fact.pk  # the same key: updated, not deleted and inserted
    assert again.consents_obtained == 1  # ... and brought up to date
    # The interventions of a refreshed fact are rebuilt from the plan (which has none).
    assert not InterventionFact.objects.filter(pk=stale.pk).exists()


def test_fact_keys_are_random_not_a_sequence(consent_case) -> None:
    facts_refresh()
    keys = list(CaseFact.objects.values_list("pk", flat=True))
    assert keys
    assert all(isinstance(k, uuid.UUID) and k.version == 4 for k in keys)
    assert CaseFact._meta.pk.get_internal_type() == "UUIDField"
    assert InterventionFact._meta.pk.get_internal_type() == "UUIDField"


def test_a_fact_carries_no_time_of_building() -> None:
    names = {f.name for f in CaseFact._meta.get_fields()}
    assert "refreshed_at" not in names
    assert not [f for f in CaseFact._meta.get_fields() if f.get_internal_type() == "DateTimeField"]


def test_only_a_full_build_is_recorded(consent_case) -> None:
    case_id = consent_case.case.pk
    facts_refresh(case_ids=[case_id])
    assert not FactsBuild.objects.exists()  # the pre-purge refresh of one case leaves no time
    moment = dt.datetime(2026, 10, 5, 2, 0, tzinfo=STOCKHOLM)
    with time_machine.travel(moment, tick=False):
        stats_refresh.call()
    build = FactsBuild.objects.get()
    assert build.started_at == build.finished_at == moment
    assert build.cases == Case.objects.count()
    facts_refresh(case_ids=[case_id])
    assert FactsBuild.objects.count() == 1


def test_closing_a_case_does_not_touch_the_facts(personas, consent_case) -> None:
    case = consent_case.case
    facts_refresh()
    before = CaseFact.objects.get(case=case)
    case_transition(
        actor=personas.practitioner,
        case=case,
        to=Status.CLOSED,
        closure_reason=ClosureReason.GOALS_MET,
        closure_outcome="Går i skolan igen.",
    )
    after = CaseFact.objects.get(case=case)
    assert after.closed_month is None  # reaches the figures with the nightly build
    assert FactsBuild.objects.count() == 1
    assert after.pk == before.pk
    facts_refresh()
    assert CaseFact.objects.get(case=case).closed_month == today().replace(day=1)


def test_a_failing_batch_does_not_stop_the_later_ones(
    personas, world, consent_case, monkeypatch, caplog
) -> None:
    second = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number="20120316-1235",
        name="Lisa Testberg",
        gender="F",
        reason="Hög frånvaro.",
        risk_factors=["high_absence"],
    ).case
    first = consent_case.case
    assert first.pk < second.pk
    build = facts_module._build

    def failing(case_ids: list[int], now: dt.datetime) -> None:
        build(case_ids, now)
        if first.pk in case_ids:
            raise RuntimeError("broken batch")

    monkeypatch.setattr(facts_module, "BATCH", 1)
    monkeypatch.setattr(facts_module, "_build", failing)
    with pytest.raises(FactsRefreshError) as raised:
        facts_refresh()
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert "batch" in caplog.text
    # The failed batch was rolled back on its own; the later one was built.
    assert not CaseFact.objects.filter(case=first).exists()
    assert CaseFact.objects.filter(case=second).exists()
    assert not FactsBuild.objects.exists()  # the figures were not all built


# --- P4: the consent figures are the policy's ---------------------------------------------------


def withdraw(personas, consent: Consent) -> None:
    signer = RequiredSigner.objects.filter(consent=consent).first()
    assert signer is not None
    consent_withdraw(
        consent=consent, signer=signer, method=WithdrawalMethod.WRITTEN, actor=personas.practitioner
    )


def test_withdrawn_after_having_been_active(personas, active_consent) -> None:
    withdraw(personas, active_consent)
    fact = fact_of(active_consent.case_id)
    assert (fact.consents_obtained, fact.consents_withdrawn, fact.consents_expired) == (1, 1, 0)
    assert fact.days_to_consent == 0


def test_withdrawn_before_it_was_complete_is_not_counted(personas, pending_consent) -> None:
    withdraw(personas, pending_consent)
    fact = fact_of(pending_consent.case_id)
    assert (fact.consents_obtained, fact.consents_withdrawn, fact.consents_expired) == (0, 0, 0)
    assert fact.days_to_consent is None


def test_withdrawn_before_its_validity_began_was_never_obtained(
    personas, world, consent_case
) -> None:
    start = today() + dt.timedelta(days=10)
    consent = consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.school_category.pk, consent_case.social_category.pk],
        valid_from=start,
        valid_until=start + dt.timedelta(days=90),
    )
    sign_all(personas, consent)
    withdraw(personas, consent)
    with at(start + dt.timedelta(days=2)):
        fact = fact_of(consent_case.case.pk)
    assert (fact.consents_obtained, fact.consents_withdrawn, fact.consents_expired) == (0, 0, 0)
    assert fact.days_to_consent is None


def test_never_completed(personas, pending_consent) -> None:
    signer = RequiredSigner.objects.filter(consent=pending_consent).first()
    assert signer is not None
    from samverkan.consent.models import SignatureMethod
    from samverkan.consent.services import signature_record

    signature_record(actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON)
    fact = fact_of(pending_consent.case_id)
    assert (fact.consents_obtained, fact.consents_withdrawn, fact.consents_expired) == (0, 0, 0)
    assert fact.days_to_consent is None


def test_expired_by_date(active_consent) -> None:
    last_day = active_consent.valid_until.astimezone(STOCKHOLM).date() - dt.timedelta(days=1)
    with at(last_day):
        fact = fact_of(active_consent.case_id)
        assert (fact.consents_obtained, fact.consents_expired) == (1, 0)
    with at(last_day + dt.timedelta(days=1), hour=0):
        fact = fact_of(active_consent.case_id)
        assert (fact.consents_obtained, fact.consents_withdrawn, fact.consents_expired) == (1, 0, 1)


def test_expired_at_the_youths_18th_birthday(active_consent) -> None:
    """Signed by the guardians only: it lapses when the youth turns 18, before its end date."""
    birthday = today() + dt.timedelta(days=10)
    Youth.objects.filter(cases__pk=active_consent.case_id).update(
        birth_date=birthday.replace(year=birthday.year - 18)
    )
    with at(birthday - dt.timedelta(days=1)):
        assert fact_of(active_consent.case_id).consents_expired == 0
    with at(birthday, hour=0):
        fact = fact_of(active_consent.case_id)
    assert (fact.consents_obtained, fact.consents_withdrawn, fact.consents_expired) == (1, 0, 1)


def test_days_to_consent_count_from_valid_from_after_the_last_signature(
    personas, world, consent_case
) -> None:
    start = today() + dt.timedelta(days=10)
    consent = consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.school_category.pk, consent_case.social_category.pk],
        valid_from=start,
        valid_until=start + dt.timedelta(days=90),
    )
    sign_all(personas, consent)  # signed today, valid in ten days
    fact = fact_of(consent_case.case.pk)
    assert (fact.consents_obtained, fact.days_to_consent) == (0, None)  # not active yet
    with at(start + dt.timedelta(days=2)):
        fact = fact_of(consent_case.case.pk)
    assert (fact.consents_obtained, fact.days_to_consent) == (1, 10)


# --- P5 and the other durations ---------------------------------------------------------------


def meeting(personas, world, case: Case, starts: dt.datetime) -> Meeting:
    held = Meeting.objects.create(
        group=world.avesta_group,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        location="Rum 1",
        created_by=personas.coordinator,
    )
    AgendaItem.objects.create(meeting=held, case=case, order=1)
    return held


def test_days_to_first_meeting_count_only_meetings_that_have_begun(
    personas, world, consent_case
) -> None:
    case = consent_case.case
    now = timezone.now()
    meeting(personas, world, case, now + dt.timedelta(days=3))
    fact = fact_of(case.pk)
    assert (fact.meetings, fact.days_to_first_meeting) == (0, None)  # only scheduled
    meeting(personas, world, case, now + dt.timedelta(days=7))
    with time_machine.travel(now + dt.timedelta(days=5), tick=False):
        fact = fact_of(case.pk)
    assert (fact.meetings, fact.days_to_first_meeting) == (1, 3)
    with time_machine.travel(now + dt.timedelta(days=8), tick=False):
        fact = fact_of(case.pk)
    assert (fact.meetings, fact.days_to_first_meeting) == (2, 3)


def test_days_to_plan(personas, consent_case) -> None:
    case = consent_case.case
    assert fact_of(case.pk).days_to_plan is None
    ActionPlan.objects.create(
        case=case,
        created_by=personas.practitioner,
        created_at=case.raised_at + dt.timedelta(days=4),
    )
    assert fact_of(case.pk).days_to_plan == 4


def test_refresh_takes_a_fixed_number_of_queries(personas, world, active_consent) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        facts_refresh()
    for n in range(3):
        case_raise(
            actor=personas.practitioner,
            group=world.avesta_group,
            agency=world.avesta_school,
            identity_number=("20120316-1235", "20110101-1235", "20100505-1238")[n],
            name="Test Testsson",
            gender="F",
            reason="Hög frånvaro.",
            risk_factors=["high_absence"],
        )
    with CaptureQueriesContext(connection) as many:
        facts_refresh()
    assert len(many.captured_queries) == len(one.captured_queries)
