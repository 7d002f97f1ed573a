"""Who may do what with cases. Need to know: access comes from the case team, never from an
agency membership or a role alone (DESIGN §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.models import (
    Agency,
    GroupMembership,
    GroupRole,
    Membership,
    Role,
    Sector,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.cases.models import Case
    from samverkan.organisations.models import CollaborationGroup


def practising_agency_ids(user: User | AnonymousUser) -> frozenset[int]:
    """Active agencies the user is a practitioner of now, cached on the user for the request.

    A seat on a case team counts only while this holds: someone who changes jobs, or whose
    agency is closed, loses the case when the membership goes, not when someone remembers to
    take them off every team.
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[int] | None = getattr(user, "_samverkan_practising", None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(
                user_id=user.pk, role=Role.PRACTITIONER, agency__is_active=True
            ).values_list("agency_id", flat=True)
        )
        setattr(user, "_samverkan_practising", cached)  # noqa: B010 - a per-request cache
    return cached


def team_agency_ids(user: User | AnonymousUser, case: Case) -> frozenset[int]:
    """The agencies the user sits on this case's team for; empty when not on the team."""
    practising = practising_agency_ids(user)
    if not practising or user.pk is None:
        return frozenset()
    seats = case.team.filter(user_id=user.pk, removed_at__isnull=True).values_list(
        "agency_id", flat=True
    )
    return frozenset(seats) & practising


def is_on_team(user: User | AnonymousUser, case: Case) -> bool:
    return bool(team_agency_ids(user, case))


def is_coordinator(user: User | AnonymousUser, group: CollaborationGroup) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return GroupMembership.objects.filter(
        group=group, user_id=user.pk, role=GroupRole.COORDINATOR
    ).exists()


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


def may_read_content(user: User | AnonymousUser, case: Case) -> bool:
    """DESIGN rule 16 for writes that would show the writer the case's content (the plan): the
    agencies the user sits on the team for are covered now (``policy.content_decision``)."""
    from django.utils import timezone

    from samverkan.cases.selectors import grants_for
    from samverkan.disclosure.policy import content_decision

    agencies = team_agency_ids(user, case)
    return (
        bool(agencies)
        and content_decision(
            agencies,
            raising_agency_id=case.raising_agency_id,
            at=timezone.now(),
            grants=grants_for(case),
        ).allowed
    )


def can_see_case_card(user: User | AnonymousUser, case: Case) -> bool:
    """The case's card (pseudonym, status, team) without content: its team and its coordinator."""
    return is_on_team(user, case) or is_coordinator(user, case.group)


def may_write_for(user: User | AnonymousUser, case: Case, agency_id: int) -> bool:
    return case.is_open and agency_id in team_agency_ids(user, case)


def can_acknowledge_concern_ids(agency_ids: frozenset[int]) -> bool:
    """Whether any of these team agencies is social services (who receive reports of concern)."""
    return Agency.objects.filter(pk__in=agency_ids, sector=Sector.SOCIAL_SERVICES).exists()


def can_acknowledge_concern(user: User | AnonymousUser, case: Case) -> bool:
    return can_acknowledge_concern_ids(team_agency_ids(user, case))
