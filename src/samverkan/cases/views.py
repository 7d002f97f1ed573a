"""Case pages. Every read goes through ``cases.selectors``; every write through
``cases.services``. Identity numbers travel only in POST bodies, never in a URL."""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.accounts.models import User
from samverkan.cases import rules, selectors, services
from samverkan.cases.activity import dormant_cases
from samverkan.cases.forms import (
    CategoryForm,
    ConcernForm,
    CorrectEntryForm,
    EntryForm,
    FactorForm,
    FindYouthForm,
    GuardianForm,
    RaiseCaseForm,
    StatusForm,
    TeamAddForm,
)
from samverkan.cases.models import TRANSITIONS, Factor, InformationCategory
from samverkan.disclosure import explain as disclosure_explain
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.page import case_page
from samverkan.disclosure.viewer import practising_agency_ids, receives_concern_reports
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user, require_visible
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    GroupMembership,
    GroupRole,
    Membership,
    Role,
)
from samverkan.organisations.rules import can_manage_organisations


def _raise_choices(user: User) -> list[tuple[str, str]]:
    """Group and agency pairs the user may raise a case for (``rules.raising_agencies``), in
    two queries however many groups the user sits in."""
    seats = GroupMembership.objects.filter(
        user=user, agency_id__in=practising_agency_ids(user)
    ).select_related("group", "agency")
    return [
        (f"{gm.group_id}:{gm.agency_id}", f"{gm.group.name} – {gm.agency.name}") for gm in seats
    ]


