"""The business calendar: when Marketing Support works, and arithmetic in business time.

A workspace works certain weekdays, certain hours (default Mon–Fri 09:00–17:00 in its time
zone), minus a holiday list. `BusinessCalendar` answers "is this business time?", "how much
business time lies between these moments, outside these pauses?" and "when will N business
days have passed?"; `merge_pauses` is the one definition of how "waiting on requester" time
is taken out of a span; the `parse_*` functions read an admin's settings. What turnaround a
request type gets and when reminders fire is the requests' business (`bot.requests.sla`).

Conventions, chosen so callers cannot get them subtly wrong:

* Everything is pure: no I/O and no clock; `now` is always an argument.
* Datetimes passed in must be timezone-aware (a naive one raises `ValueError`: silently
  guessing a zone is how SLAs end up off by hours). Datetimes returned are in UTC.
* Business time is the half-open window `[opening, closing)` of each business day, measured
  in real elapsed seconds. The windows are laid out in the calendar's local time, so a
  business day is 09:00–17:00 on the wall clock, 8 hours, whatever the UTC offset of that day
  (daylight-saving changes happen at night, outside the window).
* Mistakes a person can make (an unknown time zone, "17-9" as business hours, "funday") raise
  `UserError` with a message they can act on; programming mistakes (negative seconds, naive
  datetimes, a pause ending before it starts) raise `ValueError`.
"""

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import UserError

__all__ = [
    "BusinessCalendar",
    "Pause",
    "merge_pauses",
    "parse_business_hours",
    "parse_holidays",
    "parse_workdays",
    "require_aware",
]

Pause: TypeAlias = tuple[datetime, datetime | None]
"""A "waiting on requester" interval; `(since, None)` means it is still going on."""

_DEFAULT_WORKDAYS: Final = frozenset({0, 1, 2, 3, 4})
_DEFAULT_START: Final = time(9, 0)
_DEFAULT_END: Final = time(17, 0)
_ONE_SECOND: Final = timedelta(seconds=1)
_ZERO: Final = timedelta(0)


