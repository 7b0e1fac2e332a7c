"""Period windows: the one definition of "which instants, and which local dates, a figure covers".

Every KPI, digest, scorecard, export sheet and CLI command measures a period through a `Window`:
a half-open interval of instants `[start, end)`, aware, laid out in the workspace's zone. Two
kinds of data are compared with it:

* timestamps (`created_at`, `delivered_at`…) directly: `start <= moment < end`;
* calendar dates (due dates, CRM dates, survey weeks, lead weeks) through `local_dates`: the
  local dates on which at least one instant of the window falls. A window that ends "now", in
  the middle of a day, covers that day: an opportunity created today is in the quarter to date.

Nothing else computes a date range from instants; build windows with `week_window`,
`quarter_window` or `Window.up_to` and ask them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendar.periods import local_midnight
from bot.core.errors import UserError

__all__ = [
    "Window",
    "iso_week_label",
    "parse_quarter_label",
    "quarter_of",
    "quarter_window",
    "require_monday",
    "week_window",
]

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Window:
    """A half-open span of time `[start, end)`, aware, with the label digests show.

    `tz` is the workspace zone the window was laid out in; it tells which local *dates* the
    window covers. `week_window` and `quarter_window` set it; a window built by hand without it
    gets the workspace's zone where a metric needs dates. Derive shorter windows with `up_to`
    (or `dataclasses.replace`), which keep the zone.
    """

    start: datetime
    end: datetime
    label: str
    tz: ZoneInfo | None = None

    def __post_init__(self) -> None:
        for name, moment in (("start", self.start), ("end", self.end)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"window {name} must be timezone-aware, got {moment!r}")
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self.start} > {self.end}")

    def local_dates(self, tz: ZoneInfo | None = None) -> tuple[date, date]:
        """The local dates `[first, after)` the window covers in `tz` (default: its own zone).

        A date is covered when at least one instant of the window falls on it: a week window
        (Monday 00:00 to Monday 00:00) covers Monday to Sunday; a window ending at 10:00 today
        covers today. An empty window covers no date (`first == after`).
        """
        zone = tz or self.tz
        if zone is None:
            raise ValueError("this window has no time zone: pass the workspace's")
        first = self.start.astimezone(zone).date()
        if self.end <= self.start:
            return first, first
        return first, (self.end - _MICROSECOND).astimezone(zone).date() + timedelta(days=1)

    def last_date(self, tz: ZoneInfo | None = None) -> date:
        """The last local date the window covers (its first date when it is empty)."""
        first, after = self.local_dates(tz)
        return max(first, after - timedelta(days=1))

    def up_to(self, moment: datetime) -> Window:
        """The part of the window before `moment` (empty when `moment` is before its start)."""
        return replace(self, end=min(self.end, max(self.start, moment)))

    def measured_at(self, now: datetime) -> datetime:
        """The instant a point-in-time figure (open, overdue, coverage) is measured at: the
        window's end once it has passed, else `now` — a week in progress is never judged by
        what will be true at its end."""
        return min(self.end, now)

    def has_ended(self, now: datetime) -> bool:
        return self.end <= now


def iso_week_label(week_start: date) -> str:
    """ "2026-W48" for any day of ISO week 48 of 2026 (the ISO year, not the calendar year)."""
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def require_monday(day: date) -> None:
    """A week is named by its Monday; anything else is a programming error."""
    if day.weekday() != 0:
        raise ValueError(f"a week starts on a Monday; {day} is a {day:%A}")


def week_window(week_start: date, tz: ZoneInfo) -> Window:
    """The ISO week starting on Monday `week_start`: Monday 00:00 local to the next Monday
    00:00 local (so 167, 168 or 169 hours across a daylight-saving change), labelled
    "2026-W48". A `week_start` that is not a Monday raises `ValueError`."""
    require_monday(week_start)
    return Window(
        start=local_midnight(week_start, tz),
        end=local_midnight(week_start + timedelta(days=7), tz),
        label=iso_week_label(week_start),
        tz=tz,
    )


_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def parse_quarter_label(quarter: str) -> tuple[date, date, str]:
    """ "2026-Q4" -> (1 Oct 2026, 1 Jan 2027, "2026-Q4"); `UserError` for anything else."""
    match = _QUARTER.match(quarter or "")
    if match is None:
        raise UserError(f"{quarter!r} isn't a quarter: write it like 2026-Q4.")
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return first, after, f"{year}-Q{number}"


def quarter_window(quarter: str, tz: ZoneInfo) -> Window:
    """The calendar quarter "2026-Q4": 1 Oct 00:00 local to 1 Jan 00:00 local.

    Also accepts "2026Q4" and "2026-q4"; anything else raises `UserError` (quarters are typed
    by people in `/align` commands)."""
    first, after, label = parse_quarter_label(quarter)
    return Window(
        start=local_midnight(first, tz), end=local_midnight(after, tz), label=label, tz=tz
    )


def quarter_of(day: date) -> str:
    """The calendar quarter a date falls in: 30 Sep 2026 -> "2026-Q3", 1 Oct -> "2026-Q4"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
