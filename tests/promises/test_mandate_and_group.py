"""Issue 19, gap 8 (a) and (b): an agreement's mandate, and a commitment linked to its group.

(a) The successor's "mandat och åtagande" is a field of its own: written through the form and
the API, versioned, public once the agreement is published.
(b) A commitment such as "start an SSPF group" links to the collaboration group; an editor
links only a group of the agreement's municipality that they may see, and the link shows.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.organisations.models import CollaborationGroup, Municipality
from samverkan.organisations.services import group_create
from samverkan.promises import rules, services
from samverkan.promises.models import Agreement, Commitment
from tests.promises.conftest import PromiseWorld

JSON = "application/json"
MANDATE = (
    "Mandat: SSPF-gruppen arbetar med enskilda ungdomar efter samtycke. Åtagande: alla deltar."
)
NOT_LINKABLE = "Link only a collaboration group of the agreement's municipality."


def bearer(user: User, scope: Scope = Scope.WRITE) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="gap78", days=3, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def hedemora_group() -> CollaborationGroup:
    return group_create(
        actor=None,
        municipality=Municipality.objects.get(code="2083"),
        name="SSPF Hedemora",
        min_age=12,
        max_age=18,
    )


def options_of(page: str, name: str) -> set[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, name
    return set(re.findall(r'<option value="([^"]*)"', select.group(1)))


# --- (a) The mandate --------------------------------------------------------------------------


def test_mandate_is_written_versioned_and_kept_when_not_given(promise_world: PromiseWorld):
    pw = promise_world
    agreement = services.agreement_create(
        actor=pw.editor,
        kind="cooperation",
        title="Överenskommelse",
        municipality=pw.promise.municipality,
        period_start=pw.promise.period_start,
        period_end=pw.promise.period_end,
        focus_area="Unga i riskzon",
        mandate=MANDATE,
    )
    assert agreement.mandate == MANDATE
    assert agreement.versions.get(number=1).snapshot["mandate"] == MANDATE
    fields: dict[str, Any] = {
        "title": agreement.title,
        "period_start": agreement.period_start,
        "period_end": agreement.period_end,
        "focus_area": agreement.focus_area,
        "police_area": None,
        "situation_summary": "",
        "cause_analysis": "",
    }
    services.agreement_update(actor=pw.editor, agreement=agreement, **fields)  # no mandate given
    agreement.refresh_from_db()
    assert agreement.mandate == MANDATE
    services.agreement_update(
        actor=pw.editor, agreement=agreement, mandate="Nytt mandat.", **fields
    )
    agreement.refresh_from_db()
    assert agreement.mandate == "Nytt mandat."


def test_mandate_is_public_text_and_refuses_an_identity_number(promise_world: PromiseWorld):
    with pytest.raises(ValidationError) as caught:
        services.agreement_create(
            actor=promise_world.editor,
            kind="cooperation",
            title="Överenskommelse",
            municipality=promise_world.promise.municipality,
            period_start=promise_world.promise.period_start,
            period_end=promise_world.promise.period_end,
            focus_area="Unga i riskzon",
            mandate="Gäller 20120417-4826 särskilt.",
        )
    assert "mandate" in caught.value.message_dict


def test_mandate_through_the_form_the_pages_and_the_api(
    promise_world: PromiseWorld, client_for
) -> None:
    pw = promise_world
    client = client_for(pw.editor)
    promise = pw.promise
    form = client.get(reverse("promises:edit", args=[promise.pk])).content.decode()
    assert 'name="mandate"' in form
    response = client.post(
        reverse("promises:edit", args=[promise.pk]),
        {
            "title": promise.title,
            "period_start": promise.period_start.isoformat(),
            "period_end": promise.period_end.isoformat(),
            "focus_area": promise.focus_area,
            "situation_summary": promise.situation_summary,
            "cause_analysis": promise.cause_analysis,
            "mandate": MANDATE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    promise.refresh_from_db()
    assert promise.mandate == MANDATE
    staff = client.get(reverse("promises:detail", args=[promise.pk])).content.decode()
    assert "Mandate and commitments" in staff
    assert "Åtagande: alla deltar." in staff
    public = client_for(None).get(reverse("tracker:detail", args=[promise.pk])).content.decode()
    assert "Åtagande: alla deltar." in public
    api = Client().get(f"/api/v1/promises/{promise.pk}").json()
    assert api["mandate"] == MANDATE
    auth = bearer(pw.editor)
    body = {
        "title": promise.title,
        "period_start": promise.period_start.isoformat(),
        "period_end": promise.period_end.isoformat(),
        "focus_area": promise.focus_area,
    }
    ok = Client().put(f"/api/v1/agreements/{promise.pk}", data=body, content_type=JSON, **auth)
    assert ok.status_code == 200, ok.content
    assert ok.json()["mandate"] == MANDATE  # left out: unchanged
    body["mandate"] = "Via API."
    ok = Client().put(f"/api/v1/agreements/{promise.pk}", data=body, content_type=JSON, **auth)
    assert ok.json()["mandate"] == "Via API."


def test_an_unpublished_mandate_stays_off_the_public_api(promise_world: PromiseWorld):
    draft = promise_world.draft
    Agreement.objects.filter(pk=draft.pk).update(mandate="Hemligt mandat.")
    assert Client().get(f"/api/v1/promises/{draft.pk}").status_code == 404


# --- (b) The commitment's group ---------------------------------------------------------------


def test_editor_links_a_group_of_the_municipality(promise_world: PromiseWorld, world):
    pw = promise_world
    commitment = services.commitment_add(
        actor=pw.editor,
        agreement=pw.promise,
        party=None,
        text="Starta en SSPF-grupp.",
        group=world.avesta_group,
    )
    assert commitment.group == world.avesta_group
    snapshot = pw.promise.versions.order_by("-number").first().snapshot  # type: ignore[union-attr]
    linked = next(c for c in snapshot["commitments"] if c["id"] == commitment.pk)
    assert linked["group_id"] == world.avesta_group.pk
    # Left alone unless asked; None removes the link.
    kept = services.commitment_update(
        actor=pw.editor, commitment=commitment, text=commitment.text, status="ongoing"
    )
    assert kept.group == world.avesta_group
    cleared = services.commitment_update(
        actor=pw.editor, commitment=kept, text=kept.text, status="ongoing", group=None
    )
    assert cleared.group is None


def test_persona_an_editor_cannot_link_a_group_they_may_not_see(
    promise_world: PromiseWorld, world, personas
):
    """Hedemora's group is outside what Avesta's editor may link; a council member, who reads
    the agreement but does not edit it, links none at all."""
    pw = promise_world
    other = hedemora_group()
    assert other.pk not in rules.linkable_group_ids(pw.editor, pw.promise)
    assert world.avesta_group.pk in rules.linkable_group_ids(pw.editor, pw.promise)
    assert rules.linkable_group_ids(personas.council_member, pw.promise) == frozenset()
    assert rules.linkable_group_ids(pw.hedemora_editor, pw.promise) == frozenset()
    with pytest.raises(ValidationError) as caught:
        services.commitment_add(
            actor=pw.editor, agreement=pw.promise, party=None, text="Starta.", group=other
        )
    assert caught.value.message_dict["group"] == [NOT_LINKABLE]
    with pytest.raises(ValidationError):
        services.commitment_update(
            actor=pw.editor,
            commitment=pw.joint_commitment,
            text=pw.joint_commitment.text,
            status="ongoing",
            group=other,
        )
    assert Commitment.objects.filter(group=other).count() == 0


def test_the_form_offers_only_linkable_groups_and_refuses_a_forged_one(
    promise_world: PromiseWorld, world, client_for
):
    pw = promise_world
    other = hedemora_group()
    client = client_for(pw.editor)
    page = client.get(reverse("promises:detail", args=[pw.promise.pk])).content.decode()
    assert options_of(page, "group") == {"", str(world.avesta_group.pk)}
    forged = client.post(
        reverse("promises:commitment_add", args=[pw.promise.pk]),
        {"party": "", "text": "Starta en grupp.", "group": other.pk},
    )
    assert forged.status_code == 400
    assert not pw.promise.commitments.filter(text="Starta en grupp.").exists()
    edit = reverse("promises:commitment", args=[pw.promise.pk, pw.joint_commitment.pk])
    assert options_of(client.get(edit).content.decode(), "group") == {
        "",
        str(world.avesta_group.pk),
    }
    forged = client.post(edit, {"text": "Starta.", "status": "ongoing", "group": other.pk})
    assert forged.status_code != 302
    pw.joint_commitment.refresh_from_db()
    assert pw.joint_commitment.group is None
    done = client.post(
        edit,
        {"text": pw.joint_commitment.text, "status": "ongoing", "group": world.avesta_group.pk},
    )
    assert done.status_code == 302
    pw.joint_commitment.refresh_from_db()
    assert pw.joint_commitment.group == world.avesta_group


def test_the_api_links_only_a_linkable_group_and_answers_alike(promise_world: PromiseWorld, world):
    pw = promise_world
    other = hedemora_group()
    url = f"/api/v1/agreements/{pw.promise.pk}/commitments"
    auth = bearer(pw.editor)
    answers = []
    for group_id in (other.pk, 999_999):
        r = Client().post(
            url, data={"text": "Starta.", "group_id": group_id}, content_type=JSON, **auth
        )
        assert r.status_code == 400
        answers.append(r.json())
    assert answers[0] == answers[1]  # no hint that Hedemora's group exists
    r = Client().post(
        url,
        data={"text": "Starta en SSPF-grupp.", "group_id": world.avesta_group.pk},
        content_type=JSON,
        **auth,
    )
    assert r.status_code == 200
    rows = [c for c in r.json()["commitments"] if c["text"] == "Starta en SSPF-grupp."]
    assert rows[0]["group_id"] == world.avesta_group.pk
    assert rows[0]["group"] == world.avesta_group.name
    commitment = pw.promise.commitments.get(text="Starta en SSPF-grupp.")
    update = f"{url}/{commitment.pk}"
    body: dict[str, Any] = {"text": commitment.text, "status": "ongoing"}
    r = Client().put(update, data=body, content_type=JSON, **auth)
    assert r.status_code == 200
    commitment.refresh_from_db()
    assert commitment.group == world.avesta_group  # group_id left out: unchanged
    r = Client().put(update, data={**body, "group_id": None}, content_type=JSON, **auth)
    commitment.refresh_from_db()
    assert commitment.group is None


def test_the_link_shows_and_leads_to_the_group_for_readers_only(
    promise_world: PromiseWorld, world, personas, client_for
):
    pw = promise_world
    services.commitment_update(
        actor=pw.editor,
        commitment=pw.joint_commitment,
        text=pw.joint_commitment.text,
        status="ongoing",
        group=world.avesta_group,
    )
    link = reverse("promises:commitment_group", args=[pw.promise.pk, pw.joint_commitment.pk])
    for reader in (pw.editor, personas.council_member):
        client = client_for(reader)
        page = client.get(reverse("promises:detail", args=[pw.promise.pk])).content.decode()
        assert f'href="{link}">{world.avesta_group.name}</a>' in page
        group_page = client.get(link)
        assert group_page.status_code == 200
        text = group_page.content.decode()
        assert world.avesta_group.name in text
        assert world.avesta_school.name in text  # the agencies that sit in the group
        assert personas.practitioner.username not in text  # never who sits there
    assert client_for(personas.outsider).get(link).status_code == 404
    assert client_for(None).get(link).status_code in (302, 404)
    no_group = reverse("promises:commitment_group", args=[pw.promise.pk, pw.police_commitment.pk])
    assert client_for(pw.editor).get(no_group).status_code == 404
    assert client_for(pw.editor).post(link).status_code == 405
    public = client_for(None).get(reverse("tracker:detail", args=[pw.promise.pk])).content.decode()
    assert world.avesta_group.name in public
    assert link not in public
