"""Excel export over a big workspace, next to bare openpyxl writing the same rows.

For each size: a fresh SQLite database filled by `bot.demo.workspace.generate_demo` (12 weeks; at full
size about 200,000 support requests, 1,000,000 survey responses and 340,000 CRM
opportunities, a tenth of that at "tenth"), then `bot.export.workbook.build_workbook` for the 13
ISO weeks the demo covers (2026-08-31 to 2026-11-29; "now" is 24 November). Next to it, a
bare openpyxl write-only workbook with the same sheets, the same number of rows and the same
number of columns, appending one prepared row of the same value types over and over (no
database, no styles but the date format openpyxl adds itself): what openpyxl alone costs.

Every measurement runs in a fresh interpreter, so peak memory is that run's own:

* time: wall time of `build_workbook` (the baseline: of appending and saving), untraced;
* ru_maxrss of the exporting process, and of the writer process it starts for a big export
  (reported by the export itself), untraced;
* tracemalloc peak, in a second run with tracemalloc on (slower, so its time is not used),
  for the exporting process and for the writer.

The figures printed: both times, the export's speed as a share of bare openpyxl's (target
>= 80%), and the memory figures (target < 200 MB). The workbook's KPIs are computed by
`bot.kpis.support`, `pipeline` and `satisfaction` as the digests compute them; the bench prints how long those calls take alone,
since they run in the time the writer is busy and are the floor of the export's time.

Usage: `.venv/bin/python bench/export.py [--size full|tenth|both] [--keep DIR] [--no-trace]`
(`--keep DIR` keeps the generated databases and workbooks in DIR and reuses them next time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlmodel import col  # noqa: E402

from bot.core.db import make_engine, make_session_factory, upgrade  # noqa: E402
from bot.core.models import Function, SurveyKind, SurveyResponse, SurveyRun  # noqa: E402
from bot.demo.workspace import generate_demo  # noqa: E402
from bot.export.columns import (  # noqa: E402
    Kind,
    enablement_columns,
    opportunity_columns,
    pipeline_answer_columns,
    request_columns,
    scorecard_columns,
    weekly_columns,
)
from bot.export.period import ExportPeriod  # noqa: E402
from bot.export.plan import ExportPlan  # noqa: E402
from bot.export.workbook import build_workbook  # noqa: E402
from bot.kpis.pipeline import pipeline_stats  # noqa: E402
from bot.kpis.satisfaction import satisfaction_stats  # noqa: E402
from bot.kpis.support import request_stats  # noqa: E402
from bot.workspace.settings import load_settings  # noqa: E402

# Tuesday 24 November 2026, 15:00 UTC, like the tests and bench/digests.py.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TEAM = "TDEMO"
REPS = 12
WEEKS = 12
# The 13 ISO weeks the demo's 12 survey weeks and its first requests fall in.
PERIOD = ExportPeriod(date(2026, 8, 31), date(2026, 11, 29))
# Per rep over 12 weeks the demo makes ~20 survey responses (2 surveys a week, ~83% answered).
RESPONSES_PER_REP_WEEK = 2 * 0.835
SIZES = {"full": 1_000_000, "tenth": 100_000}
TARGET_SHARE = 0.80
TARGET_MEMORY_MB = 200.0


def say(message: str) -> None:
    print(message, flush=True)


def scale_for(responses: int) -> int:
    return max(1, round(responses / (REPS * WEEKS * RESPONSES_PER_REP_WEEK)))


# --------------------------------------------------------------------------------------
# Children: each measurement in its own interpreter
# --------------------------------------------------------------------------------------


def _memory() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"max_rss_mb": own, "children_max_rss_mb": children}


class _Capture(logging.Handler):
    """Keeps the export's closing log record (it carries the writer's own figures)."""

    def __init__(self) -> None:
        super().__init__()
        self.args: tuple[Any, ...] = ()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("export_written") and isinstance(record.args, tuple):
            self.args = record.args


async def child_export(database: Path, out: Path) -> dict[str, Any]:
    capture = _Capture()
    logging.getLogger("bot.export.workbook").addHandler(capture)
    logging.getLogger("bot.export.workbook").setLevel(logging.INFO)
    engine = make_engine(f"sqlite:///{database}")
    async with make_session_factory(engine)() as session:
        settings = await load_settings(session, TEAM)
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
        started = time.perf_counter()
        result = await build_workbook(
            session, team_id=TEAM, period=PERIOD, settings=settings, out=out, now=NOW
        )
        seconds = time.perf_counter() - started
        connection = await session.connection()
        pipeline_answers = (
            await connection.execute(
                sa.select(sa.func.count())
                .select_from(SurveyResponse)
                .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
                .where(
                    col(SurveyRun.team_id) == TEAM,
                    col(SurveyRun.kind) == SurveyKind.PIPELINE,
                    col(SurveyRun.period_start) >= PERIOD.start,
                    col(SurveyRun.period_start) <= PERIOD.end,
                )
            )
        ).scalar_one()
    await engine.dispose()
    traced = tracemalloc.get_traced_memory()[1] / 1e6 if tracemalloc.is_tracing() else None
    writer = capture.args
    return {
        "seconds": seconds,
        "rows": result.rows,
        "pipeline_answers": int(pipeline_answers),
        "empty": result.empty,
        "traced_peak_mb": traced,
        "writer": writer[4] if writer else None,
        "writer_max_rss_mb": float(writer[5]) if writer else None,
        "writer_traced_peak_mb": (
            float(writer[6]) if writer and writer[6] not in ("-", None) else None
        ),
        **_memory(),
    }


async def child_kpis(database: Path) -> dict[str, Any]:
    """The KPI calls the export makes, alone: the part of its time that is not writing."""
    from bot.kpis.digests import scorecard_for

    engine = make_engine(f"sqlite:///{database}")
    plan_settings = None
    started = time.perf_counter()
    async with make_session_factory(engine)() as session:
        plan_settings = await load_settings(session, TEAM)
        plan = ExportPlan.make(team_id=TEAM, period=PERIOD, settings=plan_settings, now=NOW)
        calendar = plan_settings.calendar
        for monday, window in plan.weeks:
            await request_stats(session, team_id=TEAM, window=window, calendar=calendar)
            await pipeline_stats(session, team_id=TEAM, window=window)
            if monday >= PERIOD.start:
                await satisfaction_stats(
                    session, team_id=TEAM, week_start=monday, minimum=plan.minimum, weeks=1
                )
            await session.commit()
        weekly = time.perf_counter() - started
        assert plan.kpi_window is not None
        await request_stats(session, team_id=TEAM, window=plan.kpi_window, calendar=calendar)
        await pipeline_stats(session, team_id=TEAM, window=plan.kpi_window)
        period = time.perf_counter() - started - weekly
        for quarter in plan.quarters:
            for function in Function:
                await scorecard_for(
                    session,
                    team_id=TEAM,
                    quarter=quarter,
                    function=function,
                    settings=plan_settings,
                    now=NOW,
                )
        scorecards = time.perf_counter() - started - weekly - period
    await engine.dispose()
    return {
        "seconds": time.perf_counter() - started,
        "weekly": weekly,
        "period": period,
        "scorecards": scorecards,
        **_memory(),
    }


SAMPLES: dict[Kind, Any] = {
    Kind.TEXT: "Enablement satisfaction",
    Kind.USER: "Renewal pitch for the CFO with the ROI model",
    Kind.INT: 3,
    Kind.MONEY: 125_000.5,
    Kind.PERCENT: 0.875,
    Kind.WEIGHT: 0.75,
    Kind.HOURS: 26.25,
    Kind.SCORE: 4.0,
    Kind.RATIO: 2.5,
    Kind.DATE: date(2026, 11, 2),
    Kind.DATETIME: datetime(2026, 11, 2, 9, 30),
    Kind.VARIES: 1_500_000.0,
}


def shape_of(export: dict[str, Any]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The export's tables as (sheet, [(rows, columns), …]) for the baseline to copy."""
    rows = export["rows"]
    pipeline_answers = export["pipeline_answers"]
    return [
        ("Weekly KPIs", [(rows["Weekly KPIs"], len(weekly_columns(5)))]),
        ("Requests", [(rows["Requests"], len(request_columns("UTC")))]),
        (
            "Survey responses",
            [
                (rows["Survey responses"] - pipeline_answers, len(enablement_columns(5))),
                (pipeline_answers, len(pipeline_answer_columns())),
            ],
        ),
        ("Pipeline", [(rows["Pipeline"], len(opportunity_columns()))]),
        ("Scorecard", [(rows["Scorecard"], len(scorecard_columns()))]),
    ]


