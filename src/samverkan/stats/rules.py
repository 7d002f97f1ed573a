"""Who may see the council's statistics.

A council member (Role.COUNCIL_MEMBER) sees the municipalities of their agencies; an agency of a
police area counts for every municipality the area serves. A coordinator sees the
municipalities of the collaboration groups they coordinate. Nobody else sees the dashboard, its
charts, exports or API: they get 404, as for a missing page. None of these roles opens a case:
the statistics are aggregates only (DESIGN §2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.models import SEAT_ROLES, GroupRole, Membership, Role
from samverkan.organisations.rules import roles_of, standing_seats

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.organisations.models import Municipality


def visible_municipality_ids(user: User | AnonymousUser) -> frozenset[int]:
    """The municipalities whose statistics the user sees, cached on the user for the request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[int] | None = getattr(user, "_samverkan_stats_areas", None)
    if cached is not None:
        return cached
    from samverkan.organisations.models import Municipality

    roles = roles_of(user)  # cached for the request: most users need no query here
    ids: set[int] = set()
    police_areas: set[int] = set()
    if Role.COUNCIL_MEMBER in roles:
        for municipality_id, police_area_id in Membership.objects.filter(
            user_id=user.pk, role=Role.COUNCIL_MEMBER, agency__is_active=True
        ).values_list("agency__municipality_id", "agency__police_area_id"):
            if municipality_id is not None:
                ids.add(municipality_id)
            if police_area_id is not None:
                police_areas.add(police_area_id)
    if police_areas:
        ids.update(
            Municipality.objects.filter(police_areas__in=police_areas).values_list("pk", flat=True)
        )
    if roles & set(SEAT_ROLES):
        # Only seats that still stand (active person, agency and role) count.
        ids.update(
            municipality_id
            for _group, role, municipality_id in standing_seats(user)
            if role == GroupRole.COORDINATOR
        )
    cached = frozenset(ids)
    setattr(user, "_samverkan_stats_areas", cached)  # noqa: B010 - a per-request cache
    return cached


def can_view_statistics(user: User | AnonymousUser) -> bool:
    # Every council member's agency belongs to a municipality or a police area (a check
    # constraint), so the role alone answers without a query; the municipalities themselves
    # are checked on the page.
    if Role.COUNCIL_MEMBER in roles_of(user):
        return True
    return bool(visible_municipality_ids(user))


def can_view_municipality_statistics(
    user: User | AnonymousUser, municipality: Municipality
) -> bool:
    return municipality.pk in visible_municipality_ids(user)
