"""The workbook's native charts (sheet "Weekly KPIs") and the page setup every sheet prints with.

Charts are drawn from the weekly table's own cells, so a reader who edits a figure sees the
chart follow. What they must not do is show more than the figures say:

* lines are straight segments between real weeks (`smooth` off on every series, written
  explicitly: readers disagree on what a missing `smooth` means), with a marker on each week
  so a week between two gaps is still seen;
* a withheld week is a gap, not a zero;
* each measure gets an axis on its own scale: hours to claim (around 1 h) and hours to deliver
  (hundreds) are two charts, or the first would be a flat line at zero.

Printing: every sheet is landscape and scaled to one page wide (as many pages tall as it
needs). Charts are stacked under the weekly table, as wide as two fifths of it (16 to 32 cm)
so they stay legible once the wide table is shrunk to the page, and a manual page break is put
before any chart that might not fit whole on the page so far, judged on a page smaller than
both A4 and US Letter at the largest scale the sheet can print at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties

__all__ = [
    "CHART_MAX_WIDTH_CM",
    "CHART_MIN_WIDTH_CM",
    "CLAIM_HEADER",
    "DELIVER_HEADER",
    "MARGINS",
    "PRINTABLE_HEIGHT_CM",
    "PRINTABLE_WIDTH_CM",
    "ROW_HEIGHT_CM",
    "SATISFACTION_HEADER",
    "SOURCED_HEADER",
    "add_weekly_charts",
    "apply_page_setup",
    "column_width_cm",
    "largest_print_scale",
]

# The weekly table's columns the charts plot, found by header so that a column added to the
# table can never shift a chart onto the wrong figures.
SATISFACTION_HEADER: Final = "Enablement satisfaction"
CLAIM_HEADER: Final = "Median hours to claim"
DELIVER_HEADER: Final = "Median hours to deliver"
SOURCED_HEADER: Final = "Marketing-sourced pipeline"

CM_PER_INCH: Final = 2.54
MARGINS: Final = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.75, header=0.3, footer=0.3)
"""Inches. Written explicitly because the page-break layout below depends on them."""
# No paper size is set, so each reader prints on its own default (A4 or US Letter); the layout
# assumes the smaller of the two in each direction: Letter's 11 in across, A4's 8.27 in down.
PRINTABLE_WIDTH_CM: Final = (11.0 - MARGINS.left - MARGINS.right) * CM_PER_INCH
PRINTABLE_HEIGHT_CM: Final = (8.27 - MARGINS.top - MARGINS.bottom) * CM_PER_INCH
ROW_HEIGHT_CM: Final = 15 / 72 * CM_PER_INCH
"""openpyxl's default row height (15 pt); nothing under the weekly table changes it."""

# A chart is two fifths as wide as the table above it, within these bounds: fitting a wide
# table to the page shrinks everything on the sheet, and a chart must still be legible then.
CHART_MIN_WIDTH_CM: Final = 16
CHART_MAX_WIDTH_CM: Final = 32
_CHART_SHARE: Final = 0.4
_CHART_ASPECT: Final = 0.47  # height / width
_GAP_ROWS: Final = 2  # blank rows between the table and a chart, and between charts
_SLACK: Final = 0.9  # readers round row heights and scales differently: keep a tenth spare


def apply_page_setup(ws: Any) -> None:
    """Landscape, one page wide and as many tall as needed, with known margins.

    On a write-only sheet, call this before the first row is appended: the sheet properties
    (where fit-to-page is switched on) are written with the first row, while the page setup,
    margins and breaks are written when the sheet is closed.
    """
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: as many pages tall as the sheet needs
    ws.page_margins = PageMargins(
        left=MARGINS.left,
        right=MARGINS.right,
        top=MARGINS.top,
        bottom=MARGINS.bottom,
        header=MARGINS.header,
        footer=MARGINS.footer,
    )


def column_width_cm(width: float) -> float:
    """A column width in characters, in centimetres, rounded down.

    Excel shows a width of w characters as about 7w + 5 pixels (Calibri 11's digits are 7
    pixels wide at 96 dpi); the padding is left out so that a sheet is never thought wider
    than it prints, which would overstate how far fitting it to the page shrinks it.
    """
    return width * 7 / 96 * CM_PER_INCH


