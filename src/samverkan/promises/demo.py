"""Demo data: Avesta's 2019 citizen promise as the article tells it, and its successor.

Facts from the sources (DESIGN §1, research/domain-sspf.md §0, seed/avesta-article.sv.txt): the
promise ran from 2019-03-22 to 2020-12-31, focus "Narkotikaanvändning bland unga", committed to
a structured collaboration group between social services, school and police (and a joint
steering document), was signed in March 2019 by the head of the local police area and the
municipal commissioner, named in the article in those public roles, and both parties declared
it fulfilled; an overlapping cooperation agreement with "mandat och åtagande" followed.
Everything else — the exact dates of activities, follow-ups and assessments, the successor's
period, commitments and signatories — is illustrative and marked as such in the text.

Everything goes through ``promises.services``, so the demo's agreements are audited and
versioned like any other. Each party speaks through its agency and records its own assessment:
the municipality's through the editor, the police's through an agreement editor of the police
area (the kommunpolis in the demo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from samverkan.accounts.models import User
from samverkan.indicators.models import Indicator
from samverkan.organisations.models import Agency, Membership, Municipality, PoliceArea, Role
from samverkan.promises import services
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    CommitmentStatus,
    Kind,
    PartyKind,
    Progress,
    Verdict,
)

ILLUSTRATIVE = "(Demodata: datum och detaljer är påhittade.)"


@dataclass(frozen=True)
class DemoAgreements:
    promise: Agreement
    successor: Agreement


@dataclass(frozen=True)
class Voices:
    """Who speaks for each party: the agency, and an agreement editor of it."""

    municipality: Agency
    municipality_editor: User
    police: Agency
    police_editor: User


def _voices(*, avesta: Municipality, police_area: PoliceArea, editor: User) -> Voices:
    editors = (
        Membership.objects.filter(
            role=Role.AGREEMENT_EDITOR, user__is_active=True, agency__is_active=True
        )
        .select_related("agency", "user")
        .order_by("pk")
    )
    municipal = editors.filter(user=editor, agency__municipality=avesta).first()
    police = editors.filter(agency__police_area=police_area).first()
    if municipal is None or police is None:
        raise ValueError(
            "the demo needs the editor to edit agreements at an Avesta agency, and an "
            "agreement editor at an agency of the police area"
        )
    return Voices(
        municipality=municipal.agency,
        municipality_editor=editor,
        police=police.agency,
        police_editor=police.user,
    )


def load(
    *,
    avesta: Municipality,
    police_area: PoliceArea,
    editor: User,
    indicators: Sequence[Indicator] = (),
) -> DemoAgreements:
    """``editor`` must be an agreement editor of one of Avesta's agencies (it speaks for the
    municipality), and some account an agreement editor of an agency of ``police_area`` (it
    speaks for the police); ``indicators`` (optional) are linked to the successor's joint
    commitment on the collaboration group's work."""
    voices = _voices(avesta=avesta, police_area=police_area, editor=editor)
    promise = _promise(avesta=avesta, police_area=police_area, editor=editor, voices=voices)
    successor = _successor(
        avesta=avesta,
        police_area=police_area,
        editor=editor,
        voices=voices,
        indicators=indicators,
    )
    services.agreement_link(actor=editor, agreement=successor, succeeds=promise, overlaps=[promise])
    return DemoAgreements(promise=promise, successor=successor)