@require_GET
def case_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    coordinated = list(
        CollaborationGroup.objects.filter(
            members__user=user, members__role=GroupRole.COORDINATOR
        ).distinct()
    )
    # How many of each coordinated group's open cases have gone quiet: one query for all.
    quiet = Counter(
        dormant_cases(timezone.now())
        .filter(group__in=coordinated)
        .values_list("group_id", flat=True)
    )
    for group in coordinated:
        group.dormant_count = quiet.get(group.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "cases/case_list.html",
        {
            "rows": selectors.my_cases(viewer=user),
            "coordinated": coordinated,
            "can_raise": bool(_raise_choices(user)),
            "find_form": FindYouthForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def case_raise_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    choices = _raise_choices(user)
    if not choices:
        raise Http404
    form = RaiseCaseForm(request.POST or None, group_agencies=choices)
    if request.method == "POST" and form.is_valid():
        group_id, agency_id = (int(x) for x in form.cleaned_data["group_agency"].split(":"))
        try:
            raised = services.case_raise(
                actor=user,
                group=CollaborationGroup.objects.get(pk=group_id),
                agency=Agency.objects.get(pk=agency_id),
                identity_number=form.cleaned_data["identity_number"],
                name=form.cleaned_data["name"],
                gender=form.cleaned_data["gender"],
                reason=form.cleaned_data["reason"],
                risk_factors=form.cleaned_data["risk_factors"],
                protective_factors=form.cleaned_data["protective_factors"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            for warning in raised.warnings:
                messages.warning(request, warning)
            messages.success(request, _("The case has been raised."))
            return redirect("cases:detail", pk=raised.case.pk)
    return render(request, "cases/case_raise.html", {"form": form})


@require_POST
def youth_find_view(request: HttpRequest) -> HttpResponse:
    """Exact-number search, by POST so the number never enters a URL or an access log."""
    user = acting_user(request)
    form = FindYouthForm(request.POST)
    rows: list[selectors.CaseRow] = []
    searched = False
    if form.is_valid():
        try:
            youth = services.youth_find(
                actor=user, identity_number=form.cleaned_data["identity_number"]
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            searched = True
            if youth is not None:
                # Only cases where the viewer may know who the youth is: a match on a case they
                # know by pseudonym would tell them who the pseudonym is.
                rows = [
                    r
                    for r in selectors.my_cases(viewer=user)
                    if r.case.youth_id == youth.pk and r.identity_shown
                ]
    return render(
        request, "cases/youth_find.html", {"find_form": form, "rows": rows, "searched": searched}
    )


def _categories_for(agencies: list[Agency]) -> list[tuple[int, str]]:
    return [
        (c.pk, f"{c.get_sector_display()}: {c.label}")
        for c in rules.categories_for(agencies, general=True)
    ]


def _case_page(
    request: HttpRequest,
    access: disclosure_selectors.CaseAccess,
    *,
    entry_form: EntryForm | None = None,
    status_form: StatusForm | None = None,
    guardian_form: GuardianForm | None = None,
    concern_form: ConcernForm | None = None,
    status: int = 200,
) -> HttpResponse:
    case = access.case
    my_agencies = access.my_agencies
    agency_choices = [(a.pk, a.name) for a in my_agencies]
    page = case_page(access)
    context = {
        "access": access,
        "case": case,
        "listing": page.listing,
        "entries": [
            (view, page.notes.explanations.get(view.entry.pk, "")) for view in page.listing.visible
        ],
        "notes": page.notes,
        "team": [m for m in case.team.all() if m.removed_at is None],
        "content": page.content,
        "guardians": page.guardians,
        "concerns": page.concerns,
        "can_acknowledge": page.receives_concerns,
        "is_coordinator": rules.is_coordinator(access.user, case.group),
        "next_statuses": sorted(TRANSITIONS[case.status]),
        "entry_form": entry_form
        or EntryForm(agencies=agency_choices, categories=_categories_for(my_agencies)),
        "status_form": status_form or StatusForm(current=case.status),
        "guardian_form": guardian_form or GuardianForm(),
        "concern_form": concern_form or ConcernForm(agencies=agency_choices),
        "may_add_guardians": rules.may_add_guardians(case, access.viewer.agency_ids),
    }
    return render(request, "cases/case_detail.html", context, status=status)


@require_GET
def case_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = disclosure_selectors.case_open(viewer=acting_user(request), pk=pk)
    return _case_page(request, access)


@require_POST
def entry_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    if not access.case.is_open:
        raise PermissionDenied
    my_agencies = access.my_agencies
    form = EntryForm(
        request.POST,
        agencies=[(a.pk, a.name) for a in my_agencies],
        categories=_categories_for(my_agencies),
    )
    if form.is_valid():
        try:
            services.entry_add(
                actor=user,
                case=access.case,
                agency=Agency.objects.get(pk=form.cleaned_data["agency"]),
                category=InformationCategory.objects.get(pk=form.cleaned_data["category"]),
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The entry has been saved."))
            return redirect("cases:detail", pk=pk)
    return _case_page(request, access, entry_form=form, status=400)


@require_http_methods(["GET", "POST"])
def entry_detail_view(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    view = disclosure_selectors.entry_history(access, entry_pk)
    if view is None:
        raise Http404
    may_correct = rules.may_correct_entry(access.case, view.entry, access.viewer.agency_ids)
    form = CorrectEntryForm(request.POST or None, initial={"text": view.text})
    if request.method == "POST":
        if not may_correct:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.entry_correct(actor=user, entry=view.entry, text=form.cleaned_data["text"])
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("The correction has been saved as a new version."))
                return redirect("cases:entry", pk=pk, entry_pk=entry_pk)
    return render(
        request,
        "cases/entry_detail.html",
        {
            "access": access,
            "view": view,
            "versions": list(view.entry.versions.all()),
            "form": form,
            "may_correct": may_correct,
            # consent.rules.can_disclose_statutory, which the disclosure page itself asks.
            "may_disclose": rules.may_write_for(user, view.entry.case, view.entry.agency_id),
            "explanation": disclosure_explain.entry_explanation(access, view),
        },
    )


@require_POST
def case_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    form = StatusForm(request.POST, current=access.case.status)
    if form.is_valid():
        try:
            services.case_transition(actor=user, case=access.case, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The status has been changed."))
            return redirect("cases:detail", pk=pk)
    return _case_page(request, access, status_form=form, status=400)


@require_POST
def guardian_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    if not rules.may_add_guardians(access.case, access.viewer.agency_ids):
        raise PermissionDenied
    form = GuardianForm(request.POST)
    if form.is_valid():
        try:
            services.guardian_add(actor=user, case=access.case, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The guardian has been recorded."))
            return redirect("cases:detail", pk=pk)
    return _case_page(request, access, guardian_form=form, status=400)


@require_POST
def concern_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    if not access.case.is_open:
        raise PermissionDenied
    agencies = [(a.pk, a.name) for a in access.my_agencies]
    form = ConcernForm(request.POST, agencies=agencies)
    if form.is_valid():
        try:
            services.concern_report_add(
                actor=user,
                case=access.case,
                agency=Agency.objects.get(pk=form.cleaned_data["agency"]),
                reported_on=form.cleaned_data["reported_on"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The report of concern has been recorded."))
            return redirect("cases:detail", pk=pk)
    return _case_page(request, access, concern_form=form, status=400)


@require_POST
def concern_acknowledge_view(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    user = acting_user(request)
    access = disclosure_selectors.case_open(viewer=user, pk=pk)
    report = next(
        (r for r in disclosure_selectors.concern_reports(access) if r.pk == report_pk), None
    )
    if report is None:
        raise Http404
    if not receives_concern_reports(access.viewer.agency_ids):
        raise PermissionDenied
    services.concern_report_acknowledge(actor=user, report=report)
    messages.success(request, _("The report of concern has been acknowledged."))
    return redirect("cases:detail", pk=pk)


def _team_choices(case: object) -> list[tuple[str, str]]:
    group = case.group  # type: ignore[attr-defined]
    practitioners = set(
        Membership.objects.filter(role=Role.PRACTITIONER).values_list("user_id", "agency_id")
    )
    choices = []
    for gm in GroupMembership.objects.filter(group=group, user__is_active=True).select_related(
        "user", "agency"
    ):
        if (gm.user_id, gm.agency_id) in practitioners:
            name = gm.user.get_full_name() or gm.user.username
            choices.append((f"{gm.user_id}:{gm.agency_id}", f"{name} – {gm.agency.name}"))
    return choices


@require_GET
def case_team_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The case card: pseudonym, status and team, without content. For coordinator and team."""
    user = acting_user(request)
    case = selectors.case_card(viewer=user, pk=pk)
    return render(
        request,
        "cases/case_team.html",
        {
            "case": case,
            "team": list(case.team.all()),
            "can_manage": rules.can_manage_team(user, case),
            "form": TeamAddForm(choices=_team_choices(case)),
            "on_team": rules.is_on_team(user, case),
        },
    )


@require_POST
def team_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    case = selectors.case_card(viewer=user, pk=pk)
    if not rules.can_manage_team(user, case):
        raise PermissionDenied
    form = TeamAddForm(request.POST, choices=_team_choices(case))
    if form.is_valid():
        user_id, agency_id = (int(x) for x in form.cleaned_data["member"].split(":"))
        try:
            services.team_add(
                actor=user,
                case=case,
                user=Membership.objects.get(
                    user_id=user_id, agency_id=agency_id, role=Role.PRACTITIONER
                ).user,
                agency=Agency.objects.get(pk=agency_id),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The practitioner has been added to the team."))
    else:
        messages.error(request, _("Choose a practitioner."))
    return redirect("cases:team", pk=pk)


@require_POST
def team_remove_view(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    user = acting_user(request)
    case = selectors.case_card(viewer=user, pk=pk)
    member = next((m for m in case.team.all() if m.pk == member_pk), None)
    if member is None:
        raise Http404
    if not rules.can_manage_team(user, case):
        raise PermissionDenied
    try:
        services.team_remove(actor=user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The practitioner has been removed from the team."))
    return redirect("cases:team", pk=pk)


@require_GET
def group_index_view(request: HttpRequest, group_pk: int) -> HttpResponse:
    user = acting_user(request)
    group = selectors.group_for_coordinator(viewer=user, pk=group_pk)
    rows = selectors.case_index(viewer=user, group=group)
    return render(
        request,
        "cases/case_index.html",
        {
            "group": group,
            "rows": rows,
            "dormant_count": sum(1 for row in rows if row.dormant_since),
            "dormant_days": settings.CASE_DORMANT_DAYS,
        },
    )


@require_GET
def lists_view(request: HttpRequest) -> HttpResponse:
    """The factor and category lists, for administrators."""
    require_visible(can_manage_organisations, acting_user(request))
    return render(
        request,
        "cases/lists.html",
        {
            "factors": Factor.objects.all(),
            "categories": InformationCategory.objects.all(),
            "factor_form": FactorForm(),
            "category_form": CategoryForm(),
        },
    )


@require_POST
def list_add_view(request: HttpRequest, kind: str) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    if kind not in ("factor", "category"):
        raise Http404
    form: FactorForm | CategoryForm
    form = FactorForm(request.POST) if kind == "factor" else CategoryForm(request.POST)
    if form.is_valid():
        try:
            if isinstance(form, FactorForm):
                services.factor_add(actor=user, **form.cleaned_data)
            else:
                services.category_add(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The list has been updated."))
    else:
        messages.error(request, _("Fill in every field."))
    return redirect("cases:lists")


@require_POST
def list_toggle_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_manage_organisations, user)
    if kind not in ("factor", "category"):
        raise Http404
    model = Factor if kind == "factor" else InformationCategory
    entry = model.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    services.list_entry_set_active(actor=user, entry=entry, active=not entry.is_active)
    messages.success(request, _("The list has been updated."))
    return redirect("cases:lists")
