from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from samverkan.accounts.mfa import SECOND_FACTORS
from samverkan.accounts.models import User
from samverkan.accounts.rules import can_view_users
from samverkan.audit.services import audit_record
from samverkan.organisations.models import Membership


def user_list(*, viewer: User) -> QuerySet[User]:
    """Accounts with their memberships and whether a second factor is enrolled.

    A fixed number of queries whatever the number of users (one, plus one prefetch).
    """
    if not can_view_users(viewer):
        return User.objects.none()
    return (
        User.objects.annotate(
            has_mfa=Exists(
                Authenticator.objects.filter(user=OuterRef("pk"), type__in=SECOND_FACTORS)
            )
        )
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("agency").order_by("agency__name"),
            )
        )
        .order_by("username")
    )


def user_get(*, viewer: User, pk: int) -> User:
    try:
        return user_list(viewer=viewer).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


def user_list_audited(*, viewer: User) -> QuerySet[User]:
    """``user_list`` for the list page: the reading is audited."""
    users = user_list(viewer=viewer)
    with transaction.atomic():
        audit_record(action="user.list_viewed", actor=viewer, object_type="accounts.user")
    return users


def user_get_audited(*, viewer: User, pk: int) -> User:
    """``user_get`` for the account's page: the reading is audited."""
    subject = user_get(viewer=viewer, pk=pk)
    with transaction.atomic():
        audit_record(action="user.viewed", actor=viewer, obj=subject)
    return subject
