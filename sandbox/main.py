"""`alignbot sandbox`: the real bot, in HTTP mode, wired to a fake Slack on this machine, and a
web page that plays Slack's client for the sandbox's people.

Three servers in one process: the fake Slack Web API (a free port on 127.0.0.1), the bot
exactly as `alignbot run` serves it (a free port on 127.0.0.1; signed requests only, with a
secret made for this run) and the page (PORT). The bot's database is its own SQLite file,
recreated at every start, because the fake Slack's channels live in memory and start empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.app import create_app, serve, team_clients
from bot.core.config import Settings
from bot.core.db import upgrade
from bot.core.deps import Deps
from bot.demo.people import DEMO_TIMEZONE
from jobs.dispatcher import Dispatcher
from jobs.runner import for_each_team
from jobs.scheduler import JOBS
from sandbox.client import SandboxSlack
from sandbox.clock import TravelClock
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from sandbox.web import create_page_app
from sandbox.workspace import PEOPLE, TEAM_ID, seed_database, seed_fake_slack

DEFAULT_DATABASE = "alignbot-sandbox.db"
READY_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def people_on_page() -> list[dict[str, Any]]:
    return [{"id": p.user_id, "name": p.real_name, "title": p.title, "tz": p.tz} for p in PEOPLE]


def next_at(now: datetime, weekday: int, hour: int) -> datetime:
    """The first `weekday` (Monday 0) at `hour`:00 strictly after `now`, in now's zone."""
    candidate = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    candidate += timedelta(days=(weekday - now.weekday()) % 7)
    return candidate if candidate > now else candidate + timedelta(days=7)


@dataclass
class Sandbox:
    """The running sandbox: what tests and the page need to reach."""

    url: str
    fake: FakeSlack
    slack: SandboxSlack
    deps: Deps
    clock: TravelClock
    zone: ZoneInfo

    def presets(self) -> list[dict[str, Any]]:
        now = self.clock.now().astimezone(self.zone)
        shown = "%Y-%m-%dT%H:%M"
        return [
            {
                "label": "Next Monday 10:00 (surveys)",
                "at": next_at(now, 0, 10).strftime(shown),
                "now": now.strftime("%a %d %b %Y %H:%M ") + str(self.zone),
            },
            {"label": "Friday 16:00 (digests)", "at": next_at(now, 4, 16).strftime(shown)},
        ]

    async def travel(self, typed: str) -> str:
        """Move the sandbox's clock to `typed` (workspace time) and run every scheduled job as
        of then, as its scheduler tick would: a job's own rules say what is due (the digests
        wait for their Friday hour), not an operator's forced `alignbot jobs run`."""
        try:
            local = datetime.fromisoformat(typed)
        except ValueError:
            raise ValueError(f"“{typed}” is not a date and time like 2026-12-07T10:00.") from None
        moment = self.clock.travel_to(
            local.replace(tzinfo=self.zone) if local.tzinfo is None else local
        )
        clients = team_clients(self.deps, create_app(self.deps))
        for name, job in JOBS.items():
            await for_each_team(
                self.deps,
                clients,
                job.team_job,
                moment,
                name=name,
                stop_on_error=True,
                needs_slack=job.needs_slack,
                team_id=TEAM_ID,
            )
        await Dispatcher(self.deps, clients).drain()  # so the page shows what they posted
        self.slack._bump()
        return f"It is now {moment.astimezone(self.zone):%a %d %b %Y %H:%M} ({self.zone}); ran {', '.join(JOBS)}."


def sandbox_settings(base: Settings, *, database: Path, api_url: str, bot_port: int) -> Settings:
    """The bot's settings for the sandbox: the fake's token and URL, a secret made for this run,
    the sandbox's own database; every real Slack credential dropped."""
    return base.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-sandbox-{secrets.token_hex(12)}"),
            "slack_signing_secret": SecretStr(secrets.token_hex(16)),
            "slack_app_token": None,
            "slack_client_id": None,
            "slack_client_secret": None,
            "slack_redirect_uri": None,
            "slack_api_url": api_url,
            "database_url": f"sqlite:///{database}",
            "host": "127.0.0.1",
            "port": bot_port,
        }
    )


def fresh_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def _wait_until_listening(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_SECONDS
        while True:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("the sandbox's bot did not start listening in time")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_sandbox(
    base: Settings,
    *,
    database: Path,
    with_demo: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[Sandbox]:
    """Start the fake Slack, the bot and the page; stop all three on exit."""
    fresh_database(database)
    clock = TravelClock()
    fake = FakeSlack(bot_token="xoxb-placeholder", team_id=TEAM_ID)
    fake.now_ns = clock.now_ns
    seed_fake_slack(fake, with_demo=with_demo)
    await fake.start()
    bot_port = free_port()
    settings = sandbox_settings(base, database=database, api_url=fake.url, bot_port=bot_port)
    token = settings.slack_bot_token
    secret = settings.slack_signing_secret
    assert token is not None
    assert secret is not None
    fake.tokens = {token.get_secret_value(): TEAM_ID}
    deps = Deps.from_settings(settings, clock=clock.now)
    stop = asyncio.Event()
    bot: asyncio.Task[None] | None = None
    runner: web.AppRunner | None = None
    sender = SlackSender(
        f"http://127.0.0.1:{bot_port}/slack/events", secret=secret.get_secret_value()
    )
    try:
        await upgrade(deps.engine)
        async with deps.sessions() as session:
            await seed_database(session, now=clock.now(), with_demo=with_demo)
        bot = asyncio.create_task(serve(deps, stop=stop))
        await _wait_until_listening(f"http://127.0.0.1:{bot_port}/healthz")
        slack = SandboxSlack(fake, sender, team_id=TEAM_ID)
        sandbox = Sandbox("", fake, slack, deps, clock, ZoneInfo(DEMO_TIMEZONE))
        page = create_page_app(
            slack, people=people_on_page(), travel=sandbox.travel, presets=sandbox.presets
        )
        runner = web.AppRunner(page, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        sandbox.url = f"http://localhost:{bound_port}/"
        yield sandbox
    finally:
        stop.set()
        if runner is not None:
            await runner.cleanup()
        if bot is not None:
            with contextlib.suppress(Exception):
                await bot
        await sender.close()
        await fake.stop()
        await deps.engine.dispose()


async def run_sandbox(
    base: Settings,
    *,
    database: Path,
    with_demo: bool,
    host: str,
    port: int,
    say: Callable[[str], None] = print,
) -> None:
    """`alignbot sandbox`: serve until Ctrl-C (SIGINT) or SIGTERM."""
    async with running_sandbox(
        base, database=database, with_demo=with_demo, host=host, port=port
    ) as sandbox:
        say(f"alignbot sandbox: open {sandbox.url} (Ctrl-C stops it)")
        waiting = asyncio.Event()
        with contextlib.suppress(asyncio.CancelledError):
            await _until_stopped(waiting)


async def _until_stopped(waiting: asyncio.Event) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, waiting.set)
    try:
        await waiting.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
