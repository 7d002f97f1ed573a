"""Line charts of indicator series as standalone SVG, safe under the strict CSP.

Pages embed the chart with ``<img src=… alt=…>`` from its own URL and put the data table next
to it, so the figures are available without the picture. pygal always writes a ``<script>``
(its tooltip configuration) and a ``<style>`` into the SVG: the script is removed here, and the
SVG response gets its own policy (``chart_csp``) that allows inline style and nothing else.
An SVG loaded through ``<img>`` never runs script anyway; the policy covers opening the URL
directly.

For other apps (the public promise tracker): ``render_chart_svg(indicators)`` and
``svg_response``, or simply the URLs ``indicators:public_chart`` / ``indicators:public_charts``
and the template ``indicators/includes/figure.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar, cast

import pygal
from csp.decorators import csp
from django.http import HttpResponse, HttpResponseBase
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from pygal.style import Style

from samverkan.indicators.models import Direction, Indicator

# Dark colours on white, each at least 7:1 against the background (WCAG AAA for text, well
# above the 3:1 that 1.4.11 asks of graphics); series also differ by dash pattern, so colour is
# never the only way to tell them apart (WCAG 1.4.1).
COLOURS = ("#0b4f8a", "#a4161a", "#1e5e14", "#5f2580", "#7a4100", "#1b1b1b")
_DASHES = ("", "8,4", "2,4", "12,4,2,4", "4,4", "16,6")

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="1",
    colors=COLOURS,
    font_family="system-ui, sans-serif",  # no web font: pygal would @import Google Fonts
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    title_font_size=18,
    value_font_size=14,
)

MAX_SERIES = len(COLOURS)

# The policy of the SVG response alone: its inline <style>, nothing else (no script at all).
SVG_POLICY: dict[str, list[str]] = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
}


_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def chart_csp(view: _View) -> _View:
    """Give the view's response ``SVG_POLICY`` in place of the site-wide policy."""
    return cast(_View, csp(SVG_POLICY)(view))


def without_scripts(root: Any) -> Any:
    """pygal's xml filter hook: drop every <script>, whatever ``js`` was set to. Every chart
    in the application uses it (and ``STYLE``), so they all look and behave alike."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _number(value: float | None) -> str:
    return "" if value is None else number_format(value, use_l10n=True)


def series_label(indicator: Indicator) -> str:
    return f"{indicator.name} – {indicator.area_label}"


def _axis_title(indicators: Sequence[Indicator]) -> str:
    units = {i.unit for i in indicators}
    directions = {i.direction for i in indicators}
    parts = [units.pop()] if len(units) == 1 and indicators[0].unit else []
    if len(directions) == 1:
        parts.append(str(Direction(directions.pop()).label).lower())
    return ", ".join(parts)


def chart_alt_text(indicators: Sequence[Indicator]) -> str:
    """Short alternative text; the full figures are in the table the page shows beside it."""
    names = "; ".join(series_label(i) for i in indicators)
    return _("Line chart of %(names)s. The figures are in the table beside it.") % {"names": names}


def render_chart_svg(indicators: Sequence[Indicator], *, title: str = "") -> bytes:
    """One line per series over the union of their periods, in period order.

    Expects each indicator's ``values`` prefetched (the selectors do it), so that a chart of
    several series costs no query per series.
    """
    series = list(indicators)[:MAX_SERIES]
    periods: dict[date, str] = {}
    for indicator in series:
        for value in indicator.values.all():
            periods.setdefault(value.period_start, value.period_label)
    starts = sorted(periods)
    chart = pygal.Line(
        js=[],
        style=STYLE,
        width=800,
        height=420,
        title=title or (series[0].name if len(series) == 1 else None),
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        truncate_legend=-1,
        truncate_label=-1,
        x_label_rotation=30 if len(starts) > 8 else 0,
        y_title=_axis_title(series) or None,
        allow_interruptions=True,
        dots_size=4,
        formatter=_number,
        no_data_text=_("No values yet"),
        # pygal's own rule (.reactive: width 1, opacity .8) sits on the line itself and so beats
        # the per-series width; this restores a thick, fully opaque line for contrast. pygal does
        # not scope inline CSS by chart id, hence !important.
        css=[
            "file://style.css",
            "file://graph.css",
            "inline:.series .line.reactive"
            "{stroke-width:3px !important;stroke-opacity:1 !important}",
        ],
    )
    bounds = [i for i in series if i.min_value is not None and i.max_value is not None]
    if len(bounds) == len(series) and series:
        chart.range = (
            float(min(i.min_value for i in bounds if i.min_value is not None)),
            float(max(i.max_value for i in bounds if i.max_value is not None)),
        )
    chart.x_labels = [periods[s] for s in starts]
    for index, indicator in enumerate(series):
        by_start = {v.period_start: float(v.value) for v in indicator.values.all()}
        dash = _DASHES[index % len(_DASHES)]
        stroke: dict[str, Any] = {"width": 3}
        if dash:
            stroke["dasharray"] = dash
        chart.add(
            series_label(indicator),
            [by_start.get(s) for s in starts],
            stroke_style=stroke,
        )
    chart.add_xml_filter(without_scripts)
    svg: bytes = chart.render()
    return svg


def svg_response(svg: bytes) -> HttpResponse:
    """The SVG as its own document. Wrap the view in ``chart_csp`` for its policy."""
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = "inline"
    return response
