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

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction

from samverkan.accounts.models import User
from samverkan.accounts.services import user_accept_invitation, user_invite
from samverkan.organisations.models import Agency, GroupRole, Municipality, Role, Sector
from samverkan.organisations.services import (
    agency_create,
    group_create,
    group_member_add,
    membership_add,
    municipality_create,
    police_area_create,
)

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
        "community police officer (kommunpolis), Avesta and Hedemora",
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
)


def is_loaded() -> bool:
    return Municipality.objects.filter(code="2084").exists()


def _secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


@transaction.atomic
def load() -> None:
    """Create the demo data set. Runs once; a second call finds it loaded and does nothing."""
    if is_loaded():
        return
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

    ave_group = group_create(
        actor=None, municipality=avesta, name="SSPF Avesta", min_age=10, max_age=17
    )
    hed_group = group_create(
        actor=None, municipality=hedemora, name="SSPF Hedemora", min_age=12, max_age=18
    )

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

    # The coordinator works in social services and also takes part as a practitioner.
    membership_add(
        actor=None, user=users["samordnare"], agency=agencies["ave-social"], role=Role.PRACTITIONER
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


def totp_secret(username: str) -> str:
    """The TOTP secret of a demo account, for printing. Development mode only."""
    authenticator = Authenticator.objects.get(user__username=username, type=Authenticator.Type.TOTP)
    secret: str = get_mfa_adapter().decrypt(authenticator.data["secret"])
    return secret
