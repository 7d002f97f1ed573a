"""Agreements for the persona tests: a draft, a published running promise, and a Hedemora one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from samverkan.accounts.models import User
from samverkan.organisations.models import Role
from samverkan.promises import services
from samverkan.promises.models import Agreement, AgreementStatus, Commitment, Kind, Party, PartyKind
from tests.helpers import make_user

DRAFT_TITLE = "Hemligt utkast om Avesta"
HEDEMORA_TITLE = "Hedemoras utkast"


@dataclass
class PromiseWorld:
    editor: User  # personas.agreement_editor, of the agency that speaks for the municipality
    draft: Agreement  # Avesta, unpublished
    promise: Agreement  # Avesta, active and published
    police: Party
    municipality: Party
    police_commitment: Commitment
    joint_commitment: Commitment
    hedemora: Agreement  # another municipality's draft
    hedemora_editor: User
    # An agreement editor of the police's agency, which speaks for the police party (the
    # municipality party speaks through personas.agreement_editor's agency).
    police_editor: User

    def assessor(self, party: Party) -> User:
        """The editor who speaks for ``party`` (``rules.can_assess_party``)."""
        return self.police_editor if party.pk == self.police.pk else self.editor


def make_agreement(
    editor: User, municipality, *, title: str = "Medborgarlöfte", kind: str = Kind.PROMISE
) -> Agreement:
    return services.agreement_create(
        actor=editor,
        kind=kind,
        title=title,
        municipality=municipality,
        period_start=date(2019, 3, 22),
        period_end=date(2020, 12, 31),
        focus_area="Narkotikaanvändning bland unga",
        situation_summary="Narkotikaanvändningen bland unga har ökat.",
        cause_analysis="Interna anteckningar.",
    )


def sign_and_activate(editor: User, agreement: Agreement, parties: list[Party]) -> Agreement:
    for party in parties:
        services.signatory_add(
            actor=editor,
            agreement=agreement,
            party=party,
            name=f"Namn för {party.name}",
            title="Titel",
            signed_on=date(2019, 3, 22),
            place="Avesta",
        )
    services.agreement_transition(actor=editor, agreement=agreement, to=AgreementStatus.SIGNED)
    return services.agreement_transition(
        actor=editor, agreement=agreement, to=AgreementStatus.ACTIVE
    )


@pytest.fixture
def promise_world(world, personas) -> PromiseWorld:
    editor = personas.agreement_editor
    avesta = world.avesta_school.municipality
    hedemora = world.hedemora_school.municipality
    draft = make_agreement(editor, avesta, title=DRAFT_TITLE)
    promise = make_agreement(editor, avesta, title="Medborgarlöfte Avesta 2019")
    police = services.party_add(
        actor=editor, agreement=promise, name="Polisen", kind=PartyKind.POLICE, agency=world.police
    )
    municipality = services.party_add(
        actor=editor,
        agreement=promise,
        name="Avesta kommun",
        kind=PartyKind.MUNICIPALITY,
        agency=world.avesta_other,
    )
    police_commitment = services.commitment_add(
        actor=editor,
        agreement=promise,
        party=police,
        text="Polisen håller trygghetsvandringar.",
        target_count=2,
        target_unit="tillfällen per år",
    )
    joint = services.commitment_add(
        actor=editor, agreement=promise, party=None, text="Starta en samverkansgrupp."
    )
    promise = sign_and_activate(editor, promise, [police, municipality])
    promise = services.agreement_publish(actor=editor, agreement=promise)
    hedemora_editor = make_user("lena", world.hedemora_school, Role.AGREEMENT_EDITOR)
    return PromiseWorld(
        editor=editor,
        draft=draft,
        promise=promise,
        police=police,
        municipality=municipality,
        police_commitment=police_commitment,
        joint_commitment=joint,
        hedemora=make_agreement(hedemora_editor, hedemora, title=HEDEMORA_TITLE),
        hedemora_editor=hedemora_editor,
        police_editor=make_user("polis-avtal", world.police, Role.AGREEMENT_EDITOR),
    )
