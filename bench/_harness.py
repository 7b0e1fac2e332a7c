"""Shared start-up for the HTTP benchmarks: a real `alignbot run` against the local fake Slack.

`alignbot_server(fake, database_url=...)` creates a temp working directory, runs the `alignbot`
CLI set-up commands it is given (`config set …`, `jobs run …`), starts `alignbot run` as a
subprocess in HTTP mode on a free 127.0.0.1 port with its Web API pointed at `fake`, waits for
`GET /healthz`, and stops it with SIGTERM on the way out (killed if it does not stop in time).
Without a database URL the server uses a SQLite file in the temp directory; with a PostgreSQL
URL it gets a throwaway database created next to the one named (dropped afterwards), so reruns
start from the same empty schema. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.fakeslack import FakeSlack  # noqa: E402
from sandbox.slack_payloads import SIGNING_SECRET  # noqa: E402
from tests.support.process import free_port, start_alignbot  # noqa: E402

HEALTHY_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def backend_name(database_url: str | None) -> str:
    return "PostgreSQL" if database_url and database_url.startswith("postgres") else "SQLite"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (⌈q·n⌉-th smallest) of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def wait_healthy(port: int, process: asyncio.subprocess.Process | None = None) -> None:
    """Poll GET /healthz until it answers 200; exit if the server died or never got there."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HEALTHY_TIMEOUT
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while loop.time() < deadline:
            if process is not None and process.returncode is not None:
                raise SystemExit(f"the server on port {port} exited with {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not become healthy in {HEALTHY_TIMEOUT:g}s")


async def alignbot(env: dict[str, str], workdir: str, *args: str) -> str:
    """Run one `alignbot` CLI command; async because some (roster-sync) call the fake Slack."""
    process = await start_alignbot(*args, env=env, cwd=workdir)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(
            f"`alignbot {' '.join(args)}` failed ({process.returncode}):\n{output.decode()}"
        )
    return output.decode()


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it is still running after STOP_TIMEOUT."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def scratch_database(database_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database beside the one in `database_url`, dropped afterwards.

    Falls back to `database_url` itself (with a note) when the role may not create databases.
    """
    import asyncpg  # type: ignore[import-untyped]  # only needed for PostgreSQL runs

    url = make_url(database_url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    name = f"alignbot_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as error:
        raise SystemExit(f"cannot connect to {url.render_as_string()}: {error}") from None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.PostgresError as error:
        await admin.close()
        print(f"  (could not create a scratch database: {error}; using the one given)")
        yield database_url
        return
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@dataclass
class Server:
    """A running `alignbot run`: its port, environment and working directory."""

    port: int
    env: dict[str, str]
    workdir: str
    process: asyncio.subprocess.Process
    log_path: Path | None = None  # the server's stdout + stderr, when captured

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"


def server_env(fake: FakeSlack, *, workdir: str, database_url: str, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


@asynccontextmanager
async def alignbot_server(
    fake: FakeSlack,
    *,
    database_url: str | None = None,
    setup: Sequence[Sequence[str]] = (),
    python_args: Sequence[str] = (),
    capture_log: bool = False,
) -> AsyncIterator[Server]:
    """`alignbot run` (HTTP mode) against `fake`, after the `alignbot` CLI commands in `setup`.

    `python_args` go between the interpreter and `-m bot run`, e.g. ``("-m", "cProfile", "-o",
    "server.prof")`` to profile the server (it writes the profile when SIGTERM stops it).
    With `capture_log` the server's output goes to `Server.log_path` (inside the temp dir, so
    read it before leaving the block) instead of this terminal.
    """
    with tempfile.TemporaryDirectory() as workdir:
        if database_url and database_url.startswith("postgres"):
            database = scratch_database(database_url)
        else:
            database = _sqlite_file(database_url or f"sqlite:///{workdir}/bench.db")
        async with database as url:
            port = free_port()
            env = server_env(fake, workdir=workdir, database_url=url, port=port)
            for args in setup:
                await alignbot(env, workdir, *args)
            log_path = Path(workdir) / "server.log" if capture_log else None
            with open(log_path or os.devnull, "wb") as log:  # noqa: ASYNC230 (before start)
                process = await start_alignbot(
                    "run",
                    env=env,
                    cwd=workdir,
                    stdout=log if capture_log else None,
                    stderr=log if capture_log else None,
                    python_args=python_args,
                )
                try:
                    await wait_healthy(port, process)
                    yield Server(
                        port=port, env=env, workdir=workdir, process=process, log_path=log_path
                    )
                finally:
                    await stop_process(process)


@asynccontextmanager
async def _sqlite_file(url: str) -> AsyncIterator[str]:
    yield url


def run_counted(
    main: Callable[[int, str | None], Awaitable[None]], description: str | None
) -> None:
    """The command line of the benchmarks that repeat one interaction: `--count` times, on
    SQLite or on the PostgreSQL database `--database-url` names."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--database-url", help="e.g. postgresql://… (default: a temp SQLite file)")
    arguments = parser.parse_args()
    if arguments.count < 1:
        parser.error("--count must be at least 1")
    asyncio.run(main(arguments.count, arguments.database_url))
