"""Acceptance test of retention (*gallring*, issue 7 item 2, DESIGN rule 11).

A closed case with everything a case can hold is purged once its period has run out: a raw scan
of every table of the database then finds none of its values, the statistics still count it,
and the audit chain verifies. A held case, an open case and the youth of a case still live
survive; a dry run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from io import StringIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.audit.selectors import audit_verify
from samverkan.cases.models import (
    Case,
    ClosureReason,
    ConcernReport,
    EntryVersion,
    Guardian,
    GuardianLink,
    Status,
    Youth,
)
from samverkan.cases.services import (
    case_raise,
    case_transition,
    concern_report_add,
    entry_add,
    entry_correct,
    guardian_add,
    team_add,
)
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
    StatutoryDisclosure,
)
from samverkan.consent.services import consent_withdraw, signature_record, statutory_disclose
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.lib.fields import search_hash
from samverkan.meetings.models import Action, AgendaItem, Meeting
from samverkan.meetings.services import (
    action_create,
    agenda_item_add,
    meeting_schedule,
    minutes_record,
)
from samverkan.notifications.models import Notification
from samverkan.plans.models import Goal, Intervention, InterventionKind
from samverkan.plans.services import follow_up_add, goal_add, intervention_add, plan_create
from samverkan.portal.models import EidOrder, PortalLoginCode
from samverkan.records.models import LegalHold
from samverkan.records.retention import retention_plan
from samverkan.records.review import LogFilters
from samverkan.records.selectors import log_search_audit
from samverkan.records.services import legal_hold_place, log_review_record, retention_run
from samverkan.stats.facts import facts_refresh
from samverkan.stats.models import CaseFact, InterventionFact
from tests import scans
from tests.consent.conftest import (
    GUARDIAN_1_NAME,
    GUARDIAN_1_NUMBER,
    GUARDIAN_2_NAME,
    GUARDIAN_2_NUMBER,
    YOUTH_NAME,
    YOUTH_NUMBER,
    ConsentCase,
    make_consent,
    sign_all,
)
from tests.helpers import statutory_conditions, youth_number

pytestmark = pytest.mark.django_db

# A real scan: the upload check decodes it and refuses a few magic bytes.
PNG = scans.scan_png()
ENTRY_TEXT = "Frånvaron har ökat till tre dagar i veckan sedan oktober"
CORRECTED_TEXT = "Frånvaron har ökat till fyra dagar i veckan sedan oktober"
SOCIAL_TEXT = "Familjen har tidigare haft kontakt med socialtjänsten om boendet"
GOAL_TEXT = "Närvaro över nittio procent under vårterminen"
INTERVENTION_TEXT = "Mentorssamtal varje måndag med skolkuratorn"
MINUTES_TEXT = "Gruppen beslutade att kalla vårdnadshavarna till möte"
ACTION_TEXT = "Boka uppföljande möte med familjen före jul"
JUSTIFICATION_TEXT = "Risk för fortsatt brottslig verksamhet enligt samlad bedömning"
OUTCOME_TEXT = "Närvaron är tillbaka på normal nivå och målen är nådda"
HELD_NAME = "Lisa Kvarhållen"
HELD_NUMBER = "20110405-1232"
OPEN_NAME = "Pelle Pågående"
OPEN_NUMBER = "20100607-1233"


def valid_number(number: str) -> str:
    """The number with its Luhn check digit put right (fixtures must be valid in form)."""
    digits = number.replace("-", "")[2:11]
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return f"{number[:-1]}{(10 - total % 10) % 10}"


@dataclass
class Rich:
    case: Case
    youth: Youth
    pseudonym: str
    secrets: list[str]  # plaintext that must vanish
    stored: list[str]  # ciphertexts and keyed hashes of the purged rows


_ENC_OR_HASH = ("_enc", "_hash")


def _stored_values(querysets: list[models.QuerySet]) -> list[str]:
    values: list[str] = []
    for queryset in querysets:
        names = [f.attname for f in queryset.model._meta.concrete_fields]
        wanted = [n for n in names if n.endswith(_ENC_OR_HASH)]
        for row in queryset.values_list(*wanted):
            values += [v for v in row if v]
    return values


def _close(personas, case: Case) -> None:
    case_transition(
        actor=personas.practitioner,
        case=case,
        to=Status.CLOSED,
        closure_reason=ClosureReason.GOALS_MET,
        closure_outcome=OUTCOME_TEXT,
    )


def _raise(personas, world, *, name: str, number: str) -> Case:
    return case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=number,
        name=name,
        gender="F",
        reason="Oro för skolgången efter flytten till kommunen.",
    ).case


def _journal_with_disclosures(personas, world, cc: ConsentCase, today: dt.date) -> None:
    """Entries of two agencies (one corrected), read under the consent and disclosed by statute,
    and a report of concern."""
    case = cc.case
    team_add(actor=personas.coordinator, case=case, user=personas.police, agency=world.police)
    school = entry_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        category=cc.school_category,
        text=ENTRY_TEXT,
    )
    entry_correct(actor=personas.practitioner, entry=school, text=CORRECTED_TEXT)
    social = entry_add(
        actor=personas.other_agency,
        case=case,
        agency=world.avesta_social,
        category=cc.social_category,
        text=SOCIAL_TEXT,
    )
    # Social services reads the school's entry under the consent: a disclosure row.
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=case.pk)
    disclosure_selectors.entry_listing(access)
    statutory_disclose(
        actor=personas.other_agency,
        entry=social,
        to_agency_id=world.police.pk,
        basis_code="social_to_police_under_21",
        justification=JUSTIFICATION_TEXT,
        conditions_confirmed=statutory_conditions("social_to_police_under_21"),
    )
    concern_report_add(
        actor=personas.practitioner, case=case, agency=world.avesta_school, reported_on=today
    )


def _plan_and_meeting(personas, world, case: Case, today: dt.date) -> None:
    plan = plan_create(actor=personas.practitioner, case=case)
    goal_add(actor=personas.practitioner, plan=plan, text=GOAL_TEXT)
    intervention_add(
        actor=personas.practitioner,
        plan=plan,
        agency=world.avesta_school,
        kind=InterventionKind.SCHOOL_SUPPORT,
        responsible=personas.practitioner,
        start_date=today,
        end_date=today + dt.timedelta(days=60),
        description=INTERVENTION_TEXT,
    )
    follow_up_add(actor=personas.practitioner, plan=plan, on=today + dt.timedelta(days=30))
    start = timezone.now() + dt.timedelta(days=1)
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        location="Kommunhuset, rum 3",
    )
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case)
    minutes_record(actor=personas.coordinator, item=item, minutes=MINUTES_TEXT)
    action_create(
        actor=personas.coordinator,
        item=item,
        text=ACTION_TEXT,
        responsible_agency=world.avesta_school,
        due_date=today + dt.timedelta(days=14),
    )


def _second_consent_and_a_withdrawal(personas, world, cc: ConsentCase, consent: Consent) -> None:
    """A second consent, signed on paper with a scanned form, then the first withdrawn:
    evidence, a withdrawal and the notifications that name the case."""
    second = make_consent(personas, world, cc)
    signer = RequiredSigner.objects.filter(consent=second).order_by("order").first()
    assert signer is not None
    signature_record(
        actor=personas.practitioner,
        signer=signer,
        method=SignatureMethod.PAPER,
        evidence=SimpleUploadedFile("blankett.png", PNG, content_type="image/png"),
    )
    consent_withdraw(
        consent=consent,
        signer=RequiredSigner.objects.filter(consent=consent).order_by("order")[0],
        method="oral",
        actor=personas.practitioner,
    )


def _portal_traces(cc: ConsentCase) -> None:
    """The guardian's portal traces: a login code for their address and an e-ID order."""
    now = timezone.now()
    PortalLoginCode.objects.create(
        email_hash=cc.guardian_1.email_hash,
        code_hash=search_hash("portal_code", "x:123456"),
        expires_at=now + dt.timedelta(minutes=10),
    )
    order = EidOrder(
        reference="ref-guardian-1",
        purpose="login",
        status="complete",
        identity_number_hash=search_hash("eid", GUARDIAN_1_NUMBER.replace("-", "")),
        expires_at=now + dt.timedelta(minutes=5),
        created_at=now,
    )
    order.identity_number = GUARDIAN_1_NUMBER.replace("-", "")
    order.save()


