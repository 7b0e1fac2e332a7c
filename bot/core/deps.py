"""What handlers and jobs need, built once by the composition root."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.config import Settings
from bot.core.db import SessionFactory, is_sqlite, make_engine, make_session_factory

# Request writes (filing, recording its intake post) at once. More only queue on SQLite's one
# write lock (or PostgreSQL's per-workspace reference counter) while holding pool connections,
# which starves the reads every ack needs.
FILINGS_AT_ONCE_SQLITE = 1
FILINGS_AT_ONCE_POSTGRES = 4


def utc_now() -> datetime:
    return datetime.now(UTC)


class RunNow(Protocol):
    """Start a job's work for one workspace now, from a listener: `run_now("roster-sync", …)`.

    The composition root (`bot.app.create_app`) provides it, so listeners never import `jobs/`.
    `client` is the workspace's Slack client; the result is the job's own (see
    `jobs.scheduler.ON_DEMAND`)."""

    async def __call__(self, job: str, *, client: Any, team_id: str, now: datetime) -> Any: ...


async def _not_wired(job: str, *, client: Any, team_id: str, now: datetime) -> Any:
    raise RuntimeError(f"run_now({job!r}) needs the app: build it with bot.app.create_app")


class OutboxSender(Protocol):
    """Sends outbox rows just stored (`deliver`, with the caller's client when it has one) and
    wakes the background dispatcher. The composition root provides it (`jobs.dispatcher`)."""

    async def deliver(self, ids: Sequence[int], client: Any = None) -> dict[int, Any]: ...

    def wake(self) -> None: ...


class _OutboxNotWired:
    async def deliver(self, ids: Sequence[int], client: Any = None) -> dict[int, Any]:
        raise RuntimeError("the outbox needs the app: build it with bot.app.create_app")

    def wake(self) -> None:
        return None


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    clock: Callable[[], datetime] = utc_now
    # Workspaces recorded by this process, so the per-request check is a set lookup.
    known_teams: set[str] = field(default_factory=set)
    # (team, user) -> (is workspace admin, monotonic expiry): spares a users.info per click.
    admin_cache: dict[tuple[str, str], tuple[bool, float]] = field(default_factory=dict)
    # team -> (time zone, monotonic expiry): what `/mktg` needs before its ack, without a query.
    zone_cache: dict[str, tuple[ZoneInfo, float]] = field(default_factory=dict)
    filing_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    run_now: RunNow = _not_wired
    outbox: OutboxSender = field(default_factory=_OutboxNotWired)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Deps:
        engine = make_engine(settings.database_url)
        at_once = FILINGS_AT_ONCE_SQLITE if is_sqlite(engine) else FILINGS_AT_ONCE_POSTGRES
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            clock=clock,
            filing_gate=asyncio.Semaphore(at_once),
        )
