"""`/mktg` ack latency and throughput under 1, 10 and 50 concurrent signed requests.

Starts the real server (`alignbot run`, HTTP mode) against the local fake Slack, and next to it
a no-op Bolt AsyncApp served the same way (same aiohttp adapter, signing secret, auth.test
against the fake, `process_before_response=False`) whose `/mktg` listener only acks. For each
concurrency level it sends the same number of signed one-line filings
(`/mktg deck Acme 7 $57k due 2026-12-11 …`, fresh trigger id each, so every one files a
request: the real path) to the no-op app, then to alignbot, from a separate load process so the
client and the fake Slack do not share an event loop. C workers each keep one request in
flight (closed loop, keep-alive connections, like Slack's). It prints, per level: requests
acked, median / p90 / p99 / worst ack ms, ack throughput (acked requests ÷ time from the first
send to the last ack), the server process's CPU time per request (all threads, post-ack work
included), alignbot's ratio to the no-op app's throughput, and alignbot's "filed" rate (requests
posted to the intake channel and confirmed to the requester, which happens after the ack, ÷ time
from the first send to the last confirmation) — then PASS/MISS against the targets: p99 ack
< 150 ms at 50 concurrent, ack throughput >= 60% of the no-op app's. Requests Bolt gave up on
(no ack() within its 3 s: HTTP 404 "unhandled request", which Slack shows the user as a failure)
or that got no answer are counted and listed, and a level with any of them is a MISS.
The exit status is 0 whenever the benchmark ran: the verdicts are figures, not a test.

Everything goes to 127.0.0.1; each request has a 10 s timeout and each level a deadline, after
which it stops sending. Usage:

    .venv/bin/python bench/ack_concurrency.py [--requests 500] [--levels 1,10,50]
        [--database-url postgresql://user@127.0.0.1:5432/db] [--profile server.prof]

Default database: a SQLite file in a temp dir. A PostgreSQL URL gets a scratch database created
beside it (see bench/_harness.py). `--profile` runs the alignbot server under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    ROOT,
    alignbot_server,
    backend_name,
    free_port,
    percentile,
    stop_process,
    wait_healthy,
)
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SIGNING_SECRET, SlackSender

TEAM_ID = "T0TEAM"
INTAKE = "C0INTAKE"
CHANNEL = "C0GENERAL"
USERS = [f"U0REP{n}" for n in range(1, 6)]
LEVELS = (1, 10, 50)
P99_TARGET_MS = 150.0
P99_TARGET_LEVEL = 50
RATIO_TARGET = 0.60
REQUEST_TIMEOUT = 10.0  # seconds, per request
LEVEL_DEADLINE = 60.0  # seconds: no new request is sent after this
DRAIN_TIMEOUT = 60.0  # seconds after the last ack for the post-ack work to reach the fake
MAX_REQUESTS = 5000
WARMUP_REQUESTS = 20
POLL_INTERVAL = 0.01

TYPES = ["deck", "objection", "roi", "casestudy", "competitive", "content"]
ACCOUNTS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]
DETAILS = [
    "Renewal pitch for the CFO",
    "They say we're too expensive",
    "ROI model for the board",
    "Need a logo in their industry",
    "Head to head with the incumbent",
    "One-pager for the security review",
]


# ----------------------------------------------------------------------------- payloads


def filing_text(index: int, today: datetime) -> str:
    """A one-line `/mktg` filing: type, account, amount, due date, details (all unambiguous)."""
    due = (today + timedelta(days=3 + index % 20)).date().isoformat()
    kind = TYPES[index % len(TYPES)]
    account = f"{ACCOUNTS[index % len(ACCOUNTS)]} {index}"
    amount = f"${10 + index % 490}k"
    return f"{kind} {account} {amount} due {due} {DETAILS[index % len(DETAILS)]}"


# ----------------------------------------------------------------------------- load process


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    """Send spec["texts"] as signed `/mktg` commands with spec["concurrency"] in flight."""
    texts: list[str] = spec["texts"]
    response_urls: list[str] = spec["response_urls"]
    results: list[list[Any] | None] = [None] * len(texts)
    indexes = iter(range(len(texts)))
    sender = SlackSender(spec["url"])
    started = time.monotonic()
    deadline = started + spec["deadline"]

    async def worker() -> None:
        for index in indexes:  # one shared iterator: each index is taken by one worker
            if time.monotonic() > deadline:
                return
            sent = time.monotonic()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    response = await sender.command(
                        "/mktg",
                        texts[index],
                        user_id=USERS[index % len(USERS)],
                        team_id=TEAM_ID,
                        channel_id=CHANNEL,
                        response_url=response_urls[index],
                    )
                status, body = response.status, response.body
            except TimeoutError:
                status, body = 0, f"no answer within {REQUEST_TIMEOUT:g}s"
            except OSError as error:  # aiohttp's connection errors are OSErrors
                status, body = 0, repr(error)
            results[index] = [sent, time.monotonic(), status, body[:300]]

    try:
        await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
    finally:
        await sender.close()
    return {"results": results}


def load_main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(load(spec))))


# ----------------------------------------------------------------------------- no-op server


def noop_main() -> None:
    """A Bolt AsyncApp whose /mktg only acks, served over aiohttp like bot.app serves alignbot."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def serve() -> None:
        app = AsyncApp(
            client=AsyncWebClient(
                token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
            ),
            signing_secret=os.environ["SLACK_SIGNING_SECRET"],
            process_before_response=False,
        )

        @app.command("/mktg")
        async def mktg(ack: AsyncAck) -> None:
            await ack()

        async def slack_events(request: web.Request) -> web.Response:
            if (request.content_length or 0) > 1024 * 1024:
                return web.Response(status=413, text="request body too large")
            bolt_response = await app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        async def healthz(_request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
        runner = web.AppRunner(web_app, shutdown_timeout=10)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(os.environ["PORT"])).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(serve())