def _stored_values_of(case: Case, youth: Youth) -> list[str]:
    return _stored_values(
        [
            Youth.objects.filter(pk=youth.pk),
            Case.objects.filter(pk=case.pk),
            GuardianLink.objects.filter(case=case),
            Guardian.objects.filter(youth_links__case=case),
            EntryVersion.objects.filter(entry__case=case),
            StatutoryDisclosure.objects.filter(entry__case=case),
            EvidenceFile.objects.all(),
            ConsentSignature.objects.filter(signer__consent__case=case),
            Goal.objects.filter(plan__case=case),
            Intervention.objects.filter(plan__case=case),
            AgendaItem.objects.filter(case=case),
            Action.objects.filter(agenda_item__case=case),
            EidOrder.objects.all(),
            PortalLoginCode.objects.all(),
        ]
    )


def _secrets_of(youth: Youth) -> list[str]:
    numbers = [YOUTH_NUMBER, GUARDIAN_1_NUMBER, GUARDIAN_2_NUMBER]
    return [
        YOUTH_NAME,
        GUARDIAN_1_NAME,
        GUARDIAN_2_NAME,
        "maria@example.invalid",
        "olof@example.invalid",
        *numbers,
        *(n.replace("-", "") for n in numbers),
        *(n.replace("-", "")[2:] for n in numbers),
        ENTRY_TEXT,
        CORRECTED_TEXT,
        SOCIAL_TEXT,
        GOAL_TEXT,
        INTERVENTION_TEXT,
        MINUTES_TEXT,
        ACTION_TEXT,
        JUSTIFICATION_TEXT,
        OUTCOME_TEXT,
        youth.pseudonym,
    ]


