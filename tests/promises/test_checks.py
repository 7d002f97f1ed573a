"""Dates never in the future, identity numbers kept out of published text, links only between
agreements the editor may edit, and the version history in words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from samverkan.api.models import Scope
from samverkan.organisations.models import Role
from samverkan.organisations.services import membership_add
from samverkan.promises import selectors, services
from samverkan.promises.models import (
    Activity,
    Agreement,
    AgreementStatus,
    Assessment,
    Commitment,
    FollowUp,
    Verdict,
)
from tests.helpers import make_user
from tests.promises.conftest import PromiseWorld, make_agreement, sign_and_activate
from tests.promises.test_api import token

JSON = "application/json"


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


# --- Dates -----------------------------------------------------------------------------------


def test_activity_cannot_be_dated_in_the_future(personas, promise_world):
    with pytest.raises(ValidationError, match="cannot be in the future") as exc:
        services.activity_add(
            actor=personas.agreement_editor,
            commitment=promise_world.police_commitment,
            on=tomorrow(),
            description="Trygghetsvandring.",
        )
    assert "date" in exc.value.message_dict
    assert not Activity.objects.exists()
    # Today is fine.
    services.activity_add(
        actor=personas.agreement_editor,
        commitment=promise_world.police_commitment,
        on=timezone.localdate(),
        description="Trygghetsvandring.",
    )


def test_follow_up_cannot_be_dated_in_the_future(personas, promise_world):
    with pytest.raises(ValidationError, match="cannot be in the future") as exc:
        services.follow_up_add(
            actor=personas.agreement_editor,
            agreement=promise_world.promise,
            on=tomorrow(),
            narrative="Uppföljning.",
        )
    assert "date" in exc.value.message_dict
    assert not FollowUp.objects.exists()


def test_signature_cannot_be_dated_in_the_future(personas, promise_world):
    with pytest.raises(ValidationError, match="cannot be in the future") as exc:
        services.signatory_add(
            actor=personas.agreement_editor,
            agreement=promise_world.draft,
            party=services.party_add(
                actor=personas.agreement_editor,
                agreement=promise_world.draft,
                name="Polisen",
                kind="police",
                agency=promise_world.police.agency,
            ),
            name="Anna Andersson",
            title="Lokalpolisområdeschef",
            signed_on=tomorrow(),
        )
    assert "signed_on" in exc.value.message_dict


def test_assessment_cannot_be_dated_in_the_future(personas, promise_world):
    with pytest.raises(ValidationError, match="cannot be in the future") as exc:
        services.assessment_record(
            actor=personas.agreement_editor,
            agreement=promise_world.promise,
            party=promise_world.municipality,
            verdict=Verdict.FULFILLED,
            statement="Uppfyllt.",
            assessed_on=tomorrow(),
        )
    assert "assessed_on" in exc.value.message_dict
    assert not Assessment.objects.exists()


# The promise world's period is 2019-03-22 – 2020-12-31.
BEFORE_START = date(2019, 3, 21)


def test_activity_and_follow_up_cannot_predate_the_period(personas, promise_world):
    editor = personas.agreement_editor
    with pytest.raises(
        ValidationError, match=r"before the agreement's period starts \(2019-03-22\)"
    ):
        services.activity_add(
            actor=editor,
            commitment=promise_world.police_commitment,
            on=BEFORE_START,
            description="Trygghetsvandring.",
        )
    with pytest.raises(ValidationError, match="before the agreement's period starts") as exc:
        services.follow_up_add(
            actor=editor, agreement=promise_world.promise, on=BEFORE_START, narrative="Tidigt."
        )
    assert "date" in exc.value.message_dict
    assert not Activity.objects.exists()
    assert not FollowUp.objects.exists()
    # The first day counts, and so do days after the end (a last follow-up, late activities).
    start = promise_world.promise.period_start
    services.activity_add(
        actor=editor, commitment=promise_world.police_commitment, on=start, description="Start."
    )
    services.follow_up_add(
        actor=editor, agreement=promise_world.promise, on=date(2021, 1, 20), narrative="Slut."
    )


def test_assessment_cannot_predate_the_period(personas, promise_world):
    with pytest.raises(ValidationError, match="before the agreement's period starts") as exc:
        services.assessment_record(
            actor=personas.agreement_editor,
            agreement=promise_world.promise,
            party=promise_world.municipality,
            verdict=Verdict.FULFILLED,
            statement="För tidigt.",
            assessed_on=BEFORE_START,
        )
    assert "assessed_on" in exc.value.message_dict
    assert not Assessment.objects.exists()


def test_a_signature_may_predate_the_period(personas, promise_world):
    """Signing comes before the period starts; the date is copied from the signed paper."""
    signatory = services.signatory_add(
        actor=personas.agreement_editor,
        agreement=promise_world.promise,
        party=promise_world.police,
        name="Eva Exempel",
        title="Lokalpolisområdeschef",
        signed_on=date(2019, 1, 10),
    )
    assert signatory.signed_on < promise_world.promise.period_start


def test_a_date_before_the_period_is_shown_on_the_forms_and_in_the_api(
    client, client_for, personas, promise_world
):
    pk = promise_world.promise.pk
    client_editor = client_for(personas.agreement_editor)
    response = client_editor.post(
        reverse("promises:follow_up_add", args=[pk]),
        {"date": BEFORE_START.isoformat(), "narrative": "Tidigt."},
    )
    assert response.status_code == 400
    assert "The date cannot be before the agreement&#x27;s period starts (2019-03-22)." in (
        response.content.decode()
    )
    response = client_editor.post(
        reverse("promises:assessment_add", args=[pk]),
        {
            "party": promise_world.municipality.pk,
            "verdict": "fulfilled",
            "statement": "Tidigt.",
            "assessed_on": BEFORE_START.isoformat(),
        },
    )
    assert response.status_code == 400
    assert "period starts (2019-03-22)" in response.content.decode()
    commitment = promise_world.police_commitment.pk
    response = client_editor.post(
        reverse("promises:activity_add", args=[pk, commitment]),
        {"date": BEFORE_START.isoformat(), "description": "Tidigt.", "count": 1},
        follow=True,
    )
    assert "period starts (2019-03-22)" in response.content.decode()
    response = client.post(
        f"/api/v1/agreements/{pk}/commitments/{commitment}/activities",
        data={"date": BEFORE_START.isoformat(), "description": "Tidigt."},
        content_type=JSON,
        **token(personas.agreement_editor, Scope.WRITE),
    )
    assert response.status_code == 400
    assert "date" in response.json()["errors"]
    assert not Activity.objects.exists()
    assert not FollowUp.objects.exists()
    assert not Assessment.objects.exists()


def test_future_date_is_shown_on_the_form_and_in_the_api(
    client, client_for, personas, promise_world
):
    pk = promise_world.promise.pk
    response = client_for(personas.agreement_editor).post(
        reverse("promises:follow_up_add", args=[pk]),
        {"date": tomorrow().isoformat(), "narrative": "Uppföljning."},
    )
    assert response.status_code == 400
    assert "The date cannot be in the future." in response.content.decode()
    response = client.post(
        f"/api/v1/agreements/{pk}/follow-ups",
        data={"date": tomorrow().isoformat(), "narrative": "Uppföljning."},
        content_type=JSON,
        **token(personas.agreement_editor, Scope.WRITE),
    )
    assert response.status_code == 400
    assert "date" in response.json()["errors"]
    assert not FollowUp.objects.exists()


# --- Identity numbers in published text ------------------------------------------------------

NUMBER = "Gäller 19121212-1212 i årskurs 8."


def _writes(editor, pw: PromiseWorld):
    running = pw.promise
    return {
        "commitment_add": lambda: services.commitment_add(
            actor=editor, agreement=running, party=None, text=NUMBER
        ),
        "commitment_update": lambda: services.commitment_update(
            actor=editor, commitment=pw.joint_commitment, text=NUMBER, status="ongoing"
        ),
        "activity": lambda: services.activity_add(
            actor=editor, commitment=pw.police_commitment, on=date(2019, 5, 2), description=NUMBER
        ),
        "follow_up": lambda: services.follow_up_add(
            actor=editor, agreement=running, on=date(2019, 9, 1), narrative=NUMBER
        ),
        "progress_note": lambda: services.follow_up_add(
            actor=editor,
            agreement=running,
            on=date(2019, 9, 1),
            narrative="Uppföljning.",
            progress={pw.joint_commitment.pk: services.ProgressEntry("behind", "ring 0701234567")},
        ),
        "assessment": lambda: services.assessment_record(
            actor=editor,
            agreement=running,
            party=pw.municipality,
            verdict=Verdict.PARTLY,
            statement=NUMBER,
            assessed_on=date(2020, 1, 10),
        ),
        "extension": lambda: services.agreement_extend(
            actor=editor, agreement=running, new_end=date(2021, 12, 31), reason=NUMBER
        ),
        "title": lambda: _update(editor, running, title=NUMBER),
        "focus_area": lambda: _update(editor, running, focus_area=NUMBER),
        "situation_summary": lambda: _update(editor, running, situation_summary=NUMBER),
        "new_title": lambda: make_agreement(editor, running.municipality, title=NUMBER),
        "new_situation_summary": lambda: services.agreement_create(
            actor=editor,
            kind="promise",
            title="Nytt",
            municipality=running.municipality,
            period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31),
            focus_area="Trygghet",
            situation_summary=NUMBER,
        ),
        "party": lambda: services.party_add(
            actor=editor, agreement=pw.draft, name=NUMBER, kind="other"
        ),
        "signatory": lambda: services.signatory_add(
            actor=editor,
            agreement=running,
            party=pw.police,
            name="Anna Andersson",
            title=NUMBER,
            signed_on=date(2019, 3, 22),
        ),
    }


def _update(editor, agreement, **changes: str):
    fields = {
        "title": agreement.title,
        "focus_area": agreement.focus_area,
        "situation_summary": agreement.situation_summary,
        "cause_analysis": agreement.cause_analysis,
        **changes,
    }
    return services.agreement_update(
        actor=editor,
        agreement=agreement,
        period_start=agreement.period_start,
        period_end=agreement.period_end,
        police_area=agreement.police_area,
        **fields,
    )


@pytest.mark.parametrize(
    "write",
    [
        "commitment_add",
        "commitment_update",
        "activity",
        "follow_up",
        "progress_note",
        "assessment",
        "extension",
        "title",
        "focus_area",
        "situation_summary",
        "new_title",
        "new_situation_summary",
        "party",
        "signatory",
    ],
)
def test_published_text_with_an_identity_number_is_refused(personas, promise_world, write):
    versions = promise_world.promise.versions.count()
    agreements = Agreement.objects.count()
    with pytest.raises(ValidationError, match="identity number") as exc:
        _writes(personas.agreement_editor, promise_world)[write]()
    assert "19121212" not in " ".join(exc.value.messages)  # never repeated back
    assert promise_world.promise.versions.count() == versions
    assert Agreement.objects.count() == agreements
    assert not Agreement.objects.filter(title__contains="19121212").exists()


def test_cause_analysis_is_not_published_so_not_screened(personas, promise_world):
    """Working notes for the parties: never published, so the published-text check is not theirs."""
    updated = _update(personas.agreement_editor, promise_world.draft, cause_analysis=NUMBER)
    assert updated.cause_analysis == NUMBER


def test_identity_number_in_the_title_is_refused_on_the_edit_page(
    client_for, personas, promise_world
):
    pw = promise_world
    response = client_for(personas.agreement_editor).post(
        reverse("promises:edit", args=[pw.promise.pk]),
        {
            "title": pw.promise.title,
            "period_start": "2019-03-22",
            "period_end": "2020-12-31",
            "focus_area": "Unga 20091212-1212",
            "situation_summary": "Lägesbild.",
        },
    )
    assert response.status_code == 400
    assert "remove what looks like a personal identity number" in response.content.decode()
    pw.promise.refresh_from_db()
    assert pw.promise.focus_area == "Narkotikaanvändning bland unga"


def test_ordinary_numbers_are_not_mistaken_for_identity_numbers(personas, promise_world):
    text = "Minst 2 tillfällen per år 2019–2020, 120 elever i årskurs 7–9."
    commitment = services.commitment_add(
        actor=personas.agreement_editor, agreement=promise_world.promise, party=None, text=text
    )
    assert Commitment.objects.get(pk=commitment.pk).text == text


def test_identity_number_is_refused_on_the_page_with_a_clear_message(
    client_for, personas, promise_world
):
    response = client_for(personas.agreement_editor).post(
        reverse("promises:follow_up_add", args=[promise_world.promise.pk]),
        {"date": "2019-09-01", "narrative": NUMBER},
    )
    assert response.status_code == 400
    assert "remove what looks like a personal identity number" in response.content.decode()
    assert not FollowUp.objects.exists()


# --- Links -----------------------------------------------------------------------------------


@pytest.fixture
def two_towns(world, personas, promise_world: PromiseWorld):
    """An Avesta editor who is also a Hedemora council member (reads, does not edit, Hedemora),
    and a police-area editor who edits both."""
    split = make_user("sven", world.avesta_other, Role.AGREEMENT_EDITOR)
    membership_add(actor=None, user=split, agency=world.hedemora_school, role=Role.COUNCIL_MEMBER)
    both = make_user("berit", world.police, Role.AGREEMENT_EDITOR)
    return split, both


def test_linking_needs_edit_rights_on_both_agreements(two_towns, promise_world):
    split, both = two_towns
    hedemora = promise_world.hedemora
    assert selectors.agreement_open(viewer=split, pk=hedemora.pk)  # reads it …
    with pytest.raises(ValidationError, match="only agreements you may edit"):
        services.agreement_link(actor=split, agreement=promise_world.promise, succeeds=hedemora)
    with pytest.raises(ValidationError, match="only agreements you may edit"):
        services.agreement_link(
            actor=split, agreement=promise_world.promise, succeeds=None, overlaps=[hedemora]
        )
    assert hedemora.pk not in {
        a.pk for a in selectors.link_candidates(viewer=split, agreement=promise_world.promise)
    }
    services.agreement_link(
        actor=both, agreement=promise_world.promise, succeeds=None, overlaps=[hedemora]
    )


def test_api_links_need_edit_rights_on_both(client, two_towns, promise_world):
    split, _both = two_towns
    response = client.post(
        f"/api/v1/agreements/{promise_world.promise.pk}/links",
        data={"succeeds_id": None, "overlap_ids": [promise_world.hedemora.pk]},
        content_type=JSON,
        **token(split, Scope.WRITE),
    )
    assert response.status_code == 400
    assert "only agreements you may edit" in response.json()["detail"]


def test_links_show_only_to_those_who_read_the_other_agreement(
    client, client_for, personas, two_towns, promise_world
):
    _split, both = two_towns
    hedemora = promise_world.hedemora
    services.agreement_link(
        actor=both, agreement=promise_world.promise, succeeds=hedemora, overlaps=[hedemora]
    )
    avesta_only = personas.agreement_editor
    detail = selectors.agreement_detail(viewer=avesta_only, pk=promise_world.promise.pk)
    assert detail.predecessor is None
    assert detail.overlaps == []
    html = (
        client_for(avesta_only)
        .get(reverse("promises:detail", args=[promise_world.promise.pk]))
        .content.decode()
    )
    assert hedemora.title not in html
    data = client.get(f"/api/v1/agreements/{promise_world.promise.pk}", **token(avesta_only)).json()
    assert data["succeeds"] is None
    assert data["overlaps"] == []
    # The editor who reads both sees the links.
    seen = selectors.agreement_detail(viewer=both, pk=promise_world.promise.pk)
    assert seen.predecessor is not None
    assert seen.predecessor.pk == hedemora.pk
    assert [a.pk for a in seen.overlaps] == [hedemora.pk]


def test_saving_links_keeps_those_the_editor_cannot_edit(personas, two_towns, promise_world):
    _split, both = two_towns
    editor = personas.agreement_editor
    hedemora = promise_world.hedemora
    services.agreement_link(
        actor=both, agreement=promise_world.promise, succeeds=hedemora, overlaps=[hedemora]
    )
    services.agreement_link(
        actor=editor,
        agreement=promise_world.promise,
        succeeds=None,
        overlaps=[promise_world.draft],
    )
    promise = Agreement.objects.get(pk=promise_world.promise.pk)
    assert promise.succeeds_id == hedemora.pk
    assert set(promise.overlaps.values_list("pk", flat=True)) == {
        hedemora.pk,
        promise_world.draft.pk,
    }
    with pytest.raises(ValidationError, match="already succeeds one you may not edit"):
        services.agreement_link(
            actor=editor, agreement=promise_world.promise, succeeds=promise_world.draft
        )


# --- Wording ---------------------------------------------------------------------------------


def test_version_history_shows_changes_in_words(client_for, personas, world):
    editor = personas.agreement_editor
    agreement = make_agreement(editor, world.avesta_school.municipality, title="Ord")
    party = services.party_add(
        actor=editor, agreement=agreement, name="Polisen", kind="police", agency=world.police
    )
    sign_and_activate(editor, agreement, [party])
    client = client_for(editor)
    html = client.get(reverse("promises:detail", args=[agreement.pk])).content.decode()
    for label in ("Created", "Party added", "Signatory added", "Status changed"):
        assert f"<td>{label}</td>" in html, label
    assert "<td>status_changed</td>" not in html
    html = client.get(reverse("promises:version", args=[agreement.pk, 1])).content.decode()
    assert "<dd>Created</dd>" in html
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.ACTIVE


def test_title_limit_message(personas, world):
    with pytest.raises(ValidationError, match="at most 200 characters"):
        services.agreement_create(
            actor=personas.agreement_editor,
            kind="promise",
            title="x" * 201,
            municipality=world.avesta_school.municipality,
            period_start=date(2019, 1, 1),
            period_end=date(2019, 12, 31),
            focus_area="Narkotika",
        )
