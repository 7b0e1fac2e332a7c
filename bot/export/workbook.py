"""The Excel export's entry point (PRODUCT.md §4): `build_workbook` writes one .xlsx workbook
holding the numbers and the raw data of an `ExportPeriod`.

Sheets, in order (`bot.export.columns.SHEETS`):

* **Summary** (`sheets.summary`): the period's key figures per function, the goals of its
  quarter and both scorecards, as plain values so any viewer shows them.
* **Weekly KPIs** (`sheets.weekly`): one row per ISO week (clipped to the period, and to
  now), computed by the same `bot.kpis` functions the digests use, with native charts.
* **Requests** (`sheets.requests`): every request filed in the period, plus earlier ones
  claimed or delivered in it, with real Excel datetimes and the durations the KPIs use.
* **Survey responses** (`sheets.survey`): the enablement pulse, anonymised by
  `bot.surveys.privacy`'s rules, then the pipeline pulse, which is named business data.
* **Pipeline** (`sheets.pipeline`): imported CRM opportunities created or closing in the
  period, and the marketing activities reps credited with pipeline.
* **Scorecard** (`sheets.scorecard`): each quarter's scorecards with live formulas.

How it stays fast and small:

* The database is read in pages of `reading.PAGE_ROWS` rows by keyset pagination on an
  index, each page in its own short transaction (an export never holds SQLite's write lock
  for long). Rows become plain cell values (`cells`) and go to a writer (`writer`) that owns
  the workbook, written in openpyxl's write-only mode (`table`): memory is bounded by a few
  pages whatever the period. For a big export (`PROCESS_MIN_ROWS`) the writer is a separate
  process, so writing the XML runs on another core; a small one writes in a thread.
* While the writer is busy with the pages sent so far, the KPI queries run (`kpis`, one step
  at a time, on the same session), so the two overlap instead of adding up.

Excel has no time zones: datetimes are written as wall-clock times in the workspace's zone,
which header notes and the Summary say. User text is data, never a formula (`cells.user_text`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import reads_only
from bot.export.kpis import kpi_steps
from bot.export.period import ExportPeriod, export_filename
from bot.export.plan import Counts, ExportPlan, PeriodKpis, WeekKpis
from bot.export.reading import count_sizes
from bot.export.sheets.pipeline import activity_rows, opportunity_pages
from bot.export.sheets.requests import request_pages
from bot.export.sheets.scorecard import scorecard_rows
from bot.export.sheets.survey import enablement_pages, enablement_weeks, pipeline_answer_pages
from bot.export.sheets.weekly import weekly_rows
from bot.export.table import Note
from bot.export.writer import Writer, WriterStats
from bot.workspace.settings import WorkspaceSettings

logger = logging.getLogger(__name__)


PAGES_IN_FLIGHT: Final = 3
"""Pages handed to the writer ahead of what it has written: bounds memory, keeps it busy."""
PROCESS_MIN_ROWS: Final = 20_000
"""From this many raw rows on, the writer runs in its own process (starting one costs ~0.5 s)."""


@dataclass(frozen=True)
class ExportResult:
    """The written workbook: where it is, its name for the person, rows per sheet, whether
    the period held no data at all."""

    path: Path
    filename: str
    rows: dict[str, int]
    empty: bool


@reads_only
async def build_workbook(
    session: AsyncSession,
    *,
    team_id: str,
    period: ExportPeriod,
    settings: WorkspaceSettings,
    out: Path,
    now: datetime,
) -> ExportResult:
    """Write the workbook for `period` to `out` and say what is in it.

    KPIs come from `bot.kpis` and `bot.kpis.digests` (the digests' own definitions); raw rows
    are read in keyset pages and handed to the writer while it writes the previous ones, and
    KPI queries fill the time the writer is busy. The session's transaction is ended after
    each page and KPI step (nothing may be pending on it). Everything is read in read-only
    transactions (`bot.core.db.read_only`): on SQLite an export never holds the write lock. A
    period without any data still gets a workbook, which says so (`ExportResult.empty`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    started = time.perf_counter()
    plan = ExportPlan.make(team_id=team_id, period=period, settings=settings, now=now)
    sizes = await count_sizes(session, plan)
    writer = await Writer.open(plan, process=sizes.rows >= PROCESS_MIN_ROWS)
    weeks: list[WeekKpis] = []
    kpis = PeriodKpis()
    steps = kpi_steps(session, plan, weeks, kpis)
    counts = Counts()

    async def stream(sheet: str, pages: AsyncIterator[list[Any]]) -> int:
        """Hand pages to the writer, a few ahead; while it is busy, take KPI steps."""
        sent = 0
        in_flight: deque[asyncio.Future[Any]] = deque()

        async def settle(limit: int) -> None:
            while len(in_flight) > limit:
                if in_flight[0].done() or not steps:
                    await in_flight.popleft()
                else:
                    await steps.popleft()()

        async for page in pages:
            in_flight.append(writer.call("add", sheet, page))
            sent += sum(1 for row in page if not isinstance(row, Note))
            await settle(PAGES_IN_FLIGHT - 1)
        await settle(0)
        return sent

    try:
        counts.requests = await stream("requests", request_pages(session, plan))
        await writer.call("finish", "requests")
        enablement = await enablement_weeks(session, plan)
        counts.enablement = await stream("survey", enablement_pages(session, plan, enablement))
        await writer.call("section", "survey", "pipeline_answers")
        counts.pipeline_answers = await stream("survey", pipeline_answer_pages(session, plan))
        await writer.call("finish", "survey")
        counts.opportunities = await stream("pipeline", opportunity_pages(session, plan))
        while steps:
            await steps.popleft()()

        counts.weeks = len(weeks)
        await writer.call("add", "weekly", weekly_rows(weeks, plan.minimum))
        await writer.call("finish", "weekly")
        if weeks:
            await writer.call("charts", len(weeks))
        activities = kpis.pipeline.activities if kpis.pipeline else []
        counts.activities = len(activities)
        await writer.call("section", "pipeline", "activities")
        await writer.call("add", "pipeline", activity_rows(activities))
        await writer.call("finish", "pipeline")
        counts.scorecard_lines = sum(len(card.lines) for card in kpis.scorecards)
        await writer.call("add", "scorecard", scorecard_rows(kpis.scorecards))
        await writer.call("finish", "scorecard")
        # Empty: nothing to show and nothing withheld (a thin survey week is still data).
        empty = not (counts.requests or sizes.responses or counts.opportunities or sizes.leads)
        await writer.call("write_summary", kpis, counts, empty)
        stats: WriterStats = await writer.save(out)
    except BaseException:
        await asyncio.shield(writer.abandon())
        raise
    await writer.close()
    logger.info(
        "export_written team=%s period=%s rows=%s seconds=%.1f writer=%s "
        "writer_max_rss_mb=%.0f writer_traced_peak_mb=%s",
        team_id,
        period.label,
        sizes.rows,
        time.perf_counter() - started,
        "process" if stats.process else "thread",
        stats.max_rss_bytes / 1e6,
        f"{stats.traced_peak_bytes / 1e6:.1f}" if stats.traced_peak_bytes is not None else "-",
    )
    return ExportResult(
        path=out,
        filename=export_filename(period),
        rows={
            "Weekly KPIs": counts.weeks,
            "Requests": counts.requests,
            "Survey responses": counts.enablement + counts.pipeline_answers,
            "Pipeline": counts.opportunities,
            "Scorecard": counts.scorecard_lines,
        },
        empty=empty,
    )