def build_rich_case(personas, world, cc: ConsentCase, consent: Consent) -> Rich:
    """Everything a case can hold, through the real services, then closed."""
    case = cc.case
    today = timezone.localdate()
    _journal_with_disclosures(personas, world, cc, today)
    _plan_and_meeting(personas, world, case, today)
    _second_consent_and_a_withdrawal(personas, world, cc, consent)
    _portal_traces(cc)
    _close(personas, case)
    case.refresh_from_db()
    youth = case.youth
    assert Notification.objects.filter(params__case=youth.pseudonym).exists()
    assert EvidenceFile.objects.exists()
    stored = _stored_values_of(case, youth)
    return Rich(
        case=case,
        youth=youth,
        pseudonym=youth.pseudonym,
        secrets=_secrets_of(youth),
        stored=stored,
    )


def raw_dump() -> dict[str, str]:
    """Every row of every table as text, straight from the database (no models)."""
    dump: dict[str, str] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - introspected names
            rows: list[str] = []
            for row in cursor.fetchall():
                parts: list[str] = []
                for value in row:
                    if isinstance(value, memoryview | bytes):
                        raw = bytes(value)
                        parts += [raw.hex(), raw.decode("utf-8", "replace")]
                    else:
                        parts.append(str(value))
                rows.append("\x1f".join(parts))
            # Sorted: the order a table returns its rows in is not part of its content.
            dump[table] = "\x1e".join(sorted(rows))
    return dump


def found_in(dump: dict[str, str], needles: list[str]) -> list[tuple[str, str]]:
    return [
        (needle[:40], table) for needle in needles for table, text in dump.items() if needle in text
    ]


def row_counts() -> dict[str, int]:
    quote = connection.ops.quote_name
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def after_the_period() -> time_machine.travel:
    return time_machine.travel(timezone.now() + dt.timedelta(days=5 * 366 + 2), tick=False)


