"""1,000 `/mktg` filings during a 60-second Slack outage, then recovery: does the outbox catch up?

Starts the real server (`alignbot run`, HTTP mode, its outbox dispatcher's background loop
running as in production, real clock) against the local fake Slack, and files a few warm-up
requests (untimed, posted normally). Then the fake Slack goes down for `--outage` seconds:
every call to chat.postMessage (or the methods `--fail` names) answers HTTP 500
`internal_error` without doing anything, from the outage's first instant to its last (a
time-based fault, not a queue of N failures). Over the outage a separate load process sends
`--filings` signed one-line filings at a steady rate (filings ÷ outage per second, at most
`--concurrency` in flight, fresh trigger id each so every one files a request). Then Slack
recovers and the benchmark watches the database until no outbox row is left unsent.

It prints: the load average at start and end; acks during the outage (HTTP 200 with an empty
body: median, p99, worst); filings stored in the database (and how many only after recovery:
the post-ack work running behind); the requesters' confirmations by kind;
time from recovery until the outbox is empty (every row sent, none dead), split into the wait
for the first post after recovery and when half, 90% and all rows went out; the Slack calls
after recovery; intake posts in the fake Slack's
intake channel; duplicates (requests posted there more than once) and lost (stored requests
with no post there), each next to its target. Posts are matched to requests by the outbox row
id every post carries in its message metadata. The exit status is 0 whenever the benchmark
ran: the verdicts are figures, not a test. Everything goes to 127.0.0.1. Usage:

    .venv/bin/python bench/outbox_outage.py [--filings 1000] [--outage 60] [--concurrency 20]
        [--fail chat.postMessage] [--database-url postgresql://user@127.0.0.1:5432/db]

A small run: `--filings 50 --outage 5` (well under 30 s). Default database: a SQLite file in a
temp dir; a PostgreSQL URL gets a scratch database created beside it (see bench/_harness.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench._harness import ROOT, alignbot_server, backend_name, percentile, stop_process
from bench.ack_concurrency import filing_text, summarise_log
from bot.core.db import make_engine, read_only_engine
from bot.core.models import OutboxMessage, SupportRequest
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender

TEAM_ID = "T0TEAM"
INTAKE = "C0INTAKE"
CHANNEL = "C0GENERAL"
USERS = [f"U0REP{n}" for n in range(1, 6)]
OUTBOX_EVENT = "alignbot_outbox"  # jobs.dispatcher's metadata event type on every post
DRAIN_TARGET = 60.0  # seconds from recovery until every outbox row is sent
DRAIN_TIMEOUT = 300.0  # seconds after recovery we wait before calling it "never drained"
REQUEST_TIMEOUT = 10.0  # seconds, per filing
LEAD = 3.0  # seconds for the load process to start before the outage (and its first send)
WARMUP_FILINGS = 5
WARMUP_TIMEOUT = 30.0
POLL_INTERVAL = 0.2
MAX_FILINGS = 10_000
UNSENT = ("pending", "sending")


# ----------------------------------------------------------------------------- the outage


class OutageSlack(FakeSlack):
    """The fake Slack with a time-based outage: from `outage_start` to `outage_end`
    (time.monotonic, the same clock in every process here) each call to one of `outage_methods`
    answers HTTP 500 `internal_error` before it does anything, like fail_next but until a
    deadline instead of for N calls. Also notes when the first post succeeded after it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outage_methods: frozenset[str] = frozenset()
        self.outage_start = self.outage_end = 0.0
        self.refused: Counter[str] = Counter()
        self.after: Counter[str] = Counter()  # calls per method once the outage is over
        self.first_post_after: float | None = None

    def start_outage(self, start: float, end: float, methods: frozenset[str]) -> None:
        self.outage_start, self.outage_end, self.outage_methods = start, end, methods
        self.first_post_after = None

    def _dispatch(
        self, method: str, params: dict[str, Any], token: str | None, body_error: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        now = time.monotonic()
        if method in self.outage_methods and self.outage_start <= now < self.outage_end:
            self.refused[method] += 1
            return 500, {"ok": False, "error": "internal_error"}, {}
        answer = super()._dispatch(method, params, token, body_error)
        if self.outage_end and now >= self.outage_end:
            self.after[method] += 1
            if method == "chat.postMessage" and answer[0] == 200:
                self.first_post_after = self.first_post_after or now
        return answer


# ----------------------------------------------------------------------------- load process


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    """Send spec["texts"] as signed `/mktg` commands, one every spec["interval"] seconds from
    spec["start_at"], at most spec["concurrency"] in flight (a send waits for a free slot)."""
    texts: list[str] = spec["texts"]
    results: list[list[Any] | None] = [None] * len(texts)
    sender = SlackSender(spec["url"])
    gate = asyncio.Semaphore(spec["concurrency"])

    async def one(index: int, due: float) -> None:
        sent = time.monotonic()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                response = await sender.command(
                    "/mktg",
                    texts[index],
                    user_id=USERS[index % len(USERS)],
                    team_id=TEAM_ID,
                    channel_id=CHANNEL,
                    response_url=spec["response_urls"][index],
                )
            status, body = response.status, response.body
        except TimeoutError:
            status, body = 0, f"no answer within {REQUEST_TIMEOUT:g}s"
        except OSError as error:  # aiohttp's connection errors are OSErrors
            status, body = 0, repr(error)
        finally:
            gate.release()
        results[index] = [due, sent, time.monotonic(), status, body[:300]]

    tasks = []
    try:
        for index in range(len(texts)):
            due = spec["start_at"] + index * spec["interval"]
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            tasks.append(asyncio.create_task(one(index, due)))
        await asyncio.gather(*tasks)
    finally:
        await sender.close()
    return {"results": results}


def load_main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(load(spec))))


