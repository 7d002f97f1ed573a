"""Who may read and keep indicator series.

A series belongs to a municipality. Agreement editors of that municipality keep it (define,
edit, import); its council members read it. An agency of a police area counts for every
municipality the area serves, since the police sign promises with each of them. Published
series are public and need no rule: ``selectors.published_indicators`` is their only way out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from samverkan.organisations.models import Membership, Municipality, Role
from samverkan.organisations.rules import roles_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.indicators.models import Indicator

_READ_ROLES = (Role.AGREEMENT_EDITOR, Role.COUNCIL_MEMBER)


def _municipality_ids(user: User | AnonymousUser) -> dict[str, frozenset[int]]:
    """Municipality ids per indicator role, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return {}
    if not roles_of(user) & set(_READ_ROLES):
        # The roles are known for the request already: most users need no query here.
        return {}
    cached: dict[str, frozenset[int]] | None = getattr(user, "_samverkan_indicator_areas", None)
    if cached is not None:
        return cached
    memberships = Membership.objects.filter(
        user=user, role__in=_READ_ROLES, agency__is_active=True
    ).values_list("role", "agency__municipality_id", "agency__police_area_id")
    by_role: dict[str, set[int]] = {}
    police_areas: dict[str, set[int]] = {}
    for role, municipality_id, police_area_id in memberships:
        if municipality_id is not None:
            by_role.setdefault(role, set()).add(municipality_id)
        if police_area_id is not None:
            police_areas.setdefault(role, set()).add(police_area_id)
    if police_areas:
        served = Municipality.objects.filter(
            police_areas__in={pa for ids in police_areas.values() for pa in ids}
        ).values_list("pk", "police_areas")
        for municipality_id, police_area_id in served:
            for role, area_ids in police_areas.items():
                if police_area_id in area_ids:
                    by_role.setdefault(role, set()).add(municipality_id)
    cached = {role: frozenset(ids) for role, ids in by_role.items()}
    setattr(user, "_samverkan_indicator_areas", cached)  # noqa: B010 - a per-request cache
    return cached


def editable_municipality_ids(user: User | AnonymousUser) -> frozenset[int]:
    return _municipality_ids(user).get(Role.AGREEMENT_EDITOR, frozenset())


def readable_municipality_ids(user: User | AnonymousUser) -> frozenset[int]:
    ids = _municipality_ids(user)
    return ids.get(Role.AGREEMENT_EDITOR, frozenset()) | ids.get(Role.COUNCIL_MEMBER, frozenset())


def readable_filter(user: User | AnonymousUser) -> Q:
    """The indicators the user may read, as a filter on ``Indicator``."""
    return Q(municipality_id__in=readable_municipality_ids(user))


def can_view_indicators(user: User | AnonymousUser) -> bool:
    return bool(readable_municipality_ids(user))


def can_create_indicators(user: User | AnonymousUser) -> bool:
    return bool(editable_municipality_ids(user))


def can_edit_indicator(user: User | AnonymousUser, indicator: Indicator) -> bool:
    return indicator.municipality_id in editable_municipality_ids(user)


def can_edit_in(user: User | AnonymousUser, municipality: Municipality) -> bool:
    return municipality.pk in editable_municipality_ids(user)
