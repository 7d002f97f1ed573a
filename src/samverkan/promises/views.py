"""Agreement editor pages under /agreements/. Every write is a POST and works without JavaScript.

An agreement the user may not read answers 404 (``selectors``); one they read but may not
change (a council member) answers 403 on every write. A refused write re-renders the detail
page with the form's errors (400).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.accounts.models import User
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user, require_visible
from samverkan.organisations.models import CollaborationGroup, Municipality, PoliceArea
from samverkan.organisations.rules import can_manage_organisations
from samverkan.promises import rules, selectors, services
from samverkan.promises.forms import (
    ActivityForm,
    AgreementCreateForm,
    AgreementFields,
    AssessmentForm,
    CommitmentEditForm,
    CommitmentForm,
    ExtendForm,
    FollowUpForm,
    LinksForm,
    PartyForm,
    SignatoryForm,
    StatusForm,
)
from samverkan.promises.models import Agreement, AgreementStatus, Commitment


def _police_areas(municipality_ids: set[int] | frozenset[int]) -> list[tuple[int, str]]:
    qs = PoliceArea.objects.filter(municipalities__in=municipality_ids).distinct().order_by("name")
    return [(p.pk, p.name) for p in qs]


def _indicator_choices(agreement: Agreement) -> list[tuple[int, str]]:
    qs = Indicator.objects.filter(municipality_id=agreement.municipality_id)
    return [(i.pk, str(i)) for i in qs]


def _indicator_values(agreement: Agreement) -> dict[int, IndicatorValue]:
    """The values a follow-up of the agreement may cite: of the series its commitments link."""
    qs = (
        IndicatorValue.objects.filter(indicator__commitments__agreement=agreement)
        .select_related("indicator", "indicator__municipality")
        .distinct()
        .order_by("indicator__name", "indicator__area", "period_start")
    )
    return {v.pk: v for v in qs}


def _value_choices(values: dict[int, IndicatorValue]) -> list[tuple[int, str]]:
    return [
        (
            v.pk,
            f"{v.indicator}: {v.period_label} = {v.display_value}"
            + (f" {v.indicator.unit}" if v.indicator.unit else ""),
        )
        for v in values.values()
    ]


def _group_choices(user: User, agreement: Agreement) -> list[tuple[int, str]]:
    return [(g.pk, g.name) for g in selectors.linkable_groups(viewer=user, agreement=agreement)]


def _chosen_group(data: dict[str, Any]) -> CollaborationGroup | None:
    # The form offered only linkable groups; the service checks again.
    return CollaborationGroup.objects.filter(pk=data["group"]).first() if data["group"] else None


def _agency_choices(agreement: Agreement) -> list[tuple[int, str]]:
    return [(a.pk, a.name) for a in selectors.party_agencies(agreement)]


def _for_change(request: HttpRequest, pk: int) -> tuple[User, Agreement]:
    """404 unless the user reads the agreement, then 403 unless they may change it."""
    user = acting_user(request)
    agreement = selectors.agreement_open(viewer=user, pk=pk)
    if not rules.can_edit_agreement(user, agreement):
        raise PermissionDenied
    return user, agreement


def _commitment(agreement: Agreement, commitment_pk: int) -> Commitment:
    commitment = (
        Commitment.objects.filter(agreement=agreement, pk=commitment_pk)
        .prefetch_related("indicators")
        .first()
    )
    if commitment is None:
        raise Http404
    commitment.agreement = agreement
    return commitment


def _label(commitment: Commitment) -> str:
    """A commitment named in a form label: its opening words, enough to tell them apart."""
    return Truncator(commitment.text).chars(60)


def _edit_forms(detail: selectors.AgreementDetail, user: User) -> dict[str, Form]:
    agreement = detail.agreement
    parties = [(r.party.pk, r.party.name) for r in detail.parties]
    commitments = [(r.commitment.pk, _label(r.commitment)) for r in detail.commitments]
    candidates = [
        (a.pk, f"{a.title} ({a.period_start:%Y}–{a.period_end:%Y})")
        for a in selectors.link_candidates(viewer=user, agreement=agreement)
    ]
    assessable = [(p.pk, p.name) for p in detail.assessable_parties]
    forms: dict[str, Form] = {
        "signatory_form": SignatoryForm(parties=parties),
        "commitment_form": CommitmentForm(
            parties=parties,
            indicators=_indicator_choices(agreement),
            groups=_group_choices(user, agreement),
        ),
        "follow_up_form": FollowUpForm(
            commitments=commitments,
            indicator_values=_value_choices(_indicator_values(agreement)),
        ),
        "assessment_form": AssessmentForm(parties=assessable),
        "status_form": StatusForm(),
        "extend_form": ExtendForm(),
        "links_form": LinksForm(
            candidates=candidates,
            initial={
                "succeeds": agreement.succeeds_id,
                "overlaps": [a.pk for a in detail.overlaps],
            },
        ),
    }
    if agreement.status == AgreementStatus.DRAFT:  # parties are added to drafts only
        forms["party_form"] = PartyForm(agencies=_agency_choices(agreement))
    return forms


def _detail_page(
    request: HttpRequest, user: User, pk: int, *, status: int = 200, **forms: Form
) -> HttpResponse:
    detail = selectors.agreement_detail(viewer=user, pk=pk)
    context: dict[str, Any] = {"detail": detail, "agreement": detail.agreement}
    if detail.may_edit:
        context.update(_edit_forms(detail, user))
        context.update(forms)
    return render(request, "promises/agreement_detail.html", context, status=status)


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("promises:detail", pk=pk)


# --- Pages -----------------------------------------------------------------------------------


@require_GET
def agreement_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.can_view_agreements, user)
    agreements = list(
        selectors.agreements_for(viewer=user).order_by("municipality__name", "-period_start")
    )
    return render(
        request,
        "promises/agreement_list.html",
        {"agreements": agreements, "may_create": rules.can_create_agreements(user)},
    )


@require_http_methods(["GET", "POST"])
def agreement_create_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.can_view_agreements, user)
    if not rules.can_create_agreements(user):
        raise PermissionDenied
    ids = rules.editor_municipality_ids(user)
    municipalities = {m.pk: m for m in Municipality.objects.filter(pk__in=ids)}
    form = AgreementCreateForm(
        request.POST or None,
        municipalities=[(m.pk, m.name) for m in municipalities.values()],
        police_areas=_police_areas(ids),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreement = services.agreement_create(
                actor=user,
                kind=data["kind"],
                title=data["title"],
                municipality=municipalities[data["municipality"]],
                police_area=PoliceArea.objects.filter(pk=data["police_area"]).first()
                if data["police_area"]
                else None,
                period_start=data["period_start"],
                period_end=data["period_end"],
                focus_area=data["focus_area"],
                situation_summary=data["situation_summary"],
                cause_analysis=data["cause_analysis"],
                mandate=data["mandate"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, agreement.pk, _("The agreement has been created as a draft."))
    return render(
        request,
        "promises/agreement_form.html",
        {"form": form, "agreement": None},
        status=400 if form.errors else 200,
    )


@require_GET
def agreement_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, acting_user(request), pk)


@require_http_methods(["GET", "POST"])
def agreement_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    agreement = selectors.agreement_open(viewer=user, pk=pk)
    if not rules.can_edit_agreement(user, agreement):
        raise PermissionDenied  # a council member reads the agreement, never its edit form
    form = AgreementFields(
        request.POST or None,
        police_areas=_police_areas({agreement.municipality_id}),
        initial={
            "title": agreement.title,
            "period_start": agreement.period_start,
            "period_end": agreement.period_end,
            "focus_area": agreement.focus_area,
            "police_area": agreement.police_area_id,
            "situation_summary": agreement.situation_summary,
            "cause_analysis": agreement.cause_analysis,
            "mandate": agreement.mandate,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.agreement_update(
                actor=user,
                agreement=agreement,
                title=data["title"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                focus_area=data["focus_area"],
                police_area=PoliceArea.objects.filter(pk=data["police_area"]).first()
                if data["police_area"]
                else None,
                situation_summary=data["situation_summary"],
                cause_analysis=data["cause_analysis"],
                mandate=data["mandate"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The agreement has been saved."))
    return render(
        request,
        "promises/agreement_form.html",
        {"form": form, "agreement": agreement},
        status=400 if form.errors else 200,
    )


@require_GET
def version_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    user = acting_user(request)
    version = selectors.agreement_version(viewer=user, pk=pk, number=number)
    return render(
        request,
        "promises/version_detail.html",
        {
            "version": version,
            "agreement": version.agreement,
            "snapshot": json.dumps(version.snapshot, ensure_ascii=False, indent=2),
        },
    )


# --- Writes from the detail page -------------------------------------------------------------


def _parties(agreement: Agreement) -> list[tuple[int, str]]:
    return [(p.pk, p.name) for p in agreement.parties.order_by("pk")]


@require_POST
def status_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_transition(
                actor=user, agreement=agreement, to=form.cleaned_data["to"]
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The status has been changed."))
    return _detail_page(request, user, pk, status=400, status_form=form)


@require_POST
def extend_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    form = ExtendForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_extend(
                actor=user,
                agreement=agreement,
                new_end=form.cleaned_data["new_end"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The agreement has been extended."))
    return _detail_page(request, user, pk, status=400, extend_form=form)


@require_POST
def publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    try:
        services.agreement_publish(actor=user, agreement=agreement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("promises:detail", pk=pk)
    return _done(request, pk, _("The agreement is published."))


@require_POST
def unpublish_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    services.agreement_unpublish(actor=user, agreement=agreement)
    return _done(request, pk, _("The agreement is no longer published."))


@require_POST
def links_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    candidates = {a.pk: a for a in selectors.link_candidates(viewer=user, agreement=agreement)}
    form = LinksForm(request.POST, candidates=[(a.pk, a.title) for a in candidates.values()])
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.agreement_link(
                actor=user,
                agreement=agreement,
                succeeds=candidates.get(data["succeeds"]) if data["succeeds"] else None,
                overlaps=[candidates[i] for i in data["overlaps"]],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The links have been saved."))
    return _detail_page(request, user, pk, status=400, links_form=form)


@require_POST
def party_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    agencies = {a.pk: a for a in selectors.party_agencies(agreement)}
    form = PartyForm(request.POST, agencies=[(a.pk, a.name) for a in agencies.values()])
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.party_add(
                actor=user,
                agreement=agreement,
                name=data["name"],
                kind=data["kind"],
                agency=agencies[data["agency"]] if data["agency"] else None,
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The party has been added."))
    return _detail_page(request, user, pk, status=400, party_form=form)


@require_POST
def signatory_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    form = SignatoryForm(request.POST, parties=_parties(agreement))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.signatory_add(
                actor=user,
                agreement=agreement,
                party=agreement.parties.get(pk=data["party"]),
                name=data["name"],
                title=data["title"],
                signed_on=data["signed_on"],
                place=data["place"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The signatory has been added."))
    return _detail_page(request, user, pk, status=400, signatory_form=form)


@require_POST
def commitment_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    form = CommitmentForm(
        request.POST,
        parties=_parties(agreement),
        indicators=_indicator_choices(agreement),
        groups=_group_choices(user, agreement),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.commitment_add(
                actor=user,
                agreement=agreement,
                party=agreement.parties.get(pk=data["party"]) if data["party"] else None,
                text=data["text"],
                target_count=data["target_count"],
                target_unit=data["target_unit"],
                indicators=Indicator.objects.filter(pk__in=data.get("indicators", [])),
                group=_chosen_group(data),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The commitment has been added."))
    return _detail_page(request, user, pk, status=400, commitment_form=form)


@require_http_methods(["GET", "POST"])
def commitment_view(request: HttpRequest, pk: int, commitment_pk: int) -> HttpResponse:
    user = acting_user(request)
    agreement = selectors.agreement_open(viewer=user, pk=pk)
    commitment = _commitment(agreement, commitment_pk)
    may_edit = rules.can_edit_agreement(user, agreement)
    form = CommitmentEditForm(
        request.POST or None,
        indicators=_indicator_choices(agreement),
        groups=_group_choices(user, agreement) if may_edit else [],
        initial={
            "text": commitment.text,
            "status": commitment.status,
            "target_count": commitment.target_count,
            "target_unit": commitment.target_unit,
            "indicators": [i.pk for i in commitment.indicators.all()],
            "group": commitment.group_id,
        },
    )
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.commitment_update(
                    actor=user,
                    commitment=commitment,
                    text=data["text"],
                    status=data["status"],
                    target_count=data["target_count"],
                    target_unit=data["target_unit"],
                    indicators=Indicator.objects.filter(pk__in=data["indicators"])
                    if "indicators" in data
                    else None,
                    group=_chosen_group(data),
                )
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                return _done(request, pk, _("The commitment has been saved."))
    activities = list(commitment.activities.select_related("recorded_by"))
    return render(
        request,
        "promises/commitment_detail.html",
        {
            "agreement": agreement,
            "commitment": commitment,
            "progress": selectors.commitment_progress(commitment),
            "activities": activities,
            "form": form,
            "activity_form": ActivityForm(),
            "may_edit": may_edit,
        },
        status=400 if form.errors else 200,
    )


@require_POST
def activity_add_view(request: HttpRequest, pk: int, commitment_pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    commitment = _commitment(agreement, commitment_pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.activity_add(
                actor=user,
                commitment=commitment,
                on=data["date"],
                description=data["description"],
                count=data["count"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The activity has been logged."))
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("promises:commitment", pk=pk, commitment_pk=commitment_pk)


@require_POST
def follow_up_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    values = _indicator_values(agreement)
    form = FollowUpForm(
        request.POST,
        commitments=[(c.pk, _label(c)) for c in agreement.commitments.all()],
        indicator_values=_value_choices(values),
    )
    if form.is_valid():
        try:
            services.follow_up_add(
                actor=user,
                agreement=agreement,
                on=form.cleaned_data["date"],
                narrative=form.cleaned_data["narrative"],
                progress={
                    c: services.ProgressEntry(progress=p, note=n)
                    for c, (p, n) in form.progress().items()
                },
                indicator_values=[values[i] for i in form.cleaned_data.get("indicator_values", [])],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The follow-up has been recorded."))
    return _detail_page(request, user, pk, status=400, follow_up_form=form)


@require_POST
def assessment_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, agreement = _for_change(request, pk)
    parties = {p.pk: p for p in agreement.parties.order_by("pk")}
    assessable = {p.pk: p for p in parties.values() if rules.can_assess_party(user, agreement, p)}
    chosen = request.POST.get("party", "")
    # The form offers only the parties the editor speaks for: naming another party of the
    # agreement, or having none to speak for, is a refusal (403), not a mistake in the form.
    if not assessable or (chosen.isdecimal() and int(chosen) in parties.keys() - assessable.keys()):
        raise PermissionDenied
    form = AssessmentForm(request.POST, parties=[(p.pk, p.name) for p in assessable.values()])
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.assessment_record(
                actor=user,
                agreement=agreement,
                party=assessable[data["party"]],
                verdict=data["verdict"],
                statement=data["statement"],
                assessed_on=data["assessed_on"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, pk, _("The assessment has been recorded."))
    return _detail_page(request, user, pk, status=400, assessment_form=form)


@require_GET
def commitment_group_view(request: HttpRequest, pk: int, commitment_pk: int) -> HttpResponse:
    """The group a commitment links to, for whoever reads the agreement: 404 otherwise, and
    when the commitment links none."""
    user = acting_user(request)
    agreement = selectors.agreement_open(viewer=user, pk=pk)
    linked = selectors.commitment_group(agreement=agreement, commitment_pk=commitment_pk)
    return render(
        request,
        "promises/commitment_group.html",
        {
            "agreement": agreement,
            "commitment": linked.commitment,
            "group": linked.group,
            "agencies": linked.agencies,
            "meetings_held": linked.meetings_held,
            "may_manage": can_manage_organisations(user),
        },
    )
