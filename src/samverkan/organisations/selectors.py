from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from samverkan.organisations.models import Agency, CollaborationGroup, GroupMembership, Membership
from samverkan.organisations.rules import can_view_organisations

if TYPE_CHECKING:
    from samverkan.accounts.models import User


def agency_list(*, viewer: User) -> QuerySet[Agency]:
    if not can_view_organisations(viewer):
        return Agency.objects.none()
    return Agency.objects.select_related("municipality", "police_area").order_by("name")


def agency_get(*, viewer: User, pk: int) -> Agency:
    try:
        return agency_list(viewer=viewer).get(pk=pk)
    except Agency.DoesNotExist:
        raise Http404 from None


def memberships_of(*, user: User) -> QuerySet[Membership]:
    """The user's roles in active agencies (a deactivated agency gives no role)."""
    return Membership.objects.filter(user=user, agency__is_active=True).select_related(
        "agency", "agency__municipality", "agency__police_area"
    )


def groups_of(*, user: User) -> QuerySet[GroupMembership]:
    return GroupMembership.objects.filter(user=user).select_related(
        "group", "group__municipality", "agency"
    )


def group_list(*, viewer: User) -> QuerySet[CollaborationGroup]:
    if not can_view_organisations(viewer):
        return CollaborationGroup.objects.none()
    return CollaborationGroup.objects.select_related("municipality").order_by(
        "municipality__name", "name"
    )
