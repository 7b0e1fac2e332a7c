"""Survey fan-out under a Slack-like rate limit: N survey DMs, none lost, none twice.

In-process: a FakeSlack enforcing a per-minute limit on chat.postMessage, Settings/Deps built as
tests/conftest.py does, a workspace whose sales roster holds N reps (written straight into the
database), then `jobs.surveys.run_team_surveys` at Monday 10:05 workspace time, run again at once
whenever due deliveries are still pending (the 5-minute scheduler would do that in production).
Prints wall time against the least time the limit allows, DMs lost and duplicated, and the 429s.

The fake's limit is a sliding 60 s window of accepted calls, so L DMs go through at once and only
the DMs beyond each multiple of L wait: the bound for M DMs is 60 s x (ceil(M / L) - 1), and it is
0 when M <= L. Real Slack allows a few hundred chat.postMessage a minute per workspace (8+ minutes
for 5,000 DMs); the default L = 3,000/min scales that up so 5,000 DMs need exactly one extra
window (a 60 s bound); the run then takes 64-70 s on 2 CPUs, depending on what else runs. The
last window refills only as fast as the bot used the first, so the "pace-aware floor" (bound +
the time the bot takes to send the last window's DMs at its own unthrottled pace) is printed too.

The fake Slack runs in a process of its own by default, as Slack does: in-process, the fake's
own work per call (validating blocks, copying messages, recording calls) would take the bot's
CPU and halve its pace. `--fake-in-process` measures the old way.

Usage: `.venv/bin/python bench/survey_fanout.py [--recipients N] [--per-minute L]
[--both-surveys] [--timeout S] [--no-timeline] [--fake-in-process]
[--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import make_client  # noqa: E402
from bot.core.config import Settings  # noqa: E402
from bot.core.db import upgrade  # noqa: E402
from bot.core.deps import Deps  # noqa: E402
from bot.core.models import DeliveryStatus, Role, SurveyDelivery, SurveyRun  # noqa: E402
from bot.workspace.installs import ensure_workspace  # noqa: E402
from bot.workspace.roster import replace_role_members  # noqa: E402
from bot.workspace.settings import save_settings  # noqa: E402
from jobs.surveys import FAN_OUT_CONCURRENCY, run_team_surveys  # noqa: E402
from sandbox.fakeslack import Call, FakeSlack  # noqa: E402
from sandbox.slack_payloads import SIGNING_SECRET  # noqa: E402

WORKSPACE_TZ = "America/Los_Angeles"
SALES_GROUP = "S0SALES"
WINDOW_SECONDS = 60.0  # FakeSlack.enforce_rate_limits counts accepted calls over a sliding 60 s
# Monday 30 Nov 2026, 10:05 in Los Angeles: five minutes after the default `mon 10:00` schedule.
NOW = datetime(2026, 11, 30, 10, 5, tzinfo=ZoneInfo(WORKSPACE_TZ))


class CountingHandler(logging.Handler):
    """Counts the bot's log lines by message instead of printing thousands of them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {record.msg}"] += 1


def rate_limit_bound(messages: int, per_minute: int) -> float:
    """Least seconds from the first accepted DM to the last under the fake's limit.

    The fake accepts a call when fewer than `per_minute` calls were accepted in the last 60 s,
    so the first `per_minute` can go at once and DM number k (1-based) no earlier than
    60 * floor((k - 1) / per_minute) s after the first: 60 * (ceil(M / L) - 1) for the last.
    """
    return WINDOW_SECONDS * (math.ceil(messages / per_minute) - 1)


def button_values(blocks: Any) -> Iterator[str]:
    if isinstance(blocks, dict):
        if blocks.get("type") == "button" and isinstance(blocks.get("value"), str):
            yield blocks["value"]
        for value in blocks.values():
            yield from button_values(value)
    elif isinstance(blocks, list):
        for item in blocks:
            yield from button_values(item)