def _the_other_cases(personas, world) -> tuple[Case, Case, Case]:
    """The other cases of the scene: held, open, and a closed one whose youth has a live case."""
    held = _raise(personas, world, name=HELD_NAME, number=valid_number(HELD_NUMBER))
    _close(personas, held)
    legal_hold_place(actor=personas.auditor, case=held, reason="Begäran från åklagare")
    still_open = _raise(personas, world, name=OPEN_NAME, number=valid_number(OPEN_NUMBER))
    sibling_closed = _raise(personas, world, name=OPEN_NAME, number=valid_number(OPEN_NUMBER))
    _close(personas, sibling_closed)
    assert sibling_closed.youth_id == still_open.youth_id
    return held, still_open, sibling_closed


def _auditor_reviews_the_log(personas, rich: Rich):
    """An auditor reviewed the log for this case: the review and its audit events outlive it."""
    today = timezone.localdate()
    filters = LogFilters(
        date_from=today - dt.timedelta(days=30), date_to=today, case=rich.pseudonym
    )
    log_search_audit(viewer=personas.auditor, filters=filters, page=1)
    # The findings name the case by pseudonym, as the help text asks.
    return log_review_record(
        actor=personas.auditor,
        filters=filters,
        findings=f"Inga avvikelser för {rich.pseudonym.lower()}; {rich.pseudonym} granskat.",
    )


def _assert_no_trace_and_the_others_whole(rich: Rich, held: Case, still_open: Case) -> None:
    dump = raw_dump()
    leaks = found_in(dump, rich.secrets + rich.stored)
    assert leaks == [], leaks
    # The youth row goes with its last case; the other youth keeps theirs.
    assert not Youth.objects.filter(pk=rich.youth.pk).exists()
    assert Youth.objects.filter(pk=still_open.youth_id).exists()
    assert not GuardianLink.objects.filter(case_id=rich.case.pk).exists()
    assert not Guardian.objects.exists()
    # Held and open cases are whole; meetings stay (without the purged agenda item).
    assert Case.objects.filter(pk__in=[held.pk, still_open.pk]).count() == 2
    assert LegalHold.objects.filter(case=held).exists()
    assert Meeting.objects.count() == 1
    assert not ConcernReport.objects.filter(case_id=rich.case.pk).exists()


def _assert_statistics_still_count_it(facts_before: int, interventions_before: int) -> None:
    """Its fact stays, unlinked, and a rebuild keeps it."""
    unlinked = CaseFact.objects.filter(case__isnull=True)
    assert unlinked.count() == 2
    fact = unlinked.get(goals=1)
    assert fact.concern_reports == 1
    assert fact.consents_withdrawn == 1
    assert fact.closure_reason == ClosureReason.GOALS_MET
    facts_refresh()
    assert CaseFact.objects.count() == facts_before
    assert InterventionFact.objects.count() == interventions_before


def _assert_the_purge_audited(rich: Rich, sibling_closed: Case, review) -> None:
    """Per case, counts only; the review redacted; and the chain still verifies."""
    event = AuditEvent.objects.get(action="records.case_purged", case_id=rich.case.pk)
    assert event.details["cases_entry"] == 2
    assert event.details["youth_removed"] is True
    assert event.details["guardians_removed"] == 2
    assert (
        AuditEvent.objects.get(action="records.case_purged", case_id=sibling_closed.pk).details[
            "youth_removed"
        ]
        is False
    )
    # The review stays, the pseudonym in its findings replaced by a neutral marker.
    review.refresh_from_db()
    assert review.findings == "Inga avvikelser för [gallrat ärende]; [gallrat ärende] granskat."
    assert event.details["log_reviews_redacted"] == 1
    result = audit_verify()
    assert result.ok, result.problem