def _sample_row(sheet: str, section: int) -> list[Any]:
    layouts = {
        ("Weekly KPIs", 0): weekly_columns(5),
        ("Requests", 0): request_columns("UTC"),
        ("Survey responses", 0): enablement_columns(5),
        ("Survey responses", 1): pipeline_answer_columns(),
        ("Pipeline", 0): opportunity_columns(),
        ("Scorecard", 0): scorecard_columns(),
    }
    return [SAMPLES[column.kind] for column in layouts[(sheet, section)]]


def child_baseline(shape: list[tuple[str, list[tuple[int, int]]]], out: Path) -> dict[str, Any]:
    """Bare openpyxl write-only: the same sheets, rows and columns, nothing else."""
    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()
    started = time.perf_counter()
    book = Workbook(write_only=True)
    book.create_sheet("Summary").append(["alignbot export"])
    cells = 0
    for sheet, sections in shape:
        ws = book.create_sheet(sheet)
        for index, (count, columns) in enumerate(sections):
            if index:
                ws.append([])
            ws.append([f"Column {number}" for number in range(1, columns + 1)])
            row = _sample_row(sheet, index)
            for _ in range(count):
                ws.append(row)
            cells += count * columns
    book.save(out)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 1e6 if tracemalloc.is_tracing() else None
    return {"seconds": seconds, "cells": cells, "traced_peak_mb": traced, **_memory()}


