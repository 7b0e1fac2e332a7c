"""The `/mktg` load and what is measured around it, for bench/many_workspaces.py.

- `LoadProcess` runs `load` (this file as a script) in a process of its own: signed `/mktg`
  filings at a steady rate, open loop, each answer's send and answer times recorded.
- `LoopLag` watches the measuring process's event loop (a 10 ms sleeper's lateness) and the
  garbage collector's pauses.
- `web_role_process` runs a real `alignbot run --role web` on the benchmark's database, and
  `jobs_priority` gives this process a `--role jobs` process's CPU priority meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench._harness import percentile, stop_process
from bot.app import JOBS_NICENESS
from bot.core.config import Settings
from sandbox.slack_payloads import SIGNING_SECRET, SlackSender
from tests.support.process import free_port

ROOT = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT = 10.0
LAG_STEP = 0.01


def filing_text(index: int, due_from: date) -> str:
    due = (due_from + timedelta(days=index % 10)).isoformat()
    kind = ("deck", "objection", "roi", "casestudy")[index % 4]
    return f"{kind} Acme {index} ${10 + index % 490}k due {due} renewal pitch for the CFO"


async def load(spec: dict[str, Any]) -> list[list[Any]]:
    """Signed `/mktg` filings at spec["rate"] a second until a line arrives on stdin."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stdin_line = loop.run_in_executor(None, sys.stdin.readline)
    stdin_line.add_done_callback(lambda _done: stop.set())
    teams: list[str] = spec["teams"]
    users: list[str] = spec["users"]
    due_from = date.fromisoformat(spec["due_from"])
    results: list[list[Any]] = []
    sender = SlackSender(spec["url"])

    async def one(index: int) -> None:
        sent = time.time()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                response = await sender.command(
                    "/mktg",
                    filing_text(index, due_from),
                    user_id=users[index % len(users)],
                    team_id=teams[index % len(teams)],
                    channel_id=spec["channel"],
                    response_url=f"{spec['response_base']}/ack-{index}",
                )
            status, body = response.status, response.body
        except TimeoutError:
            status, body = 0, "timeout"
        except OSError as error:
            status, body = 0, repr(error)
        results.append([sent, time.time(), status, body[:200]])

    tasks: set[asyncio.Task[None]] = set()
    interval = 1.0 / spec["rate"]
    started = loop.time()
    index = 0
    try:
        while not stop.is_set():
            delay = started + index * interval - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if stop.is_set():
                    break
            task = asyncio.create_task(one(index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
        if tasks:
            await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 1)
    finally:
        await sender.close()
    return results


def load_main() -> None:
    spec = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(load(spec))))


class LoadProcess:
    """`load` in a process of its own (this file run as a script), so the sender's CPU and
    event loop are not the bot's: its spec goes in on stdin, its answers come out on stdout."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.process: asyncio.subprocess.Process | None = None
        self.started = 0.0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(self.spec).encode() + b"\n")
        await self.process.stdin.drain()
        self.started = time.time()

    async def stop(self) -> list[list[Any]]:
        assert self.process is not None
        try:
            output, _ = await asyncio.wait_for(
                self.process.communicate(b"stop\n"), REQUEST_TIMEOUT + 30
            )
        except TimeoutError:
            await stop_process(self.process)
            raise SystemExit("the /mktg load process did not stop") from None
        results: list[list[Any]] = json.loads(output)
        return results


def acks_between(results: list[list[Any]], start: float, end: float) -> Acks:
    acks = Acks()
    for sent, answered, status, body in results:
        if start <= sent <= end:
            if status == 200:
                acks.ms.append((answered - sent) * 1000)
            else:
                acks.failed += 1
                if acks.failed <= 3:
                    print(f"    /mktg failed: HTTP {status} {body!r}")
    return acks


@dataclass
class Acks:
    ms: list[float] = field(default_factory=list)
    failed: int = 0

    def stat(self, q: float) -> float:
        return percentile(sorted(self.ms), q)

    def line(self) -> str:
        return (
            f"p50 {self.stat(0.5):6.1f}  p99 {self.stat(0.99):6.1f}  max "
            f"{max(self.ms, default=float('nan')):6.1f} ms  ({len(self.ms)} acks"
            + (f", {self.failed} FAILED" if self.failed else "")
            + ")"
        )


class LoopLag:
    """How late a 10 ms sleeper wakes up: the event loop's stalls, with their wall times; and
    the garbage collector's pauses (gc.callbacks), one cause of stalls that no profile shows."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (time.time() at wake-up, lateness s)
        self.collections: list[tuple[float, float, int]] = []  # (time.time(), pause s, gen)
        self._collecting_since = 0.0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting_since = time.perf_counter()
        else:
            pause = time.perf_counter() - self._collecting_since
            self.collections.append((time.time(), pause, info["generation"]))

    def worst_gc(self, start: float, end: float) -> tuple[float, int, int]:
        """(longest pause ms, its generation, collections) between two wall times."""
        seen = [(pause, gen) for at, pause, gen in self.collections if start <= at <= end]
        pause, gen = max(seen, default=(0.0, -1))
        return 1000 * pause, gen, len(seen)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            before = loop.time()
            await asyncio.sleep(LAG_STEP)
            self.samples.append((time.time(), loop.time() - before - LAG_STEP))

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            await self._task

    def worst_ms(self, start: float, end: float) -> float:
        return 1000 * max((lag for at, lag in self.samples if start <= at <= end), default=0.0)


@contextlib.contextmanager
def jobs_priority() -> Iterator[None]:
    """This process at a `--role jobs` process's CPU priority (bot.app.JOBS_NICENESS) while it
    runs the tick (the load and the fake, other processes, keep theirs), and back afterwards (raising it again needs root: else it stays lower)."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, before + JOBS_NICENESS)
    try:
        yield
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, before)
        except PermissionError:
            print("  (not root: the rest of this run stays at the jobs process's priority)")


@contextlib.asynccontextmanager
async def web_role_process(settings: Settings) -> AsyncIterator[str]:
    """`alignbot run --role web` on the benchmark's database, as a deployment with a separate
    jobs process runs it: its base URL while it answers /healthz, then SIGTERM."""
    port = free_port()
    secret = settings.slack_client_secret
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SLACK_")},
        "PYTHONPATH": str(ROOT),
        "SLACK_CLIENT_ID": settings.slack_client_id or "",
        "SLACK_CLIENT_SECRET": secret.get_secret_value() if secret else "",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": settings.slack_api_url or "",
        "DATABASE_URL": settings.database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--role", "web", env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
            else:
                raise SystemExit("alignbot run --role web did not answer /healthz")
        yield url
    finally:
        await stop_process(process)


if __name__ == "__main__":
    load_main()
