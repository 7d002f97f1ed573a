"""The public promise tracker (no login) and the council report.

Public side: only published agreements, read through ``selectors.promise_public_detail`` /
``published_details`` and ``public_selectors``; anything else answers 404 exactly like a missing
agreement. Every public URL is read-only (GET and HEAD; anything else 405), so an anonymous
visitor has nothing to write to.

Council report: the running agreements of the viewer's municipalities, for council members and
agreement editors; everyone else gets 404 (anonymous visitors are sent to the login page first,
like on every staff page).
"""

from __future__ import annotations

import pygal
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from samverkan.indicators.charts import STYLE, chart_csp, svg_response, without_scripts
from samverkan.lib.http import acting_user
from samverkan.promises import public_selectors, reports, selectors
from samverkan.promises.feeds import FollowUpFeed
from samverkan.promises.public_selectors import ProgressRow

# Agreements per page of the public list: each carries its commitments and follow-ups.
TRACKER_PAGE_SIZE = 20

# --- Progress chart --------------------------------------------------------------------------


def commitment_label(number: int) -> str:
    return _("Commitment %(number)d") % {"number": number}


def progress_chart_height(bars: int) -> int:
    return max(200, 110 + 48 * bars)


def render_progress_svg(rows: list[ProgressRow]) -> bytes:
    """One bar per commitment with a numeric target: the share of the target reached.

    The share, not the count, because the targets are in different units; the page's table
    beside the chart gives the counts. Above 100 % is shown as 100 % (``CommitmentProgress``).
    """
    chart = pygal.HorizontalBar(
        js=[],
        style=STYLE,
        width=800,
        height=progress_chart_height(len(rows)),
        title=_("Progress toward the targets"),
        show_legend=False,
        range=(0, 100),
        include_x_axis=True,
        x_title=_("Share of the target reached (%)"),
        truncate_label=-1,
        formatter=lambda value: "" if value is None else f"{number_format(value)} %",
        no_data_text=_("No commitment has a numeric target"),
    )
    # pygal draws the first label at the bottom of a horizontal bar chart; reversed, the
    # commitments read top to bottom in the order of the page and the table.
    ordered = list(reversed(rows))
    chart.x_labels = [commitment_label(r.number) for r in ordered]
    chart.add(
        _("Share of the target reached"),
        [r.row.progress.percent for r in ordered],
    )
    chart.add_xml_filter(without_scripts)
    svg: bytes = chart.render()
    return svg


# --- Public tracker --------------------------------------------------------------------------


@require_safe
def tracker_list_view(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("municipality", "").strip()
    municipality = public_selectors.municipality_by_code(code) if code else None
    paginator = Paginator(selectors.published_promises(municipality), TRACKER_PAGE_SIZE)
    try:
        # A page number that is not one (text, 0, past the last page) answers 404 like any
        # other address that does not exist, rather than quietly showing another page.
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404 from None
    return render(
        request,
        "promises/public/list.html",
        {
            "details": selectors.published_details(
                municipality, offset=(page.number - 1) * TRACKER_PAGE_SIZE, limit=TRACKER_PAGE_SIZE
            ),
            "page": page,
            "municipalities": public_selectors.tracker_municipalities(),
            "chosen": municipality,
        },
    )


@require_safe
def tracker_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.promise_public_detail(pk)
    countable = public_selectors.countable_rows(detail)
    return render(
        request,
        "promises/public/detail.html",
        {
            "detail": detail,
            "agreement": detail.agreement,
            "countable": countable,
            "chart_height": progress_chart_height(len(countable)),
            "indicators": public_selectors.linked_public_indicators(detail),
        },
    )


@require_safe
@chart_csp
def progress_chart_view(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.promise_public_detail(pk)
    return svg_response(render_progress_svg(public_selectors.countable_rows(detail)))


def _pdf_response(content: bytes, filename: str, *, private: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    # Inline: a printable copy opens in the browser's viewer; the name is used when saved.
    disposition = content_disposition_header(as_attachment=False, filename=filename)
    if disposition is not None:  # None only for inline without a filename
        response["Content-Disposition"] = disposition
    if private:
        response["Cache-Control"] = "no-store"
    return response


def _pdf_unavailable(request: HttpRequest, back: str) -> HttpResponse:
    return render(
        request,
        "promises/public/pdf_unavailable.html",
        {
            "message": _(
                "This server cannot make PDF files at the moment: the Pango library is "
                "missing. The page itself has everything the PDF would have."
            ),
            "back": back,
        },
        status=503,
    )


@require_safe
def promise_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.promise_public_detail(pk)
    try:
        content = reports.promise_pdf(detail)
    except reports.PdfUnavailableError:
        return _pdf_unavailable(request, reverse("tracker:detail", args=[pk]))
    return _pdf_response(content, reports.promise_filename(detail), private=False)


tracker_feed_view = require_safe(FollowUpFeed())


# --- Council report --------------------------------------------------------------------------


def _council_report(request: HttpRequest) -> public_selectors.CouncilReport:
    return public_selectors.council_report(
        viewer=acting_user(request), code=request.GET.get("municipality", "").strip()
    )


@require_safe
def council_view(request: HttpRequest) -> HttpResponse:
    return render(request, "promises/council/report.html", {"report": _council_report(request)})


@require_safe
def council_pdf_view(request: HttpRequest) -> HttpResponse:
    report = _council_report(request)
    try:
        content = reports.council_pdf(report)
    except reports.PdfUnavailableError:
        return _pdf_unavailable(request, reverse("tracker:council"))
    # Unpublished agreements are in it: never kept by a shared cache.
    return _pdf_response(content, reports.council_filename(report), private=True)
