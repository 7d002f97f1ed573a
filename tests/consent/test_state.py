"""The pure consent policy of ``disclosure.policy``: a consent's state at a moment, the grants it
gives, and why an entry is withheld; with the joint-custody acceptance rules (DESIGN rule 2).

No database: the facts are built by hand, so every boundary can be placed exactly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samverkan.disclosure.policy import (
    ConsentFacts,
    DenialReason,
    State,
    Viewer,
    all_grants,
    denial_reason,
    entry_decision,
    grants_of,
    identity_decision,
    state_at,
)

T0 = datetime(2027, 1, 1, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SCHOOL, SOCIAL, POLICE, LEISURE = 1, 2, 3, 4
ATTENDANCE, ASSESSMENT, INCIDENTS = 11, 12, 13


def facts(
    *,
    signed: tuple[datetime | None, ...] = (T0, T0),
    youth_signed: datetime | None = None,
    adult_at: datetime = T0 + 1000 * DAY,
    withdrawn_at: datetime | None = None,
    agencies: frozenset[int] = frozenset({SCHOOL, SOCIAL}),
    categories: frozenset[int] = frozenset({ATTENDANCE, ASSESSMENT}),
    valid_from: datetime = T0,
    valid_until: datetime = T0 + 180 * DAY,
    consent_id: int = 7,
) -> ConsentFacts:
    return ConsentFacts(
        consent_id=consent_id,
        agency_ids=agencies,
        category_ids=categories,
        valid_from=valid_from,
        valid_until=valid_until,
        signed_at=signed,
        youth_signed_at=youth_signed,
        youth_adult_at=adult_at,
        withdrawn_at=withdrawn_at,
    )


def viewer(*agencies: int) -> Viewer:
    return Viewer(user_id=1, agency_ids=frozenset(agencies))


def crosses(consent: ConsentFacts, at: datetime, *, category: int = ATTENDANCE) -> bool:
    """Whether a school entry of ``category`` reaches social services at ``at``."""
    return entry_decision(
        viewer(SOCIAL),
        entry_id=1,
        entry_agency_id=SCHOOL,
        category_id=category,
        at=at,
        grants=list(grants_of(consent)),
    ).allowed


# --- Joint custody (acceptance) -------------------------------------------------------------


def test_joint_custody_one_of_two_guardians_signed_nothing_crosses():
    consent = facts(signed=(T0, None))
    for at in (T0, T0 + HOUR, T0 + 100 * DAY):
        assert state_at(consent, at) is State.PENDING
        assert not crosses(consent, at)
    assert list(grants_of(consent)) == []
    assert not identity_decision(
        viewer(SOCIAL), raising_agency_id=SCHOOL, at=T0 + HOUR, grants=all_grants([consent])
    )


def test_joint_custody_both_guardians_signed_it_crosses_from_the_second_signature():
    second = T0 + 3 * DAY
    consent = facts(signed=(T0, second))
    assert state_at(consent, second - timedelta(microseconds=1)) is State.PENDING
    assert not crosses(consent, second - timedelta(microseconds=1))
    assert state_at(consent, second) is State.ACTIVE
    assert crosses(consent, second)
    assert identity_decision(
        viewer(SOCIAL), raising_agency_id=SCHOOL, at=second, grants=all_grants([consent])
    )


def test_a_youth_of_15_or_more_must_sign_too():
    """Two guardians and the youth are required: the guardians alone are not enough."""
    guardians_only = facts(signed=(T0, T0, None))
    assert state_at(guardians_only, T0 + DAY) is State.PENDING
    assert not crosses(guardians_only, T0 + DAY)
    youth_signs = T0 + 2 * DAY
    everyone = facts(signed=(T0, T0, youth_signs), youth_signed=youth_signs)
    assert state_at(everyone, T0 + DAY) is State.PENDING
    assert state_at(everyone, youth_signs) is State.ACTIVE
    assert crosses(everyone, youth_signs)


def test_from_18_the_youth_alone_signs():
    adult = T0 - 10 * DAY
    consent = facts(signed=(T0 + HOUR,), youth_signed=T0 + HOUR, adult_at=adult)
    assert state_at(consent, T0) is State.PENDING
    assert state_at(consent, T0 + HOUR) is State.ACTIVE
    assert crosses(consent, T0 + 100 * DAY)


def test_a_consent_signed_only_by_guardians_lapses_at_the_youths_18th_birthday():
    birthday = T0 + 40 * DAY
    consent = facts(signed=(T0, T0), adult_at=birthday)
    assert state_at(consent, birthday - timedelta(microseconds=1)) is State.ACTIVE
    assert crosses(consent, birthday - timedelta(microseconds=1))
    assert state_at(consent, birthday) is State.EXPIRED
    assert not crosses(consent, birthday)
    assert {g.valid_until for g in grants_of(consent)} == {birthday}
    assert consent.ends_at == birthday
    # Unsigned at the birthday: it can no longer become active.
    late = facts(signed=(T0, None), adult_at=birthday)
    assert state_at(late, birthday) is State.EXPIRED


def test_a_consent_the_youth_signed_goes_on_past_18():
    birthday = T0 + 40 * DAY
    consent = facts(signed=(T0, T0, T0), youth_signed=T0, adult_at=birthday)
    assert state_at(consent, birthday + DAY) is State.ACTIVE
    assert crosses(consent, birthday + DAY)


# --- state_at -------------------------------------------------------------------------------


def test_no_signers_is_never_active():
    consent = facts(signed=())
    assert state_at(consent, T0 + DAY) is State.PENDING
    assert consent.complete_at is None
    assert list(grants_of(consent)) == []


def test_signed_before_the_start_is_active_from_the_start():
    start = T0 + 5 * DAY
    consent = facts(signed=(T0, T0), valid_from=start)
    assert state_at(consent, start - timedelta(microseconds=1)) is State.PENDING
    assert state_at(consent, start) is State.ACTIVE
    assert {(g.valid_from, g.valid_until) for g in grants_of(consent)} == {(start, T0 + 180 * DAY)}


def test_the_end_is_exclusive():
    end = T0 + 180 * DAY
    consent = facts()
    assert state_at(consent, end - timedelta(microseconds=1)) is State.ACTIVE
    assert state_at(consent, end) is State.EXPIRED
    assert not crosses(consent, end)
    # Never signed: expired all the same at the end.
    assert state_at(facts(signed=(None, None)), end) is State.EXPIRED


def test_withdrawal_takes_effect_at_its_moment_and_wins_over_expiry():
    withdrawn = T0 + 10 * DAY
    consent = facts(withdrawn_at=withdrawn)
    assert state_at(consent, withdrawn - timedelta(microseconds=1)) is State.ACTIVE
    assert state_at(consent, withdrawn) is State.WITHDRAWN
    assert state_at(consent, T0 + 400 * DAY) is State.WITHDRAWN
    assert not crosses(consent, withdrawn)
    assert {g.valid_until for g in grants_of(consent)} == {withdrawn}
    # A pending consent can be withdrawn too, and never becomes active.
    pending = facts(signed=(T0, None), withdrawn_at=T0 + HOUR)
    assert state_at(pending, T0) is State.PENDING
    assert state_at(pending, T0 + HOUR) is State.WITHDRAWN


def test_withdrawn_before_the_last_signature_gives_no_grant():
    consent = facts(signed=(T0, T0 + 2 * HOUR), withdrawn_at=T0 + HOUR)
    assert list(grants_of(consent)) == []
    assert state_at(consent, T0 + 3 * HOUR) is State.WITHDRAWN


# --- grants_of ------------------------------------------------------------------------------


def test_grants_run_every_way_between_the_named_agencies_in_their_categories():
    consent = facts(agencies=frozenset({SCHOOL, SOCIAL, POLICE}))
    grants = list(grants_of(consent))
    assert {(g.from_agency_id, g.to_agency_id) for g in grants} == {
        (a, b) for a in (SCHOOL, SOCIAL, POLICE) for b in (SCHOOL, SOCIAL, POLICE) if a != b
    }
    assert all(g.category_ids == consent.category_ids for g in grants)
    assert all(g.covers_identity and g.basis == "consent:7" and g.entry_id is None for g in grants)
    assert crosses(consent, T0)
    assert not crosses(consent, T0, category=INCIDENTS)
    # Leisure is not named: nothing reaches it, nothing leaves it.
    assert not entry_decision(
        viewer(LEISURE),
        entry_id=1,
        entry_agency_id=SCHOOL,
        category_id=ATTENDANCE,
        at=T0,
        grants=grants,
    )


# --- denial_reason --------------------------------------------------------------------------


def reason(consents: list[ConsentFacts], at: datetime, *, category: int = ATTENDANCE) -> str:
    return denial_reason(
        viewer(SOCIAL), entry_agency_id=SCHOOL, category_id=category, at=at, consents=consents
    )


def test_denial_reasons():
    assert reason([], T0) is DenialReason.NO_CONSENT
    elsewhere = facts(agencies=frozenset({SCHOOL, POLICE}))
    assert reason([elsewhere], T0) is DenialReason.NO_CONSENT
    assert reason([facts()], T0, category=INCIDENTS) is DenialReason.CATEGORY
    assert reason([facts(signed=(T0, None))], T0) is DenialReason.PENDING
    assert reason([facts(withdrawn_at=T0)], T0) is DenialReason.WITHDRAWN
    assert reason([facts()], T0 + 180 * DAY) is DenialReason.EXPIRED


def test_the_most_hopeful_reason_is_given():
    pending = facts(signed=(T0, None), consent_id=1)
    withdrawn = facts(withdrawn_at=T0, consent_id=2)
    expired = facts(valid_until=T0 + HOUR, consent_id=3)
    at = T0 + 2 * HOUR
    assert reason([expired, withdrawn, pending], at) is DenialReason.PENDING
    assert reason([expired, withdrawn], at) is DenialReason.WITHDRAWN
    assert reason([expired], at) is DenialReason.EXPIRED


# --- Properties over random facts -----------------------------------------------------------


moments = st.integers(-5, 60).map(lambda n: T0 + n * 12 * HOUR)
agency_sets = st.frozensets(st.sampled_from([SCHOOL, SOCIAL, POLICE, LEISURE]), max_size=4)


@st.composite
def random_facts(draw: st.DrawFn) -> ConsentFacts:
    start = draw(moments)
    end = start + draw(st.integers(1, 40)) * 12 * HOUR
    signers = draw(st.integers(1, 3))
    signed = tuple(draw(st.none() | moments) for _ in range(signers))
    youth_signs = draw(st.booleans())
    return facts(
        signed=signed,
        youth_signed=signed[-1] if youth_signs else None,
        adult_at=draw(moments),
        withdrawn_at=draw(st.none() | moments),
        agencies=draw(agency_sets),
        categories=draw(st.frozensets(st.sampled_from([ATTENDANCE, ASSESSMENT, INCIDENTS]))),
        valid_from=start,
        valid_until=end,
    )


def oracle_active(consent: ConsentFacts, at: datetime) -> bool:
    """The rule in words: every signer signed by ``at``, inside the period, not withdrawn by
    ``at``, and, where the youth did not sign, before the youth's 18th birthday."""
    return (
        all(s is not None and s <= at for s in consent.signed_at)
        and len(consent.signed_at) > 0
        and consent.valid_from <= at < consent.valid_until
        and not (consent.withdrawn_at is not None and consent.withdrawn_at <= at)
        and (consent.youth_signed_at is not None or at < consent.youth_adult_at)
    )


