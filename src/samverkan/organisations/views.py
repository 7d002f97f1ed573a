from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.lib.http import acting_user, require_visible
from samverkan.organisations import services
from samverkan.organisations.forms import AgencyEditForm, AgencyForm, GroupForm, GroupMemberForm
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    GroupMembership,
    Membership,
)
from samverkan.organisations.rules import can_manage_organisations, can_view_organisations
from samverkan.organisations.selectors import agency_get, agency_list, group_list


@require_GET
def agency_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    agencies = agency_list(viewer=user).annotate(member_count=Count("memberships"))
    return render(request, "organisations/agency_list.html", {"agencies": agencies})


@require_http_methods(["GET", "POST"])
def agency_create_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    return _agency_create(request)


@reauthentication_required
def _agency_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The agency has been created."))
            return redirect("organisations:agency_list")
    return render(request, "organisations/agency_form.html", {"form": form, "agency": None})


@require_http_methods(["GET", "POST"])
def agency_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_organisations, user)
    agency = agency_get(viewer=user, pk=pk)
    require_visible(can_manage_organisations, user)
    return _agency_edit(request, agency)


@reauthentication_required
def _agency_edit(request: HttpRequest, agency: Agency) -> HttpResponse:
    user = acting_user(request)
    initial = {"name": agency.name, "sector": agency.sector, "is_active": agency.is_active}
    form = AgencyEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_update(actor=user, agency=agency, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The agency has been saved."))
            return redirect("organisations:agency_list")
    return render(request, "organisations/agency_form.html", {"form": form, "agency": agency})


@require_GET
def group_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    groups = group_list(viewer=user).prefetch_related(
        Prefetch(
            "members",
            queryset=GroupMembership.objects.select_related("user", "agency").order_by(
                "user__username"
            ),
        )
    )
    return render(request, "organisations/group_list.html", {"groups": groups})


@require_http_methods(["GET", "POST"])
def group_create_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    return _group_create(request)


@reauthentication_required
def _group_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The group has been created."))
            return redirect("organisations:group_detail", pk=group.pk)
    return render(request, "organisations/group_form.html", {"form": form})


def _group(request: HttpRequest, pk: int) -> CollaborationGroup:
    user = acting_user(request)
    try:
        return group_list(viewer=user).get(pk=pk)
    except CollaborationGroup.DoesNotExist:
        raise Http404 from None


def _member_choices(group: CollaborationGroup) -> list[tuple[str, str]]:
    """People who may sit in the group: members of its municipality's agencies, or of a police
    area serving that municipality."""
    rows = (
        Membership.objects.filter(agency__is_active=True, user__is_active=True)
        .filter(
            Q(agency__municipality=group.municipality)
            | Q(agency__police_area__municipalities=group.municipality)
        )
        .select_related("user", "agency")
        .order_by("user__username", "agency__name")
    )
    choices: dict[str, str] = {}
    for m in rows:
        name = m.user.get_full_name() or m.user.username
        choices.setdefault(f"{m.user_id}:{m.agency_id}", f"{name} – {m.agency.name}")
    return list(choices.items())


@require_GET
def group_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    group = _group(request, pk)
    members = group.members.select_related("user", "agency").order_by("user__username")
    form = GroupMemberForm(choices=_member_choices(group))
    return render(
        request,
        "organisations/group_detail.html",
        {"group": group, "members": members, "form": form},
    )


@require_POST
def group_member_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    group = _group(request, pk)
    return _group_member_add(request, group)


@reauthentication_required
def _group_member_add(request: HttpRequest, group: CollaborationGroup) -> HttpResponse:
    user = acting_user(request)
    form = GroupMemberForm(request.POST, choices=_member_choices(group))
    if form.is_valid():
        user_id, agency_id = (int(x) for x in form.cleaned_data["membership"].split(":"))
        membership = (
            Membership.objects.select_related("user", "agency")
            .filter(user_id=user_id, agency_id=agency_id)
            .first()
        )
        if membership is None:
            raise Http404
        try:
            services.group_member_add(
                actor=user,
                group=group,
                user=membership.user,
                agency=membership.agency,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The member has been added."))
    else:
        messages.error(request, _("Choose a person and a role."))
    return redirect("organisations:group_detail", pk=group.pk)


@require_POST
def group_member_remove_view(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    group = _group(request, pk)
    try:
        member = group.members.get(pk=member_id)
    except GroupMembership.DoesNotExist:
        raise Http404 from None
    return _group_member_remove(request, member)


@reauthentication_required
def _group_member_remove(request: HttpRequest, member: GroupMembership) -> HttpResponse:
    user = acting_user(request)
    services.group_member_remove(actor=user, member=member)
    messages.success(request, _("The member has been removed."))
    return redirect("organisations:group_detail", pk=member.group_id)