def require_aware(moment: datetime, name: str) -> None:
    """Refuse naive datetimes (`ValueError` naming `name`): which zone they mean is a guess,
    and a wrong guess moves SLAs."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _as_seconds(span: timedelta) -> float:
    return span / _ONE_SECOND


# --------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    """When Marketing Support works: a time zone, working weekdays, daily hours and holidays.

    Validated on construction, so an admin's bad settings are refused when saved rather than
    breaking the reminder job later.
    """

    timezone: str = "UTC"
    workdays: frozenset[int] = _DEFAULT_WORKDAYS
    start: time = _DEFAULT_START
    end: time = _DEFAULT_END
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterable of ints/dates but store frozensets, so the calendar stays hashable.
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
            raise UserError(
                f"“{self.timezone}” is not a time zone I know. Use a name such as "
                "Europe/Berlin, America/New_York or Asia/Kolkata."
            ) from None
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise UserError("Business hours are local wall-clock times; leave the zone out.")
        if self.start >= self.end:
            raise UserError(
                f"Business hours must end after they start: {self.start:%H:%M}–{self.end:%H:%M} "
                "doesn't (hours running past midnight aren't supported)."
            )
        if not self.workdays:
            raise UserError("Pick at least one working day.")
        strays = sorted(day for day in self.workdays if day not in range(7))
        if strays:
            raise UserError(
                f"Working days are numbered 0 (Monday) to 6 (Sunday); {strays[0]} isn't one."
            )

    # -- shape of a day ------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The workspace zone (ZoneInfo caches instances, so this is cheap to call often)."""
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        """The length of one business day on the wall clock (8 hours by default)."""
        anchor = date(2000, 1, 1)
        return datetime.combine(anchor, self.end) - datetime.combine(anchor, self.start)

    @property
    def hours_per_day(self) -> float:
        """Business hours in one business day; an SLA of N days is N times this."""
        return self.day_length / timedelta(hours=1)

    def is_business_day(self, day: date) -> bool:
        """Whether `day` (a local date) is a working weekday and not a holiday."""
        return day.weekday() in self.workdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """Opening and closing of local `day`, in UTC (not checked to be a business day)."""
        zone = self.zone
        opening = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        closing = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return opening, closing

    def _windows_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Business windows of `day` and every later local date, in order, forever.

        Callers stop iterating; workdays is non-empty and holidays finite, so a window always
        comes eventually (the dates run out at year 9999 with an OverflowError, not a hang).
        """
        while True:
            if self.is_business_day(day):
                opening, closing = self._window(day)
                if closing > opening:
                    yield opening, closing
            day += timedelta(days=1)

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    # -- questions about moments -----------------------------------------------------------

    def is_business_time(self, moment: datetime) -> bool:
        """Whether `moment` falls in business hours (opening inclusive, closing exclusive)."""
        require_aware(moment, "moment")
        day = self._local_date(moment)
        if not self.is_business_day(day):
            return False
        opening, closing = self._window(day)
        return opening <= moment < closing

    def business_time_between(
        self, start: datetime, end: datetime, paused: Sequence[Pause] = ()
    ) -> timedelta:
        """Exact (microsecond) business time in `[start, end)` outside the pauses.

        The timedelta behind `business_seconds_between`, for callers that compare against
        thresholds and must not lose an exact 75% to float rounding.
        """
        require_aware(start, "start")
        require_aware(end, "end")
        if end <= start:
            return _ZERO
        gaps = merge_pauses(paused, start, end)
        total = _ZERO
        # A window lies within its own local date; one spare day each side costs nothing.
        first = self._local_date(start) - timedelta(days=1)
        for opening, closing in self._windows_from(first):
            if opening >= end:
                break
            lo, hi = max(opening, start), min(closing, end)
            if hi <= lo:
                continue
            total += hi - lo
            for gap_start, gap_end in gaps:
                overlap = min(hi, gap_end) - max(lo, gap_start)
                if overlap > _ZERO:
                    total -= overlap
        return total

    def business_seconds_between(
        self, start: datetime, end: datetime, *, paused: Sequence[Pause] = ()
    ) -> float:
        """Business seconds in `[start, end)`, not counting time inside `paused` intervals.

        An open pause `(since, None)` runs to `end`. Overlapping pauses count once (two
        people flagging "waiting on requester" must not pause the clock twice). Returns 0 when
        `end <= start`.
        """
        return _as_seconds(self.business_time_between(start, end, paused))

    # -- moving forward in business time ---------------------------------------------------

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The UTC moment at which `seconds` of business time have elapsed after `start`.

        Counting begins at `start` if it is business time, else at the next opening. With
        `seconds == 0` that is the answer itself. When the time runs out exactly at closing,
        the answer is that closing time (not the next opening), so a one-day SLA filed at
        Monday's opening ends Monday evening and is due that day.
        """
        require_aware(start, "start")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be finite and non-negative, got {seconds!r}")
        remaining = timedelta(seconds=seconds)
        start_utc = start.astimezone(UTC)
        first = self._local_date(start) - timedelta(days=1)
        for opening, closing in self._windows_from(first):
            position = max(opening, start_utc)
            available = closing - position
            if available <= _ZERO:
                continue
            if remaining <= available:
                return position + remaining
            remaining -= available
        raise AssertionError("unreachable: business windows never run out")  # pragma: no cover

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """`start` plus `days` business days, each as long as one business day's hours.

        Counting in hours rather than dates keeps the time of day: filed Friday 16:00 with a
        one-day SLA means due Monday 16:00, not "end of Monday".
        """
        if days < 0:
            raise ValueError(f"days must be non-negative, got {days}")
        return self.add_business_seconds(start, _as_seconds(self.day_length * days))

    def due_date_for(self, filed_at: datetime, days: int) -> date:
        """The local date on which a `days`-day SLA filed at `filed_at` runs out.

        This is the date shown to people and stored as the default due date; an SLA that ends
        exactly at closing time is due that day.
        """
        return self._local_date(self.add_business_days(filed_at, days))

    def sla_deadline(self, filed_at: datetime, *, due_date: date | None, days: int) -> datetime:
        """The UTC moment a request becomes overdue.

        A due date the requester chose wins: the request is on time until closing time of that
        local date, even when that date is not a business day (they asked for Saturday; we
        honour Saturday rather than silently moving it). Without one, the per-type SLA applies.
        """
        if due_date is not None:
            return datetime.combine(due_date, self.end, tzinfo=self.zone).astimezone(UTC)
        return self.add_business_days(filed_at, days)