# ----------------------------------------------------------------------------- measuring


@dataclass
class Level:
    """One app at one concurrency level."""

    app: str
    concurrency: int
    planned: int
    acks_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unsent: int = 0
    ack_rate: float = 0.0
    filed_rate: float | None = None  # alignbot only: completed (posted + confirmed) per second
    unfinished: int = 0  # alignbot only: acked but never posted / confirmed
    cpu_ms: float | None = None  # the server process's CPU time per request (Linux)

    def stat(self, q: float) -> float:
        return percentile(self.acks_ms, q)

    @property
    def median(self) -> float:
        return statistics.median(self.acks_ms) if self.acks_ms else float("nan")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Completions:
    """Watches the fake Slack's call log for each request's confirmation (its last Slack call)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.cursor = len(fake.calls)
        self.seen: dict[str, float] = {}
        self.bad: dict[str, str] = {}
        self.intake_posts = 0

    def scan(self) -> None:
        now = time.monotonic()
        calls = self.fake.calls
        for call in calls[self.cursor :]:
            if call.method == "response_url":
                text = str(call.params.get("text", ""))
                if text.startswith(":white_check_mark: Filed"):
                    self.seen.setdefault(call.path, now)
                else:
                    self.bad[call.path] = text[:200]
            elif call.method == "chat.postMessage" and call.params.get("channel") == INTAKE:
                self.intake_posts += call.ok
        self.cursor = len(calls)

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.scan()
            await asyncio.sleep(POLL_INTERVAL)
        self.scan()


async def run_load(
    url: str, concurrency: int, texts: list[str], names: list[str], fake_url: str
) -> list[list[Any] | None]:
    """Run the load process; [sent, answered, status, body] per request (None if unsent)."""
    spec = {
        "url": url,
        "concurrency": concurrency,
        "texts": texts,
        "response_urls": [f"{fake_url}/response_url/{name}" for name in names],
        "deadline": LEVEL_DEADLINE,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "_load",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        output, _ = await asyncio.wait_for(
            process.communicate(json.dumps(spec).encode()),
            LEVEL_DEADLINE + REQUEST_TIMEOUT + 30,
        )
    except TimeoutError:
        await stop_process(process)
        raise SystemExit("the load process overran its deadline") from None
    if process.returncode != 0:
        raise SystemExit(f"the load process failed with {process.returncode}")
    results: list[list[Any] | None] = json.loads(output)["results"]
    return results


async def measure(
    app: str,
    url: str,
    pid: int,
    fake: FakeSlack,
    concurrency: int,
    count: int,
    tag: str,
    *,
    files: bool,
) -> Level:
    """Send `count` filings at `concurrency`; with `files`, wait for each one's confirmation."""
    today = datetime.now(UTC)
    texts = [filing_text(index, today) for index in range(count)]
    names = [f"{tag}-{index}" for index in range(count)]
    level = Level(app=app, concurrency=concurrency, planned=count)
    completions = Completions(fake)
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(completions.watch(stop_watching))
    cpu_before = cpu_seconds(pid)
    try:
        results = await run_load(url, concurrency, texts, names, fake.origin)
        acked = []
        for name, result in zip(names, results, strict=True):
            if result is None:
                level.unsent += 1
                continue
            sent, answered, status, body = result
            if status != 200 or body:
                level.failures.append(f"{name}: HTTP {status} {body!r}")
                continue
            acked.append((name, sent, answered))
            level.acks_ms.append((answered - sent) * 1000)
        level.acks_ms.sort()
        if acked:
            first = min(sent for _, sent, _ in acked)
            last = max(answered for _, _, answered in acked)
            level.ack_rate = len(acked) / max(last - first, 1e-9)
        if files and acked:
            waiting_until = time.monotonic() + DRAIN_TIMEOUT
            while time.monotonic() < waiting_until:
                if all(name in completions.seen for name, _, _ in acked):
                    break
                await asyncio.sleep(0.05)
            stop_watching.set()
            await watcher
            done = [completions.seen[name] for name, _, _ in acked if name in completions.seen]
            level.unfinished = len(acked) - len(done)
            level.failures += [f"{n}: answered {t!r}" for n, t in completions.bad.items()]
            if completions.intake_posts < len(done):
                level.failures.append(
                    f"{completions.intake_posts} intake posts for {len(done)} confirmations"
                )
            if done:
                level.filed_rate = len(done) / max(max(done) - first, 1e-9)
        cpu_after = cpu_seconds(pid)
        answered = count - level.unsent  # a request Bolt gave up on is still worked on
        if cpu_before is not None and cpu_after is not None and answered:
            level.cpu_ms = (cpu_after - cpu_before) * 1000 / answered
    finally:
        stop_watching.set()
        await watcher
    return level


