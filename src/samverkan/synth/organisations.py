"""Fictional municipalities with their police areas, agencies, groups and staff."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from samverkan.accounts.models import User
from samverkan.accounts.services import users_create_bulk
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    GroupMembership,
    GroupRole,
    Membership,
    Municipality,
    PoliceArea,
    Role,
    Sector,
)
from samverkan.organisations.services import organisations_create_bulk
from samverkan.synth import words
from samverkan.synth.base import CODES, SYNTHETIC_SUFFIX, Builder, SynthError


@dataclass
class Town:
    municipality: Municipality
    group: CollaborationGroup
    agencies: dict[str, Agency]  # by sector; police is the police area's agency
    coordinator: User
    practitioners: dict[str, list[User]]  # by sector
    seats: list[tuple[User, Agency]]
    editor: User  # the crime-prevention coordinator: agreements and indicators


@dataclass
class _Staff:
    users: list[User] = field(default_factory=list)
    memberships: list[tuple[User, Agency, str]] = field(default_factory=list)
    seats: list[tuple[CollaborationGroup, User, Agency, str]] = field(default_factory=list)
    police: dict[int, list[User]] = field(default_factory=dict)  # by id() of the agency


def _base(name: str) -> str:
    return name.removesuffix(SYNTHETIC_SUFFIX)


def town_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    pool = [head + tail.lower() for head in words.NAME_HEADS for tail in words.NAME_TAILS]
    rng.shuffle(pool)
    for word in pool:
        name = word.capitalize() + SYNTHETIC_SUFFIX
        if name not in taken:
            names.append(name)
            taken.add(name)
        if len(names) == count:
            return names
    number = 2
    while len(names) < count:  # more towns than words: number the words
        name = f"{pool[len(names) % len(pool)].capitalize()} {number}{SYNTHETIC_SUFFIX}"
        if name not in taken:
            names.append(name)
            taken.add(name)
        else:
            number += 1
    return names


def _municipalities(b: Builder) -> list[Municipality]:
    wanted = b.options.municipalities
    used_codes = set(Municipality.objects.values_list("code", flat=True))
    codes = [f"{c:04d}" for c in CODES if f"{c:04d}" not in used_codes][:wanted]
    if len(codes) < wanted:
        raise SynthError(
            f"refused: only {len(codes)} free municipality codes left in {CODES.start}–"
            f"{CODES.stop - 1}"
        )
    taken = set(Municipality.objects.values_list("name", flat=True))
    names = town_names(b.rng, wanted, taken)
    towns = [Municipality(name=n, code=c) for n, c in zip(names, codes, strict=True)]
    b.count(organisations_create_bulk({Municipality: towns}))
    for town in towns:
        b.audit.add(b.org_time, "municipality.created", actor=None, obj=town)
    return towns


def _police(b: Builder, towns: list[Municipality]) -> dict[int, Agency]:
    """One local police area per three municipalities, with one police agency each."""
    area_names = set(PoliceArea.objects.values_list("name", flat=True))
    areas: list[tuple[PoliceArea, list[Municipality]]] = []
    for index in range(0, len(towns), 3):
        served = towns[index : index + 3]
        base = _base(served[0].name)
        name = f"Lokalpolisområde {base}{SYNTHETIC_SUFFIX}"
        while name in area_names:
            name = f"Lokalpolisområde {base} {index}{SYNTHETIC_SUFFIX}"
            index += 1
        area_names.add(name)
        areas.append((PoliceArea(name=name), served))
    through = PoliceArea.municipalities.through
    links = [through(policearea=a, municipality=m) for a, served in areas for m in served]
    b.count(organisations_create_bulk({PoliceArea: [a for a, _ in areas], through: links}))
    police: dict[int, Agency] = {}
    for area, served in areas:
        b.audit.add(
            b.org_time,
            "police_area.created",
            actor=None,
            obj=area,
            details={"municipality_ids": [m.pk for m in served]},
        )
        agency = Agency(name=f"Polisen, {_base(area.name)}", sector=Sector.POLICE, police_area=area)
        for m in served:
            police[m.pk] = agency
    return police


def _agencies(b: Builder, towns: list[Municipality]) -> dict[int, dict[str, Agency]]:
    police = _police(b, towns)
    agencies: list[Agency] = list({id(a): a for a in police.values()}.values())
    by_town: dict[int, dict[str, Agency]] = {}
    for town in towns:
        base = _base(town.name)
        own: dict[str, Agency] = {
            Sector.SCHOOL: Agency(name=f"{base} kommun, Skola", sector=Sector.SCHOOL),
            Sector.SOCIAL_SERVICES: Agency(
                name=f"{base} kommun, Socialtjänsten", sector=Sector.SOCIAL_SERVICES
            ),
            Sector.LEISURE: Agency(name=f"{base} kommun, Fritid", sector=Sector.LEISURE),
            Sector.OTHER: Agency(
                name=f"{base} kommun, Brottsförebyggande rådet", sector=Sector.OTHER
            ),
        }
        for agency in own.values():
            agency.municipality = town
            agencies.append(agency)
        by_town[town.pk] = {**own, Sector.POLICE: police[town.pk]}
    b.count(organisations_create_bulk({Agency: agencies}))
    for agency in agencies:
        b.audit.add(
            b.org_time, "agency.created", actor=None, obj=agency, details={"sector": agency.sector}
        )
    return by_town


def _staff_of(
    b: Builder, staff: _Staff, town: Municipality, group: CollaborationGroup, own: dict[str, Agency]
) -> Town:
    """Practitioners per sector, a coordinator in social services, a council member."""
    practitioners: dict[str, list[User]] = defaultdict(list)
    for sector, count in ((Sector.SCHOOL, 3), (Sector.SOCIAL_SERVICES, 2), (Sector.LEISURE, 2)):
        for _ in range(count):
            user = b.user(town.code, b.rng.choice(words.ADULTS), b.rng.choice(words.SURNAMES))
            staff.users.append(user)
            staff.memberships.append((user, own[sector], Role.PRACTITIONER))
            practitioners[sector].append(user)
            staff.seats.append((group, user, own[sector], GroupRole.MEMBER))
    area_agency = own[Sector.POLICE]
    if id(area_agency) not in staff.police:
        officers = [
            b.user(town.code, b.rng.choice(words.ADULTS), b.rng.choice(words.SURNAMES))
            for _ in range(2)
        ]
        staff.users.extend(officers)
        staff.memberships.extend((u, area_agency, Role.PRACTITIONER) for u in officers)
        staff.police[id(area_agency)] = officers
    for officer in staff.police[id(area_agency)]:
        practitioners[Sector.POLICE].append(officer)
        staff.seats.append((group, officer, area_agency, GroupRole.MEMBER))
    coordinator = b.user(town.code, b.rng.choice(words.ADULTS), "Samordnare")
    council = b.user(town.code, b.rng.choice(words.ADULTS), "Brå")
    editor = b.user(town.code, b.rng.choice(words.ADULTS), "Brottsförebyggare")
    staff.users.extend([coordinator, council, editor])
    social, other = own[Sector.SOCIAL_SERVICES], own[Sector.OTHER]
    staff.memberships.append((editor, other, Role.AGREEMENT_EDITOR))
    staff.memberships.append((coordinator, social, Role.COORDINATOR))
    staff.memberships.append((coordinator, social, Role.PRACTITIONER))
    staff.memberships.append((council, other, Role.COUNCIL_MEMBER))
    staff.seats.append((group, coordinator, social, GroupRole.COORDINATOR))
    return Town(
        municipality=town,
        group=group,
        agencies=own,
        coordinator=coordinator,
        practitioners=dict(practitioners),
        seats=[(u, a) for g, u, a, _ in staff.seats if g is group],
        editor=editor,
    )


def _save_staff(b: Builder, staff: _Staff) -> None:
    b.report.counts[User._meta.label] += users_create_bulk(staff.users)
    at, invited = b.org_time, set[int]()
    memberships = [Membership(user=u, agency=a, role=r) for u, a, r in staff.memberships]
    for row in memberships:
        if row.user.pk not in invited:
            invited.add(row.user.pk)
            b.audit.add(
                at,
                "user.invited",
                actor=None,
                obj=row.user,
                agency=row.agency.pk,
                details={"role": str(row.role)},
            )
    b.count(organisations_create_bulk({Membership: memberships}))
    for row in memberships:
        details = {"user_id": row.user_id, "role": row.role}
        b.audit.add(
            at, "membership.added", actor=None, obj=row, agency=row.agency_id, details=details
        )
    seats = [GroupMembership(group=g, user=u, agency=a, role=r) for g, u, a, r in staff.seats]
    b.count(organisations_create_bulk({GroupMembership: seats}))
    for seat in seats:
        details = {"user_id": seat.user_id, "role": seat.role}
        b.audit.add(
            at,
            "group.member_added",
            actor=None,
            obj=seat.group,
            agency=seat.agency_id,
            details=details,
        )


def organisations(b: Builder) -> list[Town]:
    towns = _municipalities(b)
    by_town = _agencies(b, towns)
    groups = [
        CollaborationGroup(municipality=t, name=f"SSPF {_base(t.name)}", min_age=10, max_age=17)
        for t in towns
    ]
    b.count(organisations_create_bulk({CollaborationGroup: groups}))
    for group in groups:
        b.audit.add(b.org_time, "group.created", actor=None, obj=group)
    staff = _Staff()
    built = [
        _staff_of(b, staff, town, group, by_town[town.pk])
        for town, group in zip(towns, groups, strict=True)
    ]
    _save_staff(b, staff)
    b.audit.resolve()
    return built
