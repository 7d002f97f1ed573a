"""Who holds which role. Roles come from agency memberships; none of them opens a case."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import CharField, IntegerField, QuerySet, Value

from samverkan.lib.compiled import CompiledValues
from samverkan.organisations.models import GroupMembership, Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


def _positions(user_id: int) -> QuerySet[Any]:
    none = Value(None, output_field=IntegerField())
    held = (
        Membership.objects.filter(user_id=user_id, agency__is_active=True)
        .order_by()
        .values_list(Value("held", output_field=CharField()), "role", "agency_id", none, none)
    )
    # GroupMembership's default manager keeps only seats that still stand (SeatManager).
    seats = (
        GroupMembership.objects.filter(user_id=user_id)
        .order_by()
        .values_list(
            Value("seat", output_field=CharField()),
            "role",
            none,
            "group_id",
            "group__municipality_id",
        )
    )
    return held.union(seats, all=True)


# Read on every signed-in page: compiled once per process (lib/compiled.py).
_POSITIONS = CompiledValues(_positions)


def _read_positions(user: User | AnonymousUser) -> None:
    """Read, in one query for the request, the memberships the user holds in active agencies
    and the group seats that stand, and cache both on the user object: the roles, the
    practising agencies, the seats and the navigation are all answered from them."""
    memberships: set[tuple[str, int]] = set()
    standing: list[tuple[int, str, int]] = []
    for kind, role, agency_id, group_id, municipality_id in _POSITIONS.rows(user.pk or 0):
        if kind == "held":
            memberships.add((role, agency_id))
        else:
            standing.append((group_id, role, municipality_id))
    setattr(user, "_samverkan_memberships", frozenset(memberships))  # noqa: B010 - per request
    setattr(user, "_samverkan_seats", tuple(sorted(standing)))  # noqa: B010 - per request


def held_memberships(user: User | AnonymousUser) -> frozenset[tuple[str, int]]:
    """(role, agency id) of each membership the user holds in an active agency, for the
    request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if not hasattr(user, "_samverkan_memberships"):
        _read_positions(user)
    cached: frozenset[tuple[str, int]] = getattr(user, "_samverkan_memberships")  # noqa: B009
    return cached


def roles_of(user: User | AnonymousUser) -> frozenset[str]:
    """The set of roles the user holds in any active agency, for the request."""
    return frozenset(role for role, _agency in held_memberships(user))


def standing_seats(user: User | AnonymousUser) -> tuple[tuple[int, str, int], ...]:
    """(group id, group role, municipality id) of each seat the user holds that still stands,
    for the request: the navigation asks twice (meetings, statistics), the case page once."""
    if not user.is_authenticated or not user.is_active:
        return ()
    if not hasattr(user, "_samverkan_seats"):
        _read_positions(user)
    cached: tuple[tuple[int, str, int], ...] = getattr(user, "_samverkan_seats")  # noqa: B009
    return cached


def has_role(user: User | AnonymousUser, role: Role) -> bool:
    return role in roles_of(user)


def is_administrator(user: User | AnonymousUser) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


def is_auditor(user: User | AnonymousUser) -> bool:
    return has_role(user, Role.AUDITOR)


def can_view_organisations(user: User | AnonymousUser) -> bool:
    """The agency register is reference data for every staff member (who works where)."""
    return bool(roles_of(user))


def can_manage_organisations(user: User | AnonymousUser) -> bool:
    return is_administrator(user)
