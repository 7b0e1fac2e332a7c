"""What handlers and jobs need, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db import SessionFactory, make_engine, make_session_factory


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Deps:
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings, engine=engine, sessions=make_session_factory(engine), clock=clock
        )
