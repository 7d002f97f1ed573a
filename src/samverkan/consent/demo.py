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
from samverkan.disclosure import selectors as disclosure_selectors
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


# Who raised each demo case (by index): they record its guardians.
RAISERS = {
    0: "skola",
    1: "socialtjanst",
    2: "polis",
    3: "fritid",
    4: "polis",
    5: "socialtjanst",
    6: "skola",
}


def _consent(
    actor: User,
    case: Case,
    agencies: list[Agency],
    categories: list[tuple[str, str]],
    *,
    days: int,
) -> Consent:
    """A consent from today, for ``days`` days, through the service."""
    today = timezone.localdate()
    return consent_create(
        actor=actor,
        case=case,
        agency_ids=[a.pk for a in agencies],
        category_ids=_categories(*categories),
        valid_from=today,
        valid_until=today + timedelta(days=days),
    )


def load(
    *,
    users: dict[str, User],
    agencies: dict[str, Agency],
    cases: list[Case],
    identity_number: object,
) -> None:
    """``identity_number(born, serial)`` makes a fictional number valid in form."""
    for index, guardians in GUARDIANS.items():
        for guardian in guardians:
            guardian_add(
                actor=users[RAISERS[index]],
                case=cases[index],
                name=guardian.name,
                has_custody=True,
                identity_number=identity_number(guardian.born, guardian.serial),  # type: ignore[operator]
                email=guardian.email,
            )
    _load_current(users=users, agencies=agencies, cases=cases)
    _load_past(users=users, agencies=agencies, cases=cases)


def _load_current(
    *, users: dict[str, User], agencies: dict[str, Agency], cases: list[Case]
) -> None:
    """The consents made today: in force, pending, and Hugo's, withdrawn later."""
    coordinator = users["samordnare"]
    # Elias: active, school and social services share attendance and assessment; the police
    # sit on the team but are not covered, so they see the case by pseudonym only.
    elias = _consent(
        users["skola"],
        cases[0],
        [agencies["ave-school"], agencies["ave-social"]],
        [("school", "attendance"), ("social_services", "assessment")],
        days=180,
    )
    _sign(coordinator, elias)

    # Saga (16): pending — one guardian has signed; the other guardian and Saga have not. Her
    # mother can sign in the portal with the development e-ID.
    saga = _consent(
        coordinator,
        cases[1],
        [agencies["ave-social"], agencies["ave-school"], agencies["ave-leisure"]],
        [("social_services", "assessment"), ("school", "attendance"), ("leisure", "participation")],
        days=300,
    )
    signers = list(RequiredSigner.objects.filter(consent=saga).order_by("order"))
    signature_record(actor=coordinator, signer=signers[1], method=SignatureMethod.IN_PERSON)

    # Ella: active, social services and school, everything they record.
    ella = _consent(
        users["socialtjanst"],
        cases[5],
        [agencies["ave-social"], agencies["ave-school"]],
        [
            ("social_services", "assessment"),
            ("social_services", "interventions"),
            ("school", "attendance"),
            ("school", "wellbeing"),
        ],
        days=360,
    )
    _sign(users["socialtjanst"], ella)

    # Hugo (15): was active, leisure read the school's entry, then a guardian withdrew orally.
    hugo = _consent(
        users["skola"],
        cases[6],
        [agencies["ave-school"], agencies["ave-leisure"]],
        [("school", "attendance"), ("leisure", "participation")],
        days=200,
    )
    _sign(users["skola"], hugo)

    # Alva: active, leisure, social services and school; her case was closed since.
    alva = _consent(
        users["fritid"],
        cases[3],
        [agencies["ave-leisure"], agencies["ave-social"], agencies["ave-school"]],
        [("leisure", "participation"), ("social_services", "assessment"), ("school", "attendance")],
        days=240,
    )
    _sign(users["fritid"], alva)


def _load_past(*, users: dict[str, User], agencies: dict[str, Agency], cases: list[Case]) -> None:
    """The consents moved back in time after they are made."""
    # Liam (Hedemora): expired — it ran last year and has not been renewed. Noah has none.
    liam = _consent(
        users["hedemora"],
        cases[4],
        [agencies["police"], agencies["hed-social"]],
        [("police", "concerns"), ("social_services", "assessment")],
        days=300,
    )
    _sign(users["hedemora"], liam)
    _move_back(liam, days=400)

    # Noah turned 15 forty days ago (DESIGN rule 18). His mother signed a consent for the police
    # and the school when he was 14; since his birthday it covers nothing new until he co-signs.
    # Drawn up today, the service makes him a signer already, so the consent is back-dated as a
    # whole: its dates, and the signers it had when he was 14.
    noah = _consent(
        users["polis"],
        cases[2],
        [agencies["police"], agencies["ave-school"]],
        [("police", "incidents"), ("school", "attendance")],
        days=300,
    )
    RequiredSigner.objects.filter(consent=noah, kind=SignerKind.YOUTH).delete()
    _sign(users["polis"], noah)
    _move_back(noah, days=70)


def load_withdrawal(*, users: dict[str, User], cases: list[Case]) -> None:
    """Hugo's consent, once his case has gone on under it: leisure reads the school's entry,
    then a guardian withdraws orally. Called after the cases have left "awaiting consent"."""
    hugo = Consent.objects.filter(case=cases[6]).get()
    access = disclosure_selectors.case_open(viewer=users["fritid"], pk=cases[6].pk)
    disclosure_selectors.entry_listing(access)
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
