"""Weekly digest latency over a big workspace: both digests, about a million survey responses.

For each size and backend: a fresh database, migrated, filled by `bot.demo.workspace.generate_demo`
(the `alignbot demo` workspace scaled up: ~1,000,000 survey responses and ~200,000 support
requests at full size, 10x less at a tenth — by default `--grow history`: the same weekly
volume, 120 weeks of it at full size and 12 at a tenth, so the growth factor measures what
history costs; `--grow people` is the earlier shape, 12 weeks with ten times the people at full
size, where the week itself is ten times bigger), then both weekly digests of the current
week (`bot.kpis.digests.support_digest` + `demandgen_digest`, what the Friday digest job and
`/align digest` compute) timed `--runs` times, each in a fresh session. Prints the median and
the worst against the targets (< 1 s on SQLite, < 0.5 s on PostgreSQL), the growth factor from
a tenth to the full size (target: at most 1.5x), and the generation time. With `--profile` (default on) one extra
run times every metric call and every SQL statement, so a slow digest names its slow query.

SQLite runs on a temporary file (or, with `--reuse DIR`, on `DIR/bench-<grow>-<size>.db`, kept and
reused by the next run with the same option, so before/after comparisons measure the same data
and skip the minutes of generation). `--database-url postgresql://…` adds PostgreSQL: the bench
creates (and afterwards drops, unless `--keep`) its own databases next to the one named,
`<name>_bench_<grow>_full` and `<name>_bench_<grow>_tenth`, so the database in the URL is never touched; the
role needs CREATEDB. With `--reuse` those databases are kept and reused too. PostgreSQL tables are ANALYZEd after loading (autovacuum would do it
within a minute); SQLite is measured as the bot runs it, without ANALYZE, unless `--analyze`.

Usage: `.venv/bin/python bench/digests.py [--size full|tenth|both] [--runs 5]
[--database-url postgresql://user@host:port/db] [--no-sqlite] [--analyze] [--no-profile]
[--responses 1000000] [--keep] [--reuse DIR]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import functools
import logging
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.kpis.digests as digests  # noqa: E402
from bot.calendar.periods import period_of  # noqa: E402
from bot.core.db import make_engine, make_session_factory, upgrade  # noqa: E402
from bot.demo.workspace import generate_demo  # noqa: E402
from bot.workspace.settings import load_settings  # noqa: E402

# Tuesday 24 November 2026, 15:00 UTC, like the tests: mid-week, mid-quarter.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TEAM = "TDEMO"
REPS = 12
WEEKS = 12
# Per rep over 12 weeks the demo makes ~20 survey responses (2 surveys a week, ~83% answered).
RESPONSES_PER_REP_WEEK = 2 * 0.835
TARGET_SECONDS = {"sqlite": 1.0, "postgresql": 0.5}
# Full size may take at most this many times the tenth: cost grows with the week, not history.
TARGET_GROWTH = 1.5
SLOW_GENERATION_SECONDS = 600.0
COUNTED_TABLES = (
    "survey_response",
    "survey_delivery",
    "survey_response_history",
    "support_request",
    "request_event",
    "delivery_rating",
    "opportunity",
)
METRIC_FUNCTIONS = (
    "request_stats",
    "satisfaction_stats",
    "pipeline_stats",
    "coverage",
    "goals_for",
    "recent_actions",
)


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------------------
# Profiling: time per metric call and per SQL statement
# --------------------------------------------------------------------------------------

_current_call: contextvars.ContextVar[str] = contextvars.ContextVar("call", default="digest")


@dataclass
class Profile:
    calls: list[tuple[str, float, float]] = field(default_factory=list)  # name, total, sql
    statements: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sql_by_call: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def _statement_key(statement: str) -> str:
    return " ".join(statement.split())[:150]


@contextmanager
def profiling(engine: AsyncEngine, profile: Profile) -> Iterator[None]:
    """Wrap the metric functions bot.kpis.digests calls and time each SQL statement."""
    sync_engine = engine.sync_engine
    starts: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        starts[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = time.perf_counter() - starts.pop(id(cursor), time.perf_counter())
        call = _current_call.get()
        profile.statements[f"[{call.split(' ')[0]}] {_statement_key(statement)}"].append(elapsed)
        profile.sql_by_call[call] += elapsed

    def wrap(name: str, original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            window = kwargs.get("window")
            label = f"{name} {getattr(window, 'label', '') or kwargs.get('quarter', '')}".strip()
            token = _current_call.set(label)
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                _current_call.reset(token)
                profile.calls.append((label, elapsed, profile.sql_by_call.get(label, 0.0)))
                profile.sql_by_call.pop(label, None)

        return timed

    originals = {name: getattr(digests, name) for name in METRIC_FUNCTIONS}
    sa.event.listen(sync_engine, "before_cursor_execute", before)
    sa.event.listen(sync_engine, "after_cursor_execute", after)
    for name, original in originals.items():
        setattr(digests, name, wrap(name, original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(digests, name, original)
        sa.event.remove(sync_engine, "before_cursor_execute", before)
        sa.event.remove(sync_engine, "after_cursor_execute", after)


def print_profile(profile: Profile) -> None:
    say("    profile of one run (wall time; 'sql' = time in the database driver):")
    by_function: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for label, total, sql in profile.calls:
        entry = by_function[label.split(" ")[0]]
        entry[0] += 1
        entry[1] += total
        entry[2] += sql
    for name, (count, total, sql) in sorted(by_function.items(), key=lambda item: -item[1][1]):
        say(
            f"      {name:<20} {int(count):>3} call(s) {total:8.3f} s"
            f"  (sql {sql:7.3f} s, python {total - sql:7.3f} s)"
        )
    slowest = sorted(profile.calls, key=lambda call: -call[1])[:6]
    say("    slowest metric calls:")
    for label, total, sql in slowest:
        say(f"      {total:8.3f} s (sql {sql:7.3f} s)  {label}")
    say("    slowest SQL statements (total over the run, calls, worst):")
    ranked = sorted(profile.statements.items(), key=lambda item: -sum(item[1]))[:8]
    for statement, times in ranked:
        say(f"      {sum(times):8.3f} s {len(times):>3}x max {max(times):6.3f} s  {statement}")


# --------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------


@dataclass
class Target:
    backend: str  # "sqlite" or "postgresql"
    url: str
    cleanup: Callable[[], Awaitable[None]]
    reuse: bool = False


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def sqlite_target(directory: Path, size: str, *, reuse: bool = False) -> Target:
    path = directory / f"bench-{size}.db"
    if not reuse:
        remove_sqlite(path)

    async def cleanup() -> None:
        if reuse:
            say(f"    kept {path}")
            return
        remove_sqlite(path)

    return Target("sqlite", f"sqlite:///{path}", cleanup, reuse=reuse)


async def postgres_target(base_url: str, size: str, *, keep: bool, reuse: bool = False) -> Target:
    """A database of the bench's own on the server of `base_url`, created fresh (or, with
    `reuse`, kept from an earlier run when it exists)."""
    base = make_url(base_url)
    name = f"{base.database or 'alignbot'}_bench_{size}"
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        exists = (
            await connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
        ).first() is not None
        if not (reuse and exists):
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()

    async def cleanup() -> None:
        if keep or reuse:
            say(f"    kept database {name}")
            return
        engine = make_engine(base_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        await engine.dispose()

    url = base.set(database=name).render_as_string(hide_password=False)
    return Target("postgresql", url, cleanup, reuse=reuse)


# --------------------------------------------------------------------------------------
# One measurement
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    size: str
    scale: int
    weeks: int
    counts: dict[str, int]
    generation_seconds: float
    runs: list[tuple[float, float]]  # (support, demandgen) seconds

    @property
    def totals(self) -> list[float]:
        return [support + demandgen for support, demandgen in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.totals)

    @property
    def worst(self) -> float:
        return max(self.totals)


async def measure(
    target: Target,
    *,
    size: str,
    scale: int,
    weeks: int,
    runs: int,
    analyze: bool,
    profile: bool,
) -> Result:
    engine = make_engine(target.url)
    sessions = make_session_factory(engine)
    try:
        await upgrade(engine)
        existing = 0
        if target.reuse:
            async with engine.connect() as connection:
                existing = int(
                    (
                        await connection.execute(sa.text("SELECT count(*) FROM support_request"))
                    ).scalar()
                    or 0
                )
        started = time.perf_counter()
        if existing:
            say(f"  [{target.backend} {size}] reusing the data of an earlier run ({target.url})")
        else:
            say(
                f"  [{target.backend} {size}] generating: reps {REPS} x scale {scale}, "
                f"{weeks} weeks"
            )

            def progress(message: str) -> None:
                say(f"    {time.perf_counter() - started:7.1f} s  {message}")

            async with sessions() as session:
                await generate_demo(
                    session, now=NOW, reps=REPS, scale=scale, weeks=weeks, progress=progress
                )
        generation = time.perf_counter() - started
        if target.backend == "postgresql" or analyze:
            analyze_started = time.perf_counter()
            async with engine.connect() as connection:
                await connection.execute(sa.text("ANALYZE"))
                await connection.commit()
            say(f"    ANALYZE {time.perf_counter() - analyze_started:.1f} s")
        counts: dict[str, int] = {}
        async with engine.connect() as connection:
            for table in COUNTED_TABLES:
                counts[table] = int(
                    (await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()
                    or 0
                )
        say(
            f"    generated in {generation:.1f} s: "
            + ", ".join(f"{table} {count:,}" for table, count in counts.items())
        )
        if generation > SLOW_GENERATION_SECONDS:
            say(f"    NOTE: generation took more than {SLOW_GENERATION_SECONDS / 60:.0f} minutes")

        async with sessions() as session:
            settings = await load_settings(session, TEAM)
        week = period_of(NOW, settings.zone).start
        timings: list[tuple[float, float]] = []
        for run in range(1, runs + 1):
            async with sessions() as session:
                first = time.perf_counter()
                support = await digests.support_digest(
                    session, team_id=TEAM, week_start=week, settings=settings, now=NOW
                )
                second = time.perf_counter()
                demandgen = await digests.demandgen_digest(
                    session, team_id=TEAM, week_start=week, settings=settings, now=NOW
                )
                third = time.perf_counter()
            timings.append((second - first, third - second))
            say(
                f"    run {run}: support {second - first:6.3f} s + demand gen "
                f"{third - second:6.3f} s = {third - first:6.3f} s"
                + (
                    f"  (filed {support.this.filed:,}, coverage "
                    f"{demandgen.coverage.ratio or 0:.2f}x)"
                    if run == 1
                    else ""
                )
            )
        if profile:
            report = Profile()
            with profiling(engine, report):
                async with sessions() as session:
                    await digests.support_digest(
                        session, team_id=TEAM, week_start=week, settings=settings, now=NOW
                    )
                    await digests.demandgen_digest(
                        session, team_id=TEAM, week_start=week, settings=settings, now=NOW
                    )
            print_profile(report)
        return Result(target.backend, size, scale, weeks, counts, generation, timings)
    finally:
        await engine.dispose()
        await target.cleanup()


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def scale_for(responses: int, weeks: int = WEEKS) -> int:
    return max(1, round(responses / (REPS * weeks * RESPONSES_PER_REP_WEEK)))


def shape_of(size: str, responses: int, grow: str) -> tuple[int, int]:
    """(scale, weeks) of a size. `history`: both sizes have the full size's weekly volume, the
    tenth 12 weeks of it and the full 120 weeks (so the full holds ten times the history);
    `people`: both 12 weeks, the full with ten times the people (the earlier shape)."""
    if grow == "history":
        return scale_for(responses, WEEKS * 10), WEEKS * (10 if size == "full" else 1)
    return scale_for(responses if size == "full" else responses // 10), WEEKS


def print_summary(results: list[Result]) -> None:
    say("\n== Both weekly digests (support_digest + demandgen_digest), current week ==")
    say(
        f"{'backend':<11}{'size':<7}{'weeks':>6}{'responses':>11}{'requests':>10}{'generate':>10}"
        f"{'median':>9}{'worst':>9}{'support':>9}{'dg':>8}  target"
    )
    for result in results:
        target = TARGET_SECONDS[result.backend]
        verdict = "ok" if result.worst < target else "MISSED" if result.median >= target else "ok*"
        say(
            f"{result.backend:<11}{result.size:<7}{result.weeks:>6}"
            f"{result.counts['survey_response']:>11,}"
            f"{result.counts['support_request']:>10,}{result.generation_seconds:>9.1f}s"
            f"{result.median:>8.3f}s{result.worst:>8.3f}s"
            f"{statistics.median(run[0] for run in result.runs):>8.3f}s"
            f"{statistics.median(run[1] for run in result.runs):>7.3f}s"
            f"  < {target:g} s {verdict}"
        )
    say("  (median and worst of both digests together; support/dg are medians of each;")
    say("   ok* = median under target but the worst run over it)")
    for backend in TARGET_SECONDS:
        sizes = {result.size: result for result in results if result.backend == backend}
        if "full" in sizes and "tenth" in sizes:
            full, tenth = sizes["full"], sizes["tenth"]
            data = full.counts["survey_response"] / max(tenth.counts["survey_response"], 1)
            say(
                f"growth {backend}: {data:.1f}x the data -> {full.median / tenth.median:.1f}x "
                f"the median time ({tenth.median:.3f} s -> {full.median:.3f} s), generation "
                f"{full.generation_seconds / max(tenth.generation_seconds, 1e-9):.1f}x; "
                f"target <= {TARGET_GROWTH}x: "
                + ("ok" if full.median <= TARGET_GROWTH * tenth.median else "MISSED")
            )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    sizes = ["tenth", "full"] if args.size == "both" else [args.size]
    say(
        f"host: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; now = {NOW.isoformat()}"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="alignbot-bench-") as temporary:
        directory = args.reuse or temporary
        for size in sizes:
            scale, weeks = shape_of(size, args.responses, args.grow)
            name = f"{args.grow}-{size}"
            targets: list[Target] = []
            if not args.no_sqlite:
                targets.append(await sqlite_target(Path(directory), name, reuse=bool(args.reuse)))
            if args.database_url:
                targets.append(
                    await postgres_target(
                        args.database_url, name, keep=args.keep, reuse=bool(args.reuse)
                    )
                )
            for target in targets:
                results.append(
                    await measure(
                        target,
                        size=size,
                        scale=scale,
                        weeks=weeks,
                        runs=args.runs,
                        analyze=args.analyze,
                        profile=not args.no_profile,
                    )
                )
    print_summary(results)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "tenth", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--responses", type=int, default=1_000_000, help="at full size")
    parser.add_argument(
        "--grow",
        choices=["history", "people"],
        default="history",
        help="what the full size has ten times more of (default: weeks of history)",
    )
    parser.add_argument("--database-url", help="postgresql://… to run on PostgreSQL too")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE SQLite after loading")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        help="keep the databases (SQLite files in DIR) and reuse them when they hold data",
    )
    args = parser.parse_args()
    if args.reuse:
        Path(args.reuse).mkdir(parents=True, exist_ok=True)
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
