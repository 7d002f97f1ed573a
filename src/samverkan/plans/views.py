"""Action plan pages. Only the case team gets past ``case_open`` (everyone else: 404); within
the team, a closed case or another agency's intervention is seen but not changed (403)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.accounts.models import User
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.selectors import CaseAccess
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user
from samverkan.plans import pdf, rules, selectors, services
from samverkan.plans.forms import (
    FollowUpForm,
    GoalEditForm,
    GoalForm,
    InterventionEditForm,
    InterventionForm,
)
from samverkan.plans.models import ActionPlan, Intervention


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _responsible_choices(access: CaseAccess, agency_ids: set[int]) -> list[tuple[int, str]]:
    """Active team members for these agencies, from the team ``case_open`` already loaded."""
    choices: dict[int, str] = {}
    for member in access.case.team.all():
        if member.removed_at is None and member.agency_id in agency_ids:
            choices.setdefault(member.user_id, f"{_name(member.user)} ({member.agency.name})")
    return list(choices.items())


def _intervention_form(access: CaseAccess, data: Any = None) -> InterventionForm:
    agencies = access.my_agencies
    return InterventionForm(
        data,
        agencies=[(a.pk, a.name) for a in agencies],
        responsible=_responsible_choices(access, {a.pk for a in agencies}),
        initial={"responsible": access.user.pk},
    )


def _open_for_change(request: HttpRequest, pk: int) -> tuple[User, CaseAccess]:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    if not access.content or not rules.may_edit_plan_ids(access.viewer.agency_ids, access.case):
        raise PermissionDenied
    return user, access


def _existing_plan(access: CaseAccess) -> ActionPlan:
    plan = selectors.plan_of(access)
    if plan is None:
        raise Http404
    return plan


def _plan_page(
    request: HttpRequest,
    access: CaseAccess,
    *,
    goal_form: GoalForm | None = None,
    intervention_form: InterventionForm | None = None,
    follow_up_form: FollowUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = selectors.plan_for_team(access)
    return render(
        request,
        "plans/plan_detail.html",
        {
            "access": access,
            "case": access.case,
            "view": view,
            "goal_form": goal_form or GoalForm(),
            "intervention_form": intervention_form or _intervention_form(access),
            "follow_up_form": follow_up_form or FollowUpForm(),
            "pdf_languages": [("sv", "Svenska"), ("en", "English")],
        },
        status=status,
    )


@require_GET
def plan_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = disclosure_selectors.case_open(viewer=acting_user(request), pk=pk)
    return _plan_page(request, access)


@require_POST
def plan_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, access = _open_for_change(request, pk)
    try:
        services.plan_create(actor=user, case=access.case)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The action plan has been started. Add its goals."))
    return redirect("plans:detail", pk=pk)


@require_POST
def goal_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, access = _open_for_change(request, pk)
    plan = _existing_plan(access)
    form = GoalForm(request.POST)
    if form.is_valid():
        try:
            services.goal_add(actor=user, plan=plan, text=form.cleaned_data["text"])
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The goal has been added."))
            return redirect("plans:detail", pk=pk)
    return _plan_page(request, access, goal_form=form, status=400)


@require_http_methods(["GET", "POST"])
def goal_detail_view(request: HttpRequest, pk: int, goal_pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    goal = selectors.goal_for_team(access, goal_pk)
    if goal is None:
        raise Http404
    may_edit = rules.may_edit_plan_ids(access.viewer.agency_ids, access.case)
    form = GoalEditForm(
        request.POST or None, initial={"text": goal.text, "achieved": goal.achieved}
    )
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.goal_update(
                    actor=user,
                    goal=goal,
                    text=form.cleaned_data["text"],
                    achieved=form.cleaned_data["achieved"],
                )
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("The goal has been saved."))
                return redirect("plans:detail", pk=pk)
    return render(
        request,
        "plans/goal_detail.html",
        {"access": access, "goal": goal, "form": form, "may_edit": may_edit},
        status=400 if form.errors else 200,
    )


@require_POST
def intervention_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, access = _open_for_change(request, pk)
    plan = _existing_plan(access)
    form = _intervention_form(access, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        responsible = next(
            (m.user for m in access.case.team.all() if m.user_id == data["responsible"]), None
        )
        agency = next((a for a in access.my_agencies if a.pk == data["agency"]), None)
        if responsible is None or agency is None:  # the form's choices rule this out
            raise Http404
        try:
            services.intervention_add(
                actor=user,
                plan=plan,
                agency=agency,
                kind=data["kind"],
                responsible=responsible,
                start_date=data["start_date"],
                end_date=data["end_date"],
                status=data["status"],
                description=data["description"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The intervention has been added."))
            return redirect("plans:detail", pk=pk)
    return _plan_page(request, access, intervention_form=form, status=400)


def _intervention_edit_form(
    access: CaseAccess, intervention: Intervention, data: Any = None
) -> InterventionEditForm:
    return InterventionEditForm(
        data,
        responsible=_responsible_choices(access, {intervention.agency_id}),
        initial={
            "responsible": intervention.responsible_user_id,
            "start_date": intervention.start_date,
            "end_date": intervention.end_date,
            "status": intervention.status,
            "description": intervention.description,
            "outcome": intervention.outcome,
        },
    )


@require_http_methods(["GET", "POST"])
def intervention_detail_view(request: HttpRequest, pk: int, intervention_pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    intervention = selectors.intervention_for_team(access, intervention_pk)
    if intervention is None:
        raise Http404
    may_change = rules.may_change_intervention_ids(
        access.viewer.agency_ids, access.case, intervention
    )
    form = _intervention_edit_form(access, intervention, request.POST or None)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            responsible = next(
                (m.user for m in access.case.team.all() if m.user_id == data["responsible"]), None
            )
            if responsible is None:
                raise Http404
            try:
                services.intervention_update(
                    actor=user,
                    intervention=intervention,
                    responsible=responsible,
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    status=data["status"],
                    description=data["description"],
                    outcome=data["outcome"],
                )
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("The intervention has been saved."))
                return redirect("plans:detail", pk=pk)
    return render(
        request,
        "plans/intervention_detail.html",
        {
            "access": access,
            "intervention": intervention,
            "form": form,
            "may_change": may_change,
        },
        status=400 if form.errors else 200,
    )


@require_POST
def follow_up_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, access = _open_for_change(request, pk)
    plan = _existing_plan(access)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.follow_up_add(actor=user, plan=plan, on=form.cleaned_data["date"])
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The follow-up date has been added."))
            return redirect("plans:detail", pk=pk)
    return _plan_page(request, access, follow_up_form=form, status=400)


@require_POST
def follow_up_done_view(request: HttpRequest, pk: int, follow_up_pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    follow_up = selectors.follow_up_of(access, follow_up_pk)
    if follow_up is None:
        raise Http404
    if not rules.may_edit_plan_ids(access.viewer.agency_ids, access.case):
        raise PermissionDenied
    services.follow_up_mark_done(actor=user, follow_up=follow_up)
    messages.success(request, _("The follow-up has been marked as held."))
    return redirect("plans:detail", pk=pk)


@require_GET
def plan_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The family's copy, Swedish unless ``?lang=en``. Sent as a download named by pseudonym."""
    access = disclosure_selectors.case_open(viewer=acting_user(request), pk=pk)
    language = request.GET.get("lang") or pdf.DEFAULT_LANGUAGE
    try:
        exported = services.plan_pdf_export(access=access, language=language)
    except selectors.IdentityNotShown as exc:
        return render(
            request,
            "plans/pdf_refused.html",
            {"access": access, "message": str(exc)},
            status=403,
        )
    except ValidationError as exc:
        return render(
            request,
            "plans/pdf_refused.html",
            {"access": access, "message": " ".join(exc.messages)},
            status=400,
        )
    except pdf.PdfUnavailableError:
        message = _("This server cannot make PDF files: ask the administrator to install Pango.")
        return render(
            request, "plans/pdf_refused.html", {"access": access, "message": message}, status=503
        )
    if exported is None:
        raise Http404
    response = HttpResponse(exported.content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=exported.filename
    )
    response["Cache-Control"] = "no-store"
    return response
