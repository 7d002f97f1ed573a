"""Demo data: Avesta's 2019 citizen promise as the article tells it, and its successor.

Facts from the sources (DESIGN §1, research/domain-sspf.md §0, seed/avesta-article.sv.txt): the
promise ran from 2019-03-22 to 2020-12-31, focus "Narkotikaanvändning bland unga", committed to
a structured collaboration group between social services, school and police (and a joint
steering document), was signed in March 2019 by the head of the local police area and the
municipal commissioner, named in the article in those public roles, and both parties declared
it fulfilled; an overlapping cooperation agreement with "mandat och åtagande" followed.
Everything else — the exact dates of activities, follow-ups and assessments, the successor's
period, mandate, commitments and signatories — is illustrative and marked as such in the text.

The story as issue 19 completes it: the promise's period was extended once (the article: "2019
förlängdes ett medborgarlöfte"), recorded with ``services.agreement_extend``; its "start an SSPF
group" commitment links to the collaboration group it started; its indicator is a pupils'
drug-use survey series; the successor carries its "mandat och åtagande" in ``mandate``.

Dates are relative to today, so the demo is coherent in any year: the promise is dated
``indicators.demo.STORY_YEARS_BACK`` years back (in 2026 that is the real 2019) and the successor
runs until the end of next year; activities and follow-ups of the running agreement lie in the
last months. The public text says that the dates move with the demo.

Everything goes through ``promises.services``, so the demo's agreements are audited and
versioned like any other. Each party speaks through its agency and records its own assessment:
the municipality's through the editor, the police's through an agreement editor of the police
area (the kommunpolis in the demo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.indicators.demo import promise_year
from samverkan.indicators.models import Indicator
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    Membership,
    Municipality,
    PoliceArea,
    Role,
)
from samverkan.promises import services
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    Commitment,
    CommitmentStatus,
    Kind,
    Party,
    PartyKind,
    Progress,
    Verdict,
)

ILLUSTRATIVE = "(Demodata: datum och detaljer är påhittade.)"
# Said on the promise's public page: the real promise's dates, and that the demo's move.
DATES_MOVE = (
    "(Demodata: det verkliga löftet undertecknades 22 mars 2019 och gällde till 31 december "
    "2020; i demot flyttas alla datum med innevarande år.)"
)


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
    survey: Indicator | None = None,
    group: CollaborationGroup | None = None,
) -> DemoAgreements:
    """``editor`` must be an agreement editor of one of Avesta's agencies (it speaks for the
    municipality), and some account an agreement editor of an agency of ``police_area`` (it
    speaks for the police); ``indicators`` (optional) are linked to the successor's joint
    commitment on the collaboration group's work, ``survey`` (optional: the pupils' drug-use
    series) to the promise's commitment, and ``group`` (optional: Avesta's SSPF group) to the
    commitments that started and run it."""
    voices = _voices(avesta=avesta, police_area=police_area, editor=editor)
    promise = _promise(
        avesta=avesta,
        police_area=police_area,
        editor=editor,
        voices=voices,
        survey=survey,
        group=group,
    )
    successor = _successor(
        avesta=avesta,
        police_area=police_area,
        editor=editor,
        voices=voices,
        indicators=indicators,
        group=group,
    )
    services.agreement_link(actor=editor, agreement=successor, succeeds=promise, overlaps=[promise])
    return DemoAgreements(promise=promise, successor=successor)


def _promise(
    *,
    avesta: Municipality,
    police_area: PoliceArea,
    editor: User,
    voices: Voices,
    survey: Indicator | None,
    group: CollaborationGroup | None,
) -> Agreement:
    year = promise_year()  # 2019 when run in 2026
    a = services.agreement_create(
        actor=editor,
        kind=Kind.PROMISE,
        title=f"Medborgarlöfte Avesta {year}–{year + 1}",
        municipality=avesta,
        police_area=police_area,
        period_start=date(year, 3, 22),
        # Signed to run the year out; extended below to the end of the next year.
        period_end=date(year, 12, 31),
        focus_area="Narkotikaanvändning bland unga",
        situation_summary=(
            "Lägesbilden bygger på polisens, kommunens och medborgarnas kunskap. "
            "Narkotikaanvändningen bland unga har ökat. För att motverka detta vill polisen och "
            "kommunen förenkla och förbättra samverkan i det drogförebyggande arbetet. "
            + DATES_MOVE
        ),
        cause_analysis=f"Exempel på arbetsanteckning som inte publiceras. {ILLUSTRATIVE}",
    )
    municipality, police = _parties(
        editor=editor, agreement=a, voices=voices, police_area=police_area
    )
    # Public officials signing in office, named in the public article (seed/avesta-article).
    services.signatory_add(
        actor=editor,
        agreement=a,
        party=police,
        name="Mattias Skarp",
        title="Lokalpolisområdeschef",
        signed_on=date(year, 3, 22),
    )
    services.signatory_add(
        actor=editor,
        agreement=a,
        party=municipality,
        name="Lars Isacsson",
        title="Kommunalråd",
        signed_on=date(year, 3, 22),
    )
    started = services.commitment_add(
        actor=editor,
        agreement=a,
        party=None,
        text=(
            "Starta en lokalt strukturerad samverkansgrupp mellan socialtjänst, skola och polis, "
            "med fokus på brottsförebyggande insatser för barn och unga."
        ),
        target_count=1,
        target_unit="samverkansgrupp i gång",
        indicators=[survey] if survey is not None else (),
        group=group,  # the group the commitment started
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
    _promise_work(editor=editor, agreement=a, started=started, steering=steering, year=year)
    return _promise_assessed(
        editor=editor, agreement=a, voices=voices, parties=(municipality, police), year=year
    )


def _successor(
    *,
    avesta: Municipality,
    police_area: PoliceArea,
    editor: User,
    voices: Voices,
    indicators: Sequence[Indicator],
    group: CollaborationGroup | None,
) -> Agreement:
    year = promise_year()
    today = timezone.localdate()
    a = services.agreement_create(
        actor=editor,
        kind=Kind.COOPERATION,
        title="Samverkansöverenskommelse Avesta: barn och unga i riskzon",
        municipality=avesta,
        police_area=police_area,
        # Overlaps the promise's last months, as the article says, and runs until the end of
        # next year, so that it is running whenever the demo is loaded; the dates are
        # illustrative.
        period_start=date(year + 1, 10, 1),
        period_end=date(today.year + 1, 12, 31),
        focus_area="Unga i riskzonen för kriminalitet och/eller drogmissbruk",
        situation_summary=(
            "Tidiga, samordnade insatser mellan skola, socialtjänst och polis är grundläggande i "
            "arbetet att förhindra en kriminell livsstil. " + ILLUSTRATIVE
        ),
        # The article: the new agreement has "mandat och åtagande" written in.
        mandate=(
            "Mandat: SSPF-gruppen (socialtjänst, skola, polis och fritid) arbetar med enskilda "
            "ungdomar i riskzonen för kriminalitet och/eller drogmissbruk, efter "
            "sekretessbrytande samtycke från vårdnadshavarna. Åtagande: varje part deltar med en "
            "företrädare som kan fatta beslut om insatser i sin verksamhet; socialtjänsten "
            "samordnar; det lokala brottsförebyggande rådet (Brå) samordnar det övergripande "
            "arbetet och följer upp det. " + ILLUSTRATIVE
        ),
    )
    municipality, police = _parties(
        editor=editor, agreement=a, voices=voices, police_area=police_area
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
            signed_on=date(year + 1, 9, 25),
            place="Avesta",
        )
    meetings, council = _successor_commitments(
        editor=editor,
        agreement=a,
        parties=(municipality, police),
        indicators=indicators,
        group=group,
    )
    services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.SIGNED)
    services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.ACTIVE)
    services.agreement_publish(actor=editor, agreement=a)
    _successor_work(editor=editor, agreement=a, meetings=meetings, council=council, today=today)
    return a


def _parties(
    *, editor: User, agreement: Agreement, voices: Voices, police_area: PoliceArea
) -> tuple[Party, Party]:
    """The municipality's and the police's parties, each with the agency that speaks for it."""
    a = agreement
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
    return municipality, police


def _promise_work(
    *, editor: User, agreement: Agreement, started: Commitment, steering: Commitment, year: int
) -> None:
    """The promise extended, carried out and followed up."""
    a = agreement
    # The article: the promise was extended. Through the extension feature, so the page shows
    # the original end, the new one and why.
    services.agreement_extend(
        actor=editor,
        agreement=a,
        new_end=date(year + 1, 12, 31),
        reason=(
            "Löftet förlängs ett år så att samverkansgruppen hinner starta och det gemensamma "
            "styrdokumentet tas fram. " + ILLUSTRATIVE
        ),
    )
    services.activity_add(
        actor=editor,
        commitment=started,
        on=date(year + 1, 9, 15),
        description=(
            "Samverkansgruppen (SSPF) med socialtjänst, skola, polis och fritid har startat. "
            + ILLUSTRATIVE
        ),
        count=1,
    )
    services.activity_add(
        actor=editor,
        commitment=steering,
        on=date(year + 1, 11, 30),
        description=f"Gemensamt styrdokument antaget. {ILLUSTRATIVE}",
        count=1,
    )
    for c in (started, steering):
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
        on=date(year + 1, 12, 31),
        narrative=(
            "Strukturerad samverkan mellan socialtjänst, skola, polis och fritid har startats. "
            "Det praktiska arbetet tar sikte på tidiga samordnade brotts- och "
            "drogförebyggande insatser för unga. " + ILLUSTRATIVE
        ),
        progress={
            started.pk: services.ProgressEntry(Progress.DONE),
            steering.pk: services.ProgressEntry(Progress.DONE),
        },
    )


def _promise_assessed(
    *,
    editor: User,
    agreement: Agreement,
    voices: Voices,
    parties: tuple[Party, Party],
    year: int,
) -> Agreement:
    a, (municipality, police) = agreement, parties
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
            assessed_on=date(year + 2, 2, 1),
        )
    return services.agreement_transition(actor=editor, agreement=a, to=AgreementStatus.ASSESSED)


def _successor_commitments(
    *,
    editor: User,
    agreement: Agreement,
    parties: tuple[Party, Party],
    indicators: Sequence[Indicator],
    group: CollaborationGroup | None,
) -> tuple[Commitment, Commitment]:
    """The successor's commitments; returns the two its follow-up reports on."""
    a, (municipality, police) = agreement, parties
    meetings = services.commitment_add(
        actor=editor,
        agreement=a,
        party=None,
        text="SSPF-gruppen (skola, socialtjänst, polis, fritid) träffas regelbundet.",
        target_count=10,
        target_unit="möten per år",
        indicators=indicators,
        group=group,
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
    return meetings, council


def _successor_work(
    *,
    editor: User,
    agreement: Agreement,
    meetings: Commitment,
    council: Commitment,
    today: date,
) -> None:
    """The running agreement's recent work: the last months, whatever today is."""
    a = agreement
    for days_ago in (120, 60, 20):
        services.activity_add(
            actor=editor,
            commitment=meetings,
            on=today - timedelta(days=days_ago),
            description=f"Möte i SSPF-gruppen. {ILLUSTRATIVE}",
        )
    services.activity_add(
        actor=editor,
        commitment=council,
        on=today - timedelta(days=90),
        description=f"Lägesrapport till Brå. {ILLUSTRATIVE}",
    )
    services.follow_up_add(
        actor=editor,
        agreement=a,
        on=today - timedelta(days=10),
        narrative=f"Gruppen har kommit igång; mötesfrekvensen är lägre än målet. {ILLUSTRATIVE}",
        progress={
            meetings.pk: services.ProgressEntry(Progress.BEHIND, "3 av 10 möten"),
            council.pk: services.ProgressEntry(Progress.ON_TRACK),
        },
    )