def _promise(
    *, avesta: Municipality, police_area: PoliceArea, editor: User, voices: Voices
) -> Agreement:
    a = services.agreement_create(
        actor=editor,
        kind=Kind.PROMISE,
        title="Medborgarlöfte Avesta 2019–2020",
        municipality=avesta,
        police_area=police_area,
        period_start=date(2019, 3, 22),
        period_end=date(2020, 12, 31),
        focus_area="Narkotikaanvändning bland unga",
        situation_summary=(
            "Lägesbilden bygger på polisens, kommunens och medborgarnas kunskap. "
            "Narkotikaanvändningen bland unga har ökat. För att motverka detta vill polisen och "
            "kommunen förenkla och förbättra samverkan i det drogförebyggande arbetet."
        ),
        cause_analysis=f"Exempel på arbetsanteckning som inte publiceras. {ILLUSTRATIVE}",
    )
    municipality = services.party_add(
        actor=editor,
        agreement=a,
        name="Avesta kommun",
        kind=PartyKind.MUNICIPALITY,
        agency=voices.municipality,
    )
    police = services.party_add(
        actor=editor,
        agreement=a,
        name=f"Polisen, {police_area.name}",
        kind=PartyKind.POLICE,
        agency=voices.police,
    )
    # Public officials signing in office, named in the public article (seed/avesta-article).
    services.signatory_add(
        actor=editor,
        agreement=a,
        party=police,
        name="Mattias Skarp",
        title="Lokalpolisområdeschef",
        signed_on=date(2019, 3, 22),
    )
    services.signatory_add(
        actor=editor,
        agreement=a,
        party=municipality,
        name="Lars Isacsson",
        title="Kommunalråd",
        signed_on=date(2019, 3, 22),
    )
    group = services.commitment_add(
        actor=editor,
        agreement=a,
        party=None,
        text=(
            "Starta en lokalt strukturerad samverkansgrupp mellan socialtjänst, skola och polis, "
            "med fokus på brottsförebyggande insatser för barn och unga."
        ),
        target_count=1,
        target_unit="samverkansgrupp i gång",
    )
    steering = services.commitment_add(
        actor=editor,
        agreement=a,
        party=None,
        text="Ta fram ett gemensamt styrdokument för samverkan.",
    )
    services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.SIGNED)
    services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.ACTIVE)
    services.agreement_publish(actor=editor, agreement=a)
    services.activity_add(
        actor=editor,
        commitment=group,
        on=date(2020, 9, 15),
        description=(
            "Samverkansgruppen (SSPF) med socialtjänst, skola, polis och fritid har startat. "
            + ILLUSTRATIVE
        ),
        count=1,
    )
    services.activity_add(
        actor=editor,
        commitment=steering,
        on=date(2020, 11, 30),
        description=f"Gemensamt styrdokument antaget. {ILLUSTRATIVE}",
        count=1,
    )
    for c in (group, steering):
        services.commitment_update(
            actor=editor,
            commitment=c,
            text=c.text,
            status=CommitmentStatus.DONE,
            target_count=c.target_count,
            target_unit=c.target_unit,
        )
    services.follow_up_add(
        actor=editor,
        agreement=a,
        on=date(2020, 12, 31),
        narrative=(
            "Strukturerad samverkan mellan socialtjänst, skola, polis och fritid har startats. "
            "Det praktiska arbetet tar sikte på tidiga samordnade brotts- och "
            "drogförebyggande insatser för unga. " + ILLUSTRATIVE
        ),
        progress={
            group.pk: services.ProgressEntry(Progress.DONE),
            steering.pk: services.ProgressEntry(Progress.DONE),
        },
    )
    # Each party assesses its own part, through an editor of its own agency.
    for party, assessor, statement in (
        (
            municipality,
            voices.municipality_editor,
            "Kommunen har uppfyllt sitt löfte att starta upp en strukturerad samverkan mellan "
            "socialtjänst, skola, polis och fritid.",
        ),
        (police, voices.police_editor, "Polisen bedömer medborgarlöftet som uppfyllt."),
    ):
        services.assessment_record(
            actor=assessor,
            agreement=a,
            party=party,
            verdict=Verdict.FULFILLED,
            statement=statement,
            assessed_on=date(2021, 2, 1),
        )
    return services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.ASSESSED)


