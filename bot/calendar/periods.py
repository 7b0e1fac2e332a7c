"""Survey periods and weekly schedules: ISO weeks in the workspace's time zone, pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import UserError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS: dict[str, frozenset[str]] = {
    "mon": frozenset({"mon", "monday"}),
    "tue": frozenset({"tue", "tues", "tuesday"}),
    "wed": frozenset({"wed", "weds", "wednesday"}),
    "thu": frozenset({"thu", "thur", "thurs", "thursday"}),
    "fri": frozenset({"fri", "friday"}),
    "sat": frozenset({"sat", "saturday"}),
    "sun": frozenset({"sun", "sunday"}),
}
_SCHEDULE = re.compile(
    r"^\s*(?P<day>[a-z]+)\s*(?:at\s*)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class WeeklySchedule:
    """A day of the week and a time of day, e.g. Monday 10:00."""

    weekday: int  # Monday = 0
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.at:%H:%M}"


def parse_weekly_schedule(text: str) -> WeeklySchedule:
    """`mon 10:00`, `Friday 16:00`, `tue at 9` -> WeeklySchedule; UserError otherwise."""
    match = _SCHEDULE.match(text or "")
    word = match.group("day").lower() if match else ""
    day = word[:3]
    if not match or word not in DAY_WORDS.get(day, frozenset()):
        raise UserError(f"Couldn't read {text!r}: write a day and a time, like `mon 10:00`.")
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if hour > 23 or minute > 59:
        raise UserError(f"{text!r} is not a time of day: use 00:00 to 23:59.")
    return WeeklySchedule(WEEKDAYS.index(day), time(hour, minute))


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """A recipient's zone from Slack, or the workspace's when Slack gave none we know."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a region folder
                continue
    return ZoneInfo("UTC")


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    """Monday of the ISO week that `moment` falls in, in `tz`."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """One ISO week of a workspace: Monday 00:00 to the next Monday 00:00, local time."""

    start: date
    opens_at: datetime
    closes_at: datetime

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def period_of(moment: datetime, tz: ZoneInfo) -> Period:
    return period_starting(week_start(moment, tz), tz)


def period_starting(start: date, tz: ZoneInfo) -> Period:
    return Period(
        start=start,
        opens_at=local_midnight(start, tz),
        closes_at=local_midnight(start + timedelta(days=7), tz),
    )


def send_time(period: Period, schedule: WeeklySchedule, recipient_tz: ZoneInfo) -> datetime:
    """When a recipient gets the DM: the scheduled day and time of the period's week on their
    own clock, kept inside the period (a rep far ahead of the workspace can't be asked about a
    week that hasn't started)."""
    day = period.start + timedelta(days=schedule.weekday)
    local = datetime.combine(day, schedule.at, tzinfo=recipient_tz).astimezone(UTC)
    # A wall time skipped by a daylight-saving change resolves forward via the UTC round trip.
    latest = period.closes_at - timedelta(minutes=1)
    return min(max(local, period.opens_at), latest)
