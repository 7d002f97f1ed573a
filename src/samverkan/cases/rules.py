"""Who may do what with cases. Need to know: access comes from the case team, never from an
agency membership or a role alone (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from samverkan.cases.models import InformationCategory
from samverkan.disclosure.viewer import receives_concern_reports, team_agency_ids
from samverkan.organisations.models import (
    Agency,
    GroupMembership,
    GroupRole,
    Membership,
    Role,
    Sector,
)
from samverkan.organisations.rules import standing_seats

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.cases.models import Case, Entry
    from samverkan.organisations.models import CollaborationGroup


def is_on_team(user: User | AnonymousUser, case: Case) -> bool:
    return bool(team_agency_ids(user, case))


def is_coordinator(user: User | AnonymousUser, group: CollaborationGroup) -> bool:
    # The seats that stand, read once per request (the navigation needs them too).
    return any(
        group_id == group.pk and role == GroupRole.COORDINATOR
        for group_id, role, _municipality in standing_seats(user)
    )


def raising_agencies(user: User | AnonymousUser, group: CollaborationGroup) -> list[Agency]:
    """Agencies the user may raise a case for in this group: they are a practitioner there and
    sit in the group for it."""
    if not user.is_authenticated or not user.is_active:
        return []
    sits_for = set(
        GroupMembership.objects.filter(group=group, user_id=user.pk).values_list(
            "agency_id", flat=True
        )
    )
    memberships = Membership.objects.filter(
        user_id=user.pk, role=Role.PRACTITIONER, agency_id__in=sits_for, agency__is_active=True
    ).select_related("agency")
    return [m.agency for m in memberships]


def can_raise_case(user: User | AnonymousUser, group: CollaborationGroup) -> bool:
    return bool(raising_agencies(user, group))


def can_manage_team(user: User | AnonymousUser, case: Case) -> bool:
    return is_coordinator(user, case.group)


def can_see_case_card(user: User | AnonymousUser, case: Case) -> bool:
    """The case's card (pseudonym, status, team) without content: its team and its coordinator."""
    return is_on_team(user, case) or is_coordinator(user, case.group)


def may_write_for(user: User | AnonymousUser, case: Case, agency_id: int) -> bool:
    return case.is_open and agency_id in team_agency_ids(user, case)


def can_acknowledge_concern(user: User | AnonymousUser, case: Case) -> bool:
    return receives_concern_reports(team_agency_ids(user, case))


def may_add_guardians(case: Case, agency_ids: frozenset[int]) -> bool:
    """Guardians are recorded by the raising agency, while the case is open."""
    return case.is_open and case.raising_agency_id in agency_ids


def may_correct_entry(case: Case, entry: Entry, agency_ids: frozenset[int]) -> bool:
    """An entry is corrected by its own agency, while the case is open."""
    return case.is_open and entry.agency_id in agency_ids


# Which information categories an agency may use: the one answer for the case page, the
# journal service and the API, and (without the general ones) for what a consent may cover.


def category_sectors(agencies: Iterable[Agency], *, general: bool) -> frozenset[str]:
    """The agencies' own sectors, and with ``general`` the general categories' (``other``): an
    entry may use those; a consent covers only the sectors of the agencies it names."""
    sectors = {agency.sector for agency in agencies}
    if general:
        sectors.add(Sector.OTHER)
    return frozenset(sectors)


def categories_for(agencies: Iterable[Agency], *, general: bool) -> QuerySet[InformationCategory]:
    """The active categories of ``category_sectors``."""
    return InformationCategory.objects.filter(
        sector__in=category_sectors(agencies, general=general), is_active=True
    )


def may_write_category(agency: Agency, category: InformationCategory) -> bool:
    """Whether an entry written for ``agency`` may carry ``category``."""
    return category.is_active and category.sector in category_sectors([agency], general=True)


def writable_category(agency: Agency, code: str) -> InformationCategory | None:
    """The category an entry for ``agency`` means by ``code``: of its own sector if it has one
    by that code, else the general one."""
    by_sector = {c.sector: c for c in categories_for([agency], general=True).filter(code=code)}
    return by_sector.get(agency.sector) or by_sector.get(Sector.OTHER)