def _successor(
    *,
    avesta: Municipality,
    police_area: PoliceArea,
    editor: User,
    voices: Voices,
    indicators: Sequence[Indicator],
) -> Agreement:
    a = services.agreement_create(
        actor=editor,
        kind=Kind.COOPERATION,
        title="Samverkansöverenskommelse Avesta: barn och unga i riskzon",
        municipality=avesta,
        police_area=police_area,
        # Overlaps the promise's last months, as the article says; the dates are illustrative.
        period_start=date(2020, 10, 1),
        period_end=date(2023, 12, 31),
        focus_area="Unga i riskzonen för kriminalitet och/eller drogmissbruk",
        situation_summary=(
            "Tidiga, samordnade insatser mellan skola, socialtjänst och polis är grundläggande i "
            "arbetet att förhindra en kriminell livsstil. Mandat: SSPF-gruppen arbetar med "
            "enskilda ungdomar efter sekretessbrytande samtycke från vårdnadshavarna; det lokala "
            "brottsförebyggande rådet (Brå) samordnar och följer upp. " + ILLUSTRATIVE
        ),
    )
    municipality = services.party_add(
        actor=editor,
        agreement=a,
        name="Avesta kommun",
        kind=PartyKind.MUNICIPALITY,
        agency=voices.municipality,
    )
    police = services.party_add(
        actor=editor,
        agreement=a,
        name=f"Polisen, {police_area.name}",
        kind=PartyKind.POLICE,
        agency=voices.police,
    )
    # The successor's signatories are not in the sources: fictional names with real titles.
    for party, name, title in (
        (police, "Eva Exempelsson (fiktiv)", "Lokalpolisområdeschef"),
        (municipality, "Per Exempelsson (fiktiv)", "Kommunstyrelsens ordförande"),
    ):
        services.signatory_add(
            actor=editor,
            agreement=a,
            party=party,
            name=name,
            title=title,
            signed_on=date(2020, 9, 25),
            place="Avesta",
        )
    meetings = services.commitment_add(
        actor=editor,
        agreement=a,
        party=None,
        text="SSPF-gruppen (skola, socialtjänst, polis, fritid) träffas regelbundet.",
        target_count=10,
        target_unit="möten per år",
        indicators=indicators,
    )
    services.commitment_add(
        actor=editor,
        agreement=a,
        party=police,
        text="Kommunpolisen deltar i SSPF-gruppens möten och håller orossamtal med unga och "
        "vårdnadshavare när gruppen beslutar det.",
    )
    services.commitment_add(
        actor=editor,
        agreement=a,
        party=municipality,
        text="Socialtjänsten inhämtar sekretessbrytande samtycke från vårdnadshavarna innan "
        "information om en ungdom utbyts.",
    )
    council = services.commitment_add(
        actor=editor,
        agreement=a,
        party=None,
        text="Arbetet följs upp i det lokala brottsförebyggande rådet (Brå).",
        target_count=2,
        target_unit="tillfällen per år",
    )
    services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.SIGNED)
    services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.ACTIVE)
    services.agreement_publish(actor=editor, agreement=a)
    for month in (2, 4, 6):
        services.activity_add(
            actor=editor,
            commitment=meetings,
            on=date(2021, month, 10),
            description=f"Möte i SSPF-gruppen. {ILLUSTRATIVE}",
        )
    services.activity_add(
        actor=editor,
        commitment=council,
        on=date(2021, 5, 20),
        description=f"Lägesrapport till Brå. {ILLUSTRATIVE}",
    )
    services.follow_up_add(
        actor=editor,
        agreement=a,
        on=date(2021, 6, 30),
        narrative=f"Gruppen har kommit igång; mötesfrekvensen är lägre än målet. {ILLUSTRATIVE}",
        progress={
            meetings.pk: services.ProgressEntry(Progress.BEHIND, "3 av 10 möten"),
            council.pk: services.ProgressEntry(Progress.ON_TRACK),
        },
    )
    return a
