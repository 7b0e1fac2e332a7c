"""How long things took: `Durations` (count, median, 90th percentile) and the business clock
that measures spans in working hours of a `BusinessCalendar`, fast enough for a quarter of
requests at once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from bot.calendar.business import BusinessCalendar, Pause, merge_pauses
from bot.calendar.periods import local_midnight

__all__ = ["SECONDS_PER_HOUR", "BusinessClock", "Durations", "hours_between", "summarise_durations"]

SECONDS_PER_HOUR: Final = 3600.0


@dataclass(frozen=True)
class Durations:
    """A set of durations in hours: how many, the median and the 90th percentile.

    The median is the middle value, or the mean of the two middle values for an even count.
    The 90th percentile uses the nearest-rank method: sort ascending and take the value at
    rank ceil(0.9 × count) (1-based), so it is always one of the observed durations: of 10
    values the 9th smallest, of 3 values the largest. Both are `None` when there are none.
    """

    count: int
    median: float | None
    p90: float | None


def summarise_durations(hours: Iterable[float]) -> Durations:
    """Median and nearest-rank 90th percentile of durations in hours (see `Durations`)."""
    ordered = sorted(hours)
    count = len(ordered)
    if count == 0:
        return Durations(count=0, median=None, p90=None)
    middle = count // 2
    median = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    rank = (9 * count + 9) // 10  # ceil(0.9 * count) in integers: no float rounding at 9/10
    return Durations(count=count, median=median, p90=ordered[rank - 1])


def hours_between(start: datetime, end: datetime) -> float:
    """Calendar hours from `start` to `end` (negative when `end` is earlier)."""
    return (end - start).total_seconds() / SECONDS_PER_HOUR


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_MICROSECONDS_PER_SECOND: Final = 1_000_000
_SPARE_DAYS: Final = 62


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


class BusinessClock:
    """`BusinessCalendar.business_seconds_between`, answered from prefix sums.

    The calendar's business windows (its local opening and closing of every business day,
    in UTC) are laid out once for the span of days asked about, with the business time
    before each; the business time in `[start, end)` is then `before(end) - before(start)`,
    two binary searches instead of a walk over every day. Exact to the microsecond like the
    calendar, and the same float: integer microseconds divided once.
    """

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self._first: date | None = None
        self._last: date | None = None
        self._covered = (0, 0)  # [from, to) in UTC microseconds: local midnights
        self._openings: list[int] = []
        self._lengths: list[int] = []
        self._before: list[int] = []

    def _cover(self, first: date, last: date) -> None:
        """Lay out the windows of local days `first`..`last` (a window stays in its day)."""
        calendar, zone = self.calendar, self.zone
        openings: list[int] = []
        lengths: list[int] = []
        before: list[int] = []
        total = 0
        day = first
        while day <= last:
            if calendar.is_business_day(day):
                opening = _micros(datetime.combine(day, calendar.start, tzinfo=zone))
                closing = _micros(datetime.combine(day, calendar.end, tzinfo=zone))
                if closing > opening:
                    openings.append(opening)
                    lengths.append(closing - opening)
                    before.append(total)
                    total += closing - opening
            day += timedelta(days=1)
        self._first, self._last = first, last
        self._covered = (
            _micros(local_midnight(first, zone)),
            _micros(local_midnight(last + timedelta(days=1), zone)),
        )
        self._openings, self._lengths, self._before = openings, lengths, before

    def _ensure(self, start: int, end: int, start_at: datetime, end_at: datetime) -> None:
        if self._covered[0] <= start and end <= self._covered[1]:
            return
        first = start_at.astimezone(self.zone).date() - timedelta(days=1)
        last = end_at.astimezone(self.zone).date() + timedelta(days=1)
        if self._first is not None and self._last is not None:
            first, last = min(first, self._first), max(last, self._last)
        self._cover(first - timedelta(days=_SPARE_DAYS), last + timedelta(days=_SPARE_DAYS))

    def _elapsed(self, moment: int) -> int:
        """Business microseconds from the first laid-out window to `moment`."""
        index = bisect_right(self._openings, moment) - 1
        if index < 0:
            return 0
        return self._before[index] + min(moment - self._openings[index], self._lengths[index])

    def seconds_between(
        self, start: datetime, end: datetime, paused: Sequence[Pause] = ()
    ) -> float:
        """Business seconds in `[start, end)` outside `paused` (merged, an open pause runs to
        `end`), the same number as `BusinessCalendar.business_seconds_between`."""
        if end <= start:
            return 0.0
        lo, hi = _micros(start), _micros(end)
        self._ensure(lo, hi, start, end)
        total = self._elapsed(hi) - self._elapsed(lo)
        if paused:
            for gap_start, gap_end in merge_pauses(paused, start, end):
                total -= self._elapsed(_micros(gap_end)) - self._elapsed(_micros(gap_start))
        return total / _MICROSECONDS_PER_SECOND