@asynccontextmanager
async def noop_server(fake: FakeSlack) -> AsyncIterator[tuple[str, int]]:
    """The no-op AsyncApp in its own process; yields its /slack/events URL and pid."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(sys.executable, __file__, "_noop", env=env)
    try:
        await wait_healthy(port, process)
        yield f"http://127.0.0.1:{port}/slack/events", process.pid
    finally:
        await stop_process(process)


async def warm_up(url: str, pid: int, fake: FakeSlack, tag: str, *, files: bool) -> None:
    """Untimed, one at a time: auth.test, database connections, first-use imports, start-up jobs.

    Stops the run only when nothing worked (a set-up problem, not a slow server).
    """
    level = await measure("warm-up", url, pid, fake, 1, WARMUP_REQUESTS, tag, files=files)
    if not level.acks_ms or (files and level.unfinished == len(level.acks_ms)):
        problems = level.failures[:5] or [f"{level.unsent} unsent, {level.unfinished} unfinished"]
        raise SystemExit(f"warm-up against {url} failed: " + "; ".join(problems))


def summarise_log(path: Path | None) -> str:
    """How often each kind of warning or error line appeared in the server's log."""
    if path is None or not path.exists():
        return "  alignbot server log: not captured"
    kinds: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        for level in (" WARNING ", " ERROR ", " CRITICAL "):
            if level in line:
                # "2026-12-01 20:00:00,123 WARNING logger message…" -> "WARNING logger message"
                text = line.split(level, 1)[1]
                kind = f"{level.strip()} {text[:90]}"
                kinds[kind] = kinds.get(kind, 0) + 1
    if not kinds:
        return "  alignbot server log: no warnings or errors"
    ranked = sorted(kinds.items(), key=lambda item: -item[1])
    lines = [f"  alignbot server log, warnings and errors ({sum(kinds.values())}):"]
    lines += [f"    {n:>6} x {kind}" for kind, n in ranked[:8]]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(backend: str, count: int, rows: list[tuple[Level, Level]], started: float) -> None:
    """Print the table and the verdicts against the targets."""
    print(
        f"/mktg ack under concurrent load, {backend}: alignbot run vs a no-op Bolt AsyncApp "
        f"(HTTP, {count} signed one-line filings per level; ms are HTTP round trips)"
    )
    header = (
        f"{'app':<9}{'conc':>5}{'requests':>10}{'median':>8}{'p90':>8}{'p99':>8}{'worst':>8}"
        f"{'ack req/s':>11}{'CPU ms/req':>12}{'vs no-op':>10}{'filed req/s':>13}"
        f"  p99<{P99_TARGET_MS:g}  >={RATIO_TARGET:.0%}"
    )
    print(header)
    print("-" * len(header))
    all_ok = True
    for noop, bot in rows:
        for level in (noop, bot):
            ratio = bot.ack_rate / noop.ack_rate if noop.ack_rate else float("nan")
            line = (
                f"{level.app:<9}{level.concurrency:>5}{len(level.acks_ms):>10}"
                f"{level.median:>8.1f}{level.stat(0.9):>8.1f}{level.stat(0.99):>8.1f}"
                f"{(level.acks_ms or [float('nan')])[-1]:>8.1f}{level.ack_rate:>11.1f}"
                f"{level.cpu_ms if level.cpu_ms is not None else float('nan'):>12.1f}"
            )
            if level is bot:
                filed = f"{bot.filed_rate:.1f}" if bot.filed_rate is not None else "-"
                clean = not (bot.failures or bot.unsent or bot.unfinished)
                p99_ok = clean and bot.stat(0.99) < P99_TARGET_MS
                ratio_ok = clean and ratio >= RATIO_TARGET
                line += f"{ratio:>10.2f}{filed:>13}  {verdict(p99_ok):>7}  {verdict(ratio_ok):>4}"
                if bot.concurrency == P99_TARGET_LEVEL:
                    all_ok = all_ok and p99_ok and ratio_ok
            print(line)
    for noop, bot in rows:
        for level in (noop, bot):
            if level.failures or level.unsent or level.unfinished:
                all_ok = False
                print(
                    f"  {level.app} at {level.concurrency}: {len(level.failures)} failed, "
                    f"{level.unsent} not sent before the {LEVEL_DEADLINE:g}s deadline, "
                    f"{level.unfinished} acked but never posted+confirmed within "
                    f"{DRAIN_TIMEOUT:g}s"
                )
                for failure in level.failures[:5]:
                    print(f"    {failure}")
    judged = any(bot.concurrency == P99_TARGET_LEVEL for _, bot in rows)
    outcome = ("all met" if all_ok else "NOT all met") if judged else "not judged (no such level)"
    print(
        f"targets at {P99_TARGET_LEVEL} concurrent: p99 ack < {P99_TARGET_MS:g} ms "
        f"(the issue sets it for SQLite), ack throughput >= {RATIO_TARGET:.0%} of the no-op "
        f"app's -> {outcome}"
    )
    print(
        "  ack req/s: acked ÷ (last ack − first send); CPU ms/req: the server process, all "
        "threads, post-ack work included; filed req/s: posted to the intake channel and "
        "confirmed to the requester ÷ (last confirmation − first send)"
    )
    load = os.getloadavg()
    print(
        f"  {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at "
        f"the end; whole run {time.monotonic() - started:.1f} s"
    )


