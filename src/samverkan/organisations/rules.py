"""Who holds which role. Roles come from agency memberships; none of them opens a case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.models import GroupMembership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


def roles_of(user: User | AnonymousUser) -> frozenset[str]:
    """The set of roles the user holds in any agency, cached on the user object per request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_samverkan_roles", None)
    if cached is None:
        cached = frozenset(
            user.memberships.filter(agency__is_active=True).values_list("role", flat=True)
        )
        setattr(user, "_samverkan_roles", cached)  # noqa: B010 - a per-request cache
    return cached


def standing_seats(user: User | AnonymousUser) -> tuple[tuple[int, str, int], ...]:
    """(group id, group role, municipality id) of each seat the user holds that still stands,
    cached on the user object per request: the navigation asks twice (meetings, statistics)."""
    if not user.is_authenticated or not user.is_active:
        return ()
    cached: tuple[tuple[int, str, int], ...] | None = getattr(user, "_samverkan_seats", None)
    if cached is None:
        cached = tuple(
            GroupMembership.objects.filter(user_id=user.pk).values_list(
                "group_id", "role", "group__municipality_id"
            )
        )
        setattr(user, "_samverkan_seats", cached)  # noqa: B010 - a per-request cache
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
