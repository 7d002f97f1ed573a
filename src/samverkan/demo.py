"""The demo data set of DESIGN §6: Avesta and Hedemora, their police area, one agency of each
sector, one account per role. All people are fictional.

Every account gets a second factor: a TOTP secret stored like any other (encrypted) and printed
by ``samverkan demo`` so that a person can add it to an authenticator app, or ask
``samverkan demo totp USERNAME`` for the current code.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.accounts.services import user_accept_invitation, user_invite
from samverkan.audit.sealing import audit_seal
from samverkan.cases.models import Case, InformationCategory, Status
from samverkan.cases.services import (
    case_raise,
    case_transition,
    concern_report_add,
    entry_add,
    team_add,
)
from samverkan.consent import demo as consent_demo
from samverkan.indicators import demo as indicators_demo
from samverkan.meetings.services import (
    action_create,
    agenda_item_add,
    anonymous_discussion_record,
    meeting_schedule,
    minutes_record,
)
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    GroupRole,
    Municipality,
    PoliceArea,
    Role,
    Sector,
)
from samverkan.organisations.services import (
    agency_create,
    group_create,
    group_member_add,
    membership_add,
    municipality_create,
    police_area_create,
)
from samverkan.plans.models import InterventionKind, InterventionStatus
from samverkan.plans.services import follow_up_add, goal_add, intervention_add, plan_create
from samverkan.promises import demo as promises_demo
from samverkan.stats.facts import facts_refresh

DEMO_PASSWORD = "Samverkan-demo-2026"  # noqa: S105 - printed to the person running the demo


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    role: Role
    agency_key: str
    description: str


ACCOUNTS = (
    DemoAccount(
        "skola", "Sara", "Lindqvist", Role.PRACTITIONER, "ave-school", "school counsellor, Avesta"
    ),
    DemoAccount(
        "socialtjanst", "Omar", "Berglund", Role.PRACTITIONER, "ave-social", "social worker, Avesta"
    ),
    DemoAccount(
        "polis",
        "Jonas",
        "Ekström",
        Role.PRACTITIONER,
        "police",
        "community police officer (kommunpolis), Avesta and Hedemora; agreement editor for "
        "the police",
    ),
    DemoAccount(
        "fritid",
        "Elin",
        "Sandberg",
        Role.PRACTITIONER,
        "ave-leisure",
        "youth-centre leader, Avesta",
    ),
    DemoAccount(
        "samordnare", "Maria", "Holm", Role.COORDINATOR, "ave-social", "SSPF coordinator, Avesta"
    ),
    DemoAccount(
        "avtal",
        "Karin",
        "Dahl",
        Role.AGREEMENT_EDITOR,
        "ave-council",
        "crime-prevention coordinator, agreement editor",
    ),
    DemoAccount(
        "bra",
        "Per",
        "Nyberg",
        Role.COUNCIL_MEMBER,
        "ave-council",
        "member of the local crime-prevention council",
    ),
    DemoAccount(
        "dso", "Lena", "Viklund", Role.AUDITOR, "ave-dpo", "data-protection officer, log review"
    ),
    DemoAccount("admin", "Anders", "Falk", Role.ADMINISTRATOR, "ave-it", "system administrator"),
    DemoAccount(
        "hedemora",
        "Nora",
        "Lund",
        Role.COORDINATOR,
        "hed-social",
        "SSPF coordinator and social worker, Hedemora",
    ),
)


def is_loaded() -> bool:
    return Municipality.objects.filter(code="2084").exists()


def _secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _load_organisations() -> tuple[Municipality, Municipality, PoliceArea, dict[str, Agency]]:
    """Avesta and Hedemora, their police area and every agency, keyed as ``ACCOUNTS`` names."""
    avesta = municipality_create(actor=None, name="Avesta", code="2084")
    hedemora = municipality_create(actor=None, name="Hedemora", code="2083")
    lpo = police_area_create(
        actor=None, name="Lokalpolisområde Falun", municipalities=[avesta, hedemora]
    )
    agencies: dict[str, Agency] = {
        "police": agency_create(
            actor=None,
            name="Polisen, lokalpolisområde Falun",
            sector=Sector.POLICE,
            police_area=lpo,
        )
    }
    for key, town in (("ave", avesta), ("hed", hedemora)):
        for suffix, name, sector in (
            ("school", "Skola", Sector.SCHOOL),
            ("social", "Socialtjänsten", Sector.SOCIAL_SERVICES),
            ("leisure", "Fritid", Sector.LEISURE),
            ("council", "Brottsförebyggande rådet", Sector.OTHER),
        ):
            agencies[f"{key}-{suffix}"] = agency_create(
                actor=None, name=f"{town.name} kommun, {name}", sector=sector, municipality=town
            )
    agencies["ave-dpo"] = agency_create(
        actor=None, name="Avesta kommun, Dataskyddsombud", sector=Sector.OTHER, municipality=avesta
    )
    agencies["ave-it"] = agency_create(
        actor=None, name="Avesta kommun, IT", sector=Sector.OTHER, municipality=avesta
    )
    return avesta, hedemora, lpo, agencies


def _load_users(agencies: dict[str, Agency]) -> dict[str, User]:
    """Every account of ``ACCOUNTS``, accepted, with the demo password and a second factor."""
    users: dict[str, User] = {}
    for account in ACCOUNTS:
        user = user_invite(
            actor=None,
            username=account.username,
            email=f"{account.username}@demo.samverkan.invalid",
            first_name=account.first_name,
            last_name=account.last_name,
            agency=agencies[account.agency_key],
            role=account.role,
            send=False,
        )
        user_accept_invitation(
            user=user, token=default_token_generator.make_token(user), password=DEMO_PASSWORD
        )
        TOTP.activate(user, _secret())
        RecoveryCodes.activate(user)
        users[account.username] = user
    return users


def _load_seats(
    users: dict[str, User],
    agencies: dict[str, Agency],
    ave_group: CollaborationGroup,
    hed_group: CollaborationGroup,
) -> None:
    """The second roles and the seats in the two groups."""
    # The coordinator works in social services and also takes part as a practitioner.
    membership_add(
        actor=None, user=users["samordnare"], agency=agencies["ave-social"], role=Role.PRACTITIONER
    )
    # The kommunpolis speaks for the police in the citizen promises: only an agreement editor of
    # the police's agency records the police party's assessment.
    membership_add(
        actor=None, user=users["polis"], agency=agencies["police"], role=Role.AGREEMENT_EDITOR
    )
    for username, agency_key, role in (
        ("samordnare", "ave-social", GroupRole.COORDINATOR),
        ("skola", "ave-school", GroupRole.MEMBER),
        ("socialtjanst", "ave-social", GroupRole.MEMBER),
        ("polis", "police", GroupRole.MEMBER),
        ("fritid", "ave-leisure", GroupRole.MEMBER),
    ):
        group_member_add(
            actor=None,
            group=ave_group,
            user=users[username],
            agency=agencies[agency_key],
            role=role,
        )
    # One person serving two municipalities: the kommunpolis sits in Hedemora's group too.
    group_member_add(actor=None, group=hed_group, user=users["polis"], agency=agencies["police"])
    membership_add(
        actor=None, user=users["hedemora"], agency=agencies["hed-social"], role=Role.PRACTITIONER
    )
    group_member_add(
        actor=None,
        group=hed_group,
        user=users["hedemora"],
        agency=agencies["hed-social"],
        role=GroupRole.COORDINATOR,
    )


@transaction.atomic
def load() -> None:
    """Create the demo data set. Runs once; a second call finds it loaded and does nothing."""
    if is_loaded():
        return
    avesta, hedemora, lpo, agencies = _load_organisations()
    ave_group = group_create(
        actor=None, municipality=avesta, name="SSPF Avesta", min_age=10, max_age=17
    )
    hed_group = group_create(
        actor=None, municipality=hedemora, name="SSPF Hedemora", min_age=12, max_age=18
    )
    users = _load_users(agencies)
    _load_seats(users, agencies, ave_group, hed_group)
    cases = _load_cases(users, agencies, ave_group, hed_group)
    consent_demo.load(
        users=users, agencies=agencies, cases=cases, identity_number=fictional_identity_number
    )
    _go_on(users, agencies, cases)
    consent_demo.load_withdrawal(users=users, cases=cases)
    _load_meeting(users, agencies, ave_group)
    # The citizen promise of the article (dated relative to today), its successor agreement, the
    # pupils' drug-use survey the promise follows and a situation-picture series the
    # successor's commitments follow.
    series = indicators_demo.load(avesta=avesta, editor=users["avtal"])
    survey = indicators_demo.load_drug_survey(avesta=avesta, editor=users["avtal"])
    promises_demo.load(
        avesta=avesta,
        police_area=lpo,
        editor=users["avtal"],
        indicators=[series],
        survey=survey,
        group=ave_group,
    )
    # The council's statistics read anonymised facts, built nightly; build them now.
    facts_refresh()
    # On PostgreSQL the events wait for the worker's sealer (D28); the demo starts sealed.
    audit_seal()


def fictional_identity_number(born: date, serial: int) -> str:
    """A number valid in form (date and check digit) for a fictional person."""
    body = f"{born:%y%m%d}{serial:03d}"
    total = 0
    for index, char in enumerate(body):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return f"{born:%Y%m%d}-{serial:03d}{(10 - total % 10) % 10}"


@dataclass(frozen=True)
class Birth:
    """A youth's age today and birthday. The date of birth follows from today when it is read,
    so the demo's youths keep their ages, and their groups' age ranges, in any year (issue 19).
    """

    age: int
    month: int = 1
    day: int = 1
    # Instead of a calendar day: the last birthday was this many days ago, in any year (a
    # youth who has just reached the signing age must have done so in every year).
    days_since_birthday: int | None = None

    @property
    def date(self) -> date:
        today = timezone.localdate()
        if self.days_since_birthday is not None:
            last = today - timedelta(days=self.days_since_birthday)
            if (last.month, last.day) == (2, 29):
                last -= timedelta(days=1)
            return last.replace(year=last.year - self.age)
        passed = (self.month, self.day) <= (today.month, today.day)
        return date(today.year - self.age - (0 if passed else 1), self.month, self.day)


@dataclass(frozen=True)
class DemoCase:
    raiser: str
    agency_key: str
    group: str
    birth: Birth
    serial: int
    name: str
    gender: str
    reason: str
    risks: tuple[str, ...]
    protections: tuple[str, ...]
    team: tuple[tuple[str, str], ...]
    path: tuple[Status, ...]
    entries: tuple[tuple[str, str, str, str], ...]  # username, agency key, category code, text
    plan_goal: str = ""  # an action plan with this goal is made before the plan becomes active

    @property
    def born(self) -> date:
        return self.birth.date


# Fictional youths; every status of the lifecycle occurs. Texts name nobody: the cases are
# pseudonymous for the other agencies on their teams.
CASES = (
    DemoCase(
        "skola",
        "ave-school",
        "ave",
        Birth(14, 4, 17),
        482,
        "Elias Demosson",
        "M",
        "Hög frånvaro sedan höstlovet, nya umgängen utanför skolan.",
        ("high_absence", "destructive_peers"),
        ("leisure_activity",),
        (("socialtjanst", "ave-social"), ("polis", "police")),
        (Status.AWAITING_CONSENT, Status.MAPPING),
        (
            ("skola", "ave-school", "attendance", "Frånvaro 35 % i oktober, mest måndagar."),
            ("polis", "police", "incidents", "Påträffad i centrum sent en vardagskväll."),
            (
                "socialtjanst",
                "ave-social",
                "assessment",
                "Vårdnadshavare kontaktade, vill samarbeta.",
            ),
        ),
    ),
    DemoCase(
        "socialtjanst",
        "ave-social",
        "ave",
        Birth(16, 9, 3),
        213,
        "Saga Exempelsdotter",
        "F",
        "Oro för alkohol och för äldre kamrater.",
        ("substance_use", "unsafe_environments"),
        ("supportive_adult",),
        (("skola", "ave-school"), ("fritid", "ave-leisure")),
        (Status.AWAITING_CONSENT,),
        (("socialtjanst", "ave-social", "assessment", "Första samtal med familjen bokat."),),
    ),
    DemoCase(
        "polis",
        "police",
        "ave",
        Birth(15, days_since_birthday=40),
        655,
        "Noah Provare",
        "M",
        "Misstänkt för snatteri vid två tillfällen.",
        ("suspected_crime", "norm_breaking"),
        (),
        (("skola", "ave-school"),),
        (),
        (("polis", "police", "incidents", "Två anmälningar om snatteri i september."),),
    ),
    DemoCase(
        "fritid",
        "ave-leisure",
        "ave",
        Birth(13, 6, 9),
        307,
        "Alva Fiktiv",
        "F",
        "Har slutat komma till fritidsgården, tecken på rekrytering.",
        ("gang_recruitment", "no_leisure"),
        ("prosocial_peers",),
        (("socialtjanst", "ave-social"), ("skola", "ave-school")),
        (Status.AWAITING_CONSENT, Status.MAPPING, Status.CLOSED),
        (("fritid", "ave-leisure", "participation", "Har inte varit på gården sedan augusti."),),
    ),
    DemoCase(
        "polis",
        "police",
        "hed",
        Birth(17, 11, 30),
        741,
        "Liam Påhittad",
        "M",
        "Upprepade konflikter och misstänkt narkotikainnehav.",
        ("substance_use", "aggressive_behaviour"),
        ("family_cooperation",),
        (("hedemora", "hed-social"),),
        (Status.AWAITING_CONSENT,),
        (("polis", "police", "concerns", "Orosanmälan gjord till socialtjänsten."),),
    ),
    DemoCase(
        "socialtjanst",
        "ave-social",
        "ave",
        Birth(14, 12, 1),
        118,
        "Ella Uppdiktad",
        "F",
        "Konflikter hemma och i skolan, vill själv ha hjälp.",
        ("aggressive_behaviour",),
        ("family_cooperation", "school_engagement"),
        (("skola", "ave-school"),),
        (Status.AWAITING_CONSENT, Status.MAPPING, Status.ACTIVE_PLAN),
        (("socialtjanst", "ave-social", "interventions", "Familjestöd beviljat från november."),),
        plan_goal="Går i skolan alla dagar och har en trygg vuxen att prata med.",
    ),
    DemoCase(
        "skola",
        "ave-school",
        "ave",
        Birth(15, 8, 22),
        574,
        "Hugo Låtsasson",
        "M",
        "Skolk och oro för kamratgänget.",
        ("high_absence", "destructive_peers"),
        ("leisure_activity",),
        (("fritid", "ave-leisure"),),
        (Status.AWAITING_CONSENT, Status.MAPPING, Status.ACTIVE_PLAN, Status.FOLLOW_UP),
        (("skola", "ave-school", "attendance", "Närvaron har ökat till 90 %."),),
        plan_goal="Närvaro över 90 % under vårterminen.",
    ),
)


def _make_plan(
    users: dict[str, User], agencies: dict[str, Agency], demo_case: DemoCase, case: Case
) -> None:
    raiser = users[demo_case.raiser]
    plan = plan_create(actor=raiser, case=case)
    goal_add(actor=raiser, plan=plan, text=demo_case.plan_goal)
    kind = {
        "ave-school": InterventionKind.SCHOOL_SUPPORT,
        "ave-social": InterventionKind.FAMILY_SUPPORT,
    }.get(demo_case.agency_key, InterventionKind.OTHER)
    intervention_add(
        actor=raiser,
        plan=plan,
        agency=agencies[demo_case.agency_key],
        kind=kind,
        responsible=raiser,
        start_date=timezone.localdate(),
        status=InterventionStatus.ONGOING,
        description="" if kind != InterventionKind.OTHER else "Stödsamtal varannan vecka.",
    )
    follow_up_add(actor=raiser, plan=plan, on=timezone.localdate() + timedelta(days=42))


def _load_meeting(
    users: dict[str, User], agencies: dict[str, Agency], group: CollaborationGroup
) -> None:
    """Next week's meeting of the Avesta group, with one case on the agenda and a decision."""
    coordinator = users["samordnare"]
    start = (timezone.localtime() + timedelta(days=7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    meeting = meeting_schedule(
        actor=coordinator,
        group=group,
        starts_at=start,
        ends_at=start + timedelta(hours=1, minutes=30),
        location="Kommunhuset, rum Dalälven",
    )
    case = Case.objects.filter(group=group, status=Status.MAPPING).order_by("pk").first()
    if case is None:
        return
    item = agenda_item_add(actor=coordinator, meeting=meeting, case=case)
    minutes_record(
        actor=coordinator,
        item=item,
        minutes="Skolan och socialtjänsten delar bilden av ökad frånvaro. Kartläggning pågår.",
    )
    action_create(
        actor=coordinator,
        item=item,
        text="Boka uppföljningssamtal med vårdnadshavarna.",
        responsible_agency=agencies["ave-school"],
        responsible_user=users["skola"],
        due_date=start.date() + timedelta(days=7),
    )
    # A case without consent: the group may discuss it only anonymously, and only that it did
    # is recorded (DESIGN rule 16).
    unconsented = Case.objects.filter(group=group, status=Status.RAISED).order_by("pk").first()
    if unconsented is not None:
        anonymous = agenda_item_add(actor=coordinator, meeting=meeting, case=unconsented)
        anonymous_discussion_record(actor=coordinator, item=anonymous)


def _load_cases(
    users: dict[str, User],
    agencies: dict[str, Agency],
    ave_group: CollaborationGroup,
    hed_group: CollaborationGroup,
) -> list[Case]:
    """The cases in the order of ``CASES``."""
    made: list[Case] = []
    groups = {"ave": ave_group, "hed": hed_group}
    coordinators = {"ave": users["samordnare"], "hed": users["hedemora"]}
    for demo_case in CASES:
        raised = case_raise(
            actor=users[demo_case.raiser],
            group=groups[demo_case.group],
            agency=agencies[demo_case.agency_key],
            identity_number=fictional_identity_number(demo_case.born, demo_case.serial),
            name=demo_case.name,
            gender=demo_case.gender,
            reason=demo_case.reason,
            risk_factors=demo_case.risks,
            protective_factors=demo_case.protections,
        )
        case = raised.case
        for username, agency_key in demo_case.team:
            team_add(
                actor=coordinators[demo_case.group],
                case=case,
                user=users[username],
                agency=agencies[agency_key],
            )
        for username, agency_key, category, text in demo_case.entries:
            agency = agencies[agency_key]
            entry_add(
                actor=users[username],
                case=case,
                agency=agency,
                category=InformationCategory.objects.get(sector=agency.sector, code=category),
                text=text,
            )
        # Past "awaiting consent" only once the consents are in (DESIGN rule 16): ``_go_on``.
        for status in demo_case.path[:1]:
            case = case_transition(actor=users[demo_case.raiser], case=case, to=status)
        if demo_case.group == "hed":
            concern_report_add(
                actor=users[demo_case.raiser],
                case=case,
                agency=agencies[demo_case.agency_key],
                reported_on=timezone.localdate() - timedelta(days=56),
            )
        made.append(case)
    return made


def _go_on(users: dict[str, User], agencies: dict[str, Agency], cases: list[Case]) -> None:
    """The rest of each case's path, now that its consent is active."""
    for demo_case, case in zip(CASES, cases, strict=True):
        for status in demo_case.path[1:]:
            if status == Status.ACTIVE_PLAN:
                _make_plan(users, agencies, demo_case, case)
            extra = {}
            if status == Status.CLOSED:
                extra = {
                    "closure_reason": "other_support",
                    "closure_outcome": "Tar del av en fotbollsförening och har stöd i skolan.",
                }
            case = case_transition(actor=users[demo_case.raiser], case=case, to=status, **extra)


def totp_secret(username: str) -> str:
    """The TOTP secret of a demo account, for printing. Development mode only."""
    authenticator = Authenticator.objects.get(user__username=username, type=Authenticator.Type.TOTP)
    secret: str = get_mfa_adapter().decrypt(authenticator.data["secret"])
    return secret
