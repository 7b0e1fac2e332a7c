"""The exported workbook opened by a real spreadsheet program: LibreOffice Calc, headless.

LibreOffice loads the file, prints it to PDF, and saves it back as .xlsx. Saving back shows
what it understood: formulas recalculated by its own engine (openpyxl writes formulas with no
cached result), page setup, page breaks, and whether it draws a line smoothed.

Without `soffice` on PATH these tests are skipped, unless ALIGNBOT_REQUIRE_LIBREOFFICE=1 (as
in CI), when they fail: a check that silently never runs is no check.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.core.deps import Deps
from bot.core.models import Function
from bot.demo.workspace import generate_demo
from bot.export.columns import SHEETS
from bot.export.period import ExportPeriod
from bot.export.workbook import ExportResult, build_workbook
from bot.kpis.digests import scorecard_for
from bot.workspace.settings import load_settings

DEMO_TEAM = "TDEMO"
Q4 = ExportPeriod(date(2026, 10, 1), date(2026, 12, 31))
CONVERT_SECONDS = 120  # a cold start (new profile) takes a few seconds; a hang must not stall CI
REQUIRE_VARIABLE = "ALIGNBOT_REQUIRE_LIBREOFFICE"

pytestmark = pytest.mark.timeout(3 * CONVERT_SECONDS)


@pytest.fixture
def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        reason = (
            "LibreOffice is not installed (no `soffice` on PATH): install Debian's "
            "libreoffice-calc to check the workbook in a real spreadsheet program"
        )
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{reason}; {REQUIRE_VARIABLE}=1 requires it")
        pytest.skip(reason)
    return path


@pytest.fixture
async def exported(deps: Deps, tmp_path: Path) -> ExportResult:
    async with deps.sessions() as session:
        await generate_demo(session, now=deps.clock(), team_id=DEMO_TEAM)
    async with deps.sessions() as session:
        settings = await load_settings(session, DEMO_TEAM)
        return await build_workbook(
            session,
            team_id=DEMO_TEAM,
            period=Q4,
            settings=settings,
            out=tmp_path / "export.xlsx",
            now=deps.clock(),
        )


def convert(soffice: str, source: Path, target: str, tmp_path: Path) -> Path:
    """`source` converted by LibreOffice to `target` (an extension, optionally with a filter
    after a colon); fails on any conversion error, which soffice reports with exit code 0."""
    out = tmp_path / f"converted-{target.split(':')[0]}"
    command = [
        soffice,
        # Its own profile: never a developer's, and two runs at once do not share one.
        f"-env:UserInstallation={(tmp_path / 'libreoffice-profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        target,
        "--outdir",
        str(out),
        str(source),
    ]
    # A session of its own: on a timeout the whole group goes (soffice starts soffice.bin).
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=CONVERT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"LibreOffice did not convert {source.name} in {CONVERT_SECONDS} s")
    assert process.returncode == 0, output
    assert not re.search(r"^Error", output, re.MULTILINE), output
    converted = out / f"{source.stem}.{target.split(':')[0]}"
    assert converted.is_file(), output
    assert converted.stat().st_size > 0, output
    return converted


async def test_libreoffice_prints_the_workbook_to_pdf(
    soffice: str, exported: ExportResult, tmp_path: Path
) -> None:
    pdf = convert(soffice, exported.path, "pdf", tmp_path).read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages >= len(SHEETS)  # every sheet prints, each on a page or more


async def test_libreoffice_computes_the_scorecard_and_keeps_charts_and_pages_as_meant(
    soffice: str, deps: Deps, exported: ExportResult, tmp_path: Path
) -> None:
    resaved = convert(soffice, exported.path, "xlsx", tmp_path)

    # The Scorecard's formulas, as LibreOffice's engine computed them.
    async with deps.sessions() as session:
        settings = await load_settings(session, DEMO_TEAM)
        cards = [
            await scorecard_for(
                session,
                team_id=DEMO_TEAM,
                quarter="2026-Q4",
                function=function,
                settings=settings,
                now=deps.clock(),
            )
            for function in (Function.DEMAND_GEN, Function.SUPPORT)
        ]
    values = load_workbook(resaved, data_only=True)["Scorecard"]
    rows: dict[tuple[Any, Any], tuple[Any, ...]] = {
        (row[1].value, row[2].value): row
        for row in values.iter_rows(min_row=2)
        if row[0].value == "2026-Q4"
    }
    computed = 0
    for card in cards:
        for line in card.lines:
            row = rows[(card.function.label, line.label)]
            if line.contribution is None:
                assert row[10].value is None, line.label
                continue
            assert row[7].value == pytest.approx(line.attainment), line.label
            assert row[9].value == pytest.approx(line.capped), line.label
            assert row[10].value == pytest.approx(line.contribution), line.label
            computed += 1
        total = rows[(card.function.label, "Total")][10].value
        assert total == (pytest.approx(card.total) if card.total is not None else None)
    assert computed >= 2

    # What it understood of the layout: straight lines, four charts, every sheet landscape
    # one page wide, and the page breaks that keep the charts whole.
    book = load_workbook(resaved)
    original = load_workbook(exported.path)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        fit = ws.sheet_properties.pageSetUpPr
        assert fit is not None, ws.title
        assert fit.fitToPage is True, ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
    weekly: Any = book["Weekly KPIs"]
    charts: list[Any] = weekly._charts  # openpyxl keeps charts it reads here, and nowhere public
    assert len(charts) == 4
    for chart in charts:
        assert not any(series.smooth for series in chart.series)
    assert [brk.id for brk in weekly.row_breaks.brk] == [
        brk.id for brk in original["Weekly KPIs"].row_breaks.brk
    ]


def test_a_file_libreoffice_cannot_load_fails_the_check(soffice: str, tmp_path: Path) -> None:
    """soffice exits 0 when it cannot load a file: the check must read what it says."""
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(AssertionError, match="could not be loaded"):
        convert(soffice, broken, "pdf", tmp_path)
