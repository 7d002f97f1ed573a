"""``samverkan synth``: a small synthetic set is valid exactly as if made through the services."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from stdnum import luhn

from samverkan.accounts.models import User
from samverkan.audit.models import AuditEvent
from samverkan.audit.selectors import audit_verify
from samverkan.audit.services import _check_details
from samverkan.cases.models import Case, Guardian, GuardianLink, PseudonymCounter, Status, Youth
from samverkan.cases.services import pseudonym_prefix
from samverkan.consent.documents.uploads import check_evidence
from samverkan.consent.models import (
    ConsentSignature,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
)
from samverkan.disclosure.facts import consent_queryset, facts_of
from samverkan.disclosure.policy import State, state_at
from samverkan.indicators.models import IndicatorValue
from samverkan.lib import personnummer
from samverkan.lib.fields import encrypted_attributes, search_hash
from samverkan.organisations.models import Membership, Municipality, Role
from samverkan.promises.models import Agreement, AgreementStatus
from samverkan.stats.models import CaseFact, FactsBuild
from samverkan.synth.base import SYNTHETIC_SUFFIX
from tests.web.test_production_config import production_env, run_cli

pytestmark = pytest.mark.django_db

# Frozen, so that the seeded data set (its dates are relative to today) is the same every run.
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
ARGS = (
    *("--municipalities", "2", "--youths-per-municipality", "10", "--seed", "7"),
    *("--start", "2024-06-01", "--months", "24"),
)


def synth(*args: str) -> str:
    out = io.StringIO()
    call_command("synth", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def small_set() -> str:
    with time_machine.travel(NOW, tick=False):
        return synth(*ARGS)


def test_builds_organisations_youths_and_cases(small_set: str) -> None:
    towns = Municipality.objects.filter(name__endswith=SYNTHETIC_SUFFIX)
    assert towns.count() == 2
    assert all(9000 <= int(code) <= 9999 for code in towns.values_list("code", flat=True))
    assert Youth.objects.count() == 20
    assert Case.objects.count() >= 20
    assert set(Case.objects.values_list("group__municipality", flat=True)) == {t.pk for t in towns}
    # One council member per municipality, without a usable password.
    council = Membership.objects.filter(role=Role.COUNCIL_MEMBER).select_related("user")
    assert council.count() == 2
    assert not any(m.user.has_usable_password() for m in council)
    # A running, published agreement and an indicator series per municipality, for the
    # dashboard's commitment and situation-picture tables.
    agreements = Agreement.objects.filter(municipality__in=towns, status=AgreementStatus.ACTIVE)
    assert agreements.filter(published=True).count() == 2
    assert all(a.commitments.count() == 4 for a in agreements)
    assert IndicatorValue.objects.filter(indicator__municipality__in=towns).count() == 2 * 25
    assert "Synthetic data set ready: " in small_set
    assert "cases.Case " in small_set


def test_identity_numbers_are_valid_unique_and_searchable(small_set: str) -> None:
    today = timezone.localdate()
    numbers = []
    for youth in Youth.objects.all():
        number = personnummer.parse(youth.identity_number, today=today)
        luhn.validate(number.digits[2:])
        assert number.birth_date == youth.birth_date
        assert youth.identity_number_hash == search_hash("youth", number.digits)
        if youth.gender in ("F", "M"):
            assert number.legal_sex == youth.gender
        numbers.append(number.digits)
    assert len(set(numbers)) == len(numbers)
    for guardian in Guardian.objects.exclude(identity_number_hash=None):
        digits = personnummer.parse(guardian.identity_number, today=today).digits
        assert guardian.identity_number_hash == search_hash("guardian", digits)


def test_every_encrypted_value_decrypts_in_its_row(small_set: str) -> None:
    decrypted = Counter[str]()
    for model in apps.get_models():
        for attribute in encrypted_attributes(model):
            for row in model._default_manager.exclude(**{attribute.column: ""}):
                assert getattr(row, attribute.name)
                decrypted[f"{model._meta.label}.{attribute.name}"] += 1
    for name in (
        "cases.Youth.identity_number",
        "cases.Youth.name",
        "cases.GuardianLink.name",
        "cases.Case.reason",
        "cases.EntryVersion.text",
        "meetings.AgendaItem.minutes",
        "plans.Goal.text",
    ):
        assert decrypted[name] > 0, name


def test_consents_occur_in_every_state_with_their_signers(small_set: str) -> None:
    with time_machine.travel(NOW, tick=False):
        now = timezone.now()
        consents = list(consent_queryset())
        states = Counter(state_at(facts_of(c), now) for c in consents)
    assert set(states) == {State.PENDING, State.ACTIVE, State.EXPIRED, State.WITHDRAWN}
    for consent in consents:
        signers = list(consent.signers.all())
        custodians = GuardianLink.objects.filter(case=consent.case_id, has_custody=True)
        guardian_signers = {s.guardian_link_id for s in signers if s.kind == SignerKind.GUARDIAN}
        if consent.youth.age_on(consent.valid_from.date()) < 18:
            assert guardian_signers == set(custodians.values_list("pk", flat=True))
        assert consent.agencies.count() >= 2
    # A consent is active only when every required signer has signed.
    active = [c for c in consents if state_at(facts_of(c), NOW) == State.ACTIVE]
    assert all(getattr(s, "signature", None) for c in active for s in c.signers.all())
    assert RequiredSigner.objects.filter(signature__isnull=False).exists()


def test_cases_follow_the_lifecycle(small_set: str) -> None:
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > 0
    assert len(statuses) >= 3
    for case in Case.objects.filter(status=Status.CLOSED):
        assert case.closed_at is not None
        assert case.closure_reason
        assert case.closure_outcome
    for case in Case.objects.filter(status__in=[Status.ACTIVE_PLAN, Status.FOLLOW_UP]):
        assert case.action_plan.goals.exists()


def test_audit_chain_verifies_and_details_are_clean(small_set: str) -> None:
    result = audit_verify()
    assert result.ok, result.problem
    assert result.count == AuditEvent.objects.count() > 0
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"case.raised", "consent.created", "consent.signed", "entry.created"} <= actions
    for details in AuditEvent.objects.values_list("details", flat=True):
        _check_details(details)
    raised = AuditEvent.objects.filter(action="case.raised").count()
    assert raised == Case.objects.count()


def test_facts_are_built_for_every_case(small_set: str) -> None:
    assert CaseFact.objects.count() == Case.objects.count()
    assert FactsBuild.objects.get().cases == Case.objects.count()
    assert CaseFact.objects.filter(days_to_consent__isnull=False).exists()


def test_a_second_run_adds_more_municipalities_and_keeps_the_chain(small_set: str) -> None:
    with time_machine.travel(NOW, tick=False):
        synth("--municipalities", "1", "--youths-per-municipality", "3", "--seed", "8")
    assert Municipality.objects.filter(name__endswith=SYNTHETIC_SUFFIX).count() == 3
    assert Youth.objects.count() == 23
    assert audit_verify().ok


def test_refuses_in_production() -> None:
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="production"):
        synth(*ARGS)
    assert not Municipality.objects.exists()


def test_refuses_beside_real_cases_unless_forced(consent_case) -> None:
    real = Case.objects.count()
    with pytest.raises(CommandError, match="non-synthetic"):
        synth("--municipalities", "1", "--youths-per-municipality", "2")
    assert Case.objects.count() == real
    synth("--municipalities", "1", "--youths-per-municipality", "2", "--force")
    assert Case.objects.count() > real
    assert audit_verify().ok


@pytest.mark.parametrize(
    "args",
    [
        ("--municipalities", "0", "--youths-per-municipality", "2"),
        ("--municipalities", "1", "--youths-per-municipality", "x"),
        ("--municipalities", "1", "--youths-per-municipality", "2", "--start", "2999-01-01"),
        ("--municipalities", "1", "--youths-per-municipality", "2", "--start", "juni"),
        (
            "--youths-per-municipality",
            "2",
        ),
    ],
)
def test_rejects_bad_arguments(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        synth(*args)
    assert not Municipality.objects.exists()


def test_the_command_line_refuses_production_with_one_line(tmp_path) -> None:
    result = run_cli(
        *("synth", "--municipalities", "1", "--youths-per-municipality", "1"),
        env=production_env(tmp_path),
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "production" in lines[0]


def test_rows_carry_what_only_the_services_make(small_set: str) -> None:
    """Each property below is made by a service's per-row function and by nothing else, so a
    synth that wrote rows around the services would fail here."""
    # A paper signature's scan is a real form that passes the upload checks, stored as they
    # clean it (``check_evidence`` + ``evidence_prepare``): a stand-in of a few bytes does not.
    scans = list(EvidenceFile.objects.all())
    assert scans
    for scan in scans:
        content = base64.b64decode(scan.content_b64)
        assert (scan.size, scan.sha256) == (len(content), hashlib.sha256(content).hexdigest())
        upload = SimpleUploadedFile("scan.pdf", content, content_type=scan.content_type)
        assert check_evidence(upload).content_type == scan.content_type
    # Pseudonyms come from the counters, which are left at the last number handed out.
    numbers: dict[tuple[str, int], list[int]] = {}
    for youth in Youth.objects.select_related("municipality"):
        prefix, year, number = youth.pseudonym.split("-")
        assert prefix == pseudonym_prefix(youth.municipality)
        numbers.setdefault((prefix, int(year)), []).append(int(number))
    for (letters, in_year), used in numbers.items():
        assert sorted(used) == list(range(1, len(used) + 1))
        assert PseudonymCounter.objects.get(prefix=letters, year=in_year).last == len(used)
    # Signers recorded the way the services record each method.
    for signature in ConsentSignature.objects.all():
        if signature.method == SignatureMethod.ELECTRONIC:
            assert signature.eid_provider
            assert signature.eid_reference
            assert signature.recorded_by_id is None
        else:
            assert signature.recorded_by_id is not None
            assert (signature.evidence_id is not None) == (signature.method == "paper")
            in_person = signature.method == SignatureMethod.IN_PERSON
            assert (signature.witness_id == signature.recorded_by_id) == in_person
    for link in GuardianLink.objects.all():
        assert link.email_hash == GuardianLink.hash_email(link.email)
    for user in User.objects.filter(username__startswith="synt-"):
        assert not user.has_usable_password()
        assert user.email == user.email.lower()


def test_synth_writes_only_through_the_services_public_helpers() -> None:
    """No row or audit event is written by synth itself: it imports no chaining or bulk insert,
    calls no save or create, and imports no private name of another app."""
    import samverkan.synth

    folder = Path(samverkan.synth.__file__).parent
    trees = {p.name: ast.parse(p.read_text()) for p in folder.rglob("*.py")}
    assert "generate.py" in trees
    writers = {"save", "bulk_create", "create", "get_or_create", "update_or_create", "delete"}
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert module not in {"samverkan.audit.chain", "samverkan.lib.bulk"}, name
                imported = {alias.name for alias in node.names}
                assert not {n for n in imported if n.startswith("_")}, (name, module)
                assert not imported & {"audit_record", "audit_record_many", "compute_hash"}, name
            if isinstance(node, ast.Attribute):
                assert node.attr not in writers | {"_default_manager"}, (name, node.attr)
