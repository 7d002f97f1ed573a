"""Property tests of the pure chain functions: any single tampering is detected and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from samverkan.audit.chain import GENESIS_HASH, EventRecord, verify_chain
from tests.audit.sealing import seal

KEY = bytes(range(32))
T0 = datetime(2026, 1, 1, tzinfo=UTC)

actions = st.sampled_from(["auth.login", "auth.logout", "user.invited", "api_token.used"])
events = st.builds(
    EventRecord,
    seq=st.just(0),
    occurred_at=st.integers(0, 10**8).map(lambda s: T0 + timedelta(seconds=s)),
    action=actions,
    outcome=st.sampled_from(["allowed", "denied"]),
    actor_id=st.none() | st.integers(1, 1000),
    object_id=st.text("0123456789", max_size=5),
    details=st.dictionaries(
        st.sampled_from(["a", "b", "role"]), st.integers(0, 9) | st.text("xyz")
    ),
)
chains = st.lists(events, min_size=1, max_size=25).map(lambda evs: seal(evs, KEY))


@given(chains)
def test_intact_chain_verifies(chain):
    result = verify_chain(chain, KEY)
    assert result.ok
    assert result.count == len(chain)
    assert result.head_seq == len(chain)
    assert result.head_hash == chain[-1].hash


@given(chains, st.data())
def test_any_modification_is_detected_and_named(chain, data):
    index = data.draw(st.integers(0, len(chain) - 1))
    field = data.draw(
        st.sampled_from(["action", "outcome", "actor_id", "object_id", "details", "occurred_at"])
    )
    original = chain[index]
    if field == "action":
        changed = replace(original, action=original.action + ".x")
    elif field == "outcome":
        changed = replace(
            original, outcome="denied" if original.outcome == "allowed" else "allowed"
        )
    elif field == "actor_id":
        changed = replace(original, actor_id=(original.actor_id or 0) + 1)
    elif field == "object_id":
        changed = replace(original, object_id=original.object_id + "1")
    elif field == "details":
        changed = replace(original, details={**original.details, "tampered": True})
    else:
        changed = replace(original, occurred_at=original.occurred_at + timedelta(microseconds=1))
    tampered = [*chain[:index], changed, *chain[index + 1 :]]
    result = verify_chain(tampered, KEY)
    assert not result.ok
    assert result.first_bad_seq == original.seq


@given(chains, st.data())
def test_any_deletion_is_detected_and_named(chain, data):
    index = data.draw(st.integers(0, len(chain) - 1))
    tampered = chain[:index] + chain[index + 1 :]
    result = verify_chain(tampered, KEY)
    if index == len(chain) - 1:
        # Dropping the last event leaves a valid shorter chain: only a checkpoint or the head
        # row can tell (tested against the database).
        assert result.ok
        assert result.head_seq == len(chain) - 1
    else:
        assert not result.ok
        assert result.first_bad_seq == index + 1


@given(chains, events, st.data())
def test_any_insertion_is_detected_and_named(chain, extra, data):
    index = data.draw(st.integers(0, len(chain)))
    # The forger knows the format but not the key; they renumber what follows to fit.
    forged_key = bytes(32)
    forged = seal([*chain[:index], extra], forged_key)[-1]
    renumbered = [replace(e, seq=e.seq + 1) for e in chain[index:]]
    tampered = [*chain[:index], forged, *renumbered]
    result = verify_chain(tampered, KEY)
    assert not result.ok
    assert result.first_bad_seq == index + 1


@given(chains.filter(lambda c: len(c) >= 2), st.data())
def test_any_swap_is_detected_and_named(chain, data):
    i = data.draw(st.integers(0, len(chain) - 2))
    j = data.draw(st.integers(i + 1, len(chain) - 1))
    # Reordering: the two events exchange places and sequence numbers.
    a, b = chain[i], chain[j]
    tampered = list(chain)
    tampered[i] = replace(b, seq=a.seq)
    tampered[j] = replace(a, seq=b.seq)
    result = verify_chain(tampered, KEY)
    assert not result.ok
    assert result.first_bad_seq == a.seq


@settings(max_examples=25)
@given(chains)
def test_another_key_does_not_verify(chain):
    result = verify_chain(chain, bytes(32))
    assert not result.ok
    assert result.first_bad_seq == 1


def test_empty_chain_verifies():
    result = verify_chain([], KEY)
    assert result.ok
    assert result.count == 0
    assert result.head_hash == GENESIS_HASH