async def run_load(spec: dict[str, Any], budget: float) -> list[list[Any] | None]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "_load",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(json.dumps(spec).encode()), budget)
    except TimeoutError:
        await stop_process(process)
        raise SystemExit("the load process overran its deadline") from None
    if process.returncode != 0:
        raise SystemExit(f"the load process failed with {process.returncode}")
    results: list[list[Any] | None] = json.loads(output)["results"]
    return results


# ----------------------------------------------------------------------------- the database


class Database:
    """Read-only looks at the server's database (SQLite: deferred reads beside its writer)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.reader = read_only_engine(self.engine)

    async def rows(self, query: str | sa.Select[Any]) -> list[tuple[Any, ...]]:
        statement = sa.text(query) if isinstance(query, str) else query
        async with self.reader.connect() as connection:
            result = await connection.execute(statement)
            rows = [tuple(row) for row in result.all()]
            await connection.commit()
        return rows

    async def unsent(self) -> int:
        states = ", ".join(f"'{state}'" for state in UNSENT)
        (row,) = await self.rows(f"SELECT count(*) FROM outbox_message WHERE state IN ({states})")
        return int(row[0])

    async def requests(self) -> int:
        (row,) = await self.rows(
            f"SELECT count(*) FROM support_request WHERE team_id = '{TEAM_ID}'"
        )
        return int(row[0])

    async def close(self) -> None:
        await self.engine.dispose()


# ----------------------------------------------------------------------------- measuring


@dataclass
class Outcome:
    filings: int
    outage: float
    rate: float
    concurrency: int
    methods: frozenset[str]
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    acks_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unsent_sends: int = 0
    worst_lateness: float = 0.0  # how far behind schedule the latest send went out (s)
    last_send_offset: float = 0.0  # the last send, seconds after the outage began
    warmup_requests: int = 0
    stored: int = 0
    stored_late: list[float] = field(default_factory=list)  # stored after recovery, s after it
    peak_unsent: int = 0
    refused: int = 0
    unsent_at_recovery: int = 0  # rows stored before recovery and not sent by then
    drained_after: float | None = None  # seconds from recovery to an empty outbox
    first_post_after: float | None = None  # seconds from recovery to the first post
    sent_after: list[float] = field(default_factory=list)  # each row sent, s after recovery
    calls_after: Counter[str] = field(default_factory=Counter)
    confirmations: Counter[str] = field(default_factory=Counter)
    unconfirmed: int = 0
    intake_posts: int = 0
    posted_calls: int = 0
    unattributed_posts: int = 0
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # intake_ts not a post in the channel
    states: Counter[str] = field(default_factory=Counter)
    max_attempts: int = 0
    log_summary: str = ""
    elapsed: float = 0.0


def confirmation_kind(text: str) -> str:
    if text.startswith(":white_check_mark: Filed") and "still posting" in text:
        return "filed, still posting"
    if text.startswith(":white_check_mark: Filed"):
        return "filed and posted"
    if text.startswith(":floppy_disk: Saved"):
        return "saved, not postable"
    return "other"


async def warm_up(fake: OutageSlack, url: str, database: Database) -> int:
    """A few filings one at a time, posted normally (first-use costs, the channel join)."""
    today = datetime.now(UTC)
    async with SlackSender(url) as sender:
        for index in range(WARMUP_FILINGS):
            response = await sender.command(
                "/mktg",
                filing_text(100_000 + index, today),
                user_id=USERS[index % len(USERS)],
                team_id=TEAM_ID,
                channel_id=CHANNEL,
                response_url=fake.response_url(f"warm-{index}"),
            )
            if response.status != 200:
                raise SystemExit(f"warm-up filing failed: HTTP {response.status} {response.body}")
    deadline = time.monotonic() + WARMUP_TIMEOUT
    while time.monotonic() < deadline:
        if await database.unsent() == 0 and len(fake.messages.get(INTAKE, [])) >= WARMUP_FILINGS:
            return await database.requests()
        await asyncio.sleep(POLL_INTERVAL)
    raise SystemExit("warm-up: the intake posts did not arrive (is the server working?)")


async def watch_outbox(database: Database, outcome: Outcome, stop: asyncio.Event) -> None:
    """The peak number of unsent rows while the load runs."""
    while not stop.is_set():
        outcome.peak_unsent = max(outcome.peak_unsent, await database.unsent())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def wait_for_drain(database: Database, outcome: Outcome, recovery: float) -> bool:
    """Whether the outbox emptied within DRAIN_TIMEOUT of recovery (when: see `tally`)."""
    while time.monotonic() < recovery + DRAIN_TIMEOUT:
        unsent = await database.unsent()
        outcome.peak_unsent = max(outcome.peak_unsent, unsent)
        if unsent == 0 and time.monotonic() >= recovery:
            return True
        await asyncio.sleep(POLL_INTERVAL)
    return False


async def tally(
    fake: OutageSlack,
    database: Database,
    outcome: Outcome,
    names: list[str],
    recovered_at: datetime,
) -> None:
    """Confirmations, intake posts, duplicates and lost requests, outbox row states."""
    confirmed: dict[str, str] = {}
    for call in fake.calls:
        if call.method == "response_url" and call.path in names:
            confirmed.setdefault(call.path, confirmation_kind(str(call.params.get("text", ""))))
        elif call.method == "chat.postMessage" and call.params.get("channel") == INTAKE:
            outcome.posted_calls += call.ok
    outcome.confirmations = Counter(confirmed.values())
    outcome.unconfirmed = len(names) - len(confirmed)

    messages = fake.messages.get(INTAKE, [])
    outcome.intake_posts = len(messages)
    request_of_row: dict[int, int] = {}
    table = OutboxMessage.__table__.c  # type: ignore[attr-defined]
    columns = (table.id, table.kind, table.state, table.attempts, table.payload)
    outcome.unsent_at_recovery = 0
    for row_id, kind, state, attempts, payload, created_at, sent_at in await database.rows(
        sa.select(*columns, table.created_at, table.sent_at)
    ):
        outcome.states[str(state)] += 1
        outcome.max_attempts = max(outcome.max_attempts, int(attempts))
        if sent_at is not None and sent_at >= recovered_at:
            outcome.sent_after.append((sent_at - recovered_at).total_seconds())
        if created_at < recovered_at and (sent_at is None or sent_at >= recovered_at):
            outcome.unsent_at_recovery += 1
        if kind == "intake_post":
            request_of_row[int(row_id)] = int(json.loads(payload)["request_id"])
    posts: dict[int, list[str]] = {}
    for message in messages:
        metadata = message.get("metadata") or {}
        row_id = (metadata.get("event_payload") or {}).get("outbox_id")
        if metadata.get("event_type") != OUTBOX_EVENT or row_id is None:
            outcome.unattributed_posts += 1
            continue
        request_id = request_of_row.get(int(row_id))
        if request_id is None:
            outcome.unattributed_posts += 1
            continue
        posts.setdefault(request_id, []).append(str(message["ts"]))
    requests = SupportRequest.__table__.c  # type: ignore[attr-defined]
    for request_id, number, channel, ts, error, created_at in await database.rows(
        sa.select(
            requests.id,
            requests.number,
            requests.intake_channel,
            requests.intake_ts,
            requests.intake_error,
            requests.created_at,
        ).where(requests.team_id == TEAM_ID)
    ):
        if created_at >= recovered_at:
            outcome.stored_late.append((created_at - recovered_at).total_seconds())
        found = posts.get(int(request_id), [])
        label = f"#{number} (request {request_id})"
        if len(found) > 1:
            outcome.duplicates.append(f"{label}: posted {len(found)} times, ts {found}")
        elif not found:
            outcome.lost.append(f"{label}: no intake post; intake_ts={ts!r} error={error!r}")
        elif channel != INTAKE or ts not in found:
            outcome.mismatched.append(f"{label}: stored {channel}/{ts}, posted {found}")


async def main(
    filings: int,
    outage: float,
    concurrency: int,
    methods: frozenset[str],
    database_url: str | None,
) -> None:
    started = time.monotonic()
    outcome = Outcome(
        filings=filings,
        outage=outage,
        rate=filings / outage,
        concurrency=concurrency,
        methods=methods,
        load_start=os.getloadavg(),
    )
    fake = OutageSlack(team_id=TEAM_ID)
    for user in USERS:
        fake.add_user(user, name=user.lower())
    fake.add_channel(INTAKE, name="mktg-intake", bot_is_member=False)
    fake.add_channel(CHANNEL, name="general")
    await fake.start()
    setup = [("config", "set", "intake_channel", INTAKE, "--team", TEAM_ID)]
    try:
        async with alignbot_server(
            fake, database_url=database_url, setup=setup, capture_log=True
        ) as server:
            database = Database(server.env["DATABASE_URL"])
            try:
                outcome.warmup_requests = await warm_up(fake, server.events_url, database)
                today = datetime.now(UTC)
                names = [f"outage-{index}" for index in range(filings)]
                start_at = time.monotonic() + LEAD
                recovery = start_at + outage
                spec = {
                    "url": server.events_url,
                    "texts": [filing_text(index, today) for index in range(filings)],
                    "response_urls": [fake.response_url(name) for name in names],
                    "start_at": start_at,
                    "interval": outage / filings,
                    "concurrency": concurrency,
                }
                fake.start_outage(start_at, recovery, methods)
                # The bot stamps rows with wall-clock UTC: the same instant on that clock.
                recovered_at = datetime.now(UTC) + timedelta(seconds=recovery - time.monotonic())
                stop_watching = asyncio.Event()
                watcher = asyncio.create_task(watch_outbox(database, outcome, stop_watching))
                try:
                    results = await run_load(spec, LEAD + outage + REQUEST_TIMEOUT * 3 + 60)
                finally:
                    stop_watching.set()
                    await watcher
                for name, result in zip(names, results, strict=True):
                    if result is None:
                        outcome.unsent_sends += 1
                        continue
                    due, sent, answered, status, body = result
                    outcome.worst_lateness = max(outcome.worst_lateness, sent - due)
                    outcome.last_send_offset = max(outcome.last_send_offset, sent - start_at)
                    if status != 200 or body:
                        outcome.failures.append(f"{name}: HTTP {status} {body!r}")
                        continue
                    outcome.acks_ms.append((answered - sent) * 1000)
                outcome.acks_ms.sort()
                drained = await wait_for_drain(database, outcome, recovery)
                if fake.first_post_after is not None:
                    outcome.first_post_after = fake.first_post_after - recovery
                outcome.refused = sum(fake.refused.values())
                outcome.calls_after = Counter(fake.after)
                await asyncio.sleep(0.5)  # the last confirmations' HTTP round trips
                outcome.stored = await database.requests() - outcome.warmup_requests
                await tally(fake, database, outcome, names, recovered_at)
                if drained:  # when the last row went out, by the bot's own stamp
                    outcome.drained_after = max(outcome.sent_after, default=0.0)
            finally:
                await database.close()
            await stop_process(server.process)  # flushes its log
            outcome.log_summary = summarise_log(server.log_path)
    finally:
        await fake.stop()
    outcome.load_end = os.getloadavg()
    outcome.elapsed = time.monotonic() - started
    report(backend_name(database_url), outcome)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def loads(values: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def report(backend: str, o: Outcome) -> None:
    methods = ", ".join(sorted(o.methods))
    print(
        f"outbox outage, {backend}: {o.filings} /mktg filings over a {o.outage:g} s outage "
        f"({methods} -> HTTP 500), then recovery"
    )
    print(f"  load average at start  {loads(o.load_start)} (1/5/15 min, {os.cpu_count()} CPUs)")
    print(
        f"  sent                   {o.filings - o.unsent_sends} at {o.rate:.1f}/s, at most "
        f"{o.concurrency} in flight; last send {o.last_send_offset:.1f} s into the outage, "
        f"worst {o.worst_lateness * 1000:.0f} ms behind schedule"
    )
    acked = len(o.acks_ms)
    worst = o.acks_ms[-1] if o.acks_ms else float("nan")
    print(
        f"  acks during outage     {acked} of {o.filings}: p50 {percentile(o.acks_ms, 0.5):.1f} "
        f"ms, p99 {percentile(o.acks_ms, 0.99):.1f} ms, worst {worst:.1f} ms"
    )
    print(
        f"  filings stored         {o.stored} of {o.filings} (target: all)  "
        f"{verdict(o.stored == o.filings)}   (+{o.warmup_requests} warm-up, posted before)"
    )
    if o.stored_late:
        print(
            f"    of which stored after recovery: {len(o.stored_late)}, the last "
            f"+{max(o.stored_late):.1f} s after it (acked during the outage; stored after the "
            "ack: the server's post-ack work ran behind)"
        )
    shown = ", ".join(f"{n} {kind}" for kind, n in o.confirmations.most_common()) or "none"
    print(f"  confirmations          {shown}; {o.unconfirmed} unconfirmed")
    print(
        f"  during the outage      {o.refused} Slack calls refused with 500; at most "
        f"{o.peak_unsent} outbox rows unsent; {o.unsent_at_recovery} unsent at recovery"
    )
    if o.drained_after is None:
        print(
            f"  drained                NOT within {DRAIN_TIMEOUT:g} s of recovery "
            f"(target: within {DRAIN_TARGET:g} s)  MISS"
        )
    else:
        first = (
            f"first post {o.first_post_after:.1f} s after recovery"
            if o.first_post_after is not None
            else "no post after recovery"
        )
        not_sent = sum(n for state, n in o.states.items() if state != "sent")
        ok = o.drained_after <= DRAIN_TARGET and not not_sent
        print(
            f"  drained                {o.drained_after:.1f} s after recovery, "
            f"{not_sent} rows not sent (target: every row sent within {DRAIN_TARGET:g} s)  "
            f"{verdict(ok)}   ({first})"
        )
    if o.sent_after:
        spread = sorted(o.sent_after)
        print(
            f"  rows sent after it     {len(spread)}: half by +{percentile(spread, 0.5):.1f} s, "
            f"90% by +{percentile(spread, 0.9):.1f} s, all by +{spread[-1]:.1f} s (bot's clock)"
        )
    calls = ", ".join(f"{n} {method}" for method, n in o.calls_after.most_common(6))
    print(f"  Slack calls after it   {calls or 'none'}")
    stored_all = o.stored + o.warmup_requests
    print(
        f"  intake posts           {o.intake_posts} in #mktg-intake for {stored_all} stored "
        f"requests ({o.posted_calls} successful chat.postMessage calls to it, "
        f"{o.unattributed_posts} without an outbox id)"
    )
    print(f"  duplicates             {len(o.duplicates)} (target 0)  {verdict(not o.duplicates)}")
    print(f"  lost                   {len(o.lost)} (target 0)  {verdict(not o.lost)}")
    for problem in (o.duplicates + o.lost + o.mismatched)[:10]:
        print(f"    {problem}")
    if o.mismatched:
        print(f"  {len(o.mismatched)} requests whose stored intake_ts is not their post")
    states = ", ".join(f"{n} {state}" for state, n in sorted(o.states.items()))
    print(f"  outbox rows            {states}; most attempts on one row {o.max_attempts}")
    if o.failures:
        print(f"  {len(o.failures)} filings not acked:")
        for failure in o.failures[:5]:
            print(f"    {failure}")
    print(f"  load average at end    {loads(o.load_end)}; whole run {o.elapsed:.1f} s")
    print(o.log_summary)


if __name__ == "__main__":
    if sys.argv[1:] == ["_load"]:
        load_main()
    else:
        parser = argparse.ArgumentParser(
            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        parser.add_argument("--filings", type=int, default=1000, help="default 1000")
        parser.add_argument("--outage", type=float, default=60.0, help="seconds (default 60)")
        parser.add_argument("--concurrency", type=int, default=20, help="in flight (default 20)")
        parser.add_argument(
            "--fail",
            default="chat.postMessage",
            help="Web API methods the outage fails, comma separated (default chat.postMessage)",
        )
        parser.add_argument(
            "--database-url", help="e.g. postgresql://… (default: a temp SQLite file)"
        )
        arguments = parser.parse_args()
        if not 1 <= arguments.filings <= MAX_FILINGS:
            parser.error(f"--filings must be between 1 and {MAX_FILINGS}")
        if not 0 < arguments.outage <= 3600:
            parser.error("--outage must be more than 0 and at most 3600 seconds")
        if not 1 <= arguments.concurrency <= 200:
            parser.error("--concurrency must be between 1 and 200")
        failing = frozenset(part.strip() for part in arguments.fail.split(",") if part.strip())
        if not failing:
            parser.error("--fail names no method")
        asyncio.run(
            main(
                arguments.filings,
                arguments.outage,
                arguments.concurrency,
                failing,
                arguments.database_url,
            )
        )
