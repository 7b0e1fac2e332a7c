"""The writer: owns the write-only workbook (`Book`) and runs in a worker thread, or for a big
export in a spawned process (`Writer`), so writing the XML does not compete with reading."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import time
import tracemalloc
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from bot.export.charts import add_weekly_charts, apply_page_setup
from bot.export.columns import (
    SHEETS,
    activity_columns,
    enablement_columns,
    opportunity_columns,
    pipeline_answer_columns,
    request_columns,
    scorecard_columns,
    weekly_columns,
)
from bot.export.plan import Counts, ExportPlan, PeriodKpis
from bot.export.sheets.summary import SummarySheet
from bot.export.table import Table


@dataclass(frozen=True)
class WriterStats:
    """What writing cost, measured where the writing happened."""

    process: bool
    max_rss_bytes: int
    traced_peak_bytes: int | None  # when tracemalloc was on in the writer


class Book:
    """The workbook being written. Sheets are made up front in their final order; each is
    a separate temporary file, so they can be filled in any order."""

    def __init__(self, plan: ExportPlan) -> None:
        self.plan = plan
        self.started = time.perf_counter()
        self.book = Workbook(write_only=True)
        zone = plan.settings.timezone
        self.summary: Any = self.book.create_sheet(SHEETS[0])
        self.tables = {
            "weekly": Table(self.book, SHEETS[1], weekly_columns(plan.minimum)),
            "requests": Table(self.book, SHEETS[2], request_columns(zone)),
            "survey": Table(
                self.book,
                SHEETS[3],
                enablement_columns(plan.minimum),
                later=[pipeline_answer_columns()],
            ),
            "pipeline": Table(
                self.book, SHEETS[4], opportunity_columns(), later=[activity_columns()]
            ),
            "scorecard": Table(self.book, SHEETS[5], scorecard_columns()),
        }
        # Now, before any row: a write-only sheet writes its fit-to-page flag with its first.
        for ws in self.book.worksheets:
            apply_page_setup(ws)

    def add(self, sheet: str, rows: Sequence[Any]) -> None:
        self.tables[sheet].add(rows)

    def section(self, sheet: str, layout: str) -> None:
        columns = {"pipeline_answers": pipeline_answer_columns, "activities": activity_columns}
        self.tables[sheet].section(columns[layout]())

    def finish(self, sheet: str) -> None:
        self.tables[sheet].finish()

    def charts(self, weeks: int) -> None:
        """Native charts under the weekly table, drawn from its cells."""
        table = self.tables["weekly"]
        add_weekly_charts(
            table.ws, headers=[column.header for column in table.columns], weeks=weeks
        )

    def write_summary(self, kpis: PeriodKpis, counts: Counts, empty: bool) -> None:
        SummarySheet(self.summary, self.plan, kpis, counts, empty).write()

    def save(self, out: Path) -> WriterStats:
        """Write the file next to `out` and move it in place, so nobody sees half a file."""
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        try:
            self.book.save(partial)
            os.replace(partial, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        traced = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        return WriterStats(
            process=multiprocessing.parent_process() is not None,
            max_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            traced_peak_bytes=traced,
        )

    def discard(self) -> None:
        """Remove the temporary sheet files of a workbook that will never be saved."""
        for ws in self.book.worksheets:
            writer = getattr(ws, "_writer", None)
            if writer is None:
                continue
            with contextlib.suppress(Exception):
                ws.close()
            with contextlib.suppress(Exception):
                writer.cleanup()


# One writer per export, by key: in a worker process there is only ever one.
_WRITERS: dict[str, Book] = {}


def _writer_open(key: str, plan: ExportPlan) -> None:
    _WRITERS[key] = Book(plan)


def _writer_call(key: str, method: str, *args: Any) -> Any:
    return getattr(_WRITERS[key], method)(*args)


def _writer_save(key: str, out: Path) -> WriterStats:
    return _WRITERS.pop(key).save(out)


def _writer_discard(key: str) -> None:
    book = _WRITERS.pop(key, None)
    if book is not None:
        book.discard()


class Writer:
    """The export's handle on its writer: calls run in order, one at a time."""

    def __init__(self, executor: Executor, *, process: bool) -> None:
        self.executor = executor
        self.process = process
        self.key = uuid.uuid4().hex
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, plan: ExportPlan, *, process: bool) -> Writer:
        executor: Executor
        if process:
            # "spawn": forking a process that runs an event loop and driver threads is unsafe.
            context = multiprocessing.get_context("spawn")
            executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
        else:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alignbot-export")
        writer = cls(executor, process=process)
        await writer.submit(_writer_open, plan)
        return writer

    def submit(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        return asyncio.wrap_future(self.executor.submit(function, self.key, *args))

    def call(self, method: str, *args: Any) -> asyncio.Future[Any]:
        """Call `Book.<method>(*args)` in the writer."""
        return self.submit(_writer_call, method, *args)

    def save(self, out: Path) -> asyncio.Future[Any]:
        """Save the workbook to `out` (`Book.save`); resolves to its `WriterStats`."""
        return self.submit(_writer_save, out)

    async def close(self) -> None:
        await asyncio.to_thread(self.executor.shutdown, True)

    async def abandon(self) -> None:
        """Drop the workbook after what is queued (never racing a call still running)."""
        with contextlib.suppress(Exception):
            await self.submit(_writer_discard)
        self.executor.shutdown(wait=False, cancel_futures=True)