def test_a_purged_case_leaves_no_trace_but_its_facts(
    personas, world, consent_case, active_consent, settings
) -> None:
    # The short-lived records outlive the case here, so the case's own purge must find them.
    for name in ("NOTIFICATION", "PORTAL_CODE", "EID_ORDER"):
        setattr(settings, f"RETENTION_{name}_DAYS", 100 * 366)
    rich = build_rich_case(personas, world, consent_case, active_consent)
    held, still_open, sibling_closed = _the_other_cases(personas, world)
    review = _auditor_reviews_the_log(personas, rich)

    facts_refresh()
    facts_before = CaseFact.objects.count()
    interventions_before = InterventionFact.objects.count()
    before = raw_dump()
    assert found_in(before, [rich.pseudonym, rich.stored[0]]), "the scan must see the data"
    assert not found_in(before, [YOUTH_NAME, ENTRY_TEXT])  # encrypted at rest all along

    with after_the_period():
        report = retention_run(dry_run=False)
        assert report.ok
        assert sorted(report.purged_case_ids) == sorted([rich.case.pk, sibling_closed.pk])
        assert report.plan.held_case_ids == [held.pk]
        _assert_no_trace_and_the_others_whole(rich, held, still_open)
        # Statistics still count the case.
        _assert_statistics_still_count_it(facts_before, interventions_before)
        _assert_the_purge_audited(rich, sibling_closed, review)
        # A second run finds nothing more to do.
        again = retention_run(dry_run=False)
        assert again.purged_case_ids == []


def test_dry_run_changes_nothing_and_reports_without_names(
    personas, world, consent_case, active_consent
) -> None:
    rich = build_rich_case(personas, world, consent_case, active_consent)
    held = _raise(personas, world, name=HELD_NAME, number=valid_number(HELD_NUMBER))
    _close(personas, held)
    legal_hold_place(actor=personas.auditor, case=held, reason="Tvist om utlämnande")
    with after_the_period():
        counts = row_counts()
        dump = raw_dump()
        out = StringIO()
        call_command("retention", "run", "--dry-run", stdout=out)
        assert row_counts() == counts
        assert raw_dump() == dump
        text = out.getvalue()
        assert f"cases due: {rich.case.pk}" in text
        assert f"cases on legal hold, kept: {held.pk}" in text
        assert "cases.entry: 2" in text
        assert found_in({"report": text}, rich.secrets) == []
        plan = retention_plan()
        assert plan.due_case_ids == [rich.case.pk]
        assert plan.case_records["cases.youth"] == 1


def test_nothing_is_due_before_the_period(personas, world, consent_case, active_consent) -> None:
    _close(personas, consent_case.case)
    with time_machine.travel(timezone.now() + dt.timedelta(days=4 * 365), tick=False):
        assert retention_run(dry_run=False).purged_case_ids == []
    assert Case.objects.filter(pk=consent_case.case.pk).exists()


def test_the_command_purges_and_says_what_went(personas, world, consent_case) -> None:
    _close(personas, consent_case.case)
    with after_the_period():
        out = StringIO()
        call_command("retention", "run", stdout=out)
    assert f"cases purged: {consent_case.case.pk}" in out.getvalue()
    assert not Case.objects.filter(pk=consent_case.case.pk).exists()


def _eid_order(reference: str) -> EidOrder:
    return EidOrder.objects.create(
        reference=reference, purpose="sign", expires_at=timezone.now() + dt.timedelta(minutes=5)
    )


def test_short_lived_records_go_after_their_days(personas, world, active_consent) -> None:
    now = timezone.now()
    old_code = PortalLoginCode.objects.create(
        email_hash="a" * 64, code_hash="b" * 64, expires_at=now + dt.timedelta(minutes=10)
    )
    old_order = _eid_order("old-unused")
    evidence_order = _eid_order("old-evidence")
    ConsentSignature.objects.filter(signer__consent=active_consent).update(
        eid_reference="old-evidence"
    )
    old_notice = Notification.objects.create(
        recipient=personas.practitioner, kind="consent_expired", params={"consent": 1}
    )
    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        fresh_code = PortalLoginCode.objects.create(
            email_hash="c" * 64, code_hash="d" * 64, expires_at=timezone.now()
        )
        fresh_order = _eid_order("fresh")
        report = retention_run(dry_run=False)
    assert report.removed == {"portal.portallogincode": 1, "portal.eidorder": 1}
    assert not PortalLoginCode.objects.filter(pk=old_code.pk).exists()
    assert not EidOrder.objects.filter(pk=old_order.pk).exists()
    # A signature's e-ID order is its evidence: it stays while the case does.
    assert EidOrder.objects.filter(pk__in=[evidence_order.pk, fresh_order.pk]).count() == 2
    assert PortalLoginCode.objects.filter(pk=fresh_code.pk).exists()
    assert Notification.objects.filter(pk=old_notice.pk).exists()  # 180 days by default
    with time_machine.travel(now + dt.timedelta(days=181), tick=False):
        assert retention_run(dry_run=False).removed["notifications.notification"] >= 1
    assert not Notification.objects.filter(pk=old_notice.pk).exists()
    assert AuditEvent.objects.filter(action="records.expired_purged").count() == 2
    assert audit_verify().ok


