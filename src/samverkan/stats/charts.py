"""Charts of the dashboard's tables as standalone SVG, in the indicators app's manner.

The page embeds each chart with ``<img>`` from its own URL (``stats:chart``), under the SVG
policy of ``indicators.charts.chart_csp``, with the table beside it. A chart is drawn from the
table's shown figures only: a withheld cell is a gap in the chart, never a bar, so the picture
cannot show what the table hides. Totals are left out of the picture (they are in the table).
"""

from __future__ import annotations

import math
from typing import Any

import pygal
from django.utils.translation import gettext as _

from samverkan.indicators.charts import STYLE, without_scripts
from samverkan.stats.tables import SHARE, Table, format_number

MAX_SERIES = 8


def chart_alt_text(table: Table) -> str:
    return _("Chart of %(title)s. The figures are in the table beside it.") % {"title": table.title}


def render_table_svg(table: Table) -> bytes:
    rows = table.body_rows
    columns = table.chart_columns[:MAX_SERIES]
    kind = table.kind
    options: dict[str, Any] = {
        "js": [],
        "style": STYLE,
        "width": 800,
        "height": 420,
        "title": table.title,
        "show_legend": len(columns) > 1,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "x_label_rotation": 30 if len(rows) > 4 else 0,
        "formatter": lambda value: format_number(value, kind),
        "no_data_text": _("No figures to show"),
        "print_values": False,
    }
    if table.chart == "line":
        chart = pygal.Line(allow_interruptions=True, dots_size=4, **options)
    elif table.chart == "stacked":
        chart = pygal.StackedBar(**options)
    else:
        chart = pygal.Bar(**options)
    values = [c.value for row in rows for c in row.cells[: len(columns)] if c.value is not None]
    if kind == SHARE:
        chart.range = (0, 1)
    elif values and all(float(v).is_integer() for v in values):
        # Whole numbers on the axis: a count of 0.5 cases means nothing.
        top = max(5, int(max(values)))
        step = max(1, math.ceil(top / 8))
        chart.range = (0, top)
        chart.y_labels = list(range(0, top + step, step))
    chart.x_labels = [row.label for row in rows]
    for index, heading in enumerate(columns):
        chart.add(heading, [row.cells[index].value for row in rows])
    chart.add_xml_filter(without_scripts)
    svg: bytes = chart.render()
    return svg
