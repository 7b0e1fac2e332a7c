"""The demo generator's shared state: the rng, the clock, the workspace's settings, the ids it
assigns and the running totals the goals and the quota are derived from.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.business import BusinessCalendar
from bot.calendar.periods import Period
from bot.demo.writer import BulkWriter
from bot.workspace.settings import WorkspaceSettings

__all__ = ["Delivered", "Demo", "Opp", "Progress", "Totals", "local_time", "moment_in"]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
Progress = Callable[[str], None]


@dataclass
class Delivered:
    """A rep's delivered request, offered as "a delivered support request" activity."""

    at: datetime
    request_id: int
    number: int


@dataclass
class Opp:
    """A rep's new opportunity, as the pipeline survey reports it."""

    amount_cents: int
    sourced: bool
    activity: str | None


@dataclass
class Totals:
    """What the goals and the quota are derived from."""

    open_in_quarter: int = 0
    booked_in_quarter: int = 0
    sourced_in_quarter: int = 0
    delivered_in_quarter: int = 0


@dataclass
class Demo:
    """Everything one `generate_demo` run shares between its steps."""

    session: AsyncSession
    rng: random.Random
    now: datetime
    team_id: str
    weeks: int
    reps: list[str]
    support: list[str]
    settings: WorkspaceSettings
    progress: Progress | None
    writer: BulkWriter
    rep_zones: dict[str, str] = field(default_factory=dict)
    rep_weights: list[float] = field(default_factory=list)
    delivered_by_rep: dict[str, list[Delivered]] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    next_ids: dict[str, int] = field(default_factory=dict)
    request_number: int = 0
    opportunity_number: int = 0
    quarter_start: datetime = EPOCH

    @cached_property
    def tz(self) -> ZoneInfo:
        return self.settings.zone

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return self.settings.calendar

    @cached_property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def new_id(self, name: str) -> int:
        value = self.next_ids[name]
        self.next_ids[name] = value + 1
        return value


def local_time(day: date, hour: float, tz: ZoneInfo) -> datetime:
    """`hour` (8.5 is 08:30) on `day` in `tz`, as a UTC instant."""
    minutes = int(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(UTC)


def moment_in(demo: Demo, period: Period) -> datetime:
    """A moment in the period, on a working day and mostly in office hours, not after now."""
    rng = demo.rng
    latest = min(period.closes_at, demo.now)
    day = period.start + timedelta(days=rng.choices(range(5), (22, 22, 21, 20, 15))[0])
    hour = rng.uniform(8.5, 17.5) if rng.random() < 0.9 else rng.uniform(6.0, 21.0)
    moment = local_time(day, hour, demo.tz)
    if moment < latest:
        return moment
    span = (latest - period.opens_at).total_seconds()
    return period.opens_at + timedelta(seconds=rng.uniform(0, max(span - 1, 0)))
