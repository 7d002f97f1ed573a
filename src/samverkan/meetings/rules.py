"""Who may do what with meetings.

Every member of a collaboration group sees the group's meetings and agendas; what they see of a
case there is its pseudonym and the screened minutes, never who the youth is (DESIGN rule 6:
until a consent covers every agency at the table, the case stays pseudonymous). Only the
group's coordinator changes a meeting. An action is marked done by the person responsible for
it or, when the decision named only an agency, by a practitioner who sits in the group for it.

The page rules take a ``Seat`` (the viewer's place in one group, two queries) so that a page
with many actions asks them without a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from samverkan.cases import rules as case_rules
from samverkan.meetings.models import ActionStatus
from samverkan.organisations.models import GroupMembership, GroupRole, Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.meetings.models import Action
    from samverkan.organisations.models import CollaborationGroup


@dataclass(frozen=True)
class Seat:
    """A user's place in one group: the agencies they sit for, and their standing."""

    user_id: int
    group_id: int
    agency_ids: frozenset[int]
    practitioner_agency_ids: frozenset[int]
    is_coordinator: bool

    @property
    def is_member(self) -> bool:
        return bool(self.agency_ids)


def seat_in(user: User | AnonymousUser, group: CollaborationGroup) -> Seat:
    if not user.is_authenticated or not user.is_active:
        return Seat(0, group.pk, frozenset(), frozenset(), is_coordinator=False)
    rows = list(
        GroupMembership.objects.filter(group=group, user_id=user.pk).values_list(
            "agency_id", "role"
        )
    )
    agencies = frozenset(agency_id for agency_id, _ in rows)
    practitioner = frozenset(
        Membership.objects.filter(
            user_id=user.pk, role=Role.PRACTITIONER, agency_id__in=agencies, agency__is_active=True
        ).values_list("agency_id", flat=True)
    )
    return Seat(
        user_id=user.pk,
        group_id=group.pk,
        agency_ids=agencies,
        practitioner_agency_ids=practitioner,
        is_coordinator=any(role == GroupRole.COORDINATOR for _, role in rows),
    )


def sits_in_any_group(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return GroupMembership.objects.filter(user_id=user.pk).exists()


def is_group_member(user: User | AnonymousUser, group: CollaborationGroup) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return GroupMembership.objects.filter(group=group, user_id=user.pk).exists()


def can_schedule(user: User | AnonymousUser, group: CollaborationGroup) -> bool:
    return case_rules.is_coordinator(user, group)


def seat_may_mark_done(seat: Seat, action: Action) -> bool:
    if not seat.is_member:
        return False
    if action.responsible_user_id is not None:
        return action.responsible_user_id == seat.user_id
    return action.responsible_agency_id in (seat.agency_ids & seat.practitioner_agency_ids)


def seat_may_change_status(seat: Seat, action: Action, to: str) -> bool:
    """The coordinator sets any status; the responsible only closes an open action as done."""
    if seat.is_coordinator:
        return True
    return (
        to == ActionStatus.DONE
        and action.status == ActionStatus.OPEN
        and seat_may_mark_done(seat, action)
    )


def may_mark_done(user: User | AnonymousUser, action: Action) -> bool:
    return seat_may_mark_done(seat_in(user, action.agenda_item.meeting.group), action)


def may_change_status(user: User | AnonymousUser, action: Action, to: str) -> bool:
    return seat_may_change_status(seat_in(user, action.agenda_item.meeting.group), action, to)