def merge_pauses(
    paused: Sequence[Pause], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Pauses clipped to `[start, end)`, sorted and merged so overlaps count once.

    The one definition of how "waiting on requester" time is taken out of a span: a pause
    still going on (`until` None) runs to `end`; a pause ending before it starts raises
    `ValueError`. Used by the calendar itself and by the KPIs' business clock, so both
    subtract exactly the same time.
    """
    clipped: list[tuple[datetime, datetime]] = []
    for since, until in paused:
        require_aware(since, "pause start")
        if until is None:
            until = end
        else:
            require_aware(until, "pause end")
            if until < since:
                raise ValueError(f"pause ends before it starts: {since!r} > {until!r}")
        lo, hi = max(since, start), min(until, end)
        if hi > lo:
            clipped.append((lo, hi))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


# --------------------------------------------------------------------------------------
# Parsing admin settings
# --------------------------------------------------------------------------------------

_SEPARATORS: Final = re.compile(r"[\s,;]+")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DASH: Final = r"\s*(?:-|–|—|to)\s*"
_CLOCK: Final = r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?"
_HOURS: Final = re.compile(rf"{_CLOCK}{_DASH}{_CLOCK}", re.IGNORECASE)
_HOURS_HINT: Final = "Write business hours like 09:00-17:00 (or 9-17, or 9am-5pm)."

_DAY_NAMES: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_WORKDAYS_HINT: Final = "Write working days like mon-fri, sun-thu or mon,tue,wed,thu."


def parse_holidays(text: str) -> frozenset[date]:
    """Read a holiday list such as "2026-12-24, 2026-12-25 2027-01-01".

    Dates are separated by commas, spaces, semicolons or new lines; blank text means no
    holidays. Only ISO dates are accepted, because "04/05" means different days to different
    admins and a holiday a month off is worse than an error.
    """
    days: set[date] = set()
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        if not _ISO_DATE.fullmatch(token):
            raise UserError(
                f"“{token}” isn't a date. Write holidays as YYYY-MM-DD, e.g. 2026-12-25."
            )
        try:
            days.add(date.fromisoformat(token))
        except ValueError:
            raise UserError(f"{token} isn't a real date; check the month and day.") from None
    return frozenset(days)


def _clock(hour_text: str, minute_text: str | None, meridiem: str | None) -> time:
    """One end of a business-hours range; `UserError` for 25:00, 13pm and the like."""
    hour, minute = int(hour_text), int(minute_text or 0)
    shown = f"{hour_text}:{minute_text or '00'}{meridiem or ''}"
    if meridiem:
        if not 1 <= hour <= 12:
            raise UserError(f"{shown} isn't a time. {_HOURS_HINT}")
        hour = hour % 12 + (12 if meridiem.lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        raise UserError(f"{shown} isn't a time of day. {_HOURS_HINT}")
    return time(hour, minute)


def parse_business_hours(text: str) -> tuple[time, time]:
    """Read business hours such as "09:00-17:00", "9-17", "8:30–16:30" or "9am-5pm".

    Forgiving about form (en dashes, "to", am/pm) but refuses ranges that end before they
    start: overnight support shifts are not modelled, and a silently swapped range would put
    every SLA in the wrong half of the day.
    """
    match = _HOURS.fullmatch(text.strip())
    if match is None:
        raise UserError(f"I couldn't read “{text.strip()}” as business hours. {_HOURS_HINT}")
    opening = _clock(*match.group(1, 2, 3))
    closing = _clock(*match.group(4, 5, 6))
    if opening >= closing:
        raise UserError(
            f"Business hours must end after they start ({opening:%H:%M}–{closing:%H:%M} "
            "doesn't); hours running past midnight aren't supported."
        )
    return opening, closing


def _day_number(name: str) -> int:
    number = _DAY_NAMES.get(name.lower())
    if number is None:
        raise UserError(f"“{name}” isn't a day of the week. {_WORKDAYS_HINT}")
    return number


def parse_workdays(text: str) -> frozenset[int]:
    """Read working days such as "mon-fri", "mon,tue,wed,thu" or "sun-thu" (Monday = 0).

    Ranges wrap around the weekend ("sun-thu", "fri-mon") because many workspaces outside
    Europe and the Americas work Sunday to Thursday.
    """
    normalised = re.sub(r"\s*[-–—]\s*", "-", text.strip())
    days: set[int] = set()
    for token in _SEPARATORS.split(normalised):
        if not token:
            continue
        first, dash, last = token.partition("-")
        if not dash:
            days.add(_day_number(token))
            continue
        if not first or not last:
            raise UserError(f"“{token}” is half a range. {_WORKDAYS_HINT}")
        begin, finish = _day_number(first), _day_number(last)
        length = (finish - begin) % 7 + 1
        days.update((begin + offset) % 7 for offset in range(length))
    if not days:
        raise UserError(f"Pick at least one working day. {_WORKDAYS_HINT}")
    return frozenset(days)
