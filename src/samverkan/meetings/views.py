"""Meeting pages. Reads go through ``meetings.selectors``, writes through ``meetings.services``.

Outsiders get 404 on every meeting URL; a member of the group who may see a meeting but not
change it gets 403 on the changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.accounts.models import User
from samverkan.cases.models import Case
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user, require_visible
from samverkan.meetings import rules, selectors, services
from samverkan.meetings.forms import (
    ActionForm,
    ActionStatusForm,
    AgendaAddForm,
    AttendanceForm,
    MinutesForm,
    ScheduleForm,
)
from samverkan.meetings.ics import meeting_invitation
from samverkan.meetings.models import ActionStatus, Attendance
from samverkan.organisations.models import Agency, GroupMembership

# Service errors name model fields; the schedule form splits the times into date and time.
_SCHEDULE_FIELDS = {"starts_at": "start_time", "ends_at": "end_time"}


@require_GET
def meeting_list_view(request: HttpRequest) -> HttpResponse:
    listing = selectors.meeting_list(viewer=acting_user(request))
    return render(request, "meetings/meeting_list.html", {"listing": listing})


@require_http_methods(["GET", "POST"])
def meeting_schedule_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.sits_in_any_group, user)
    groups = selectors.groups_to_schedule(viewer=user)
    if not groups:
        raise PermissionDenied
    form = ScheduleForm(request.POST or None, groups=[(g.pk, g.name) for g in groups])
    if request.method == "POST" and form.is_valid():
        group = next(g for g in groups if str(g.pk) == form.cleaned_data["group"])
        try:
            meeting = services.meeting_schedule(
                actor=user,
                group=group,
                starts_at=form.moment("start_time"),
                ends_at=form.moment("end_time"),
                location=form.cleaned_data["location"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc, _SCHEDULE_FIELDS)
        else:
            messages.success(request, _("The meeting has been scheduled."))
            return redirect("meetings:detail", pk=meeting.pk)
    return render(
        request,
        "meetings/meeting_schedule.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _seats(group_id: int) -> list[GroupMembership]:
    return list(
        GroupMembership.objects.filter(group_id=group_id)
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name", "pk")
    )


def _person(user: User) -> str:
    return user.get_full_name() or user.username


def _responsible_choices(seats: list[GroupMembership]) -> list[tuple[str, str]]:
    agencies: dict[int, Agency] = {}
    for seat in seats:
        agencies.setdefault(seat.agency_id, seat.agency)
    choices = [
        (f"agency:{a.pk}", _("%(agency)s (anyone sitting in the group for it)") % {"agency": a})
        for a in agencies.values()
    ]
    choices += [
        (f"user:{s.user_id}:{s.agency_id}", f"{_person(s.user)} – {s.agency.name}")
        for s in seats
        if s.user.is_active
    ]
    return choices


def _attendance_seats(
    attendance: list[Attendance], seats: list[GroupMembership]
) -> list[tuple[int, int, str, bool | None]]:
    """Everyone invited, and whoever has joined the group since the meeting was scheduled."""
    rows = {
        (a.user_id, a.agency_id): (a.user_id, a.agency_id, _label(a.user, a.agency), a.present)
        for a in attendance
    }
    for s in seats:
        rows.setdefault(
            (s.user_id, s.agency_id), (s.user_id, s.agency_id, _label(s.user, s.agency), None)
        )
    return list(rows.values())


def _label(user: User, agency: Agency) -> str:
    return f"{_person(user)} – {agency.name}"


def _meeting_page(
    request: HttpRequest,
    view: selectors.MeetingView,
    *,
    bound: Mapping[object, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    meeting = view.meeting
    context: dict[str, object] = {
        "view": view,
        "meeting": meeting,
        "can_manage": view.can_manage,
        "status_choices": ActionStatus.choices,
    }
    if view.can_manage:
        seats = _seats(meeting.group_id)
        responsible = _responsible_choices(seats)
        candidates = selectors.agenda_candidates(view)
        context["agenda_form"] = bound.get("agenda") or AgendaAddForm(
            cases=[(c.pk, c.youth.pseudonym) for c in candidates]
        )
        context["attendance_form"] = bound.get("attendance") or AttendanceForm(
            seats=_attendance_seats(view.attendance, seats)
        )
        context["rows"] = [
            {
                "row": row,
                "minutes_form": bound.get(("minutes", row.item.pk))
                or MinutesForm(prefix=f"m{row.item.pk}", initial={"minutes": row.minutes}),
                "action_form": bound.get(("action", row.item.pk))
                or ActionForm(
                    prefix=f"a{row.item.pk}",
                    responsible=responsible,
                    initial={"due_date": timezone.localdate(meeting.starts_at)},
                ),
            }
            for row in view.agenda
        ]
    else:
        context["rows"] = [{"row": row} for row in view.agenda]
    return render(request, "meetings/meeting_detail.html", context, status=status)


@require_GET
def meeting_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.meeting_open(viewer=acting_user(request), pk=pk)
    return _meeting_page(request, view)


def _managed(request: HttpRequest, pk: int) -> tuple[User, selectors.MeetingAccess]:
    """The meeting for a change by its coordinator: 404 for outsiders, 403 for other members."""
    user = acting_user(request)
    access = selectors.meeting_get(viewer=user, pk=pk)
    if not access.can_manage:
        raise PermissionDenied
    return user, access


def _failed(
    request: HttpRequest, user: User, pk: int, key: object, form: forms.Form
) -> HttpResponse:
    view = selectors.meeting_open(viewer=user, pk=pk)
    return _meeting_page(request, view, bound={key: form}, status=400)


@require_POST
def agenda_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, access = _managed(request, pk)
    candidates = selectors.agenda_candidates(access)
    form = AgendaAddForm(request.POST, cases=[(c.pk, c.youth.pseudonym) for c in candidates])
    if form.is_valid():
        case: Case = next(c for c in candidates if str(c.pk) == form.cleaned_data["case"])
        try:
            services.agenda_item_add(actor=user, meeting=access.meeting, case=case)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The case has been added to the agenda."))
            return redirect("meetings:detail", pk=pk)
    return _failed(request, user, pk, "agenda", form)


@require_POST
def agenda_remove_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user, access = _managed(request, pk)
    item = selectors.agenda_item_get(access, item_pk)
    try:
        services.agenda_item_remove(actor=user, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The item has been removed from the agenda."))
    return redirect("meetings:detail", pk=pk)


@require_POST
def attendance_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, access = _managed(request, pk)
    attendance = list(
        Attendance.objects.filter(meeting=access.meeting).select_related("user", "agency")
    )
    form = AttendanceForm(
        request.POST, seats=_attendance_seats(attendance, _seats(access.meeting.group_id))
    )
    if form.is_valid():
        try:
            services.attendance_record(actor=user, meeting=access.meeting, marks=form.marks())
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The attendance has been recorded."))
            return redirect("meetings:detail", pk=pk)
    return _failed(request, user, pk, "attendance", form)


@require_POST
def minutes_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user, access = _managed(request, pk)
    item = selectors.agenda_item_get(access, item_pk)
    form = MinutesForm(request.POST, prefix=f"m{item.pk}")
    if form.is_valid():
        try:
            services.minutes_record(actor=user, item=item, minutes=form.cleaned_data["minutes"])
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The minutes have been saved."))
            return redirect("meetings:detail", pk=pk)
    return _failed(request, user, pk, ("minutes", item.pk), form)


@require_POST
def anonymous_discussion_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user, access = _managed(request, pk)
    item = selectors.agenda_item_get(access, item_pk)
    try:
        services.anonymous_discussion_record(actor=user, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The anonymous discussion has been recorded, without content."))
    return redirect("meetings:detail", pk=pk)


@require_POST
def action_add_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user, access = _managed(request, pk)
    item = selectors.agenda_item_get(access, item_pk)
    seats = _seats(access.meeting.group_id)
    form = ActionForm(request.POST, prefix=f"a{item.pk}", responsible=_responsible_choices(seats))
    if form.is_valid():
        agency_id, user_id = form.responsible_ids()
        seat = next(s for s in seats if s.agency_id == agency_id and user_id in (None, s.user_id))
        try:
            services.action_create(
                actor=user,
                item=item,
                text=form.cleaned_data["text"],
                responsible_agency=seat.agency,
                responsible_user=seat.user if user_id is not None else None,
                due_date=form.cleaned_data["due_date"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The decision has been recorded."))
            return redirect("meetings:detail", pk=pk)
    return _failed(request, user, pk, ("action", item.pk), form)


@require_POST
def action_status_view(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    user = acting_user(request)
    access = selectors.meeting_get(viewer=user, pk=pk)
    action = selectors.action_get(access, action_pk)
    if not (access.can_manage or rules.seat_may_mark_done(access.seat, action)):
        raise PermissionDenied
    form = ActionStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect("meetings:detail", pk=pk)
    status = form.cleaned_data["status"]
    if not rules.seat_may_change_status(access.seat, action, status):
        raise PermissionDenied
    try:
        services.action_update(actor=user, action=action, status=status)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The action has been updated."))
    return redirect("meetings:detail", pk=pk)


@require_GET
def meeting_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.meeting_get(viewer=acting_user(request), pk=pk)
    meeting = access.meeting
    body = meeting_invitation(
        meeting, summary=_("Meeting of %(group)s") % {"group": meeting.group.name}
    )
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    day = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="meeting-{day}.ics"'
    return response
