from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user, require_visible
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.organisations.models import Agency
from samverkan.records.forms import IdentitySearchForm, ReviewFilterForm, ReviewRecordForm
from samverkan.records.log_rows import event_rows
from samverkan.records.review import FLAG_HELP, FLAG_LABELS, FLAGS, default_period
from samverkan.records.rules import can_review_log
from samverkan.records.selectors import (
    log_review_get,
    log_reviews,
    log_search,
    log_search_audit,
    youth_pseudonym,
    youth_pseudonym_for_number,
)
from samverkan.records.services import log_review_record

if TYPE_CHECKING:
    from samverkan.accounts.models import User

PAGE_SIZE = 50
REVIEWS_PAGE_SIZE = 25


def _with_default_period(query: QueryDict) -> QueryDict:
    data = query.copy()
    start, end = default_period()
    if not data.get("date_from"):
        data["date_from"] = start.isoformat()
    if not data.get("date_to"):
        data["date_to"] = end.isoformat()
    return data


def _scope_rows(viewer: User, scope: dict[str, Any]) -> list[tuple[str, Any]]:
    """A review's filters as label and value, the agency by name."""
    labels = {
        "date_from": _("From date"),
        "date_to": _("To date"),
        "actor": _("Username"),
        "agency": _("Agency"),
        "youth": _("Case (pseudonym)"),
        "action": _("Action begins with"),
        "outcome": _("Outcome"),
    }
    shown = {key: scope[key] for key in labels if key in scope}
    if isinstance(shown.get("agency"), int):
        name = Agency.objects.filter(pk=shown["agency"]).values_list("name", flat=True).first()
        shown["agency"] = name or shown["agency"]
    if "youth" in shown:
        pseudonym = youth_pseudonym(viewer=viewer, youth_id=shown["youth"])
        shown["youth"] = pseudonym or _("no case held under that pseudonym")
    return [(labels[key], value) for key, value in shown.items()]


def _flag_summary(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"name": name, "label": FLAG_LABELS[name], "help": FLAG_HELP[name], "count": counts[name]}
        for name in FLAGS
    ]


def _identity_search(request: HttpRequest, user: User) -> HttpResponse:
    """The search by identity number (POST): the number is hashed at once and the page is sent
    on to the youth's pseudonym, so the number never reaches a URL or the audit log."""
    identity_form = IdentitySearchForm(request.POST)
    if identity_form.is_valid():
        pseudonym = youth_pseudonym_for_number(
            viewer=user, digits=identity_form.cleaned_data["identity_number"]
        )
        if pseudonym is not None:
            query = {"case": pseudonym}
            for key in ("date_from", "date_to"):
                value = identity_form.cleaned_data.get(key)
                if value:
                    query[key] = value.isoformat()
            return redirect(f"{reverse('records:review')}?{urlencode(query)}")
        # The bound form is shown again: its widget never writes the number back.
        identity_form.add_error(
            "identity_number", _("No youth with that number is registered here.")
        )
    form = ReviewFilterForm(_with_default_period(QueryDict()))
    form.is_valid()
    return render(
        request,
        "records/review_search.html",
        {"form": form, "identity_form": identity_form, "page": None},
        status=400,
    )


def _without_numbers(request: HttpRequest) -> HttpResponse | None:
    """A number typed into a filter is in this request's URL: the page is not made with it
    (its links and forms would carry it on); the filters are sent back without it."""
    numbered = [
        key
        for key, values in request.GET.lists()
        if any(looks_like_identity_number(value) for value in values)
    ]
    if not numbered:
        return None
    query = request.GET.copy()
    for key in numbered:
        query.pop(key, None)
    messages.error(
        request,
        _(
            "An identity number was left out of the filters: search by number with its "
            "own form on this page."
        ),
    )
    return redirect(f"{reverse('records:review')}?{query.urlencode()}")


@require_http_methods(["GET", "POST"])
def review_view(request: HttpRequest) -> HttpResponse:
    """The audit log page: filters, the period's flag counts, and the events in words.

    GET runs a search by the filters, which carry no identity number; the selector filters,
    the view only pages. POST is the search by identity number (``_identity_search``).
    """
    user = acting_user(request)
    require_visible(can_review_log, user)
    if request.method == "POST":
        return _identity_search(request, user)
    refused = _without_numbers(request)
    if refused is not None:
        return refused
    form = ReviewFilterForm(_with_default_period(request.GET))
    context: dict[str, Any] = {"form": form, "identity_form": IdentitySearchForm(), "page": None}
    if form.is_valid():
        filters = form.filters()
        context["identity_form"] = IdentitySearchForm(
            initial={"date_from": filters.date_from, "date_to": filters.date_to}
        )
        search = log_search(viewer=user, filters=filters)
        page = Paginator(search.events, PAGE_SIZE).get_page(request.GET.get("page"))
        period = {
            "date_from": filters.date_from.isoformat(),
            "date_to": filters.date_to.isoformat(),
        }
        # Read before the search's own event is written: the page shows what was there.
        rows = event_rows(list(page.object_list), base_query=period)
        log_search_audit(viewer=user, filters=filters, page=page.number)
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            page=page,
            rows=rows,
            counts=search.counts,
            summary=_flag_summary(search.counts),
            query=query.urlencode(),
            record_query=urlencode(
                {k: v for k, v in form.data.items() if k in form.fields and k != "flagged" and v}
            ),
        )
    # With htmx the filters and page links swap only the results; without it, the whole page.
    template = (
        "records/review_results.html"
        if request.htmx  # type: ignore[attr-defined]
        else "records/review_search.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def review_record_view(request: HttpRequest) -> HttpResponse:
    """Record a review of a period (with the filters it used): findings and sign-off."""
    user = acting_user(request)
    require_visible(can_review_log, user)
    if request.method == "POST":
        form = ReviewRecordForm(request.POST)
        if form.is_valid():
            try:
                review = log_review_record(
                    actor=user, filters=form.filters(), findings=form.cleaned_data["findings"]
                )
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("The log review has been recorded."))
                return redirect("records:review_detail", pk=review.pk)
    else:
        form = ReviewRecordForm(initial=_with_default_period(request.GET).dict())
    scope = ReviewFilterForm(form.data if form.is_bound else form.initial)
    counts = log_search(viewer=user, filters=scope.filters()).counts if scope.is_valid() else None
    return render(
        request,
        "records/review_record.html",
        {
            "form": form,
            "counts": counts,
            "summary": _flag_summary(counts) if counts else [],
            "scope_rows": _scope_rows(user, scope.filters().scope()) if counts is not None else [],
        },
        status=400 if form.is_bound else 200,
    )


@require_GET
def review_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    page = Paginator(log_reviews(viewer=user), REVIEWS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "records/review_list.html", {"page": page})


@require_GET
def review_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    review = log_review_get(viewer=user, pk=pk)
    return render(
        request,
        "records/review_detail.html",
        {"review": review, "scope_rows": _scope_rows(user, review.scope)},
    )