def run_child(arguments: list[str], *, trace: bool) -> dict[str, Any]:
    environment = dict(os.environ)
    if trace:
        environment["PYTHONTRACEMALLOC"] = "1"  # also traces the export's writer process
    else:
        environment.pop("PYTHONTRACEMALLOC", None)
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"child {arguments[0]} failed:\n{completed.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------
# The bench
# --------------------------------------------------------------------------------------


async def generate(database: Path, responses: int) -> float:
    scale = scale_for(responses)
    say(f"  generating {database.name}: {REPS} reps x scale {scale}, {WEEKS} weeks")
    engine = make_engine(f"sqlite:///{database}")
    await upgrade(engine)
    started = time.perf_counter()
    async with make_session_factory(engine)() as session:
        await generate_demo(session, now=NOW, reps=REPS, scale=scale, weeks=WEEKS, team_id=TEAM)
    await engine.dispose()
    return time.perf_counter() - started


async def migrate(database: Path) -> None:
    engine = make_engine(f"sqlite:///{database}")
    await upgrade(engine)
    await engine.dispose()


def measure(directory: Path, size: str, *, trace: bool) -> None:
    database = directory / f"export-{size}.db"
    if database.exists():
        say(f"\n== {size}: reusing {database}")
        # As `alignbot run` does at start-up: a kept database gets the newer migrations.
        asyncio.run(migrate(database))
    else:
        say(f"\n== {size}")
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        seconds = asyncio.run(generate(database, SIZES[size]))
        say(f"  generated in {seconds:.0f} s")
    out = directory / f"export-{size}.xlsx"
    bare = directory / f"bare-{size}.xlsx"

    say("  export (untraced)…")
    export = run_child(["export", str(database), str(out)], trace=False)
    rows = export["rows"]
    say(
        f"    {export['seconds']:.1f} s; rows {json.dumps(rows)}; file {out.stat().st_size / 1e6:.0f} MB;"
        f" writer in a {export['writer']}"
    )
    shape = shape_of(export)
    say("  bare openpyxl, same sheets, rows and columns (untraced)…")
    baseline = run_child(["baseline", json.dumps(shape), str(bare)], trace=False)
    say(f"    {baseline['seconds']:.1f} s for {baseline['cells']:,} cells")
    say("  KPI calls alone (what the export computes besides rows)…")
    kpis = run_child(["kpis", str(database)], trace=False)
    say(
        f"    {kpis['seconds']:.1f} s (weekly {kpis['weekly']:.1f}, period {kpis['period']:.1f},"
        f" scorecards {kpis['scorecards']:.1f}); max RSS {kpis['max_rss_mb']:.0f} MB"
    )
    traced_export = traced_baseline = None
    if trace:
        say("  export and baseline again with tracemalloc on (for peaks only)…")
        traced_export = run_child(["export", str(database), str(out)], trace=True)
        traced_baseline = run_child(["baseline", json.dumps(shape), str(bare)], trace=True)

    share = baseline["seconds"] / export["seconds"]
    say(f"\n  -- {size}: {rows['Requests']:,} requests, {rows['Survey responses']:,} responses --")
    say(f"  {'':34}{'export':>12}{'bare openpyxl':>16}")
    say(f"  {'time (s)':34}{export['seconds']:>12.1f}{baseline['seconds']:>16.1f}")
    say(
        f"  {'speed vs bare openpyxl':34}{share:>12.0%}{'100%':>16}"
        f"   target >= {TARGET_SHARE:.0%}: {'ok' if share >= TARGET_SHARE else 'MISSED'}"
    )
    say(
        f"  {'ru_maxrss, exporting process (MB)':34}{export['max_rss_mb']:>12.0f}"
        f"{baseline['max_rss_mb']:>16.0f}"
    )
    if export["writer"] == "process":
        say(f"  {'ru_maxrss, writer process (MB)':34}{export['writer_max_rss_mb']:>12.0f}")
    if traced_export is not None and traced_baseline is not None:
        say(
            f"  {'tracemalloc peak, exporting (MB)':34}{traced_export['traced_peak_mb']:>12.1f}"
            f"{traced_baseline['traced_peak_mb']:>16.1f}"
        )
        if traced_export["writer_traced_peak_mb"] is not None:
            say(
                f"  {'tracemalloc peak, writer (MB)':34}"
                f"{traced_export['writer_traced_peak_mb']:>12.1f}"
            )
    worst = max(export["max_rss_mb"], export.get("writer_max_rss_mb") or 0.0)
    say(
        f"  memory target < {TARGET_MEMORY_MB:.0f} MB per process: "
        f"{'ok' if worst < TARGET_MEMORY_MB else 'MISSED'} (largest {worst:.0f} MB)"
    )
    say(
        f"  KPI calls alone take {kpis['seconds']:.1f} s ({kpis['seconds'] / export['seconds']:.0%}"
        " of the export's time); they run while the writer writes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "tenth", "both"], default="full")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) databases and files here")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "export":
            result = asyncio.run(child_export(Path(rest[0]), Path(rest[1])))
        elif kind == "kpis":
            result = asyncio.run(child_kpis(Path(rest[0])))
        else:
            shape = [
                (sheet, [tuple(item) for item in sections])
                for sheet, sections in json.loads(rest[0])
            ]
            result = child_baseline(shape, Path(rest[1]))
        print(json.dumps(result))
        return

    sizes = ["tenth", "full"] if args.size == "both" else [args.size]
    say(
        f"alignbot export bench: Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs; period {PERIOD.start} to {PERIOD.end}"
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            measure(args.keep, size, trace=not args.no_trace)
        return
    directory = Path(tempfile.mkdtemp(prefix="alignbot-export-bench-"))
    try:
        for size in sizes:
            measure(directory, size, trace=not args.no_trace)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
