"""Property test (issue 4, acceptance): over random consents, signatures, withdrawals, statutory
disclosures, moments, viewers and entries, every reader of a case shows exactly what the policy
allows — never more, never fewer.

The expected answer comes from a small oracle written here from the raw facts the test itself
recorded (who signed when, what was withdrawn when, the period, the youth's birthday), not from
``disclosure.policy``: an entry of agency A reaches a viewer of agency B at moment t when A is B, or
when some consent is active at t and names both A and B and the entry's category, or when that
entry was disclosed to B under a statute at or before t. A consent is active at t when every
required signer signed at or before t, valid_from ≤ t < valid_until, it was not withdrawn at or
before t, and — where the youth is not a signer — t is before the youth's 18th birthday. The
required signers are derived here too, from the youth's age on the first day. A consent only
guardians were asked to sign covers nothing from the youth's 15th birthday (the signing age)
until the youth co-signs it (DESIGN rule 18); the youth co-signs at the step drawn for the
signer after the guardians.

Every step runs through the real services at a moment set with time-machine, in time order, and
each example's writes are rolled back, so the examples stay independent and fast.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.cases import selectors
from samverkan.cases.models import Case, Entry, InformationCategory
from samverkan.cases.services import case_raise, entry_add, guardian_add, team_add
from samverkan.consent.models import Consent, RequiredSigner
from samverkan.consent.services import (
    consent_create,
    consent_withdraw,
    signature_record,
    statutory_disclose,
    youth_cosigner_ensure,
)
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.organisations.models import Agency, Role
from samverkan.organisations.services import group_member_add
from tests.cases.test_api import with_check_digit
from tests.helpers import make_user, statutory_conditions

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# The four agencies on every team, by sector, and the information categories of each sector
# (as the migration seeds them). An entry may also be "general" of the "other" sector, which
# no consent can name.
AGENCIES = ("school", "social_services", "police", "leisure")
SECTOR_CATEGORIES = {
    "school": ("attendance", "support_and_grades", "wellbeing", "general"),
    "social_services": ("assessment", "interventions", "general"),
    "police": ("incidents", "concerns", "general"),
    "leisure": ("participation", "general"),
}
ENTRY_CATEGORIES = {
    sector: (*((sector, code) for code in codes), ("other", "general"))
    for sector, codes in SECTOR_CATEGORIES.items()
}
# Statutory bases that fit a target sector from any source (disclosure/statutory.py).
STATUTE_TO = {"social_services": "concern_report", "police": "suspected_crime_24"}

STEP = dt.timedelta(hours=6)
STEPS = 30 * 4  # a window of 30 days in six-hour steps


# --- The world, built once per test run ------------------------------------------------------


@dataclass
class Scene:
    t0: dt.datetime
    agencies: dict[str, Agency]
    members: dict[str, User]  # one team member per sector
    cases: list[Case]
    births: list[dt.date]
    guardians: list[int]  # guardians with custody, per case
    categories: dict[tuple[str, str], InformationCategory]
    auth: dict[str, str]  # bearer header per sector


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def identity_number(born: dt.date, serial: str) -> str:
    digits = with_check_digit(born.strftime("%y%m%d") + serial)
    return f"{born.year}{digits[2:6]}-{digits[6:]}"


@pytest.fixture
def scene(personas, world) -> Scene:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    t0 = dt.datetime.combine(tomorrow, dt.time(8), tzinfo=STOCKHOLM)
    agencies = {
        "school": world.avesta_school,
        "social_services": world.avesta_social,
        "police": world.police,
        "leisure": world.avesta_leisure,
    }
    leisure = make_user("lars", world.avesta_leisure, Role.PRACTITIONER)
    group_member_add(
        actor=None, group=world.avesta_group, user=leisure, agency=world.avesta_leisure
    )
    members = {
        "school": personas.practitioner,
        "social_services": personas.other_agency,
        "police": personas.police,
        "leisure": leisure,
    }
    # One youth turns 15 and the other 18 ten days into the window: the signers a consent
    # needs then depend on its first day.
    turning = tomorrow + dt.timedelta(days=10)
    births = [years_before(turning, 15), years_before(turning, 18)]
    cases = []
    for i, born in enumerate(births):
        case = case_raise(
            actor=personas.practitioner,
            group=world.avesta_group,
            agency=world.avesta_school,
            identity_number=identity_number(born, f"{i + 2}38"),
            name=f"Ung Person{'AB'[i]}",
            gender="",
            reason="Oro för frånvaron.",
        ).case
        for sector in AGENCIES[1:]:
            team_add(
                actor=personas.coordinator, case=case, user=members[sector], agency=agencies[sector]
            )
        for n in range(2):
            guardian_add(
                actor=personas.practitioner, case=case, name=f"Förälder {n + 1}", has_custody=True
            )
        cases.append(case)
    categories = {(c.sector, c.code): c for c in InformationCategory.objects.filter(is_active=True)}
    with time_machine.travel(t0 - dt.timedelta(hours=1), tick=False):
        auth = {
            sector: "Bearer "
            + token_create(actor=None, user=user, name="property", days=60, scope=Scope.READ).text
            for sector, user in members.items()
        }
    return Scene(
        t0=t0,
        agencies=agencies,
        members=members,
        cases=cases,
        births=births,
        guardians=[2, 2],
        categories=categories,
        auth=auth,
    )


# --- The scenario: plain data, drawn by Hypothesis -------------------------------------------


@dataclass
class ConsentPlan:
    agencies: tuple[str, ...]
    categories: tuple[tuple[str, str], ...]
    start_day: int
    length_days: int
    youth_also_signs: bool
    signs_at: tuple[int | None, ...]  # per possible signer, in steps; None: never signs
    withdrawn_at: int | None


@dataclass
class Scenario:
    case_index: int
    entries: list[tuple[str, tuple[str, str]]]
    consents: list[ConsentPlan]
    disclosures: list[tuple[int, str, int]]  # (entry index, target sector, step)
    observations: list[int]


steps = st.integers(0, STEPS)


def mostly(strategy: st.SearchStrategy[int], *, none_in: int) -> st.SearchStrategy[int | None]:
    """``strategy``, or None once in ``none_in`` draws (Hypothesis' ``|`` would make it half)."""
    return st.integers(1, none_in).flatmap(lambda n: st.none() if n == 1 else strategy)


# Most signers sign, early in the window; a few consents are withdrawn; observations spread
# over the whole window, so that examples reach every state while entries are there to cross.
signing_steps = mostly(st.integers(0, STEPS // 2), none_in=8)
withdrawal_steps = st.integers(1, 3).flatmap(lambda n: steps if n == 1 else st.none())


@st.composite
def consent_plans(draw: st.DrawFn) -> ConsentPlan:
    agencies = tuple(
        sorted(draw(st.sets(st.sampled_from(AGENCIES), min_size=2, max_size=4)), key=AGENCIES.index)
    )
    offered = sorted({(s, c) for s in agencies for c in SECTOR_CATEGORIES[s]})
    categories = tuple(sorted(draw(st.sets(st.sampled_from(offered), min_size=1, max_size=6))))
    return ConsentPlan(
        agencies=agencies,
        categories=categories,
        start_day=draw(st.integers(0, 12)),
        length_days=draw(st.integers(0, 25)),
        youth_also_signs=draw(st.booleans()),
        signs_at=tuple(draw(signing_steps) for _ in range(3)),
        withdrawn_at=draw(withdrawal_steps),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    entries = draw(
        st.lists(
            st.sampled_from(AGENCIES).flatmap(
                lambda s: st.tuples(st.just(s), st.sampled_from(ENTRY_CATEGORIES[s]))
            ),
            min_size=1,
            max_size=6,
        )
    )
    disclosures = draw(
        st.lists(
            st.tuples(st.integers(0, len(entries) - 1), st.sampled_from(sorted(STATUTE_TO)), steps),
            max_size=2,
        )
    )
    return Scenario(
        case_index=draw(st.integers(0, 1)),
        entries=entries,
        consents=draw(st.lists(consent_plans(), min_size=1, max_size=3)),
        disclosures=disclosures,
        observations=draw(st.lists(steps, min_size=2, max_size=3)),
    )


# --- The oracle ------------------------------------------------------------------------------


@dataclass
class Known:
    """One consent as the test recorded it, independently of the consent tables."""

    consent: Consent
    agencies: frozenset[str]
    categories: frozenset[tuple[str, str]]
    starts: dt.datetime
    ends: dt.datetime
    signers: list[str]  # "guardian" or "youth", in order
    signed: dict[int, dt.datetime] = field(default_factory=dict)  # signer index → moment
    withdrawn: dt.datetime | None = None
    cosigned: dt.datetime | None = None  # the youth's co-signature of a guardians' consent


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=STOCKHOLM)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def expected_signers(born: dt.date, first_day: dt.date, guardians: int, youth_also: bool):
    """DESIGN rule 2: each guardian with custody, the youth too from 15, the youth alone
    from 18 — on the consent's first day."""
    age = age_on(born, first_day)
    if age >= 18:
        return ["youth"]
    return ["guardian"] * guardians + (["youth"] if youth_also or age >= 15 else [])


def state(known: Known, at: dt.datetime, adult: dt.datetime, signing: dt.datetime) -> str:
    guardians_only = "youth" not in known.signers
    if known.withdrawn is not None and known.withdrawn <= at:
        return "withdrawn"
    if at >= known.ends or (guardians_only and known.cosigned is None and at >= adult):
        return "expired"
    complete = len(known.signed) == len(known.signers) and all(
        moment <= at for moment in known.signed.values()
    )
    if not (complete and known.starts <= at):
        return "pending"
    if guardians_only and at >= signing and (known.cosigned is None or known.cosigned > at):
        return "awaiting"
    return "active"


@dataclass
class Oracle:
    adult: dt.datetime
    signing: dt.datetime  # the youth's 15th birthday
    consents: list[Known] = field(default_factory=list)
    statutory: dict[tuple[int, str], dt.datetime] = field(default_factory=dict)

    def state(self, known: Known, at: dt.datetime) -> str:
        return state(known, at, self.adult, self.signing)

    def active(self, at: dt.datetime) -> list[Known]:
        return [k for k in self.consents if self.state(k, at) == "active"]

    def visible(self, entry: tuple[str, tuple[str, str]], entry_pk: int, viewer: str, at):
        agency, category = entry
        if agency == viewer:
            return True
        if any(
            {agency, viewer} <= k.agencies and category in k.categories for k in self.active(at)
        ):
            return True
        disclosed = self.statutory.get((entry_pk, viewer))
        return disclosed is not None and disclosed <= at

    def identity(self, viewer: str, at: dt.datetime) -> bool:
        return viewer == "school" or any({"school", viewer} <= k.agencies for k in self.active(at))

    def reason(self, entry: tuple[str, tuple[str, str]], viewer: str, at: dt.datetime) -> str:
        agency, category = entry
        pair = [k for k in self.consents if {agency, viewer} <= k.agencies]
        # Awaiting the youth's co-signature is waiting for a signature too.
        states = {
            self.state(k, at).replace("awaiting", "pending")
            for k in pair
            if category in k.categories
        }
        for candidate in ("pending", "withdrawn", "expired"):
            if candidate in states:
                return candidate
        return "category" if pair else "no_consent"


# --- The property ----------------------------------------------------------------------------


class _RollbackError(Exception):
    pass


# Always run as well as the drawn examples (rule 18): the youth of case 0 turns 15 on day 10 of
# a consent only the guardians signed, and co-signs on day 15. Observed on day 5 (covered), day
# 12 (awaiting the co-signature) and day 25 (covered again).
TURNING_15 = Scenario(
    case_index=0,
    entries=[("school", ("school", "attendance"))],
    consents=[
        ConsentPlan(
            agencies=("school", "social_services"),
            categories=(("school", "attendance"),),
            start_day=0,
            length_days=25,
            youth_also_signs=False,
            signs_at=(0, 1, 60),
            withdrawn_at=None,
        )
    ],
    disclosures=[],
    observations=[20, 48, 100],
)


def at_step(scene: Scene, step: int) -> dt.datetime:
    return scene.t0 + step * STEP


def test_every_reader_shows_exactly_what_the_policy_allows(scene: Scene):
    seen: Counter[str] = Counter()

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(scenario=scenarios())
    @example(scenario=TURNING_15)
    def check(scenario: Scenario) -> None:
        try:
            with transaction.atomic():
                run(scene, scenario, seen)
                raise _RollbackError
        except _RollbackError:
            pass

    check()
    # Not vacuous: the examples reached entries shown under a consent and under a statute, and
    # entries withheld for every reason.
    wanted = {
        "consent",
        "statute",
        "no_consent",
        "category",
        "pending",
        "withdrawn",
        "expired",
        "awaiting",
    }
    assert wanted <= {k for k, n in seen.items() if n}, seen


Event = tuple[int, int, int, Any]  # (step, order within the step, insertion order, event)


def _draw_up_consent(
    scene: Scene,
    scenario: Scenario,
    plan: ConsentPlan,
    born: dt.date,
    oracle: Oracle,
    events: list[Event],
) -> None:
    """One consent of the scenario, drawn up with nobody signed; its signatures, youth
    co-signature and withdrawal go into ``events`` for later."""
    case = scene.cases[scenario.case_index]
    first_day = scene.t0.date() + dt.timedelta(days=plan.start_day)
    last_day = first_day + dt.timedelta(days=plan.length_days)
    consent = consent_create(
        actor=scene.members["school"],
        case=case,
        agency_ids=[scene.agencies[a].pk for a in plan.agencies],
        category_ids=[scene.categories[c].pk for c in plan.categories],
        valid_from=first_day,
        valid_until=last_day,
        youth_also_signs=plan.youth_also_signs,
    )
    known = Known(
        consent=consent,
        agencies=frozenset(plan.agencies),
        categories=frozenset(plan.categories),
        starts=start_of(first_day),
        ends=start_of(last_day + dt.timedelta(days=1)),
        signers=expected_signers(
            born,
            first_day,
            scene.guardians[scenario.case_index],
            plan.youth_also_signs,
        ),
    )
    stored = list(RequiredSigner.objects.filter(consent=consent).order_by("order"))
    assert [s.kind for s in stored] == known.signers
    oracle.consents.append(known)
    for index, signer in enumerate(stored):
        step = plan.signs_at[index]
        if step is not None:
            events.append((step, 0, len(events), ("sign", known, index, signer)))
    cosign_step = plan.signs_at[len(stored)] if len(stored) < len(plan.signs_at) else None
    if "youth" not in known.signers and cosign_step is not None:
        events.append((cosign_step, 0, len(events), ("cosign", known)))
    if plan.withdrawn_at is not None:
        events.append((plan.withdrawn_at, 1, len(events), ("withdraw", known, stored[0])))


def run(scene: Scene, scenario: Scenario, seen: Counter[str]) -> None:
    case = scene.cases[scenario.case_index]
    born = scene.births[scenario.case_index]
    oracle = Oracle(
        adult=start_of(years_before(born, -18)), signing=start_of(years_before(born, -15))
    )

    # At the start of the window: the entries and the consents (drawn up, nobody signed).
    events: list[Event] = []
    with time_machine.travel(scene.t0, tick=False):
        entries: list[Entry] = []
        for agency, category in scenario.entries:
            entries.append(
                entry_add(
                    actor=scene.members[agency],
                    case=case,
                    agency=scene.agencies[agency],
                    category=scene.categories[category],
                    text=f"Anteckning {len(entries) + 1}",
                )
            )
        for plan in scenario.consents:
            _draw_up_consent(scene, scenario, plan, born, oracle, events)
    for entry_index, target, step in scenario.disclosures:
        events.append((step, 2, len(events), ("disclose", entries[entry_index], target)))
    # The API reads through the same selectors; it is asked at the last observation only, to
    # keep the examples quick.
    last = max(scenario.observations)
    for step in scenario.observations:
        events.append((step, 3, len(events), ("observe", step == last)))

    for step, _order, _n, event in sorted(events, key=lambda e: e[:3]):
        moment = at_step(scene, step)
        with time_machine.travel(moment, tick=False):
            kind = event[0]
            if kind == "sign":
                sign(scene, oracle, moment, *event[1:])
            elif kind == "cosign":
                cosign(scene, oracle, moment, *event[1:])
            elif kind == "withdraw":
                withdraw(scene, oracle, moment, *event[1:])
            elif kind == "disclose":
                disclose(scene, oracle, moment, scenario, entries, *event[1:])
            else:
                observe(scene, oracle, moment, case, scenario, entries, seen, api=event[1])


def cosign(scene: Scene, oracle: Oracle, moment, known: Known) -> None:
    """The youth co-signs a consent only the guardians were asked to sign (rule 18)."""
    refused = oracle.state(known, moment) in ("withdrawn", "expired")
    signer = youth_cosigner_ensure(consent=known.consent, actor=scene.members["school"])
    if signer is None:
        assert refused, "the youth could not co-sign a consent that was neither ended nor signed"
        return
    assert not refused, "a withdrawn or expired consent took a co-signer"
    signature_record(
        actor=scene.members["school"],
        signer=signer,
        method="in_person",
        maturity_assessment="Förstår samtycket och vill delta i arbetet.",
    )
    known.cosigned = moment


def sign(scene: Scene, oracle: Oracle, moment, known: Known, index: int, signer) -> None:
    refused = oracle.state(known, moment) in ("withdrawn", "expired")
    try:
        signature_record(
            actor=scene.members["school"],
            signer=signer,
            method="in_person",
            maturity_assessment="Förstår samtycket och vill delta i arbetet.",
        )
    except ValidationError:
        assert refused, "a signature was refused on a consent that was neither ended nor signed"
    else:
        assert not refused, "a withdrawn or expired consent took a signature"
        known.signed[index] = moment


def withdraw(scene: Scene, oracle: Oracle, moment, known: Known, signer) -> None:
    refused = oracle.state(known, moment) == "expired"
    try:
        consent_withdraw(
            consent=known.consent, signer=signer, method="oral", actor=scene.members["school"]
        )
    except ValidationError:
        assert refused
    else:
        assert not refused
        known.withdrawn = moment


def disclose(scene, oracle, moment, scenario, entries, entry: Entry, target: str) -> None:
    source = scenario.entries[entries.index(entry)][0]
    if source == target or (entry.pk, target) in oracle.statutory:
        return
    attempt = {
        "actor": scene.members[source],
        "entry": entry,
        "to_agency_id": scene.agencies[target].pk,
        "basis_code": STATUTE_TO[target],
        "justification": "Anmälan om oro enligt lag, nödvändig för barnets skydd.",
        "conditions_confirmed": statutory_conditions(STATUTE_TO[target]),
    }
    if STATUTE_TO[target] == "concern_report" and moment >= oracle.adult:
        # A report of concern is for a child under 18 (DESIGN rule 17): nothing crosses.
        with pytest.raises(ValidationError):
            statutory_disclose(**attempt)
        return
    statutory_disclose(**attempt)
    oracle.statutory[(entry.pk, target)] = moment


def observe(
    scene: Scene,
    oracle: Oracle,
    moment,
    case: Case,
    scenario: Scenario,
    entries,
    seen: Counter[str],
    *,
    api: bool,
) -> None:
    seen["awaiting"] += sum(oracle.state(k, moment) == "awaiting" for k in oracle.consents)
    for viewer, user in scene.members.items():
        expected = {
            entry.pk
            for entry, facts in zip(entries, scenario.entries, strict=True)
            if oracle.visible(facts, entry.pk, viewer, moment)
        }
        expected_hidden = Counter(
            (scene.agencies[facts[0]].pk, oracle.reason(facts, viewer, moment))
            for entry, facts in zip(entries, scenario.entries, strict=True)
            if entry.pk not in expected
        )
        identity = oracle.identity(viewer, moment)
        context = (viewer, moment, scenario)

        access = disclosure_selectors.case_open(viewer=user, pk=case.pk)
        assert access.at == moment
        assert access.identity.allowed is identity, context
        assert access.youth_label == (case.youth.name if identity else case.youth.pseudonym)
        assert bool(access.identity_number) is identity

        listing = disclosure_selectors.entry_listing(access)
        assert {v.entry.pk for v in listing.visible} == expected, context
        assert (
            Counter({(g.agency.pk, str(g.reason)): g.count for g in listing.hidden})
            == expected_hidden
        ), context
        for view in listing.visible:
            assert_basis(view.basis, view.entry, viewer, oracle, moment, scenario, entries)
            seen[view.basis.partition(":")[0]] += 1
        for (_agency, reason), count in expected_hidden.items():
            seen[reason] += count

        for entry in entries:
            history = disclosure_selectors.entry_history(access, entry.pk)
            assert (history is not None) is (entry.pk in expected), (context, entry.pk)

        rows = {row.case.pk: row for row in selectors.my_cases(viewer=user)}
        for other in scene.cases:
            shown = identity if other.pk == case.pk else viewer == "school"
            assert rows[other.pk].identity_shown is shown, context
            assert rows[other.pk].label == (other.youth.name if shown else other.youth.pseudonym)

        if not api:
            continue
        client = Client(HTTP_AUTHORIZATION=scene.auth[viewer], HTTP_ACCEPT_LANGUAGE="en")
        body = client.get(f"/api/v1/cases/{case.pk}/entries").json()
        assert {e["id"] for e in body["entries"]} == expected, context
        assert (
            Counter({(h["agency_id"], h["reason"]): h["count"] for h in body["hidden"]})
            == expected_hidden
        ), context


def assert_basis(basis: str, entry: Entry, viewer, oracle: Oracle, moment, scenario, entries):
    """The basis named is one that really allows it at that moment."""
    agency, category = scenario.entries[entries.index(entry)]
    if basis == "own_agency":
        assert agency == viewer
        return
    kind, _sep, rest = basis.partition(":")
    if kind == "consent":
        [known] = [k for k in oracle.consents if k.consent.pk == int(rest)]
        assert oracle.state(known, moment) == "active"
        assert {agency, viewer} <= known.agencies
        assert category in known.categories
    else:
        assert kind == "statute"
        assert oracle.statutory[(entry.pk, viewer)] <= moment
