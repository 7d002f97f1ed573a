"""Demo consents: every state occurs, and a guardian can log in to the portal.

All people are fictional; the identity numbers are valid in form only. Two consents are moved
back in time after they are made (the services refuse a start in the past, as they should), so
that an expired one and its history exist on the day the demo is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.cases import selectors as case_selectors
from samverkan.cases.models import Case, InformationCategory
from samverkan.cases.services import guardian_add
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
    WithdrawalMethod,
)
from samverkan.consent.services import consent_create, consent_withdraw, signature_record
from samverkan.organisations.models import Agency


@dataclass(frozen=True)
class DemoGuardian:
    name: str
    born: date
    serial: int
    email: str


# Printed by ``samverkan demo``: the guardian who can try the portal.
PORTAL_GUARDIAN = DemoGuardian(
    "Karin Exempelsdotter", date(1982, 5, 14), 228, "karin.exempelsdotter@demo.samverkan.invalid"
)

# Per demo case (by its index in samverkan.demo.CASES): its guardians with custody.
GUARDIANS: dict[int, tuple[DemoGuardian, ...]] = {
    0: (
        DemoGuardian(
            "Maria Demosson", date(1984, 2, 9), 246, "maria.demosson@demo.samverkan.invalid"
        ),
        DemoGuardian(
            "Johan Demosson", date(1981, 7, 30), 133, "johan.demosson@demo.samverkan.invalid"
        ),
    ),
    1: (
        PORTAL_GUARDIAN,
        DemoGuardian("Anders Exempel", date(1979, 11, 2), 417, ""),
    ),
    2: (DemoGuardian("Sofia Provare", date(1986, 4, 3), 592, ""),),
    3: (DemoGuardian("Karin Fiktiv", date(1987, 5, 12), 381, ""),),
    4: (
        DemoGuardian(
            "Lena Påhittad", date(1985, 3, 21), 362, "lena.pahittad@demo.samverkan.invalid"
        ),
    ),
    5: (
        DemoGuardian(
            "Eva Uppdiktad", date(1983, 9, 8), 504, "eva.uppdiktad@demo.samverkan.invalid"
        ),
    ),
    6: (
        DemoGuardian(
            "Per Låtsasson", date(1980, 1, 17), 615, "per.latsasson@demo.samverkan.invalid"
        ),
        DemoGuardian("Anna Låtsasson", date(1982, 10, 5), 726, ""),
    ),
}


def _categories(*pairs: tuple[str, str]) -> list[int]:
    return [InformationCategory.objects.get(sector=s, code=c).pk for s, c in pairs]


def _sign(actor: User, consent: Consent) -> None:
    for signer in RequiredSigner.objects.filter(consent=consent).order_by("order"):
        signature_record(actor=actor, signer=signer, method=SignatureMethod.IN_PERSON)


def load(
    *,
    users: dict[str, User],
    agencies: dict[str, Agency],
    cases: list[Case],
    identity_number: object,
) -> None:
    """``identity_number(born, serial)`` makes a fictional number valid in form."""
    raisers = {
        0: "skola",
        1: "socialtjanst",
        2: "polis",
        3: "fritid",
        4: "polis",
        5: "socialtjanst",
        6: "skola",
    }
    for index, guardians in GUARDIANS.items():
        for guardian in guardians:
            guardian_add(
                actor=users[raisers[index]],
                case=cases[index],
                name=guardian.name,
                has_custody=True,
                identity_number=identity_number(guardian.born, guardian.serial),  # type: ignore[operator]
                email=guardian.email,
            )
    coordinator = users["samordnare"]
    today = timezone.localdate()

    # Elias: active, school and social services share attendance and assessment; the police
    # sit on the team but are not covered, so they see the case by pseudonym only.
    elias = consent_create(
        actor=users["skola"],
        case=cases[0],
        agency_ids=[agencies["ave-school"].pk, agencies["ave-social"].pk],
        category_ids=_categories(("school", "attendance"), ("social_services", "assessment")),
        valid_from=today,
        valid_until=today + timedelta(days=180),
    )
    _sign(coordinator, elias)

    # Saga (16): pending — one guardian has signed; the other guardian and Saga have not. Her
    # mother can sign in the portal with the development e-ID.
    saga = consent_create(
        actor=coordinator,
        case=cases[1],
        agency_ids=[
            agencies["ave-social"].pk,
            agencies["ave-school"].pk,
            agencies["ave-leisure"].pk,
        ],
        category_ids=_categories(
            ("social_services", "assessment"),
            ("school", "attendance"),
            ("leisure", "participation"),
        ),
        valid_from=today,
        valid_until=today + timedelta(days=300),
    )
    signers = list(RequiredSigner.objects.filter(consent=saga).order_by("order"))
    signature_record(actor=coordinator, signer=signers[1], method=SignatureMethod.IN_PERSON)

    # Ella: active, social services and school, everything they record.
    ella = consent_create(
        actor=users["socialtjanst"],
        case=cases[5],
        agency_ids=[agencies["ave-social"].pk, agencies["ave-school"].pk],
        category_ids=_categories(
            ("social_services", "assessment"),
            ("social_services", "interventions"),
            ("school", "attendance"),
            ("school", "wellbeing"),
        ),
        valid_from=today,
        valid_until=today + timedelta(days=360),
    )
    _sign(users["socialtjanst"], ella)

    # Hugo (15): was active, leisure read the school's entry, then a guardian withdrew orally.
    hugo = consent_create(
        actor=users["skola"],
        case=cases[6],
        agency_ids=[agencies["ave-school"].pk, agencies["ave-leisure"].pk],
        category_ids=_categories(("school", "attendance"), ("leisure", "participation")),
        valid_from=today,
        valid_until=today + timedelta(days=200),
    )
    _sign(users["skola"], hugo)

    # Alva: active, leisure, social services and school; her case was closed since.
    alva = consent_create(
        actor=users["fritid"],
        case=cases[3],
        agency_ids=[
            agencies["ave-leisure"].pk,
            agencies["ave-social"].pk,
            agencies["ave-school"].pk,
        ],
        category_ids=_categories(
            ("leisure", "participation"),
            ("social_services", "assessment"),
            ("school", "attendance"),
        ),
        valid_from=today,
        valid_until=today + timedelta(days=240),
    )
    _sign(users["fritid"], alva)

    # Liam (Hedemora): expired — it ran last year and has not been renewed. Noah has none.
    liam = consent_create(
        actor=users["hedemora"],
        case=cases[4],
        agency_ids=[agencies["police"].pk, agencies["hed-social"].pk],
        category_ids=_categories(("police", "concerns"), ("social_services", "assessment")),
        valid_from=today,
        valid_until=today + timedelta(days=300),
    )
    _sign(users["hedemora"], liam)
    _move_back(liam, days=400)

    # Noah turned 15 forty days ago (DESIGN rule 18). His mother signed a consent for the police
    # and the school when he was 14; since his birthday it covers nothing new until he co-signs.
    # Drawn up today, the service makes him a signer already, so the consent is back-dated as a
    # whole: its dates, and the signers it had when he was 14.
    noah = consent_create(
        actor=users["polis"],
        case=cases[2],
        agency_ids=[agencies["police"].pk, agencies["ave-school"].pk],
        category_ids=_categories(("police", "incidents"), ("school", "attendance")),
        valid_from=today,
        valid_until=today + timedelta(days=300),
    )
    RequiredSigner.objects.filter(consent=noah, kind=SignerKind.YOUTH).delete()
    _sign(users["polis"], noah)
    _move_back(noah, days=70)


def load_withdrawal(*, users: dict[str, User], cases: list[Case]) -> None:
    """Hugo's consent, once his case has gone on under it: leisure reads the school's entry,
    then a guardian withdraws orally. Called after the cases have left "awaiting consent"."""
    hugo = Consent.objects.filter(case=cases[6]).get()
    access = case_selectors.case_open(viewer=users["fritid"], pk=cases[6].pk)
    case_selectors.entry_listing(access)
    first_guardian = RequiredSigner.objects.filter(consent=hugo).order_by("order")[0]
    consent_withdraw(
        consent=hugo, signer=first_guardian, method=WithdrawalMethod.ORAL, actor=users["skola"]
    )


def _move_back(consent: Consent, *, days: int) -> None:
    shift = timedelta(days=days)
    Consent.objects.filter(pk=consent.pk).update(
        valid_from=consent.valid_from - shift,
        valid_until=consent.valid_until - shift,
        created_at=consent.created_at - shift,
    )
    for signature in ConsentSignature.objects.filter(signer__consent=consent):
        ConsentSignature.objects.filter(pk=signature.pk).update(
            signed_at=signature.signed_at - shift,
            signed_on=signature.signed_on - shift,
            recorded_at=signature.recorded_at - shift,
        )