def largest_print_scale(widths: Sequence[float], *, chart_width_cm: float = 0.0) -> float:
    """The largest scale a sheet with these column widths (characters) and charts this wide
    can print at when fitted to one page wide: fitting only ever shrinks."""
    sheet = max(sum(column_width_cm(width) for width in widths), chart_width_cm)
    return min(1.0, PRINTABLE_WIDTH_CM / sheet)


def add_weekly_charts(ws: Any, *, headers: Sequence[str], weeks: int) -> None:
    """The weekly table's charts, stacked under it, with page breaks that keep each whole.

    `headers` are the table's column headers (row 1) and `weeks` its data rows (2 to
    weeks + 1). The table's column widths must already be set: they decide the print scale.
    """
    last = weeks + 1

    def column(header: str) -> int:
        return headers.index(header) + 1

    def data(header: str) -> Reference:
        index = column(header)
        return Reference(ws, min_col=index, max_col=index, min_row=1, max_row=last)

    satisfaction = LineChart()
    satisfaction.title = "Enablement satisfaction (1–5)"
    satisfaction.add_data(data(SATISFACTION_HEADER), titles_from_data=True)
    satisfaction.y_axis.scaling.min = 1
    satisfaction.y_axis.scaling.max = 5
    satisfaction.y_axis.title = "Mean score"
    satisfaction.legend = None

    claim = BarChart()
    claim.title = "Median hours to claim"
    claim.add_data(data(CLAIM_HEADER), titles_from_data=True)
    claim.y_axis.title = "Hours"

    deliver = BarChart()
    deliver.title = "Median hours to deliver"
    deliver.add_data(data(DELIVER_HEADER), titles_from_data=True)
    deliver.y_axis.title = "Hours"

    sourced = BarChart()
    sourced.title = "Marketing-sourced pipeline"
    sourced.add_data(data(SOURCED_HEADER), titles_from_data=True)
    sourced.y_axis.title = "US dollars"
    sourced.y_axis.number_format = '"$"#,##0'

    widths = [
        ws.column_dimensions[get_column_letter(index)].width or 0.0
        for index in range(1, len(headers) + 1)
    ]
    table_cm = sum(column_width_cm(width) for width in widths)
    # Whole centimetres: a chart's width is an int to openpyxl's type stubs.
    width = round(min(max(table_cm * _CHART_SHARE, CHART_MIN_WIDTH_CM), CHART_MAX_WIDTH_CM))
    height = width * _CHART_ASPECT

    categories = Reference(ws, min_col=1, min_row=2, max_row=last)
    charts: list[LineChart | BarChart] = [satisfaction, claim, deliver, sourced]
    for chart in charts:
        chart.set_categories(categories)
        chart.display_blanks = "gap"  # a withheld week is a gap, not a zero
        chart.width, chart.height = width, height
        # openpyxl 3.1 hides the axes unless told otherwise.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.x_axis.title = "ISO week"
        for series in chart.series:
            series.smooth = False
        if isinstance(chart, BarChart):
            chart.type = "col"
            chart.legend = None  # one series, named by the chart's title
    for series in satisfaction.series:
        series.marker.symbol = "circle"
        series.marker.size = 6

    scale = largest_print_scale(widths, chart_width_cm=width)
    rows = math.ceil(height / ROW_HEIGHT_CM)
    _stack(ws, charts, rows=rows, table_rows=last, scale=scale)


def _stack(
    ws: Any, charts: Sequence[LineChart | BarChart], *, rows: int, table_rows: int, scale: float
) -> None:
    """Anchor the charts (`rows` sheet rows tall each) one under another below the table,
    breaking the page before any chart that would not fit whole on the page it starts on."""
    page_rows = math.floor(PRINTABLE_HEIGHT_CM / scale * _SLACK / ROW_HEIGHT_CM)
    # Where the table's last page starts is only known while the table fits on the first.
    page_start = 1 if table_rows <= page_rows else None
    row = table_rows + _GAP_ROWS + 1
    for chart in charts:
        if page_start is None or row + rows - page_start > page_rows:
            ws.row_breaks.append(Break(id=row - 1))  # row `row` starts the next page
            page_start = row
        ws.add_chart(chart, f"A{row}")
        row += rows + _GAP_ROWS