async def main(
    count: int, levels: Sequence[int], database_url: str | None, profile: str | None
) -> None:
    started = time.monotonic()
    fake = FakeSlack(team_id=TEAM_ID)
    for user in USERS:
        fake.add_user(user, name=user.lower())
    fake.add_channel(INTAKE, name="mktg-intake")
    fake.add_channel(CHANNEL, name="general")
    await fake.start()
    setup = [("config", "set", "intake_channel", INTAKE, "--team", TEAM_ID)]
    python_args = ("-m", "cProfile", "-o", profile) if profile else ()
    rows: list[tuple[Level, Level]] = []
    log_summary = ""
    try:
        async with (
            alignbot_server(
                fake,
                database_url=database_url,
                setup=setup,
                python_args=python_args,
                capture_log=True,
            ) as server,
            noop_server(fake) as (noop_url, noop_pid),
        ):
            bot_pid = server.process.pid
            await warm_up(noop_url, noop_pid, fake, "warm-noop", files=False)
            await warm_up(server.events_url, bot_pid, fake, "warm-bot", files=True)
            for concurrency in levels:
                # The no-op app first, then alignbot, level by level: both see the same
                # machine load at about the same time (the machine is shared).
                noop = await measure(
                    "no-op",
                    noop_url,
                    noop_pid,
                    fake,
                    concurrency,
                    count,
                    f"n{concurrency}",
                    files=False,
                )
                bot = await measure(
                    "alignbot",
                    server.events_url,
                    bot_pid,
                    fake,
                    concurrency,
                    count,
                    f"a{concurrency}",
                    files=True,
                )
                rows.append((noop, bot))
            await stop_process(server.process)  # flushes its log (and a --profile)
            log_summary = summarise_log(server.log_path)
    finally:
        await fake.stop()
    report(backend_name(database_url), count, rows, started)
    print(log_summary)


def parse_levels(text: str) -> list[int]:
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or any(level < 1 or level > 200 for level in levels):
        raise argparse.ArgumentTypeError("levels are 1 to 200, comma separated")
    return levels


if __name__ == "__main__":
    if sys.argv[1:] == ["_load"]:
        load_main()
    elif sys.argv[1:] == ["_noop"]:
        noop_main()
    else:
        parser = argparse.ArgumentParser(
            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        parser.add_argument("--requests", type=int, default=500, help="per level (default 500)")
        parser.add_argument("--levels", type=parse_levels, default=list(LEVELS))
        parser.add_argument(
            "--database-url", help="e.g. postgresql://… (default: a temp SQLite file)"
        )
        parser.add_argument("--profile", help="write a cProfile of the alignbot server here")
        arguments = parser.parse_args()
        if not 1 <= arguments.requests <= MAX_REQUESTS:
            parser.error(f"--requests must be between 1 and {MAX_REQUESTS}")
        asyncio.run(
            main(
                arguments.requests,
                arguments.levels,
                arguments.database_url,
                str(Path(arguments.profile).resolve()) if arguments.profile else None,
            )
        )
