"""Named mutations: conditions a test must guard, broken one at a time (issue 19).

Each mutation below is a condition that once survived (no test failed when it was broken). The
script copies the source and the tests into a temporary folder, applies one mutation at a time
there (never in the working tree), runs the tests that guard it, and reports whether they
caught it. It exits 1 when any mutation survives, 0 when every one was caught.

    .venv/bin/python tools/named_mutations.py            # all, on SQLite
    .venv/bin/python tools/named_mutations.py 4 7a       # some
    DATABASE_URL=postgres://… .venv/bin/python tools/named_mutations.py

docs/mutation-testing.md lists the mutations, the tests that guard them and the last result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


def _m(name: str, what: str, file: str, old: str, new: str, *tests: str) -> Mutation:
    return Mutation(name, what, f"src/samverkan/{file}", old, new, tests)


_STATUTORY = "tests/consent/test_statutory.py"
_CONDITIONS = "tests/consent/test_statutory_conditions.py"
_SIGNATURES = "tests/consent/test_signatures.py"
_TAMPER = "tests/audit/test_chain_tampering.py"
_SIGNED = "tests/audit/test_signed_checkpoints.py"
_PRUNING = "tests/audit/test_pruning.py"
_SEATS = "tests/cases/test_team_seat_follows_membership.py"
_PURGE = "tests/records/test_retention_at_purge.py"
_EXPORT = "tests/records/test_subject_export_disclosures.py"

MUTATIONS: tuple[Mutation, ...] = (
    _m(
        "1",
        "statutory disclosure: the receiving agency's sector is not checked against the basis",
        "consent/services/disclosure.py",
        "elif to_agency.sector not in basis.to_sectors:",
        "elif False and to_agency.sector not in basis.to_sectors:",
        f"{_STATUTORY}::test_a_basis_refuses_an_agency_on_the_team_of_another_sector",
    ),
    _m(
        "2",
        "statutory disclosure: the basis's age limit (under 21) is not checked",
        "consent/services/disclosure.py",
        "elif basis.max_age is not None and",
        "elif False and basis.max_age is not None and",
        f"{_STATUTORY}::test_the_under_21_basis_ends_on_the_21st_birthday",
    ),
    _m(
        "3",
        "team_agency_ids: a seat counts without a current practitioner membership",
        "disclosure/viewer.py",
        "    return seats & practising",
        "    return seats",
        _SEATS,
    ),
    *(
        _m(
            f"4{suffix}",
            f"audit chain: {field} is left out of the hashed content",
            "audit/chain.py",
            f'        "{field}": event.{field},\n',
            "",
            f"{_TAMPER}::test_tampering_with_any_stored_field_is_named[{field}]",
        )
        for suffix, field in (
            ("", "legal_basis"),
            ("b", "case_id"),
            ("c", "agency_id"),
            ("d", "object_type"),
            ("f", "request_id"),
        )
    ),
    # The address enters the hash as its truncated network plus a salted commitment (D24).
    _m(
        "4e",
        "audit chain: ip is left out of the hashed content",
        "audit/chain.py",
        '        "ip": _hashed_ip(event),\n',
        "",
        f"{_PRUNING}::test_a_truncated_address_changed_is_caught_by_the_hash",
    ),
    _m(
        "4g",
        "audit chain: the IP address's commitment is left out of the hashed content",
        "audit/chain.py",
        '        payload["ip_commitment"] = event.ip_commitment\n',
        "        pass\n",
        f"{_PRUNING}::test_a_commitment_recomputed_for_another_address_is_caught_by_the_hash",
    ),
    _m(
        "4h",
        "audit chain: a whole IP address is not compared with its commitment",
        "audit/chain.py",
        "        if event.ip is not None and hmac.compare_digest(\n",
        "        if True or event.ip is not None and hmac.compare_digest(\n",
        f"{_PRUNING}::test_an_address_changed_within_its_network_is_caught_by_its_commitment",
    ),
    _m(
        "4i",
        "audit verify: a pruning anchor's signature is not checked",
        "audit/selectors.py",
        "        if not _anchor_is_signed(anchor):\n",
        "        if False:\n",
        f"{_PRUNING}::test_an_anchor_forged_without_the_key_is_detected",
        f"{_PRUNING}::test_altering_the_anchor_is_detected",
    ),
    _m(
        "4j",
        "audit verify: the chain starts at the genesis even after pruning",
        "audit/selectors.py",
        "        start_seq=start_seq,\n",
        "",
        f"{_PRUNING}::test_prune_removes_only_events_past_the_period_and_the_log_still_verifies",
    ),
    _m(
        "5",
        "audit chain: the link to the previous event is not checked",
        "audit/chain.py",
        "        if not hmac.compare_digest(event.prev_hash, prev_hash):\n",
        "        if False:\n",
        f"{_TAMPER}::test_a_broken_link_is_named_even_when_the_event_hash_was_recomputed",
        f"{_TAMPER}::test_a_resealed_event_with_a_foreign_link_is_named_by_the_pure_check",
    ),
    _m(
        "6",
        "audit verify: the checkpoint's hash is not compared",
        "audit/selectors.py",
        "    if list(stored) != [checkpoint.hash]:\n",
        "    if False:\n",
        f"{_TAMPER}::test_a_log_rewritten_with_the_key_fails_against_the_checkpoint",
        f"{_SIGNED}::test_an_insider_rewrite_with_a_new_key_is_caught_by_the_published_checkpoint",
    ),
    _m(
        "6b",
        "audit verify: a signed checkpoint's signature is not checked",
        "audit/selectors.py",
        "        problem = _signature_problem(checkpoint)\n",
        '        problem = ""\n',
        f"{_SIGNED}::test_a_checkpoint_forged_to_match_a_rewrite_fails_its_signature",
        f"{_SIGNED}::test_a_checkpoint_signed_with_another_key_is_refused",
    ),
    _m(
        "6c",
        "audit sealer: batches are sealed without the chain head's lock",
        "audit/sealing.py",
        "        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)\n",
        "        head, _ = ChainHead.objects.get_or_create(pk=1)\n",
        "tests/audit/test_sealing.py::"
        "test_many_writers_interleaved_with_the_sealer_leave_no_gap_and_no_duplicate",
    ),
    _m(
        "7a",
        "a staff-recorded signature's audit event is written outside its transaction",
        "consent/services/signatures.py",
        "        _audit_signature(locked, signature, actor=actor)\n"
        "        signers_notify(\n"
        "            locked, actor=actor, signers=[signer], reason=NOTICE_SIGNATURE, "
        "method=method\n"
        "        )\n    return signature",
        "        signers_notify(\n"
        "            locked, actor=actor, signers=[signer], reason=NOTICE_SIGNATURE, "
        "method=method\n"
        "        )\n    _audit_signature(locked, signature, actor=actor)\n"
        "    return signature",
        _SIGNATURES,
    ),
    _m(
        "7b",
        "an e-ID signature's audit event is written outside its transaction",
        "consent/services/signatures.py",
        "\n        _audit_signature(locked, signature, actor=None)\n",
        "\n    _audit_signature(locked, signature, actor=None)\n",
        _SIGNATURES,
    ),
    _m(
        "8",
        "retention: a legal hold placed after the plan is not checked again before the purge",
        "records/services.py",
        "        if case is None or LegalHold.objects.filter(case_id=case_id).exists():\n",
        "        if case is None:\n",
        f"{_PURGE}::test_a_hold_placed_after_the_plan_keeps_the_case",
    ),
    _m(
        "9",
        "retention: the statistics facts are not refreshed before the purge",
        "records/services.py",
        # The comment before it makes the line unique: a partial purge refreshes too.
        "before the data goes.\n        facts_refresh(case_ids=[case_id])\n",
        "before the data goes.\n        pass\n",
        f"{_PURGE}::test_the_facts_are_brought_up_to_date_just_before_the_purge",
    ),
    _m(
        "10",
        "subject export: statutory disclosures are left out",
        "records/subject_export/data.py",
        '"statutory_disclosures": statutory.get(entry.pk, []),',
        '"statutory_disclosures": [],',
        f"{_EXPORT}::test_the_export_lists_statutory_disclosures",
    ),
    _m(
        "11",
        "subject export: to whom each entry was shown is left out",
        "records/subject_export/data.py",
        '"disclosures": disclosures.get(entry.pk, []),',
        '"disclosures": [],',
        f"{_EXPORT}::test_the_export_says_to_whom_an_entry_was_shown_under_consent",
    ),
    _m(
        "12",
        "editing a user does not ask for the password again",
        "accounts/views.py",
        "@reauthentication_required\ndef _user_edit(",
        "def _user_edit(",
        "tests/accounts/test_user_edit_reauthentication.py",
    ),
    _m(
        "13",
        "the data-subject export's POST does not ask for the password again",
        "records/export_views.py",
        '    if is_reauthentication_required(request, app=""):\n',
        "    if False:\n",
        f"{_EXPORT}::test_a_post_without_a_recent_password_exports_nothing",
    ),
    _m(
        "14",
        "the reminder when the youth turns 18 is not sent",
        "consent/notices.py",
        "            if created < birthday(case.youth.birth_date, 18) <= today:\n",
        "            if False:\n",
        "tests/consent/test_notices.py::"
        "test_a_youth_turning_18_during_a_consent_is_flagged_to_the_coordinator",
    ),
    _m(
        "15",
        "e-ID signing does not refuse a youth under the signing age",
        "consent/services/signatures.py",
        "if _needs_maturity(consent, signer):",
        "if False and _needs_maturity(consent, signer):",
        f"{_SIGNATURES}::test_a_youth_under_the_signing_age_is_refused_e_id_by_the_service",
    ),
    _m(
        "16",
        "only a signer who signed may withdraw in the portal",
        "portal/selectors.py",
        "view.can_withdraw = open_state\n",
        "view.can_withdraw = open_state and view.i_signed\n",
        "tests/portal/test_portal.py::test_a_guardian_who_has_not_signed_refuses_in_the_portal",
    ),
    _m(
        "17a",
        "statutory disclosure: the provision's conditions need not be confirmed (DESIGN rule 17)",
        "consent/services/disclosure.py",
        "any(c.code not in confirmed for c in basis.conditions):",
        "any(c.code not in confirmed for c in basis.conditions[:0]):",
        f"{_CONDITIONS}::test_each_crime_provision_is_refused_without_each_of_its_conditions",
        f"{_CONDITIONS}::test_the_under_21_basis_refuses_information_about_a_committed_crime",
    ),
    _m(
        "17b",
        "statutory disclosure: a report of concern is allowed for an adult",
        "disclosure/statutory.py",
        "        to_sectors=frozenset({Sector.SOCIAL_SERVICES}),\n        max_age=18,\n",
        "        to_sectors=frozenset({Sector.SOCIAL_SERVICES}),\n        max_age=None,\n",
        f"{_CONDITIONS}::test_each_basis_is_refused_from_its_age_limit",
    ),
    _m(
        "17c",
        "statutory disclosure page: the POST does not ask for a fresh password",
        "consent/views.py",
        '        if is_reauthentication_required(request, app=""):\n'
        "            # Not allauth's decorator",
        '        if False and is_reauthentication_required(request, app=""):\n'
        "            # Not allauth's decorator",
        f"{_CONDITIONS}::test_a_post_without_a_fresh_password_discloses_nothing_and_keeps_nothing",
    ),
    _m(
        "17d",
        "statutory disclosure page: the form is shown without a fresh password",
        "consent/views.py",
        "@reauthentication_required\ndef _statutory_disclosure_form(",
        "def _statutory_disclosure_form(",
        f"{_CONDITIONS}::test_the_page_asks_for_the_password_before_showing_the_form",
    ),
    _m(
        "16a",
        "rule 16: a consent or statutory disclosure not from the raising agency carries the "
        "case's content",
        "disclosure/policy.py",
        "            grant.from_agency_id == raising_agency_id\n",
        "            True\n",
        "tests/cases/test_rule16_content_before_consent.py::"
        "test_a_consent_between_two_other_agencies_carries_no_content_and_opens_no_gate",
        "tests/cases/test_rule16_content_before_consent.py::"
        "test_content_decision_covers_exactly_the_raiser_and_agencies_granted_now",
    ),
)


def _copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
    for part in ("src", "tests"):
        shutil.copytree(ROOT / part, target / part, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")


def _pytest(tree: Path, data_dir: Path, tests: list[str]) -> subprocess.CompletedProcess[str]:
    # The copy's own source comes first on the path, before the editable install's.
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "SAMVERKAN_DATA_DIR": str(data_dir)}
    return subprocess.run(  # noqa: S603 - our own test runner, fixed arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            *tests,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def run(mutation: Mutation, tree: Path, data_dir: Path) -> tuple[bool, float, str]:
    """Apply ``mutation`` in ``tree``, run its tests, restore. True when a test failed."""
    path = tree / mutation.file
    source = path.read_text()
    if source.count(mutation.old) != 1:
        raise SystemExit(
            f"mutation {mutation.name}: its text is not found exactly once in {mutation.file}; "
            "the code changed, so update the mutation"
        )
    path.write_text(source.replace(mutation.old, mutation.new))
    started = time.monotonic()
    try:
        result = _pytest(tree, data_dir, list(mutation.tests))
    finally:
        path.write_text(source)
    # pytest: 1 = tests failed (caught); 0 = all passed (survived); anything else is an error.
    if result.returncode not in (0, 1):
        tail = (result.stdout + result.stderr)[-2000:]
        raise SystemExit(f"mutation {mutation.name}: pytest could not run:\n{tail}")
    return result.returncode == 1, time.monotonic() - started, _last_line(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    args = parser.parse_args(argv)
    known = {m.name: m for m in MUTATIONS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown mutation(s): {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [known[n] for n in args.names] if args.names else list(MUTATIONS)
    survivors: list[Mutation] = []
    not_here: list[Mutation] = []
    with tempfile.TemporaryDirectory(prefix="samverkan-mutants-") as tmp:
        tree = Path(tmp) / "tree"
        _copy_tree(tree)
        # The control: unmutated, every chosen test must pass, or "caught" would mean nothing.
        control_dir = Path(tmp) / "data-control"
        control_dir.mkdir()
        tests = sorted({test for mutation in chosen for test in mutation.tests})
        control = _pytest(tree, control_dir, tests)
        if control.returncode != 0:
            print((control.stdout + control.stderr)[-3000:])
            print("the tests fail without any mutation; fix them first", file=sys.stderr)
            return 2
        print(f"control  passed  ({_last_line(control)})")
        for mutation in chosen:
            data_dir = Path(tmp) / f"data-{mutation.name}"
            data_dir.mkdir()
            caught, seconds, last = run(mutation, tree, data_dir)
            # Guarded only by tests that skip on this database (PostgreSQL-only ones on
            # SQLite): neither caught nor survived here; run them with DATABASE_URL set.
            skipped = not caught and "passed" not in last and "skipped" in last
            verdict = "caught" if caught else "skipped" if skipped else "SURVIVED"
            print(f"{mutation.name:>3}  {verdict:<8}  {seconds:5.0f}s  {mutation.what}  ({last})")
            if skipped:
                not_here.append(mutation)
            elif not caught:
                survivors.append(mutation)
    caught_count = len(chosen) - len(survivors) - len(not_here)
    print(
        f"{caught_count} caught, {len(survivors)} survived, {len(not_here)} not run on this "
        "database"
    )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