def test_a_failing_case_is_left_whole_and_the_others_go(
    personas, world, consent_case, active_consent, monkeypatch
) -> None:
    first = consent_case.case
    second = _raise(personas, world, name=HELD_NAME, number=valid_number(HELD_NUMBER))
    _close(personas, first)
    _close(personas, second)
    from samverkan.records import services

    real_audit = services.audit_record

    def failing_audit(**kwargs):
        # Fails after every row of the first case has been deleted: all must come back.
        if kwargs.get("case_id") == first.pk:
            raise RuntimeError("disk full")
        return real_audit(**kwargs)

    monkeypatch.setattr(services, "audit_record", failing_audit)
    with after_the_period():
        report = retention_run(dry_run=False)
        out, err = StringIO(), StringIO()
        with pytest.raises(CommandError, match=f"could not be purged: {first.pk}"):
            call_command("retention", "run", stdout=out, stderr=err)
    assert report.failed_case_ids == [first.pk]
    assert report.purged_case_ids == [second.pk]
    assert not report.ok
    assert Case.objects.filter(pk=first.pk).exists()
    assert Youth.objects.filter(pk=first.youth_id).exists()
    assert GuardianLink.objects.filter(case=first).count() == 2
    assert RequiredSigner.objects.filter(consent=active_consent).count() == 2
    assert ConsentSignature.objects.filter(signer__consent=active_consent).count() == 2
    assert not Case.objects.filter(pk=second.pk).exists()
    assert not AuditEvent.objects.filter(action="records.case_purged", case_id=first.pk).exists()
    assert audit_verify().ok


def test_the_monthly_job_purges_for_real(personas, world, consent_case) -> None:
    from samverkan.jobs.registry import Every, registry
    from samverkan.records.tasks import retention_monthly

    job = registry.get("records.retention")
    assert job.every is Every.MONTH
    assert job.task.func is retention_monthly.func
    assert registry.problems(backend=job.task.backend) == []
    _close(personas, consent_case.case)
    with after_the_period():
        retention_monthly.call()
    assert not Case.objects.filter(pk=consent_case.case.pk).exists()
    assert AuditEvent.objects.filter(action="records.case_purged").count() == 1


