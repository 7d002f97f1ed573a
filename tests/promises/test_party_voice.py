"""Every party records its own assessment (issue 5): a party speaks through an agency, and only
an agreement editor of that agency records the party's assessment — in the services, on the
page and in the API alike (``rules.can_assess_party``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.organisations.models import Role
from samverkan.organisations.services import agency_create
from samverkan.promises import rules, selectors, services
from samverkan.promises.models import Assessment, Party, PartyKind, Verdict
from tests.helpers import make_user
from tests.promises.conftest import PromiseWorld, make_agreement, sign_and_activate
from tests.promises.test_api import JSON, token


def _assessment(party: Party) -> dict[str, Any]:
    return {
        "party": party.pk,
        "verdict": "fulfilled",
        "statement": "Vår del är uppfylld.",
        "assessed_on": "2021-01-15",
    }


def _record(actor, pw: PromiseWorld, party: Party) -> Assessment:
    return services.assessment_record(
        actor=actor,
        agreement=pw.promise,
        party=party,
        verdict=Verdict.FULFILLED,
        statement="Vår del är uppfylld.",
        assessed_on=date(2021, 1, 15),
    )


# --- Linking a party to its agency -----------------------------------------------------------


def test_police_and_municipality_parties_need_their_agency(personas, promise_world):
    editor, draft = personas.agreement_editor, promise_world.draft
    for kind in (PartyKind.POLICE, PartyKind.MUNICIPALITY):
        with pytest.raises(ValidationError) as exc:
            services.party_add(actor=editor, agreement=draft, name=f"Utan {kind}", kind=kind)
        assert "agency" in exc.value.message_dict
    # An outside party may have none.
    outside = services.party_add(
        actor=editor, agreement=draft, name="Bostadsbolaget", kind=PartyKind.OTHER
    )
    assert outside.agency is None


def test_the_agency_must_fit_the_kind_and_the_municipality(personas, world, promise_world):
    editor, draft = personas.agreement_editor, promise_world.draft

    def refused(kind: str, agency, match: str) -> None:
        with pytest.raises(ValidationError, match=match):
            services.party_add(actor=editor, agreement=draft, name="X", kind=kind, agency=agency)

    refused(PartyKind.POLICE, world.avesta_other, "agency of the police area")
    refused(PartyKind.MUNICIPALITY, world.police, "one of its own agencies")
    refused(PartyKind.MUNICIPALITY, world.hedemora_school, "active agency of the municipality")
    refused(PartyKind.OTHER, world.hedemora_school, "active agency of the municipality")
    closed = agency_create(
        actor=None,
        name="Nedlagd enhet",
        sector="other",
        municipality=world.avesta_school.municipality,
    )
    closed.is_active = False
    closed.save()
    refused(PartyKind.MUNICIPALITY, closed, "active agency")
    services.party_add(
        actor=editor, agreement=draft, name="Polisen", kind="police", agency=world.police
    )
    # One agency speaks for one party only: otherwise one editor would assess for both.
    refused(PartyKind.OTHER, world.police, "already speaks through it")
    assert list(draft.parties.values_list("name", flat=True)) == ["Polisen"]


def test_the_link_is_in_the_version_and_the_audit_event(personas, world, promise_world):
    from samverkan.audit.models import AuditEvent

    party = services.party_add(
        actor=personas.agreement_editor,
        agreement=promise_world.draft,
        name="Avesta kommun",
        kind=PartyKind.MUNICIPALITY,
        agency=world.avesta_social,
    )
    version = promise_world.draft.versions.first()
    assert version is not None
    assert version.snapshot["parties"] == [
        {
            "id": party.pk,
            "name": "Avesta kommun",
            "kind": "municipality",
            "agency_id": party.agency_id,
        }
    ]
    event = AuditEvent.objects.filter(action="agreement.party_added", object_id=str(party.pk)).get()
    assert event.details["agency_id"] == world.avesta_social.pk


# --- Who records a party's assessment --------------------------------------------------------


def test_each_party_is_assessed_by_an_editor_of_its_own_agency(personas, promise_world):
    pw = promise_world
    municipal, police = personas.agreement_editor, pw.police_editor
    assert rules.can_assess_party(municipal, pw.promise, pw.municipality)
    assert not rules.can_assess_party(municipal, pw.promise, pw.police)
    assert rules.can_assess_party(police, pw.promise, pw.police)
    assert not rules.can_assess_party(police, pw.promise, pw.municipality)
    for reader in (personas.council_member, pw.hedemora_editor, personas.police):
        assert not rules.can_assess_party(reader, pw.promise, pw.police)

    with pytest.raises(ValidationError, match="agency that speaks for the party") as exc:
        _record(municipal, pw, pw.police)
    assert "party" in exc.value.message_dict
    with pytest.raises(ValidationError, match="agency that speaks for the party"):
        _record(police, pw, pw.municipality)
    assert not Assessment.objects.exists()

    _record(police, pw, pw.police)
    _record(municipal, pw, pw.municipality)
    assert {a.party_id: a.recorded_by_id for a in Assessment.objects.all()} == {
        pw.police.pk: police.pk,
        pw.municipality.pk: municipal.pk,
    }
    assert selectors.agreement_detail(viewer=municipal, pk=pw.promise.pk).is_fulfilled


def test_an_editor_of_another_agency_of_the_municipality_does_not_speak_for_it(
    world, promise_world
):
    social = make_user("soc-avtal", world.avesta_social, Role.AGREEMENT_EDITOR)
    assert rules.can_edit_agreement(social, promise_world.promise)  # edits the agreement …
    with pytest.raises(ValidationError, match="agency that speaks for the party"):
        _record(social, promise_world, promise_world.municipality)  # … but is not its voice


def test_an_agency_that_closed_no_longer_speaks(world, promise_world):
    world.police.is_active = False
    world.police.save()
    police_editor = User.objects.get(pk=promise_world.police_editor.pk)  # no per-request cache
    assert not rules.can_assess_party(police_editor, promise_world.promise, promise_world.police)


def test_an_outside_party_without_agency_is_recorded_by_any_editor_of_the_municipality(
    personas, world
):
    """It has no agency, hence no account to log in with; an editor records its written
    assessment on its behalf (documented in docs/promises.md §3.3)."""
    editor = personas.agreement_editor
    agreement = make_agreement(editor, world.avesta_school.municipality, title="Med bolaget")
    outside = services.party_add(
        actor=editor, agreement=agreement, name="Bostadsbolaget", kind=PartyKind.OTHER
    )
    agreement = sign_and_activate(editor, agreement, [outside])
    police_area_editor = make_user("lpo-avtal", world.police, Role.AGREEMENT_EDITOR)
    for user in (editor, police_area_editor):
        assert rules.can_assess_party(user, agreement, outside)
    assert not rules.can_assess_party(personas.council_member, agreement, outside)
    services.assessment_record(
        actor=police_area_editor,
        agreement=agreement,
        party=outside,
        verdict=Verdict.PARTLY,
        statement="Bolaget bedömer löftet som delvis uppfyllt.",
        assessed_on=date(2020, 1, 1),
    )


def test_an_unlinked_police_party_is_assessed_by_nobody(personas, promise_world):
    """Only parties from before parties had agencies can be like this (the migration links
    those it can); nobody can be checked to speak for them."""
    Party.objects.filter(pk=promise_world.police.pk).update(agency=None)
    police = Party.objects.get(pk=promise_world.police.pk)
    for user in (personas.agreement_editor, promise_world.police_editor):
        assert not rules.can_assess_party(user, promise_world.promise, police)


# --- The page --------------------------------------------------------------------------------


def test_the_form_offers_only_the_parties_the_editor_speaks_for(
    client_for, personas, promise_world
):
    pw = promise_world
    url = reverse("promises:detail", args=[pw.promise.pk])
    html = client_for(personas.agreement_editor).get(url).content.decode()
    form = html.split(f'action="{reverse("promises:assessment_add", args=[pw.promise.pk])}"')[1]
    options = form.split("</select>")[0]
    assert f'value="{pw.municipality.pk}"' in options
    assert f'value="{pw.police.pk}"' not in options
    assert "Polisen LPO Falun" in html  # the table says who speaks for each party
    html = client_for(pw.police_editor).get(url).content.decode()
    options = html.split(f'action="{reverse("promises:assessment_add", args=[pw.promise.pk])}"')[
        1
    ].split("</select>")[0]
    assert f'value="{pw.police.pk}"' in options
    assert f'value="{pw.municipality.pk}"' not in options


def test_an_editor_who_speaks_for_no_party_gets_no_form(client_for, world, promise_world):
    social = make_user("soc-avtal", world.avesta_social, Role.AGREEMENT_EDITOR)
    client = client_for(social)
    page = client.get(reverse("promises:detail", args=[promise_world.promise.pk]))
    html = page.content.decode()
    assert reverse("promises:assessment_add", args=[promise_world.promise.pk]) not in html
    assert "you speak for none of these parties" in html
    url = reverse("promises:assessment_add", args=[promise_world.promise.pk])
    assert client.post(url, _assessment(promise_world.municipality)).status_code == 403
    assert not Assessment.objects.exists()


def test_a_municipal_editor_cannot_assess_the_police_party_on_the_page(
    client_for, personas, promise_world
):
    url = reverse("promises:assessment_add", args=[promise_world.promise.pk])
    client = client_for(personas.agreement_editor)
    assert client.post(url, _assessment(promise_world.police)).status_code == 403
    assert not Assessment.objects.exists()
    versions = promise_world.promise.versions.count()
    # Its own party, yes; a party of another agreement is a mistake in the form (400).
    assert client.post(url, _assessment(promise_world.municipality)).status_code == 302
    other = services.party_add(
        actor=personas.agreement_editor,
        agreement=promise_world.draft,
        name="Annan",
        kind=PartyKind.OTHER,
    )
    assert client.post(url, _assessment(other)).status_code == 400
    assert client.post(url, {**_assessment(other), "party": "²"}).status_code == 400
    assert promise_world.promise.versions.count() == versions + 1
    assert list(Assessment.objects.values_list("party_id", flat=True)) == [
        promise_world.municipality.pk
    ]


def test_the_police_editor_assesses_the_police_party_on_the_page(client_for, promise_world):
    url = reverse("promises:assessment_add", args=[promise_world.promise.pk])
    client = client_for(promise_world.police_editor)
    assert client.post(url, _assessment(promise_world.municipality)).status_code == 403
    assert client.post(url, _assessment(promise_world.police)).status_code == 302
    assessment = Assessment.objects.get()
    assert (assessment.party_id, assessment.recorded_by_id) == (
        promise_world.police.pk,
        promise_world.police_editor.pk,
    )


def test_the_party_form_links_the_agency(client_for, personas, world, promise_world):
    client = client_for(personas.agreement_editor)
    detail = client.get(reverse("promises:detail", args=[promise_world.draft.pk])).content.decode()
    assert 'name="agency"' in detail
    assert world.hedemora_school.name not in detail  # another municipality's agency
    url = reverse("promises:party_add", args=[promise_world.draft.pk])
    response = client.post(url, {"name": "Polisen", "kind": "police"})
    assert response.status_code == 400
    assert "Choose the agency that speaks for the party" in response.content.decode()
    response = client.post(
        url, {"name": "Polisen", "kind": "police", "agency": world.hedemora_school.pk}
    )
    assert response.status_code == 400  # not a choice the form offers
    response = client.post(url, {"name": "Polisen", "kind": "police", "agency": world.police.pk})
    assert response.status_code == 302
    assert Party.objects.get(agreement=promise_world.draft).agency_id == world.police.pk


# --- The API ---------------------------------------------------------------------------------


def test_a_municipal_editor_cannot_assess_the_police_party_through_the_api(
    client, personas, promise_world
):
    url = f"/api/v1/agreements/{promise_world.promise.pk}/assessments"
    body = {
        "party_id": promise_world.police.pk,
        "verdict": "fulfilled",
        "statement": "Ja",
        "assessed_on": "2021-01-15",
    }
    response = client.post(
        url, data=body, content_type=JSON, **token(personas.agreement_editor, Scope.WRITE)
    )
    assert response.status_code == 403
    assert "agency that speaks for the party" in response.json()["detail"]
    assert not Assessment.objects.exists()
    response = client.post(
        url, data=body, content_type=JSON, **token(promise_world.police_editor, Scope.WRITE)
    )
    assert response.status_code == 200, response.content
    parties = {p["id"]: p for p in response.json()["parties"]}
    assert parties[promise_world.police.pk]["assessment"]["verdict"] == "fulfilled"
    assert parties[promise_world.police.pk]["agency"] == "Polisen LPO Falun"


def test_the_api_adds_a_party_with_its_agency(client, personas, world, promise_world):
    url = f"/api/v1/agreements/{promise_world.draft.pk}/parties"
    auth = token(personas.agreement_editor, Scope.WRITE)

    def post(body: dict[str, Any]):
        return client.post(url, data=body, content_type=JSON, **auth)

    refused = post({"name": "Polisen", "kind": "police"})
    assert refused.status_code == 400
    assert "agency" in refused.json()["errors"]
    refused = post({"name": "Polisen", "kind": "police", "agency_id": world.hedemora_school.pk})
    assert refused.status_code == 400
    assert "agency_id" in refused.json()["errors"]
    done = post({"name": "Polisen", "kind": "police", "agency_id": world.police.pk})
    assert done.status_code == 200
    assert [(p["name"], p["agency_id"]) for p in done.json()["parties"]] == [
        ("Polisen", world.police.pk)
    ]


# --- Parties from before the link ------------------------------------------------------------


def test_the_migration_links_the_parties_it_can(personas, world, promise_world):
    from importlib import import_module

    migration = import_module("samverkan.promises.migrations.0003_party_agency")
    Party.objects.filter(agreement=promise_world.promise).update(agency=None)
    outside = services.party_add(
        actor=personas.agreement_editor,
        agreement=promise_world.draft,
        name="Bostadsbolaget",
        kind=PartyKind.OTHER,
    )
    migration.link_existing_parties(apps, connection.schema_editor())
    linked = dict(Party.objects.values_list("pk", "agency_id"))
    # The police area has one agency; the creator edits agreements at one Avesta agency.
    assert linked[promise_world.police.pk] == world.police.pk
    assert linked[promise_world.municipality.pk] == world.avesta_other.pk
    assert linked[outside.pk] is None
