"""Indicator pages. Reads through ``indicators.selectors``, writes through ``services``.

Refusals: no reading role for the series' municipality answers 404; a reader (council member)
who tries to change anything gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from samverkan.indicators import rules, selectors, services
from samverkan.indicators.charts import chart_alt_text, chart_csp, render_chart_svg, svg_response
from samverkan.indicators.forms import ImportForm, IndicatorForm
from samverkan.indicators.models import Indicator
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user, require_allowed, require_visible


def _fields(form: IndicatorForm) -> dict[str, object]:
    data = form.cleaned_data
    return {
        key: data[key]
        for key in (
            "name",
            "area",
            "unit",
            "source",
            "direction",
            "min_value",
            "max_value",
            "description",
            "published",
        )
    }


@require_GET
def indicator_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.can_view_indicators, user)
    return render(
        request,
        "indicators/indicator_list.html",
        {
            "indicators": selectors.indicator_list(viewer=user),
            "can_create": rules.can_create_indicators(user),
        },
    )


@require_http_methods(["GET", "POST"])
def indicator_create_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(rules.can_view_indicators, user)
    require_allowed(rules.can_create_indicators, user)
    form = IndicatorForm(
        request.POST or None, municipality_ids=rules.editable_municipality_ids(user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.indicator_create(
                actor=user,
                municipality=form.cleaned_data["municipality"],
                **_fields(form),  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The series has been created. Now import its values."))
            return redirect("indicators:import", pk=indicator.pk)
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": None})


def _editable(request: HttpRequest, pk: int) -> Indicator:
    user = acting_user(request)
    indicator = selectors.indicator_get(viewer=user, pk=pk)
    if not rules.can_edit_indicator(user, indicator):
        raise PermissionDenied
    return indicator


@require_http_methods(["GET", "POST"])
def indicator_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    indicator = _editable(request, pk)
    form = IndicatorForm(
        request.POST or None,
        instance=indicator,
        municipality_ids=rules.editable_municipality_ids(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_update(actor=user, indicator=indicator, **_fields(form))  # type: ignore[arg-type]
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The series has been saved."))
            return redirect("indicators:detail", pk=indicator.pk)
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": indicator})


@require_http_methods(["GET", "POST"])
def indicator_import_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    indicator = _editable(request, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    row_errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.indicator_values_import(
                    actor=user,
                    indicator=indicator,
                    data=form.cleaned_data["file"],
                    replace=form.cleaned_data["replace"],
                )
            except services.ImportRejectedError as exc:
                row_errors = [str(error) for error in exc.errors]
            else:
                messages.success(
                    request,
                    _("Import done. New values: %(created)d. Replaced values: %(replaced)d.")
                    % {"created": result.created, "replaced": result.replaced},
                )
                return redirect("indicators:detail", pk=indicator.pk)
        status = 400
    return render(
        request,
        "indicators/indicator_import.html",
        {"form": form, "indicator": indicator, "row_errors": row_errors},
        status=status,
    )


@require_GET
def indicator_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    indicator = selectors.indicator_get(viewer=user, pk=pk)
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "indicator": indicator,
            "can_edit": rules.can_edit_indicator(user, indicator),
            "chart_alt": chart_alt_text([indicator]),
            "history": selectors.value_history(viewer=user, indicator=indicator),
        },
    )


@require_GET
@chart_csp
def indicator_chart_view(request: HttpRequest, pk: int) -> HttpResponse:
    indicator = selectors.indicator_get(viewer=acting_user(request), pk=pk)
    return svg_response(render_chart_svg([indicator]))


@require_GET
@chart_csp
def public_chart_view(request: HttpRequest, pk: int) -> HttpResponse:
    return svg_response(render_chart_svg([selectors.published_indicator_get(pk=pk)]))


@require_GET
@chart_csp
def public_charts_view(request: HttpRequest) -> HttpResponse:
    """Several published series in one chart: ``?id=3&id=7``. Any unknown or unpublished id
    answers 404, so the chart never silently leaves a series out."""
    try:
        ids = sorted({int(raw) for raw in request.GET.getlist("id")})
    except ValueError:
        raise Http404 from None
    if not ids or len(ids) > 6:
        raise Http404
    indicators = list(selectors.published_indicators(ids=ids))
    if len(indicators) != len(ids):
        raise Http404
    return svg_response(render_chart_svg(indicators))
