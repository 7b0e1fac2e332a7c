"""Many workspaces on one replica: every job's tick over 100 / 1,000 / 5,000 OAuth installs.

For each size N (`--sizes`, default 100,1000,5000), in-process and on a fresh database:

- Set-up. The real Bolt app in OAuth mode (bot.app.create_app + create_web_app on a free
  127.0.0.1 port, as tests/support/installs.py serves it) against a fake Slack running in a
  process of its own (bench/_workspaces.py: its CPU is not the bot's, and its rate limits count
  per workspace, as Slack's do: chat.postMessage 300/min, users.list and usergroups.users.list
  20/min, conversations.history 50/min). One workspace is installed through the real OAuth flow
  (/slack/install -> oauth.v2.access -> /slack/oauth_redirect), its settings saved (intake
  channel, the three groups, both digest channels, an admin, America/New_York) and its roster
  synced by the real roster-sync job (20 sales reps, 1 support, 1 demand gen); the other N-1 are
  bulk copies of its rows (workspace, settings, roster, Slack users, slack_installations,
  slack_bots) with their own team ids and bot tokens, and the fake accepts each token for its
  team. Every Slack call the jobs make goes out with that workspace's own token.
- (b) Monday 30 Nov 2026 10:00 New York, the moment both weekly surveys open: one tick of the
  surveys job (jobs.scheduler.run_scheduled). Wall and CPU seconds, survey DMs the fake accepted
  against N x 20 reps x 2 surveys, 429s (the per-workspace limits: none expected, each workspace
  sends 40 DMs), and the deliveries' statuses afterwards.
- (a) Tuesday 1 Dec 15:00, nothing due: for each job of jobs.scheduler.JOBS, CPU
  (time.process_time: every thread of this process, the database driver's included) and wall
  seconds of tick 1 (15:00), tick 2 (the job's next period: 15:30 for roster-sync, ...; what a
  replica runs every interval) and tick 3 (tick 2's period again: every claim already taken, as
  a second replica sees it). The target is judged on the worse of ticks 1 and 2, summed over
  the jobs: < 2 s CPU for 1,000 workspaces, and growing linearly or better (the 100 and 5,000
  rows are judged against 2 s x N/1,000). The daily jobs (roster-sync, retention) serve each
  workspace once a day from its own point in the day: their tick 1 on this fresh database is
  the day's catch-up (every workspace whose point has passed by 15:00), reported but judged on
  tick 2, the half hour's slice a replica runs every tick.
- (c) Monday 7 Dec 10:00, the next week's surveys: while that surveys tick runs, signed `/mktg`
  filings (the real path: each files a request, posts it to the intake channel and confirms by
  response_url) arrive at a steady `--ack-rate` per second (default 20, spread over the first
  20 workspaces so no intake channel goes over Slack's pace) from a separate load process
  (open loop: a stalled server does not slow the sender down). Reported: p50 / p99 / max ack ms
  of the requests sent during the tick, against p99 < 50 ms; the same during `--anchor`
  seconds just before the tick (same load, no tick: the anchor); and the longest event-loop
  stall seen (a 10 ms sleeper's lateness). The ack shares the event loop with the tick, which
  is what "no job tick blocks /mktg acks" asks. The tick's CPU here includes the filings'.
- (d) Monday 14 Dec 10:00, the same under the same load, deployed as two processes on one
  database: the filings go to a real `alignbot run --role web` child process (OAuth mode, the
  same database), the tick runs here as the `--role jobs` process would run it, at its lower
  CPU priority (bot.app.JOBS_NICENESS). Same figures; the stalls and GC pauses are then the
  jobs process's. Skip it with `--no-split`.

The load average is printed at the start and at the end: the figures are only as quiet as the
machine. With `--profile DIR`, each size writes cProfile files of its idle ticks (one per job,
tick 2) and of both Monday ticks to DIR.

Usage: `.venv/bin/python bench/many_workspaces.py [--sizes 100,1000,5000] [--ack-rate 20]
[--anchor 10] [--dm-limit 300] [--profile DIR] [--no-split] [--database-url postgresql://…]`.
A PostgreSQL URL gets a scratch database beside it per size (bench/_harness.py). The exit
status is 0 whenever the benchmark ran: the verdicts are figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from slack_bolt.async_app import AsyncApp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._harness import backend_name, scratch_database  # noqa: E402
from bench._load import (  # noqa: E402
    Acks,
    LoadProcess,
    LoopLag,
    acks_between,
    jobs_priority,
    web_role_process,
)
from bench._workspaces import (  # noqa: E402
    SLACK_LIMITS,
    FakeProcess,
    FakeStats,
    clone_surveys,
    clone_workspace,
)
from bot.app import (  # noqa: E402
    WEB_API_TIMEOUT_SECONDS,
    create_app,
    create_web_app,
    freeze_start_up_heap,
    make_client,
    team_clients,
)
from bot.core.config import Settings  # noqa: E402
from bot.core.db import upgrade  # noqa: E402
from bot.core.deps import Deps  # noqa: E402
from bot.core.models import Role, RosterMember, SurveyDelivery  # noqa: E402
from bot.workspace.installs import list_team_ids  # noqa: E402
from bot.workspace.settings import save_settings  # noqa: E402
from jobs.clients import TeamClients  # noqa: E402
from jobs.roster_sync import sync_team_roster  # noqa: E402
from jobs.scheduler import JOBS, run_scheduled  # noqa: E402
from jobs.surveys import run_team_surveys  # noqa: E402
from sandbox.slack_payloads import SIGNING_SECRET  # noqa: E402
from tests.support.installs import Installer  # noqa: E402

ZONE = ZoneInfo("America/New_York")
SETUP_AT = datetime(2026, 11, 27, 12, 0, tzinfo=ZONE)  # a Friday before
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)  # both surveys' default "mon 10:00"
TUESDAY = datetime(2026, 12, 1, 15, 0, tzinfo=ZONE)  # nothing due
NEXT_MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=ZONE)
MONDAY_AFTER = datetime(2026, 12, 14, 10, 0, tzinfo=ZONE)

TEMPLATE = "T0000000"
REPS = [f"U0REP{n:02d}" for n in range(1, 21)]
MARKETER, DEMANDGEN, ADMIN = "U0MKTG01", "U0DGEN01", "U0ADMIN1"
SALES, SUPPORT, DEMANDGEN_GROUP = "S0SALES", "S0SUPPORT", "S0DEMANDGEN"
INTAKE, SUPPORT_DIGEST, DEMANDGEN_DIGEST, GENERAL = "C0INTAKE", "C0SUPDIG", "C0DGDIG", "C0GENERAL"
SURVEYS = 2  # enablement and pipeline, both due Monday 10:00 by default

IDLE_TARGET_CPU_PER_1000 = 2.0  # seconds, every job's idle tick together
ACK_TARGET_P99_MS = 50.0
LOAD_TEAMS = 20  # the /mktg load is spread over this many workspaces (1 filing/s each at 20/s)
LOAD_WARMUP = 2.0  # seconds of load discarded first (auth.test per token, first-use imports)


def team_id(index: int) -> str:
    return f"T{index:07d}"


def token_of(team: str) -> str:
    return f"xoxb-bench-{team}"


def fake_spec(limits: dict[str, int]) -> dict[str, Any]:
    users = [{"user_id": rep, "name": rep.lower(), "tz": str(ZONE)} for rep in REPS]
    users += [
        {"user_id": MARKETER, "name": "mia.marketing", "tz": str(ZONE)},
        {"user_id": DEMANDGEN, "name": "dan.demandgen", "tz": str(ZONE)},
        {"user_id": ADMIN, "name": "ada.admin", "tz": str(ZONE), "is_admin": True},
    ]
    return {
        "team_id": TEMPLATE,
        "users": users,
        "channels": [
            {"channel_id": INTAKE, "name": "mktg-intake"},
            {"channel_id": SUPPORT_DIGEST, "name": "support-digest"},
            {"channel_id": DEMANDGEN_DIGEST, "name": "demandgen-digest"},
            {"channel_id": GENERAL, "name": "general"},
        ],
        "usergroups": [
            {"usergroup_id": SALES, "handle": "sales", "name": "Sales", "members": REPS},
            {"usergroup_id": SUPPORT, "handle": "mktg", "name": "Support", "members": [MARKETER]},
            {
                "usergroup_id": DEMANDGEN_GROUP,
                "handle": "dg",
                "name": "Demand Gen",
                "members": [DEMANDGEN],
            },
        ],
        "limits": limits,
    }


class Clock:
    """The bot's clock (`deps.clock`), moved by the benchmark from phase to phase."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


