"""A running, published cooperation agreement and a monthly indicator series per municipality,
made through the services themselves (and so audited now, after the simulated history): the
dashboard's commitment and situation-picture tables have something to show."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from samverkan.consent.services import add_months
from samverkan.indicators.models import Direction, Indicator
from samverkan.indicators.services import indicator_create, indicator_values_import
from samverkan.organisations.models import Sector
from samverkan.promises import services as promises
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    CommitmentStatus,
    Kind,
    Party,
    PartyKind,
)
from samverkan.synth import words
from samverkan.synth.base import SYNTHETIC_SUFFIX, Builder
from samverkan.synth.organisations import Town


def _indicator(b: Builder, town: Town) -> Indicator:
    editor = town.editor
    base = town.municipality.name.removesuffix(SYNTHETIC_SUFFIX)
    indicator = indicator_create(
        actor=editor,
        municipality=town.municipality,
        name="Elever i årskurs 9 som använt narkotika",
        area=f"{base} kommun",
        unit="%",
        source="Drogvaneenkät (syntetiska siffror)",
        direction=Direction.LOWER_IS_BETTER,
        min_value=Decimal(0),
        max_value=Decimal(100),
        description="Syntetiska värden för prestandatest.",
        published=True,
    )
    rows, month, value = ["period;värde"], b.start.replace(day=1), b.rng.uniform(6, 12)
    while month <= b.today:
        value = min(100.0, max(0.0, value + b.rng.uniform(-0.6, 0.4)))
        rows.append(f"{month:%Y-%m};{value:.1f}".replace(".", ","))
        month = add_months(month, 1)
    indicator_values_import(
        actor=editor, indicator=indicator, data=("\n".join(rows) + "\n").encode("utf-8")
    )
    return indicator


def _parties(b: Builder, town: Town, agreement: Agreement) -> list[Party]:
    editor, police = town.editor, town.agencies[Sector.POLICE]
    base = town.municipality.name.removesuffix(SYNTHETIC_SUFFIX)
    parties = [
        promises.party_add(
            actor=editor,
            agreement=agreement,
            name=f"{base} kommun",
            kind=PartyKind.MUNICIPALITY,
            agency=town.agencies[Sector.OTHER],
        ),
        promises.party_add(
            actor=editor,
            agreement=agreement,
            name=police.name,
            kind=PartyKind.POLICE,
            agency=police,
        ),
    ]
    titles = ("Kommunstyrelsens ordförande", "Lokalpolisområdeschef")
    for party, title in zip(parties, titles, strict=True):
        promises.signatory_add(
            actor=editor,
            agreement=agreement,
            party=party,
            name=f"{b.rng.choice(words.ADULTS)} {b.rng.choice(words.SURNAMES)} (fiktiv)",
            title=title,
            signed_on=b.start - timedelta(days=10),
        )
    return parties


def agreement(b: Builder, town: Town) -> None:
    editor = town.editor
    base = town.municipality.name.removesuffix(SYNTHETIC_SUFFIX)
    indicator = _indicator(b, town)
    made = promises.agreement_create(
        actor=editor,
        kind=Kind.COOPERATION,
        title=f"Samverkansöverenskommelse {base}: barn och unga i riskzon",
        municipality=town.municipality,
        police_area=town.agencies[Sector.POLICE].police_area,
        period_start=b.start,
        period_end=add_months(b.start, 36) - timedelta(days=1),
        focus_area="Unga i riskzonen för kriminalitet och/eller drogmissbruk",
        situation_summary="Syntetisk lägesbild för prestandatest.",
    )
    parties = _parties(b, town, made)
    commitments: list[tuple[Party | None, str]] = [
        (None, "SSPF-gruppen träffas varannan vecka."),
        (parties[1], "Kommunpolisen håller orossamtal när gruppen beslutar det."),
        (parties[0], "Socialtjänsten inhämtar samtycke innan information utbyts."),
        (None, "Arbetet följs upp i Brå två gånger per år."),
    ]
    for owner, text in commitments:
        indicators = [indicator] if owner is None else []
        commitment = promises.commitment_add(
            actor=editor, agreement=made, party=owner, text=text, indicators=indicators
        )
        status = b.rng.choice(list(CommitmentStatus))
        if status != commitment.status:
            promises.commitment_update(
                actor=editor, commitment=commitment, text=text, status=status, indicators=indicators
            )
    promises.agreement_transition(actor=editor, agreement=made, to=AgreementStatus.SIGNED)
    promises.agreement_transition(actor=editor, agreement=made, to=AgreementStatus.ACTIVE)
    promises.agreement_publish(actor=editor, agreement=made)