@settings(max_examples=300, deadline=None)
@given(random_facts(), moments, st.sampled_from([SCHOOL, SOCIAL, POLICE, LEISURE]), st.data())
def test_state_grants_and_decisions_agree_with_the_rule(consent, at, to_agency, data):
    active = oracle_active(consent, at)
    assert (state_at(consent, at) is State.ACTIVE) == active
    category = data.draw(st.sampled_from([ATTENDANCE, ASSESSMENT, INCIDENTS]))
    from_agency = data.draw(st.sampled_from([SCHOOL, SOCIAL, POLICE, LEISURE]))
    shown = entry_decision(
        viewer(to_agency),
        entry_id=1,
        entry_agency_id=from_agency,
        category_id=category,
        at=at,
        grants=list(grants_of(consent)),
    )
    expected = from_agency == to_agency or (
        active
        and {from_agency, to_agency} <= consent.agency_ids
        and category in consent.category_ids
    )
    assert shown.allowed == expected
    if not shown:
        given_reason = reason_for(consent, at, from_agency, to_agency, category)
        if given_reason is DenialReason.PENDING:
            assert state_at(consent, at) is State.PENDING
        if given_reason in (DenialReason.NO_CONSENT,):
            assert not {from_agency, to_agency} <= consent.agency_ids


