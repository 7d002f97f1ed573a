"""The council's dashboard, its charts and its exports.

Every page reads through ``selectors.dashboard_data``, which answers 404 for a municipality the
viewer may not see; anyone who sees no municipality at all gets 404 too (practitioners,
auditors, administrators, outsiders). The page and each export are audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from samverkan.indicators.charts import chart_csp, svg_response
from samverkan.lib.http import acting_user, require_visible
from samverkan.stats import rules, selectors
from samverkan.stats.charts import render_table_svg
from samverkan.stats.exports import export_csv, export_filename, export_xlsx
from samverkan.stats.forms import DashboardForm
from samverkan.stats.selectors import Dashboard
from samverkan.stats.tables import SUPPRESSED_MARK

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


@dataclass
class Request:
    form: DashboardForm
    dashboard: Dashboard | None  # None: the filter is not valid


def resolve(viewer: User | AnonymousUser, params: Mapping[str, str]) -> Request:
    """The dashboard named by the query parameters, defaults filled in.

    404 when the viewer sees no statistics, or names a municipality they may not see (exactly
    as for one that does not exist); a year without figures gives a form with errors and no data.
    """
    require_visible(rules.can_view_statistics, viewer)
    municipalities = selectors.visible_municipalities(viewer=viewer)
    years = selectors.available_years(municipalities)
    defaults = {"municipality": municipalities[0].code, "year": str(selectors.current_year())}
    data = {key: params.get(key) or value for key, value in defaults.items()}
    form = DashboardForm(data, municipalities=municipalities, years=years, initial=defaults)
    if data["municipality"] not in form.by_code:
        raise Http404
    if not form.is_valid():
        return Request(form, None)
    dashboard = selectors.dashboard_data(
        viewer=viewer,
        municipality_id=form.by_code[form.cleaned_data["municipality"]].pk,
        year=form.cleaned_data["year"],
    )
    return Request(form, dashboard)


@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    resolved = resolve(user, request.GET)
    if resolved.dashboard is not None:
        selectors.dashboard_view_record(
            viewer=user, dashboard=resolved.dashboard, action="stats.dashboard_viewed"
        )
    return render(
        request,
        "stats/dashboard.html",
        {
            "form": resolved.form,
            "dashboard": resolved.dashboard,
            "mark": SUPPRESSED_MARK,
        },
        status=200 if resolved.dashboard is not None else 400,
    )


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    user = acting_user(request)
    resolved = resolve(user, request.GET)
    dashboard = resolved.dashboard
    if dashboard is None:
        return HttpResponse(
            "\n".join(str(e) for errors in resolved.form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if fmt == "csv":
        response = HttpResponse(export_csv(dashboard), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            export_xlsx(dashboard),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(dashboard, fmt)}"'
    selectors.dashboard_view_record(
        viewer=user, dashboard=dashboard, action="stats.exported", export_format=fmt
    )
    return response


@require_GET
def export_csv_view(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@require_GET
def export_xlsx_view(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")


@require_GET
@chart_csp
def chart_view(request: HttpRequest, key: str) -> HttpResponse:
    """One table's chart, drawn from the figures the table shows (never from withheld ones).

    Audited on its own (``stats.chart_viewed``, the details of the page's event): a chart can
    be fetched without the page. The browser may keep it for five minutes, for this user only.
    The whole dashboard is computed for it: ``dashboard_data`` offers no single table.
    """
    user = acting_user(request)
    resolved = resolve(user, request.GET)
    dashboard = resolved.dashboard
    table = dashboard.table(key) if dashboard is not None else None
    if dashboard is None or table is None or not table.chart:
        raise Http404
    svg = render_table_svg(table)
    selectors.dashboard_view_record(viewer=user, dashboard=dashboard, action="stats.chart_viewed")
    response = svg_response(svg)
    # Aggregates only: kept for this user, so the page's charts do not each rebuild the
    # dashboard on every view (the security middleware honours ``cache_privately``).
    response["Cache-Control"] = "private, max-age=300"
    response.cache_privately = True  # type: ignore[attr-defined]
    return response
