from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from samverkan.accounts.rules import can_manage_users, can_view_users
from samverkan.audit.rules import can_view_audit_log
from samverkan.lib.http import acting_user
from samverkan.meetings.selectors import actions_for
from samverkan.organisations.models import Role
from samverkan.organisations.rules import can_manage_organisations, roles_of
from samverkan.organisations.selectors import groups_of, memberships_of


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public landing page, or the signed-in user's start page for their roles."""
    if not request.user.is_authenticated:
        return render(request, "web/public_home.html")
    user = acting_user(request)
    roles = roles_of(user)
    context = {
        "memberships": list(memberships_of(user=user)),
        "group_memberships": list(groups_of(user=user)),
        "roles": roles,
        "is_practitioner": Role.PRACTITIONER in roles,
        "is_coordinator": Role.COORDINATOR in roles,
        "is_agreement_editor": Role.AGREEMENT_EDITOR in roles,
        "is_council_member": Role.COUNCIL_MEMBER in roles,
        "is_auditor": can_view_audit_log(user),
        "is_administrator": can_manage_users(user) or can_manage_organisations(user),
        "can_view_users": can_view_users(user),
        # Open actions from meetings, labelled by pseudonym; reading them is audited.
        "my_actions": actions_for(viewer=user),
    }
    return render(request, "web/home.html", context)


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