def run_id_of(call: Call) -> int | None:
    """The survey run a DM belongs to: its buttons carry `<run id>` or `<run id>:<choice>`."""
    for value in button_values(call.params.get("blocks")):
        head = value.split(":", 1)[0]
        if head.isdigit():
            return int(head)
    return None


def _serve_fake(
    conn: Connection, team_id: str, recipients: list[str], per_minute: int
) -> None:  # pragma: no cover - runs in the child process
    """The fake Slack in a process of its own: sends its URL, then its calls when told to stop."""

    async def serve() -> None:
        fake = FakeSlack(team_id=team_id)
        for user_id in recipients:
            fake.add_user(user_id)
        fake.enforce_rate_limits({"chat.postMessage": per_minute})
        await fake.start()
        conn.send(fake.url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send((fake.calls_to("chat.postMessage"), time.process_time()))
        await fake.stop()

    asyncio.run(serve())


class FakeInProcess:
    """The fake Slack in the bot's own process (`--fake-in-process`)."""

    def __init__(self, team_id: str, recipients: list[str], per_minute: int) -> None:
        self.fake = FakeSlack(team_id=team_id)
        self.recipients = recipients
        self.per_minute = per_minute
        self.url = ""

    async def start(self) -> None:
        for user_id in self.recipients:
            self.fake.add_user(user_id)
        await self.fake.start()
        self.url = self.fake.url

    def begin_limits(self) -> None:
        self.fake.enforce_rate_limits({"chat.postMessage": self.per_minute})

    async def stop(self) -> tuple[list[Call], float | None]:
        calls = self.fake.calls_to("chat.postMessage")
        await self.fake.stop()
        return calls, None


class FakeInChild:
    """The fake Slack in a child process: its CPU is not the bot's, as with Slack."""

    def __init__(self, team_id: str, recipients: list[str], per_minute: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve_fake, args=(child, team_id, recipients, per_minute), daemon=True
        )
        self.url = ""

    async def start(self) -> None:
        self.process.start()
        self.url = str(await asyncio.get_running_loop().run_in_executor(None, self.conn.recv))

    def begin_limits(self) -> None:
        """Enforced from the start: preparing the workspace makes no Slack calls."""

    async def stop(self) -> tuple[list[Call], float | None]:
        """The calls the fake received, and the CPU seconds it used."""
        loop = asyncio.get_running_loop()
        self.conn.send("stop")
        calls, cpu = await loop.run_in_executor(None, self.conn.recv)
        await loop.run_in_executor(None, self.process.join, 30)
        return calls, float(cpu)


async def prepare(deps: Deps, *, team_id: str, recipients: list[str], both: bool) -> None:
    await upgrade(deps.engine)
    changes: dict[str, Any] = {
        "timezone": WORKSPACE_TZ,
        "sales_usergroup": SALES_GROUP,
        "surveys_enabled": True,
        "survey_local_time": False,  # everyone due at the workspace's Monday 10:00
        "enablement_survey_schedule": "mon 10:00",
        # One survey by default: the pipeline survey is planned too, but due only on Friday.
        "pipeline_survey_schedule": "mon 10:00" if both else "fri 10:00",
    }
    async with deps.sessions() as session:
        await ensure_workspace(session, team_id=team_id, enterprise_id=None, now=deps.clock())
        await save_settings(
            session, team_id=team_id, changes=changes, updated_by=None, now=deps.clock()
        )
        await replace_role_members(
            session, team_id=team_id, role=Role.SALES, user_ids=recipients, now=deps.clock()
        )


async def deliveries(deps: Deps, team_id: str) -> tuple[dict[int, set[str]], Counter[str]]:
    """run id -> recipients whose DM was due at NOW; and the statuses of the rest (not due)."""
    async with deps.sessions() as session:
        rows = await session.exec(
            select(
                SurveyDelivery.run_id,
                SurveyDelivery.user_id,
                SurveyDelivery.send_at,
                SurveyDelivery.status,
            ).where(SurveyDelivery.team_id == team_id)
        )
        due: dict[int, set[str]] = {}
        later: Counter[str] = Counter()
        for run_id, user_id, send_at, status in rows.all():
            if send_at <= NOW:
                due.setdefault(run_id, set()).add(user_id)
            else:
                later[str(status)] += 1
        return due, later


async def due_statuses(deps: Deps, team_id: str) -> Counter[str]:
    async with deps.sessions() as session:
        rows = await session.exec(
            select(SurveyDelivery.status, sa.func.count())
            .where(SurveyDelivery.team_id == team_id, col(SurveyDelivery.send_at) <= NOW)
            .group_by(col(SurveyDelivery.status))
        )
        return Counter({str(status): int(count) for status, count in rows.all()})


async def pending_due(deps: Deps, team_id: str) -> int:
    async with deps.sessions() as session:
        rows = await session.exec(
            select(sa.func.count()).where(
                SurveyDelivery.team_id == team_id,
                col(SurveyDelivery.status) == DeliveryStatus.PENDING,
                col(SurveyDelivery.send_at) <= NOW,
            )
        )
        return int(rows.one())


async def failure_reasons(deps: Deps, team_id: str) -> Counter[str]:
    async with deps.sessions() as session:
        rows = await session.exec(
            select(SurveyDelivery.error).where(
                SurveyDelivery.team_id == team_id,
                col(SurveyDelivery.status) == DeliveryStatus.FAILED,
            )
        )
        return Counter(str(error) for error in rows.all())


async def run_kinds(deps: Deps, team_id: str) -> dict[int, str]:
    async with deps.sessions() as session:
        rows = await session.exec(
            select(SurveyRun.id, SurveyRun.kind).where(SurveyRun.team_id == team_id)
        )
        return {int(run_id): str(kind) for run_id, kind in rows.all() if run_id is not None}


def timeline(accepted: list[float], refused: list[float], start: float, step: float) -> list[str]:
    """Accepted DMs and 429s per `step` seconds since `start` (epoch seconds)."""
    if not accepted and not refused:
        return []
    end = max(accepted + refused)
    buckets = int((end - start) // step) + 1
    ok = Counter(int((moment - start) // step) for moment in accepted)
    limited = Counter(int((moment - start) // step) for moment in refused)
    return [
        f"    {index * step:6.0f}-{(index + 1) * step:<4.0f}s  DMs {ok[index]:6d}  429s {limited[index]:6d}"
        for index in range(buckets)
        if ok[index] or limited[index]
    ]


async def main(arguments: argparse.Namespace) -> int:
    recipients_n: int = arguments.recipients
    per_minute: int = arguments.per_minute
    team_id = "T" + secrets.token_hex(4).upper()  # fresh per run: a shared PostgreSQL is not wiped
    recipients = [f"U{index:08d}" for index in range(1, recipients_n + 1)]

    log_counts = CountingHandler()
    logging.getLogger().addHandler(log_counts)
    logging.getLogger().setLevel(logging.WARNING)

    fake: FakeInProcess | FakeInChild = (
        FakeInProcess(team_id, recipients, per_minute)
        if arguments.fake_in_process
        else FakeInChild(team_id, recipients, per_minute)
    )
    await fake.start()
    posts: list[Call] = []
    fake_cpu: float | None = None
    workdir = tempfile.TemporaryDirectory()
    database_url = arguments.database_url or f"sqlite:///{workdir.name}/bench.db"
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=fake.url,
        database_url=database_url,
        scheduler_enabled=False,
    )
    # The job's own `now` and the deps clock agree (as under the scheduler): Monday 10:05.
    deps = Deps.from_settings(settings, clock=lambda: NOW)
    try:
        await prepare(deps, team_id=team_id, recipients=recipients, both=arguments.both_surveys)
        client = make_client(deps)
        fake.begin_limits()

        rounds = 0
        started_wall = time.time()
        started = time.monotonic()
        started_cpu = time.process_time()
        while True:
            rounds += 1
            await run_team_surveys(deps, client, team_id=team_id, now=NOW)
            left = await pending_due(deps, team_id)
            if not left or time.monotonic() - started > arguments.timeout:
                break
        wall = time.monotonic() - started
        bot_cpu = time.process_time() - started_cpu

        due, later = await deliveries(deps, team_id)
        statuses = await due_statuses(deps, team_id)
        kinds = await run_kinds(deps, team_id)
        reasons = await failure_reasons(deps, team_id)
    finally:
        await deps.engine.dispose()
        posts, fake_cpu = await fake.stop()
        workdir.cleanup()

    accepted = [call for call in posts if call.status == 200 and call.ok]
    refused_429 = [call for call in posts if call.status == 429]
    other_errors = Counter(
        str(call.response.get("error")) for call in posts if call.status != 429 and not call.ok
    )
    dms: Counter[tuple[int | None, str]] = Counter(
        (run_id_of(call), str(call.params.get("channel"))) for call in accepted
    )
    expected = {(run_id, user) for run_id, users in due.items() for user in users}
    messages = len(expected)
    lost = sorted(expected - set(dms))
    duplicated = {key: count for key, count in dms.items() if count > 1}
    unexpected = sorted(key for key in dms if key not in expected)

    accepted_times = sorted(float(call.response["ts"]) for call in accepted)
    # A 429 has no ts: place it between its neighbours in the log by the nearest accepted DM.
    refused_times: list[float] = []
    last_ts = started_wall
    for call in posts:
        if call.status == 200 and call.ok:
            last_ts = float(call.response["ts"])
        elif call.status == 429:
            refused_times.append(last_ts)
    first_dm = accepted_times[0] if accepted_times else started_wall
    span = accepted_times[-1] - first_dm if accepted_times else 0.0
    first_window = [moment for moment in accepted_times if moment < first_dm + WINDOW_SECONDS]
    burst = first_window[-1] - first_window[0] if len(first_window) > 1 else 0.0

    bound = rate_limit_bound(messages, per_minute) if messages else 0.0
    database = "PostgreSQL" if database_url.startswith(("postgresql", "postgres")) else "SQLite"
    print("Survey fan-out against the fake Slack (in-process, jobs.surveys.run_team_surveys)")
    print(f"  database            {database}")
    where = "in the bot's process" if arguments.fake_in_process else "in a process of its own"
    print(f"  fake Slack          {where}")
    print(f"  recipients          {recipients_n}")
    surveys = ", ".join(
        f"{kinds.get(run_id, '?')} ({len(users)} due)" for run_id, users in sorted(due.items())
    )
    print(f"  surveys due         {surveys or 'none'}")
    print(f"  DMs expected        {messages}")
    print(
        f"  rate limit          chat.postMessage {per_minute}/min, sliding 60 s window of accepted "
        f"calls (FakeSlack.enforce_rate_limits)"
    )
    print(f"  fan-out concurrency jobs.surveys.FAN_OUT_CONCURRENCY = {FAN_OUT_CONCURRENCY}")
    print(f"  job runs            {rounds} (re-run at once while due deliveries were pending)")
    pace = (len(first_window) - 1) / burst if len(first_window) > 1 and burst > 0 else 0.0
    print()
    print(f"  wall time           {wall:8.2f} s   (first job run start -> last job run end)")
    print(f"    start->first DM   {first_dm - started_wall:8.2f} s   (settings, run, planning)")
    print(f"    first->last DM    {span:8.2f} s")
    tail = wall - (first_dm - started_wall) - span
    print(f"    last DM->end      {tail:8.2f} s   (marking sent, the other survey, reminders)")
    print(f"  CPU, bot process    {bot_cpu:8.2f} s   (during the job runs)")
    if fake_cpu is not None:
        print(f"  CPU, fake Slack     {fake_cpu:8.2f} s   (its whole life, in its own process)")
    print(f"  load average        {' '.join(f'{x:.2f}' for x in os.getloadavg())}   (1, 5, 15 min)")
    print(
        f"  rate-limit bound    {bound:8.2f} s   = 60 s x (ceil(M / L) - 1), M={messages}, L={per_minute}"
    )
    print(
        "                                   (the sliding window lets L DMs through at once, then "
        "DM k no earlier"
    )
    print("                                    than 60 x floor((k-1)/L) s after the first)")
    if bound > 0:
        ratio = wall / bound
        verdict = "OK" if ratio <= 1.1 else "ABOVE TARGET"
        print(f"  wall / bound        {ratio:8.3f}     (target <= 1.1: {verdict})")
        print(f"  DM span / bound     {span / bound:8.3f}")
    else:
        print(
            f"  wall / bound             n/a     ({messages} DMs fit in one window of {per_minute}: "
            "the limit never bites; throughput alone bounds the run)"
        )
    if pace:
        print(
            f"  unthrottled pace    {pace:8.0f} DMs/s   (first window: {len(first_window)} DMs "
            f"in {burst:.2f} s)"
        )
        # Each window can only replay the previous one 60 s later, at the pace the bot sends:
        # the last DM then comes 60 x (ceil(M/L) - 1) + ((M - 1) mod L) / pace after the first.
        floor = bound + ((messages - 1) % per_minute) / pace if messages else 0.0
        print(
            f"  pace-aware floor    {floor:8.2f} s   = bound + ((M-1) mod L) / pace: the last "
            "window refills only"
        )
        print(
            "                                   as fast as the first was used; "
            f"DM span / floor = {span / floor if floor else float('nan'):.3f}"
        )
    print()
    print(f"  DMs accepted        {len(accepted)}")
    print(f"  DMs lost            {len(lost):8d}   (due recipients with no DM; must be 0)")
    print(
        f"  DMs duplicated      {len(duplicated):8d}   (recipients with > 1 DM of a run; must be 0)"
    )
    if unexpected:
        print(
            f"  DMs not due         {len(unexpected):8d}   (DMs to no due delivery, e.g. reminders)"
        )
    print(f"  429s returned       {len(refused_429):8d}")
    if other_errors:
        print(f"  other errors        {dict(other_errors)}")
    print(f"  due deliveries      {dict(sorted(statuses.items()))}")
    if later:
        print(f"  not yet due         {dict(sorted(later.items()))}   (other survey, due later)")
    if reasons:
        print(f"  failure reasons     {dict(reasons)}")
    if log_counts.counts:
        print("  log lines")
        for line, count in log_counts.counts.most_common():
            print(f"    {count:6d} x {line}")
    lines = timeline(accepted_times, refused_times, first_dm, 10.0 if span > 20 else 1.0)
    if lines and arguments.timeline:
        print("  timeline (since the first DM; 429s placed at the last accepted DM before them)")
        print("\n".join(lines))
    if lost:
        print(f"  first lost          {lost[:5]}")
    if duplicated:
        print(f"  first duplicated    {list(duplicated.items())[:5]}")
    return 0 if not lost and not duplicated else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=5000, help="sales reps (default 5000)")
    parser.add_argument(
        "--per-minute",
        type=int,
        default=3000,
        help="chat.postMessage limit per sliding minute (default 3000: 5000 DMs then need one "
        "full window, a 60 s bound)",
    )
    parser.add_argument(
        "--both-surveys",
        action="store_true",
        help="schedule the pipeline survey on Monday 10:00 too (2 DMs per recipient)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="stop re-running after (s)")
    parser.add_argument("--no-timeline", dest="timeline", action="store_false")
    parser.add_argument(
        "--fake-in-process",
        action="store_true",
        help="run the fake Slack in the bot's process (its CPU then slows the bot down)",
    )
    parser.add_argument("--database-url", help="e.g. postgresql://… (default: a temp SQLite file)")
    sys.exit(asyncio.run(main(parser.parse_args())))