class CountingHandler(logging.Handler):
    """Counts the bot's warning lines by message instead of printing thousands of them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {str(record.msg)[:80]}"] += 1


@dataclass
class Tick:
    cpu: float
    wall: float
    calls: Counter[str] = field(default_factory=Counter)


@dataclass
class UnderLoad:
    """One Monday surveys tick with `/mktg` filings arriving meanwhile, in one deployment."""

    tick: Tick
    stats: FakeStats
    anchor: Acks
    during: Acks
    anchor_stall_ms: float
    tick_stall_ms: float
    tick_gc: tuple[float, int, int]


@dataclass
class SizeResult:
    size: int
    setup_s: float = 0.0
    monday: Tick | None = None
    monday_stats: FakeStats | None = None
    monday_statuses: Counter[str] = field(default_factory=Counter)
    idle: dict[str, list[Tick]] = field(default_factory=dict)  # job -> [tick 1, 2, 3]
    one_process: UnderLoad | None = None  # (c) `alignbot run`: acks and the tick share a loop
    split: UnderLoad | None = None  # (d) `--role web` + `--role jobs`: two processes
    warnings: Counter[str] = field(default_factory=Counter)

    def idle_cpu(self, tick: int) -> float:
        return sum(ticks[tick].cpu for ticks in self.idle.values() if len(ticks) > tick)

    def idle_wall(self, tick: int) -> float:
        return sum(ticks[tick].wall for ticks in self.idle.values() if len(ticks) > tick)

    def job_judged(self, name: str) -> float:
        """A job's idle CPU: the worse of ticks 1 and 2 (both are real ticks a lone replica
        runs), except for a job served once a day per workspace (JOBS[name].once_per_minutes):
        its tick 1 on a fresh database is that day's catch-up (every workspace whose point in the
        day has passed: a day of work, not an idle tick), so it is judged on tick 2 alone,
        the slice of workspaces whose point in the day falls in that half hour."""
        ticks = self.idle[name]
        if JOBS[name].once_per_minutes is not None and len(ticks) > 1:
            return ticks[1].cpu
        return max(tick.cpu for tick in ticks[:2])

    @property
    def idle_judged(self) -> float:
        return sum(self.job_judged(name) for name in self.idle)

    @property
    def full(self) -> bool:
        return all(len(ticks) == 3 for ticks in self.idle.values())

    @property
    def ticks_run(self) -> int:
        return min((len(ticks) for ticks in self.idle.values()), default=0)


# ----------------------------------------------------------------------------- load process


@contextlib.asynccontextmanager
async def served_app(deps: Deps) -> AsyncIterator[tuple[str, AsyncApp]]:
    """The real app behind the real aiohttp server on a free port, with one keep-alive Web API
    session as `alignbot run` (bot.app.serve) has: (its base URL, the Bolt app)."""
    timeout = aiohttp.ClientTimeout(total=WEB_API_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        app = create_app(deps, client=make_client(deps, session=http))
        runner = web.AppRunner(create_web_app(app, deps))
        freeze_start_up_heap()  # as bot.app.serve does before traffic
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}", app
        finally:
            await runner.cleanup()


# ----------------------------------------------------------------------------- measuring


@contextlib.contextmanager
def profiled(directory: Path | None, name: str) -> Any:
    if directory is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(directory / f"{name}.prof")


async def timed(work: Awaitable[None]) -> Tick:
    wall, cpu = time.perf_counter(), time.process_time()
    await work
    return Tick(cpu=time.process_time() - cpu, wall=time.perf_counter() - wall)


async def delivery_statuses(deps: Deps) -> Counter[str]:
    async with deps.engine.connect() as connection:
        rows = await connection.execute(
            sa.select(SurveyDelivery.status, sa.func.count()).group_by(SurveyDelivery.status)  # type: ignore[arg-type]
        )
        return Counter({str(status): int(n) for status, n in rows.all()})


async def set_up(deps: Deps, fake: FakeProcess, base_url: str, app: Any, size: int) -> None:
    """One workspace through the real OAuth flow, settings and roster sync; N-1 bulk copies."""
    status, page = await Installer(base_url, fake).install(  # type: ignore[arg-type]
        "code-template",
        team_id=TEMPLATE,
        bot_token=token_of(TEMPLATE),
        team_name=f"Workspace {TEMPLATE}",
    )
    if status != 200:
        raise SystemExit(f"the OAuth install failed: HTTP {status} {page[:300]}")
    async with deps.sessions() as session:
        await save_settings(
            session,
            team_id=TEMPLATE,
            changes={
                "intake_channel": INTAKE,
                "support_digest_channel": SUPPORT_DIGEST,
                "demandgen_digest_channel": DEMANDGEN_DIGEST,
                "sales_usergroup": SALES,
                "support_usergroup": SUPPORT,
                "demandgen_usergroup": DEMANDGEN_GROUP,
                "admins": [ADMIN],
                "timezone": str(ZONE),
            },
            updated_by=ADMIN,
            now=deps.clock(),
        )
    clients = team_clients(deps, app)
    client = await clients.for_team(TEMPLATE)
    assert client is not None
    counts = await sync_team_roster(deps, client, team_id=TEMPLATE, now=deps.clock())
    if counts.get(Role.SALES.value) != len(REPS):
        raise SystemExit(f"the template's roster sync wrote {counts}")
    teams = [(team_id(index), token_of(team_id(index))) for index in range(1, size)]
    await fake.grant(teams)
    await clone_workspace(deps.engine, app.installation_store, template=TEMPLATE, teams=teams)
    async with deps.sessions() as session:
        installed = await list_team_ids(session)
        reps = (
            await session.exec(
                sa.select(sa.func.count()).where(RosterMember.role == Role.SALES)  # type: ignore[arg-type,call-overload]
            )
        ).one()
    if len(installed) != size or int(reps[0]) != size * len(REPS):
        raise SystemExit(f"set-up: {len(installed)} workspaces, {reps[0]} sales reps")


async def idle_ticks(
    deps: Deps,
    clients: TeamClients,
    fake: FakeProcess,
    clock: Clock,
    profile: Path | None,
    size: int,
    count: int,
) -> dict[str, list[Tick]]:
    results: dict[str, list[Tick]] = {}
    for name, job in JOBS.items():
        moments = [TUESDAY, TUESDAY + timedelta(minutes=job.minutes)]
        moments.append(moments[1])  # the same period again: claimed already
        ticks: list[Tick] = []
        for number, moment in enumerate(moments[:count], 1):
            clock.now = moment
            await fake.stats()
            with profiled(profile if number == min(count, 2) else None, f"idle-{size}-{name}"):
                tick = await timed(run_scheduled(deps, clients, name, moment.astimezone(UTC)))
            stats, _ = await fake.stats()
            tick.calls = stats.by_method()
            ticks.append(tick)
        results[name] = ticks
    return results


async def drain(fake: FakeProcess, quiet: float = 1.0, limit: float = 600.0) -> None:
    """Wait until the filings' post-ack work is done: no Slack call for `quiet` seconds (a
    backlog left by a saturated process would otherwise run into the next measurement)."""
    started = time.monotonic()
    while time.monotonic() < started + limit:
        await asyncio.sleep(quiet)
        stats, _ = await fake.stats()
        if not stats.calls:
            waited = time.monotonic() - started
            if waited > 5:
                print(f"  (the filings' post-ack backlog took {waited:.0f} s to drain)")
            return
    print(f"  (the filings' post-ack work still running after {limit:.0f} s)")


async def tick_under_load(
    deps: Deps,
    clients: TeamClients,
    fake: FakeProcess,
    base_url: str,
    moment: datetime,
    arguments: argparse.Namespace,
    size: int,
    *,
    as_jobs: bool = False,
) -> UnderLoad:
    """A surveys tick at `moment` (in this process) while the load process files `/mktg` at
    `base_url` at a steady rate; the acks before the tick are the anchor."""
    lag = LoopLag()
    lag.start()
    load = LoadProcess(
        {
            "url": f"{base_url}/slack/events",
            "rate": arguments.ack_rate,
            "teams": [team_id(index) for index in range(min(size, LOAD_TEAMS))],
            "users": REPS,
            "channel": GENERAL,
            "due_from": (moment + timedelta(days=3)).date().isoformat(),
            "response_base": f"{fake.origin}/response_url",
        }
    )
    await load.start()
    try:
        await asyncio.sleep(LOAD_WARMUP + arguments.anchor)
        await fake.stats()
        tick_start = time.time()
        with (
            profiled(arguments.profile, f"monday-under-load-{size}-{moment:%d}"),
            jobs_priority() if as_jobs else contextlib.nullcontext(),
        ):
            tick = await timed(run_scheduled(deps, clients, "surveys", moment.astimezone(UTC)))
        tick_end = time.time()
        stats, _ = await fake.stats()
    finally:
        answers = await load.stop()
        await lag.stop()
    await drain(fake)
    anchor_start = load.started + LOAD_WARMUP
    return UnderLoad(
        tick=tick,
        stats=stats,
        anchor=acks_between(answers, anchor_start, tick_start),
        during=acks_between(answers, tick_start, tick_end),
        anchor_stall_ms=lag.worst_ms(anchor_start, tick_start),
        tick_stall_ms=lag.worst_ms(tick_start, tick_end),
        tick_gc=lag.worst_gc(tick_start, tick_end),
    )


async def measure_size(
    size: int, database_url: str, fake: FakeProcess, arguments: argparse.Namespace
) -> SizeResult:
    result = SizeResult(size=size)
    profile: Path | None = arguments.profile
    clock = Clock(SETUP_AT)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=None,
        slack_client_id=fake.client_id,
        slack_client_secret=fake.client_secret,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.url,
        database_url=database_url,
        scheduler_enabled=False,
        log_level="WARNING",
    )
    deps = Deps.from_settings(settings, clock=clock)
    counting = CountingHandler()
    logging.getLogger().addHandler(counting)
    try:
        await upgrade(deps.engine)
        async with served_app(deps) as (base_url, app):
            clients = team_clients(deps, app)
            started = time.perf_counter()
            await set_up(deps, fake, base_url, app, size)
            result.setup_s = time.perf_counter() - started
            print(f"  set-up {result.setup_s:.1f} s", flush=True)

            if size > arguments.full_up_to:
                # Ticks 1-2 of each job only, and no Monday ticks (see --full-up-to): this week's
                # surveys are the template's, sent at 10:00 and copied to every workspace.
                clock.now = MONDAY
                client = await clients.for_team(TEMPLATE)
                await run_team_surveys(deps, client, team_id=TEMPLATE, now=MONDAY.astimezone(UTC))
                others = [team_id(index) for index in range(1, size)]
                await clone_surveys(deps.engine, template=TEMPLATE, teams=others)
                await fake.stats()
                result.idle = await idle_ticks(deps, clients, fake, clock, profile, size, 2)
                return result

            # (b) Monday 10:00: both surveys open, N x 20 x 2 DMs due.
            clock.now = MONDAY
            await fake.stats()
            with profiled(profile, f"monday-{size}"):
                result.monday = await timed(
                    run_scheduled(deps, clients, "surveys", MONDAY.astimezone(UTC))
                )
            result.monday_stats, _ = await fake.stats()
            result.monday_statuses = await delivery_statuses(deps)
            print(f"  Monday tick {result.monday.wall:.1f} s", flush=True)

            # (a) Tuesday 15:00: nothing due.
            result.idle = await idle_ticks(deps, clients, fake, clock, profile, size, 3)
            print(f"  idle ticks {sum(t.wall for ts in result.idle.values() for t in ts):.1f} s")

            # (c) next Monday 10:00 under a steady /mktg load, acks in this process.
            clock.now = NEXT_MONDAY
            result.one_process = await tick_under_load(
                deps, clients, fake, base_url, NEXT_MONDAY, arguments, size
            )
            print(f"  Monday tick under load, one process {result.one_process.tick.wall:.1f} s")
            # (d) the Monday after, acks in a `--role web` process of their own.
            if arguments.split:
                clock.now = MONDAY_AFTER
                async with web_role_process(settings) as web_url:
                    result.split = await tick_under_load(
                        deps, clients, fake, web_url, MONDAY_AFTER, arguments, size, as_jobs=True
                    )
    finally:
        logging.getLogger().removeHandler(counting)
        await deps.engine.dispose()
    result.warnings = counting.counts
    return result


async def run_size(size: int, arguments: argparse.Namespace) -> SizeResult:
    limits = {**SLACK_LIMITS, "chat.postMessage": arguments.dm_limit}
    with tempfile.TemporaryDirectory() as workdir:
        database: contextlib.AbstractAsyncContextManager[str]
        if arguments.database_url and arguments.database_url.startswith("postgres"):
            database = scratch_database(arguments.database_url)
        else:
            database = contextlib.nullcontext(f"sqlite:///{workdir}/bench.db")
        async with database as url:
            fake = FakeProcess(fake_spec(limits))
            await fake.start()
            try:
                return await measure_size(size, url, fake, arguments)
            finally:
                await fake.stop()


# ----------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report_size(result: SizeResult, arguments: argparse.Namespace) -> None:
    n = result.size
    print(
        f"\n== {n:,} workspaces: set-up {result.setup_s:.1f} s (1 OAuth install, {n - 1:,} copies)"
    )
    print("  (a) idle tick, Tue 15:00, nothing due: CPU s / wall s  [Slack calls]")
    print(
        f"  {'job':<15}{'tick 1 (15:00)':>26}{'tick 2 (next period)':>26}{'tick 3 (claimed)':>22}"
    )
    for name, ticks in result.idle.items():
        cells = [
            f"{tick.cpu:6.2f} / {tick.wall:6.2f} [{sum(tick.calls.values()):>5}]" for tick in ticks
        ] + ["-"] * (3 - len(ticks))
        print(f"  {name:<15}{cells[0]:>26}{cells[1]:>26}{cells[2]:>22}")
    sums = [f"{result.idle_cpu(i):6.2f} / {result.idle_wall(i):6.2f}        " for i in range(3)]
    sums[result.ticks_run :] = ["-"] * (3 - result.ticks_run)
    print(f"  {'all jobs':<15}{sums[0]:>26}{sums[1]:>26}{sums[2]:>22}")
    target = IDLE_TARGET_CPU_PER_1000 * n / 1000
    print(
        f"  idle CPU, all jobs (worse of ticks 1-2; tick 2 for the daily ones): "
        f"{result.idle_judged:.2f} s = "
        f"{1000 * result.idle_judged / n:.2f} s per 1,000 workspaces; target < "
        f"{target:.2f} s ({IDLE_TARGET_CPU_PER_1000:g} s per 1,000) -> "
        f"{verdict(result.idle_judged < target)}"
    )
    calls = Counter[str]()
    for ticks in result.idle.values():
        calls.update(ticks[min(1, len(ticks) - 1)].calls)
    print(f"  Slack calls in tick {min(2, result.ticks_run)}: {dict(calls.most_common())}")
    if not result.full:
        print(
            f"  (tick 3 and the Monday ticks (b), (c) skipped above --full-up-to "
            f"{arguments.full_up_to:,}: at ~2-4 ms CPU per DM, {n * len(REPS) * SURVEYS:,} DMs "
            "would take longer than the run should; this week's survey rows are copies)"
        )
    if result.monday is not None and result.monday_stats is not None:
        stats = result.monday_stats
        expected = n * len(REPS) * SURVEYS
        dms = sum(stats.dms_by_team.values())
        per_team = [stats.dms_by_team.get(team_id(i), 0) for i in range(n)]
        print(
            f"  (b) Monday 10:00 surveys tick: wall {result.monday.wall:.1f} s, CPU "
            f"{result.monday.cpu:.1f} s; DMs {dms:,} of {expected:,} due "
            f"({dms / max(result.monday.wall, 1e-9):.0f}/s, {1000 * result.monday.cpu / max(dms, 1):.2f}"
            f" ms CPU each); per workspace {min(per_team)}-{max(per_team)}; 429s "
            f"{stats.count('chat.postMessage', status=429)} (limit {arguments.dm_limit}/min per "
            f"workspace) -> pacing {verdict(not stats.limited_by_team)}"
        )
        print(f"      deliveries after: {dict(result.monday_statuses)}")
        errors = stats.errors()
        if errors:
            print(f"      Slack errors: {dict(errors.most_common(5))}")
    for label, measured, where in (
        ("(c)", result.one_process, "one process (`alignbot run`): the tick shares the acks' loop"),
        ("(d)", result.split, "`--role web` + `--role jobs`: the tick in its own process"),
    ):
        if measured is not None:
            report_under_load(label, measured, where, arguments)
    if result.warnings:
        print(f"  log warnings: {dict(result.warnings.most_common(4))}")


def report_under_load(
    label: str, measured: UnderLoad, where: str, arguments: argparse.Namespace
) -> None:
    dms = sum(measured.stats.dms_by_team.values())
    # The stalls and pauses are this process's: the acks' own loop in (c), the jobs' in (d).
    loop = "loop" if label == "(c)" else "the jobs process's loop"
    print(
        f"  {label} a Monday surveys tick under {arguments.ack_rate:g} /mktg a second, {where}: "
        f"wall {measured.tick.wall:.1f} s, CPU {measured.tick.cpu:.1f} s, {dms:,} DMs"
    )
    print(
        f"      /mktg ack during the tick:  {measured.during.line()}; {loop} stall max "
        f"{measured.tick_stall_ms:.0f} ms; longest GC pause {measured.tick_gc[0]:.0f} ms "
        f"(generation {measured.tick_gc[1]}, of {measured.tick_gc[2]} collections)"
    )
    print(
        f"      anchor, no tick ({arguments.anchor:g} s): {measured.anchor.line()}; loop stall "
        f"max {measured.anchor_stall_ms:.0f} ms"
    )
    ok = not measured.during.failed and measured.during.stat(0.99) < ACK_TARGET_P99_MS
    print(f"      target p99 ack < {ACK_TARGET_P99_MS:g} ms during the tick -> {verdict(ok)}")


def report_growth(results: Sequence[SizeResult]) -> None:
    if len(results) < 2:
        return
    print("\ngrowth of the idle tick (all jobs, as judged above) and of the Monday tick:")
    base = results[0]
    for result in results:
        ratio = result.size / base.size
        idle = result.idle_judged / base.idle_judged if base.idle_judged else float("nan")
        monday = (
            result.monday.cpu / base.monday.cpu
            if result.monday and base.monday and base.monday.cpu
            else float("nan")
        )
        print(
            f"  {result.size:>6,} workspaces: x{ratio:<5g} size -> idle CPU x{idle:.2f} "
            f"({'linear or better' if idle <= ratio * 1.15 else 'WORSE than linear'}), "
            f"Monday CPU x{monday:.2f}"
        )


async def main(arguments: argparse.Namespace) -> None:
    load_avg = os.getloadavg()
    print(
        f"many workspaces on one replica, {backend_name(arguments.database_url)}, sizes "
        f"{arguments.sizes}; {os.cpu_count()} CPUs, load average (1 min) at start "
        f"{load_avg[0]:.2f}",
        flush=True,
    )
    logging.getLogger().setLevel(logging.WARNING)
    started = time.monotonic()
    results: list[SizeResult] = []
    for size in arguments.sizes:
        print(f"-- {size:,} workspaces", flush=True)
        result = await run_size(size, arguments)
        results.append(result)
        report_size(result, arguments)
    report_growth(results)
    load_avg = os.getloadavg()
    print(
        f"\nload average (1 min) at the end {load_avg[0]:.2f} "
        f"(5 min {load_avg[1]:.2f}); whole run {time.monotonic() - started:.0f} s"
    )


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 or size > 100_000 for size in sizes):
        raise argparse.ArgumentTypeError("sizes are 1 to 100,000, comma separated")
    return sizes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=parse_sizes, default=[100, 1000, 5000])
    parser.add_argument("--ack-rate", type=float, default=20.0, help="/mktg a second")
    parser.add_argument("--anchor", type=float, default=10.0, help="seconds of load, no tick")
    parser.add_argument(
        "--dm-limit",
        type=int,
        default=SLACK_LIMITS["chat.postMessage"],
        help="chat.postMessage a minute per workspace",
    )
    parser.add_argument(
        "--full-up-to",
        type=int,
        default=1000,
        help="larger sizes run ticks 1-2 of each job only, no Monday ticks (default 1000)",
    )
    parser.add_argument("--profile", type=Path, help="write cProfile files to this directory")
    parser.add_argument(
        "--no-split",
        dest="split",
        action="store_false",
        help="skip (d), the Monday tick with acks in a `--role web` process of their own",
    )
    parser.add_argument("--database-url", help="postgresql://… (default: a temp SQLite file)")
    arguments = parser.parse_args()
    if arguments.profile is not None:
        arguments.profile.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(arguments))