def reason_for(
    consent: ConsentFacts, at: datetime, from_agency: int, to_agency: int, category: int
) -> DenialReason:
    return denial_reason(
        viewer(to_agency),
        entry_agency_id=from_agency,
        category_id=category,
        at=at,
        consents=[consent],
    )


@pytest.mark.parametrize("withdrawn", [None, T0 + 3 * DAY])
def test_a_later_fact_never_widens_what_was_allowed(withdrawn):
    """Adding a withdrawal only ever narrows: nothing allowed after it that was not before."""
    base = facts(withdrawn_at=None)
    narrowed = replace(base, withdrawn_at=withdrawn)
    for n in range(-2, 200):
        at = T0 + n * DAY
        if crosses(narrowed, at):
            assert crosses(base, at)


def test_the_last_covered_day_survives_a_daylight_saving_change():
    import datetime as dt

    from samverkan.disclosure.facts import STOCKHOLM, last_covered_day

    # Summer time starts on 2027-03-28: the consent's last day is that day, not the 27th.
    valid_until = dt.datetime(2027, 3, 29, tzinfo=STOCKHOLM)
    assert last_covered_day(valid_until).date() == dt.date(2027, 3, 28)
    assert last_covered_day(valid_until.astimezone(dt.UTC)).date() == dt.date(2027, 3, 28)
