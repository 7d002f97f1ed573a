"""Lifecycle, fulfilment, validation, versioning and audit of agreements (promises.services)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from samverkan.audit.models import AuditEvent
from samverkan.promises import selectors, services
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    AgreementVersion,
    PartyKind,
    Progress,
    Verdict,
)
from tests.promises.conftest import make_agreement, sign_and_activate


def _assess(editor, agreement, party, verdict=Verdict.FULFILLED):
    """``editor`` must speak for ``party``: ``PromiseWorld.assessor`` gives the one who does."""
    return services.assessment_record(
        actor=editor,
        agreement=agreement,
        party=party,
        verdict=verdict,
        statement="Uppfyllt.",
        assessed_on=date(2021, 1, 15),
    )


def test_lifecycle_runs_draft_signed_active_extended_assessed(personas, promise_world):
    editor, promise = personas.agreement_editor, promise_world.promise
    assert promise.status == AgreementStatus.ACTIVE
    services.agreement_extend(
        actor=editor, agreement=promise, new_end=date(2023, 12, 31), reason="Förlängt av Brå."
    )
    promise.refresh_from_db()
    assert (promise.status, promise.period_end) == (AgreementStatus.EXTENDED, date(2023, 12, 31))
    # Extending again is allowed (Avesta's promise was extended more than once).
    services.agreement_extend(
        actor=editor, agreement=promise, new_end=date(2024, 12, 31), reason="Igen."
    )
    _assess(promise_world.police_editor, promise, promise_world.police)
    _assess(editor, promise, promise_world.municipality)
    promise = services.agreement_transition(
        actor=editor, agreement=promise, to=AgreementStatus.ASSESSED
    )
    assert promise.status == AgreementStatus.ASSESSED
    assert promise.extensions.count() == 2


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("draft", AgreementStatus.ACTIVE),
        ("draft", AgreementStatus.ASSESSED),
        ("active", AgreementStatus.SIGNED),
        ("active", AgreementStatus.DRAFT),
    ],
)
def test_illegal_transitions_are_refused(personas, promise_world, start, to):
    agreement = promise_world.draft if start == "draft" else promise_world.promise
    with pytest.raises(ValidationError, match="cannot go from"):
        services.agreement_transition(actor=personas.agreement_editor, agreement=agreement, to=to)
    agreement.refresh_from_db()
    assert agreement.status == start


def test_extended_is_reached_only_by_extending(personas, promise_world):
    with pytest.raises(ValidationError, match="new end date and a reason"):
        services.agreement_transition(
            actor=personas.agreement_editor,
            agreement=promise_world.promise,
            to=AgreementStatus.EXTENDED,
        )


def test_extension_needs_a_later_date_and_a_reason(personas, promise_world):
    editor, promise = personas.agreement_editor, promise_world.promise
    with pytest.raises(ValidationError, match="later than the current"):
        services.agreement_extend(
            actor=editor, agreement=promise, new_end=date(2020, 12, 31), reason="Samma."
        )
    with pytest.raises(ValidationError, match="reason"):
        services.agreement_extend(
            actor=editor, agreement=promise, new_end=date(2022, 1, 1), reason="  "
        )
    with pytest.raises(ValidationError, match="Only an active agreement"):
        services.agreement_extend(
            actor=editor, agreement=promise_world.draft, new_end=date(2022, 1, 1), reason="X"
        )


def test_end_before_start_is_refused(personas, world):
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(
            actor=personas.agreement_editor,
            kind="promise",
            title="Fel",
            municipality=world.avesta_school.municipality,
            period_start=date(2020, 1, 1),
            period_end=date(2019, 1, 1),
            focus_area="X",
        )
    assert "period_end" in exc.value.message_dict


def test_signing_needs_a_signatory_for_every_party(personas, world, promise_world):
    editor, draft = personas.agreement_editor, promise_world.draft
    with pytest.raises(ValidationError, match="Every party must have a signatory"):
        services.agreement_transition(actor=editor, agreement=draft, to=AgreementStatus.SIGNED)
    police = services.party_add(
        actor=editor, agreement=draft, name="P", kind=PartyKind.POLICE, agency=world.police
    )
    services.party_add(
        actor=editor,
        agreement=draft,
        name="K",
        kind=PartyKind.MUNICIPALITY,
        agency=world.avesta_other,
    )
    services.signatory_add(
        actor=editor,
        agreement=draft,
        party=police,
        name="N",
        title="T",
        signed_on=date(2019, 3, 22),
    )
    with pytest.raises(ValidationError, match="Every party must have a signatory"):
        services.agreement_transition(actor=editor, agreement=draft, to=AgreementStatus.SIGNED)


def test_after_signing_the_period_changes_only_by_extension(personas, promise_world):
    p = promise_world.promise
    with pytest.raises(ValidationError, match="only by extension"):
        services.agreement_update(
            actor=personas.agreement_editor,
            agreement=p,
            title=p.title,
            period_start=p.period_start,
            period_end=date(2030, 1, 1),
            focus_area=p.focus_area,
            police_area=None,
            situation_summary="",
            cause_analysis="",
        )


def test_a_draft_cannot_be_published_and_unpublishing_is_allowed(personas, promise_world):
    editor = personas.agreement_editor
    with pytest.raises(ValidationError, match="draft cannot be published"):
        services.agreement_publish(actor=editor, agreement=promise_world.draft)
    promise = services.agreement_unpublish(actor=editor, agreement=promise_world.promise)
    assert not promise.published
    assert promise.published_at is None


def test_fulfilled_only_when_every_party_assessed_it_fulfilled(personas, promise_world):
    editor, promise = personas.agreement_editor, promise_world.promise

    def state() -> str:
        return selectors.agreement_detail(viewer=editor, pk=promise.pk).fulfilment

    assert state() == "pending"
    _assess(promise_world.police_editor, promise, promise_world.police)
    assert state() == "pending"
    _assess(editor, promise, promise_world.municipality, Verdict.PARTLY)
    assert state() == "not_fulfilled"
    _assess(editor, promise, promise_world.municipality)  # the party revises its assessment
    assert state() == "fulfilled"
    assert promise.assessments.count() == 2


def test_assessing_needs_every_party_first(personas, promise_world):
    editor, promise = personas.agreement_editor, promise_world.promise
    _assess(promise_world.police_editor, promise, promise_world.police)
    with pytest.raises(ValidationError, match="Every party must record"):
        services.agreement_transition(actor=editor, agreement=promise, to=AgreementStatus.ASSESSED)


def test_assessment_only_by_a_party_of_the_agreement(personas, world, promise_world):
    editor = personas.agreement_editor
    other = make_agreement(editor, promise_world.promise.municipality, title="Annan")
    stranger = services.party_add(actor=editor, agreement=other, name="X", kind=PartyKind.OTHER)
    with pytest.raises(ValidationError) as exc:
        _assess(editor, promise_world.promise, stranger)
    assert "party" in exc.value.message_dict
    p = services.party_add(
        actor=editor,
        agreement=promise_world.draft,
        name="P",
        kind=PartyKind.POLICE,
        agency=world.police,
    )
    with pytest.raises(ValidationError, match="once it is active"):
        _assess(promise_world.police_editor, promise_world.draft, p)


def test_assessed_agreement_is_closed_for_content(personas, promise_world):
    editor, promise = personas.agreement_editor, promise_world.promise
    _assess(promise_world.police_editor, promise, promise_world.police)
    _assess(editor, promise, promise_world.municipality)
    services.agreement_transition(actor=editor, agreement=promise, to=AgreementStatus.ASSESSED)
    with pytest.raises(ValidationError, match="assessed"):
        services.commitment_add(actor=editor, agreement=promise, party=None, text="Nytt")
    with pytest.raises(ValidationError, match="while the agreement is active"):
        services.activity_add(
            actor=editor,
            commitment=promise_world.joint_commitment,
            on=date(2021, 1, 1),
            description="Sent",
        )


def test_only_editors_of_the_municipality_write(personas, promise_world):
    for user in (personas.council_member, promise_world.hedemora_editor, personas.admin):
        with pytest.raises(ValidationError, match="Only an agreement editor"):
            services.agreement_publish(actor=user, agreement=promise_world.promise)
        with pytest.raises(ValidationError):
            make_agreement(user, promise_world.promise.municipality)


def test_police_area_editor_edits_every_municipality_it_serves(world, promise_world):
    from samverkan.organisations.models import Role
    from tests.helpers import make_user

    kommunpolis = make_user("kp", world.police, Role.AGREEMENT_EDITOR)
    avesta = services.agreement_unpublish(actor=kommunpolis, agreement=promise_world.promise)
    assert not avesta.published
    assert AuditEvent.objects.filter(action="agreement.unpublished", actor=kommunpolis).exists()
    # Hedemora's draft is not published: unpublishing changes nothing, so write to it too.
    services.agreement_unpublish(actor=kommunpolis, agreement=promise_world.hedemora)
    commitment = services.commitment_add(
        actor=kommunpolis, agreement=promise_world.hedemora, party=None, text="Trygghetsvandring."
    )
    assert commitment.agreement_id == promise_world.hedemora.pk


def test_progress_counts_activities_toward_the_target(personas, promise_world):
    editor, c = personas.agreement_editor, promise_world.police_commitment
    for n in (1, 2):
        services.activity_add(
            actor=editor, commitment=c, on=date(2019, 5, n), description="Vandring", count=1
        )
    detail = selectors.agreement_detail(viewer=editor, pk=promise_world.promise.pk)
    row = next(r for r in detail.commitments if r.commitment.pk == c.pk)
    assert (row.progress.done, row.progress.target, row.progress.percent) == (2, 2, 100)
    assert row.progress.reached
    joint = next(r for r in detail.commitments if r.commitment.pk != c.pk)
    assert joint.progress.percent is None
    assert [g.heading for g in detail.groups] == ["The police promise", "Joint"]


def test_follow_up_records_progress_per_commitment(personas, promise_world):
    editor = personas.agreement_editor
    f = services.follow_up_add(
        actor=editor,
        agreement=promise_world.promise,
        on=date(2020, 6, 1),
        narrative="Halvtid.",
        progress={promise_world.joint_commitment.pk: services.ProgressEntry(Progress.ON_TRACK)},
    )
    assert [(p.commitment_id, p.progress) for p in f.progress.all()] == [
        (promise_world.joint_commitment.pk, "on_track")
    ]
    other = make_agreement(editor, promise_world.promise.municipality, title="Annat")
    foreign = services.commitment_add(actor=editor, agreement=other, party=None, text="X")
    with pytest.raises(ValidationError):
        services.follow_up_add(
            actor=editor,
            agreement=promise_world.promise,
            on=date(2020, 6, 1),
            narrative="Fel",
            progress={foreign.pk: services.ProgressEntry(Progress.DONE)},
        )
    with pytest.raises(ValidationError, match="nothing to follow up"):
        services.follow_up_add(
            actor=editor, agreement=promise_world.draft, on=date(2020, 6, 1), narrative="X"
        )


def test_every_change_is_versioned_and_audited_in_the_same_transaction(personas, promise_world):
    editor, promise = personas.agreement_editor, promise_world.promise
    versions = AgreementVersion.objects.filter(agreement=promise).count()
    events = AuditEvent.objects.filter(action__startswith="agreement.").count()
    services.commitment_update(
        actor=editor,
        commitment=promise_world.joint_commitment,
        text="Starta en strukturerad samverkansgrupp.",
        status="ongoing",
    )
    latest = AgreementVersion.objects.filter(agreement=promise).first()
    assert latest is not None
    assert latest.number == versions + 1
    assert latest.action == "commitment_updated"
    joint = next(c for c in latest.snapshot["commitments"] if c["party_id"] is None)
    assert joint["text"] == "Starta en strukturerad samverkansgrupp."
    assert joint["status"] == "ongoing"
    event = AuditEvent.objects.filter(action="agreement.commitment_updated").get()
    assert event.actor_id == editor.pk
    assert event.details["agreement_id"] == promise.pk
    # A refused change leaves neither a version nor an event.
    with pytest.raises(ValidationError):
        services.agreement_transition(actor=editor, agreement=promise, to=AgreementStatus.DRAFT)
    assert AgreementVersion.objects.filter(agreement=promise).count() == versions + 1
    assert AuditEvent.objects.filter(action__startswith="agreement.").count() == events + 1


def test_links_show_on_both_sides_and_refuse_cycles(personas, promise_world):
    editor = personas.agreement_editor
    successor = make_agreement(editor, promise_world.promise.municipality, title="Efterföljare")
    services.agreement_link(
        actor=editor,
        agreement=successor,
        succeeds=promise_world.promise,
        overlaps=[promise_world.promise],
    )
    old = selectors.agreement_detail(viewer=editor, pk=promise_world.promise.pk)
    new = selectors.agreement_detail(viewer=editor, pk=successor.pk)
    assert [a.pk for a in old.successors] == [successor.pk]
    assert [a.pk for a in old.overlaps] == [successor.pk]
    assert new.predecessor is not None
    assert new.predecessor.pk == promise_world.promise.pk
    assert old.versions[0].action == "linked_from"
    with pytest.raises(ValidationError, match="succeed itself"):
        services.agreement_link(actor=editor, agreement=promise_world.promise, succeeds=successor)
    with pytest.raises(ValidationError, match="only agreements you may edit"):
        services.agreement_link(actor=editor, agreement=successor, succeeds=promise_world.hedemora)


def test_public_selectors_see_published_agreements_only(personas, promise_world):
    from django.http import Http404

    public = selectors.published_promises()
    assert list(public) == [promise_world.promise]
    with pytest.raises(Http404):
        selectors.promise_public_detail(promise_world.draft.pk)
    detail = selectors.promise_public_detail(promise_world.promise.pk)
    assert detail.agreement.cause_analysis == ""  # working notes stay with the parties
    # A link to an unpublished agreement is not shown to the public.
    editor = personas.agreement_editor
    signed = make_agreement(editor, promise_world.promise.municipality, title="Osynlig")
    services.agreement_link(actor=editor, agreement=signed, succeeds=promise_world.promise)
    assert selectors.promise_public_detail(promise_world.promise.pk).successors == []
    services.agreement_unpublish(actor=editor, agreement=promise_world.promise)
    with pytest.raises(Http404):
        selectors.promise_public_detail(promise_world.promise.pk)
    assert list(selectors.published_promises()) == []


def test_active_agreements_for_the_council_report(personas, promise_world):
    rows = selectors.active_agreements(viewer=personas.council_member)
    assert [d.agreement.pk for d in rows] == [promise_world.promise.pk]
    assert selectors.active_agreements(viewer=personas.outsider) == []
    assert selectors.active_agreements(viewer=promise_world.hedemora_editor) == []


def test_sign_and_activate_helper_leaves_one_version_per_change(personas, world):
    editor = personas.agreement_editor
    a = make_agreement(editor, world.avesta_school.municipality)
    p = services.party_add(
        actor=editor, agreement=a, name="P", kind=PartyKind.POLICE, agency=world.police
    )
    a = sign_and_activate(editor, a, [p])
    assert list(
        AgreementVersion.objects.filter(agreement=a)
        .order_by("number")
        .values_list("action", flat=True)
    ) == ["created", "party_added", "signatory_added", "status_changed", "status_changed"]
    assert Agreement.objects.get(pk=a.pk).status == AgreementStatus.ACTIVE
