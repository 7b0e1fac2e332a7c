"""The period an export covers: `ExportPeriod` (local dates, both inclusive), how
`/align export [from] [to]` and the CLI's --from/--to are read into one, and the file's name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.calendar.periods import local_midnight
from bot.calendar.windows import Window, quarter_of
from bot.core.errors import UserError
from bot.core.text import quote_input
from bot.kpis.goals import parse_quarter, quarter_bounds

MAX_PERIOD_DAYS: Final = 366
"""An export covers at most a year: every week in it costs a full set of KPI queries."""


@dataclass(frozen=True)
class ExportPeriod:
    """The local dates an export covers, both inclusive, in the workspace's zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends before it starts: {self.start} > {self.end}")

    @property
    def quarter(self) -> str | None:
        """ "2026-Q4" when the period is exactly one calendar quarter."""
        quarter = quarter_of(self.start)
        return quarter if quarter_bounds(quarter) == (self.start, self.end) else None

    @property
    def label(self) -> str:
        return self.quarter or f"{self.start.isoformat()} to {self.end.isoformat()}"

    def window(self, tz: ZoneInfo) -> Window:
        """Local midnight of the first day to local midnight after the last, as UTC."""
        return Window(
            start=local_midnight(self.start, tz),
            end=local_midnight(self.end + timedelta(days=1), tz),
            label=self.label,
            tz=tz,
        )


_ISO_DATE: Final = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})", re.ASCII)
_MONTH: Final = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})", re.ASCII)
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2099
PERIOD_FORMS: Final = (
    "a date like 2026-10-01, a month like 2026-11, a quarter like Q4, Q4 2026 or 2026-Q4, "
    "or this, last or next quarter"
)


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _span(text: str, *, today: date) -> tuple[date, date, bool]:
    """What one bound names: (first day, last day, whether it was a single date)."""
    cleaned = " ".join(text.strip().lower().split())
    unreadable = UserError(
        f"I couldn't read {quote_input(text, None)} as a date. Write {PERIOD_FORMS}."
    )
    if match := _ISO_DATE.fullmatch(cleaned):
        try:
            day = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise UserError(
                f"{quote_input(text, None)} isn't a real date. Write {PERIOD_FORMS}."
            ) from None
        first, last, single = day, day, True
    elif match := _MONTH.fullmatch(cleaned):
        year, month = int(match["y"]), int(match["m"])
        if not 1 <= month <= 12:
            raise unreadable
        first, last, single = date(year, month, 1), _month_end(year, month), False
    elif cleaned == "today":
        first, last, single = today, today, True
    else:
        try:
            quarter = parse_quarter(cleaned, today=today)
        except UserError:
            raise unreadable from None
        first, last = quarter_bounds(quarter)
        single = False
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise UserError(
            f"{quote_input(text, None)} is too far from today for an export. Write {PERIOD_FORMS}."
        )
    return first, last, single


def parse_export_period(from_text: str | None, to_text: str | None, *, today: date) -> ExportPeriod:
    """Read `/align export [from] [to]` (and the CLI's --from/--to) into local dates.

    Nothing given: the current quarter. Each bound is a date (2026-10-01), a month (2026-11),
    a quarter (Q4, Q4 2026, 2026-Q4, this / last / next quarter) or "today"; a span used as
    `from` starts the period on its first day, as `to` ends it on its last. With only `from`,
    a span is exported whole and a single date runs to the end of its quarter; with only
    `to`, the period starts on the first day of that end's quarter. Anything unreadable, a
    start after the end, or more than `MAX_PERIOD_DAYS` days raises `UserError`.
    """
    has_from = bool(from_text and from_text.strip())
    has_to = bool(to_text and to_text.strip())
    if not has_from and not has_to:
        start, end = quarter_bounds(quarter_of(today))
    elif has_from and not has_to:
        assert from_text is not None
        start, end, single = _span(from_text, today=today)
        if single:
            end = quarter_bounds(quarter_of(start))[1]
    elif has_to and not has_from:
        assert to_text is not None
        end = _span(to_text, today=today)[1]
        start = quarter_bounds(quarter_of(end))[0]
    else:
        assert from_text is not None
        assert to_text is not None
        start = _span(from_text, today=today)[0]
        end = _span(to_text, today=today)[1]
    if start > end:
        raise UserError(
            f"The start date is after the end date: {start.isoformat()} comes after "
            f"{end.isoformat()}. Put the earlier date first, like "
            "`/align export 2026-10-01 2026-12-31`."
        )
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise UserError(
            f"That's {days} days ({start.isoformat()} to {end.isoformat()}); an export covers "
            f"at most {MAX_PERIOD_DAYS} days. Export it a year at a time."
        )
    return ExportPeriod(start=start, end=end)


def export_filename(period: ExportPeriod) -> str:
    """The .xlsx file's name: "alignbot-export-2026-Q4.xlsx" or the two dates."""
    label = period.quarter or f"{period.start.isoformat()}_to_{period.end.isoformat()}"
    return f"alignbot-export-{label}.xlsx"
