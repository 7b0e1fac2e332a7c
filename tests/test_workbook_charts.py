"""The exported workbook as a spreadsheet program draws and prints it: charts that show only
what happened, each measure on a readable scale, and pages that keep every chart whole."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, LineChart
from openpyxl.utils import get_column_letter

from bot.core.deps import Deps
from bot.demo.workspace import generate_demo
from bot.export.charts import (
    CHART_MAX_WIDTH_CM,
    CHART_MIN_WIDTH_CM,
    PRINTABLE_HEIGHT_CM,
    ROW_HEIGHT_CM,
    add_weekly_charts,
    apply_page_setup,
    largest_print_scale,
)
from bot.export.columns import SHEETS
from bot.export.period import ExportPeriod
from bot.export.workbook import ExportResult, build_workbook
from bot.workspace.settings import load_settings

DEMO_TEAM = "TDEMO"
Q4 = ExportPeriod(date(2026, 10, 1), date(2026, 12, 31))
# A year to the test clock's today: 53 ISO weeks, a weekly table longer than a printed page.
YEAR = ExportPeriod(date(2025, 11, 25), date(2026, 11, 24))
EMU_PER_CM = 360_000


@pytest.fixture
async def demo(deps: Deps) -> Deps:
    async with deps.sessions() as session:
        await generate_demo(session, now=deps.clock(), team_id=DEMO_TEAM, weeks=52)
    return deps


async def export(deps: Deps, tmp_path: Path, period: ExportPeriod = Q4) -> ExportResult:
    async with deps.sessions() as session:
        settings = await load_settings(session, DEMO_TEAM)
        return await build_workbook(
            session,
            team_id=DEMO_TEAM,
            period=period,
            settings=settings,
            out=tmp_path / "export.xlsx",
            now=deps.clock(),
        )


def charts_of(ws: Any) -> list[Any]:
    """The charts openpyxl read back from the file, in the order they were anchored."""
    charts: list[Any] = ws._charts  # openpyxl keeps charts it reads here, and nowhere public
    return sorted(charts, key=lambda chart: chart.anchor._from.row)


def text(title: Any) -> str:
    """The plain text of a chart or axis title read back from the file."""
    assert title is not None
    return "".join(run.t for paragraph in title.tx.rich.p for run in paragraph.r or ())


def columns_plotted(chart: Any) -> list[str]:
    return [series.val.numRef.f.split("!")[1].split(":")[0] for series in chart.series]


# --------------------------------------------------------------------------------------
# The charts
# --------------------------------------------------------------------------------------


async def test_lines_are_straight_and_every_measure_is_on_its_own_scale(
    demo: Deps, tmp_path: Path
) -> None:
    result = await export(demo, tmp_path)
    charts = charts_of(load_workbook(result.path)["Weekly KPIs"])

    titles = [text(chart.title) for chart in charts]
    assert titles == [
        "Enablement satisfaction (1–5)",
        "Median hours to claim",
        "Median hours to deliver",
        "Marketing-sourced pipeline",
    ]
    # Hours to claim (about 1 h) never shares an axis with hours to deliver (hundreds).
    assert [columns_plotted(chart) for chart in charts] == [["$N$2"], ["$J$2"], ["$K$2"], ["$Q$2"]]

    satisfaction = charts[0]
    assert isinstance(satisfaction, LineChart)
    for chart in charts:
        for series in chart.series:
            # Written as an explicit "not smoothed": readers differ on what no value means.
            assert series.smooth is False or (isinstance(chart, BarChart) and not series.smooth)
        assert chart.y_axis.title is not None, text(chart.title)
        assert chart.x_axis.title is not None
        assert chart.display_blanks == "gap"
    assert [series.marker.symbol for series in satisfaction.series] == ["circle"]
    assert text(charts[3].y_axis.title) == "US dollars"
    assert text(charts[1].y_axis.title) == text(charts[2].y_axis.title) == "Hours"

    with zipfile.ZipFile(result.path) as archive:
        xml = [
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/charts/")
        ]
    line = next(chart for chart in xml if "<lineChart>" in chart)
    assert '<smooth val="0" />' in line or '<smooth val="0"/>' in line
    assert not any('<smooth val="1"' in chart for chart in xml)


# --------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------


def assert_prints_landscape_one_page_wide(ws: Any) -> None:
    assert ws.page_setup.orientation == "landscape", ws.title
    assert ws.sheet_properties.pageSetUpPr is not None, ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
    assert ws.page_setup.fitToWidth == 1, ws.title
    assert ws.page_setup.fitToHeight == 0, ws.title


def assert_each_chart_is_whole_on_a_page(ws: Any, columns: int) -> None:
    """Every chart starts after a page break or on the first page, and ends before the page
    does at the largest scale the sheet could print at (on the smaller of A4 and Letter)."""
    breaks = sorted(brk.id for brk in ws.row_breaks.brk)
    widths = [ws.column_dimensions[get_column_letter(i)].width for i in range(1, columns + 1)]
    charts = charts_of(ws)
    assert charts
    chart_cm = charts[0].anchor.ext.width / EMU_PER_CM
    assert CHART_MIN_WIDTH_CM <= chart_cm <= CHART_MAX_WIDTH_CM
    page_cm = PRINTABLE_HEIGHT_CM / largest_print_scale(widths, chart_width_cm=chart_cm)
    for chart in charts:
        top = chart.anchor._from.row  # 0-based: rows above the chart
        height_cm = chart.anchor.ext.height / EMU_PER_CM
        page_top = max((brk for brk in breaks if brk <= top), default=0)
        assert (top - page_top) * ROW_HEIGHT_CM + height_cm <= page_cm, (top, page_top)
        bottom_row = top + height_cm / ROW_HEIGHT_CM
        assert not any(top < brk < bottom_row for brk in breaks), (top, breaks)
        assert chart.anchor.ext.width / EMU_PER_CM == pytest.approx(chart_cm)


@pytest.mark.parametrize(("period", "weeks"), [(Q4, 9), (YEAR, 53)])
async def test_every_sheet_prints_landscape_one_page_wide_with_charts_kept_whole(
    demo: Deps, tmp_path: Path, period: ExportPeriod, weeks: int
) -> None:
    result = await export(demo, tmp_path, period)
    assert result.rows["Weekly KPIs"] == weeks
    book = load_workbook(result.path)
    assert book.sheetnames == list(SHEETS)
    for ws in book.worksheets:
        assert_prints_landscape_one_page_wide(ws)
    weekly = book["Weekly KPIs"]
    assert_each_chart_is_whole_on_a_page(weekly, columns=weekly.max_column)
    # Rows past the table are left alone: breaks fall only between the charts.
    assert all(brk.id > weeks for brk in weekly.row_breaks.brk)


def test_page_setup_survives_a_write_only_sheet_and_a_long_table_pushes_charts_down(
    tmp_path: Path,
) -> None:
    """Straight on openpyxl's write-only sheets, as the export writes them."""
    book = Workbook(write_only=True)
    ws = book.create_sheet("Weekly KPIs")
    apply_page_setup(ws)  # before the first row, which writes the sheet properties out
    headers = ["Week", "Enablement satisfaction", "Median hours to claim"]
    headers += ["Median hours to deliver", "Marketing-sourced pipeline"]
    for index in range(1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(index)].width = 30.0
    weeks = 200  # far more rows than a page holds, even at the smallest scale
    ws.append(headers)
    for week in range(weeks):
        ws.append([f"W{week}", 3.5 if week % 3 else None, 1.25, 180.0, 25_000.0])
    add_weekly_charts(ws, headers=headers, weeks=weeks)
    book.save(tmp_path / "book.xlsx")

    back = load_workbook(tmp_path / "book.xlsx")["Weekly KPIs"]
    assert_prints_landscape_one_page_wide(back)
    assert back.page_margins.left == 0.5
    breaks = sorted(brk.id for brk in back.row_breaks.brk)
    charts = charts_of(back)
    # The table's pages are the reader's to break; the first chart starts a page of its own.
    assert charts[0].anchor._from.row == breaks[0] > weeks
    assert_each_chart_is_whole_on_a_page(back, columns=len(headers))
    assert columns_plotted(charts[1]) == ["$C$2"]