def test_the_audit_period_cannot_go_below_five_years(settings) -> None:
    settings.RETENTION_AUDIT_YEARS = 2
    assert retention_plan().rules.audit_years == 5
    # The setting itself is refused at start-up, with one line and a non-zero exit.
    env = {**os.environ, "SAMVERKAN_RETENTION_AUDIT_YEARS": "4"}
    done = subprocess.run(
        [sys.executable, "-m", "samverkan", "retention", "run", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "SAMVERKAN_RETENTION_AUDIT_YEARS must be at least 5" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_guardian_of_a_live_case_keeps_their_row_and_portal_login(
    personas, world, consent_case, settings
) -> None:
    settings.RETENTION_PORTAL_CODE_DAYS = 100 * 366
    purged = consent_case.case
    sibling = _raise(personas, world, name="Siv Syskon", number=valid_number("20130101-1230"))
    guardian_add(
        actor=personas.practitioner,
        case=sibling,
        name=GUARDIAN_1_NAME,
        has_custody=True,
        identity_number=GUARDIAN_1_NUMBER,
        email="maria@example.invalid",
    )
    code = PortalLoginCode.objects.create(
        email_hash=consent_case.guardian_1.email_hash,
        code_hash="e" * 64,
        expires_at=timezone.now(),
    )
    only_purged = PortalLoginCode.objects.create(
        email_hash=consent_case.guardian_2.email_hash,
        code_hash="f" * 64,
        expires_at=timezone.now(),
    )
    _close(personas, purged)
    with after_the_period():
        report = retention_run(dry_run=False)
    assert report.purged_case_ids == [purged.pk]
    assert Guardian.objects.filter(pk=consent_case.guardian_1.guardian_id).exists()
    assert not Guardian.objects.filter(pk=consent_case.guardian_2.guardian_id).exists()
    assert GuardianLink.objects.filter(case=sibling).count() == 1
    assert not GuardianLink.objects.filter(case_id=purged.pk).exists()
    # The shared address still logs in to the sibling's case; the other one does not.
    assert PortalLoginCode.objects.filter(pk=code.pk).exists()
    assert not PortalLoginCode.objects.filter(pk=only_purged.pk).exists()
    event = AuditEvent.objects.get(action="records.case_purged", case_id=purged.pk)
    assert event.details["guardians_removed"] == 1


def test_e_id_orders_a_live_case_needs_stay(
    personas, world, consent_case, active_consent, settings
):
    """The youth of the purged case is guardian in a live one, where an e-ID signature rests
    on an order that the purged case's signature named too."""
    settings.RETENTION_EID_ORDER_DAYS = 100 * 366
    purged = consent_case.case
    # Under the signing age in any year, as the guardians-signed consent below assumes (issue 19).
    live = _raise(personas, world, name="Siv Syskon", number=youth_number(13))
    guardian_add(
        actor=personas.practitioner,
        case=live,
        name=YOUTH_NAME,
        has_custody=True,
        identity_number=YOUTH_NUMBER,
        email="kalle@example.invalid",
    )
    live_consent = make_consent(personas, world, replace(consent_case, case=live))
    sign_all(personas, live_consent)
    youth_digits = YOUTH_NUMBER.replace("-", "")
    gone_digits = GUARDIAN_2_NUMBER.replace("-", "")

    def order(reference: str, digits: str = "") -> EidOrder:
        return EidOrder.objects.create(
            reference=reference,
            purpose="sign",
            status="complete",
            identity_number_hash=search_hash("eid", digits) if digits else "",
            expires_at=timezone.now() + dt.timedelta(minutes=5),
        )

    shared = order("ref-shared", gone_digits)  # evidence in both cases
    login = order("ref-login", youth_digits)  # the live case's guardian logging in
    gone = order("ref-gone", gone_digits)  # a guardian who goes with the purged case
    purged_only = order("ref-purged-only")
    purged_signatures = ConsentSignature.objects.filter(signer__consent=active_consent)
    first, second = purged_signatures.order_by("pk")
    ConsentSignature.objects.filter(pk=first.pk).update(eid_reference=shared.reference)
    ConsentSignature.objects.filter(pk=second.pk).update(eid_reference=purged_only.reference)
    ConsentSignature.objects.filter(signer__consent=live_consent).update(
        eid_reference=shared.reference
    )
    _close(personas, purged)
    with after_the_period():
        report = retention_run(dry_run=False)
    assert report.purged_case_ids == [purged.pk]
    assert not Youth.objects.filter(pk=purged.youth_id).exists()
    assert Guardian.objects.filter(youth_links__case=live).count() == 1
    kept = set(EidOrder.objects.values_list("reference", flat=True))
    assert kept == {shared.reference, login.reference}
    assert not {gone.reference, purged_only.reference} & kept


def test_expired_sessions_go(client_for, personas) -> None:
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    client_for(personas.practitioner)  # a live session
    old = SessionStore()
    old["note"] = "x"
    old.set_expiry(60)
    old.create()
    live = set(Session.objects.exclude(pk=old.session_key).values_list("pk", flat=True))
    assert live
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        plan = retention_plan()
        assert plan.expired_records["sessions.session"] == 1
        report = retention_run(dry_run=False)
    assert report.removed == {"sessions.session": 1}
    assert not Session.objects.filter(pk=old.session_key).exists()
    assert set(Session.objects.values_list("pk", flat=True)) == live
    event = AuditEvent.objects.get(action="records.expired_purged")
    assert event.details == {"sessions_session": 1}
