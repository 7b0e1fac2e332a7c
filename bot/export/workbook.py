"""The Excel export (PRODUCT.md §4): one .xlsx workbook holding the numbers and the raw data.

Sheets, in order:

* **Summary**: the period's key figures per function, the goals of its quarter and both
  scorecards (inputs, weights, attainment), as plain values so any viewer shows them.
* **Weekly KPIs**: one row per ISO week (clipped to the period, and to now), computed by the
  same `bot.kpis.metrics` functions the digests use, with native line and bar charts.
* **Requests**: every request filed in the period, plus earlier ones claimed or delivered in
  it, with real Excel datetimes and the durations the KPIs are computed from.
* **Survey responses**: the enablement pulse, anonymised by `bot.surveys.privacy`'s rules, then the
  pipeline pulse, which is named business data (the rep's user id).
* **Pipeline**: imported CRM opportunities created or closing in the period, and the marketing
  activities reps credited with pipeline.
* **Scorecard**: each quarter's scorecards with live formulas (attainment = actual / goal,
  capped = MIN(MAX(attainment, 0), cap), contribution = weight × capped, total = SUM).

How it stays fast and small:

* The database is read in pages of `PAGE_ROWS` rows by keyset pagination on an index, each
  page in its own short transaction (an export never holds SQLite's write lock for long).
  Rows are turned into plain cell values here (local Excel serial dates, dollars, labels,
  cleaned text) and handed to a *writer* that owns the workbook.
* The writer uses openpyxl's write-only mode, which streams each sheet to a temporary file:
  memory is bounded by a few pages whatever the period. For a big export
  (`PROCESS_MIN_ROWS`) the writer is a separate process, so writing the XML runs on another
  core instead of competing for the GIL; a small one writes in a thread.
* While the writer is busy with the pages sent so far, the KPI queries run (one step at a
  time, on the same session), so the two overlap instead of adding up.

Excel has no time zones: datetimes are written as wall-clock times in the workspace's zone,
which header notes and the Summary say. User text is data, never a formula (`user_text`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import re
import resource
import time
import tracemalloc
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import local_midnight
from bot.core.db import read_only
from bot.core.errors import UserError
from bot.core.models import (
    DeliveryRating,
    DeliveryStatus,
    Function,
    LeadCount,
    Opportunity,
    RequestEvent,
    RequestStatus,
    RequestType,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyRun,
)
from bot.core.text import format_reference
from bot.export.charts import add_weekly_charts, apply_page_setup
from bot.kpis.digests import scorecard_for, sourced_cents
from bot.kpis.goals import (
    METRICS,
    Unit,
    goals_for,
    next_quarter,
    parse_quarter,
    quarter_bounds,
    quarter_of,
    quote_input,
    targets_of,
)
from bot.kpis.metrics import (
    Coverage,
    PipelineStats,
    RequestStats,
    SatisfactionStats,
    Window,
    coverage,
    iso_week_label,
    pipeline_stats,
    request_stats,
    satisfaction_stats,
    week_window,
)
from bot.kpis.scorecard import Scorecard
from bot.requests.deadlines import PROMISE_COLUMNS, Promise
from bot.requests.lifecycle import Action
from bot.surveys.privacy import WITHHELD_TEXT, Aggregate, effective_minimum, withheld_weeks_note
from bot.surveys.runs import ACTIVITY_OPTIONS, HELP_OPTIONS
from bot.surveys.satisfaction import window_satisfaction
from bot.workspace.settings import WorkspaceSettings

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "HOURS_FORMAT",
    "MAX_PERIOD_DAYS",
    "MONEY_FORMAT",
    "PAGE_ROWS",
    "PERCENT_FORMAT",
    "PROCESS_MIN_ROWS",
    "SCORE_FORMAT",
    "SHEETS",
    "ExportPeriod",
    "ExportResult",
    "build_workbook",
    "clean_text",
    "excel_date",
    "excel_datetime",
    "export_filename",
    "parse_export_period",
    "user_text",
]

logger = logging.getLogger(__name__)

PAGE_ROWS: Final = 5000
"""Rows read from the database per page (and per transaction)."""
PAGES_IN_FLIGHT: Final = 3
"""Pages handed to the writer ahead of what it has written: bounds memory, keeps it busy."""
PROCESS_MIN_ROWS: Final = 20_000
"""From this many raw rows on, the writer runs in its own process (starting one costs ~0.5 s)."""
MAX_PERIOD_DAYS: Final = 366
"""An export covers at most a year: every week in it costs a full set of KPI queries."""

SHEETS: Final = (
    "Summary",
    "Weekly KPIs",
    "Requests",
    "Survey responses",
    "Pipeline",
    "Scorecard",
)

DATETIME_FORMAT: Final = "yyyy-mm-dd hh:mm"
DATE_FORMAT: Final = "yyyy-mm-dd"
MONEY_FORMAT: Final = '"$"#,##0.00'
PERCENT_FORMAT: Final = "0.0%"
WEIGHT_FORMAT: Final = "0%"
HOURS_FORMAT: Final = "0.0"
SCORE_FORMAT: Final = "0.0"
COUNT_FORMAT: Final = "#,##0"
RATIO_FORMAT: Final = '0.0"x"'

EXCEL_CELL_LIMIT: Final = 32_767
"""Excel refuses (and "repairs") a workbook with a longer text cell."""
SAMPLE_ROWS: Final = 50
"""Rows looked at to fit column widths (write-only sheets fix widths before the first row)."""
MIN_WIDTH: Final = 6.0
MAX_WIDTH: Final = 60.0
# Characters that make a spreadsheet treat text as a formula (or start one when edited).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
_ERROR_CODES: Final = frozenset(ERROR_CODES)

HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
HEADER_FILL: Final = PatternFill("solid", fgColor="1F4E78")
HEADER_ALIGNMENT: Final = Alignment(vertical="center")
SECTION_FONT: Final = Font(bold=True, size=12, color="1F4E78")
TITLE_FONT: Final = Font(bold=True, size=14, color="1F4E78")
NOTE_FONT: Final = Font(italic=True, color="595959")
WARNING_FONT: Final = Font(bold=True, color="C00000")
BOLD: Final = Font(bold=True)


# --------------------------------------------------------------------------------------
# The period
# --------------------------------------------------------------------------------------


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
    label = period.quarter or f"{period.start.isoformat()}_to_{period.end.isoformat()}"
    return f"alignbot-export-{label}.xlsx"


# --------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------

_EXCEL_EPOCH: Final = datetime(1899, 12, 30)
_EXCEL_EPOCH_DAY: Final = _EXCEL_EPOCH.date()


def excel_datetime(moment: datetime | None, tz: ZoneInfo) -> float | None:
    """An aware datetime as an Excel serial number of its wall-clock time in `tz`.

    Excel has no time zones, so what it stores is the local time people expect to read;
    a date number format makes it a real date cell (openpyxl reads it back as a datetime).
    """
    if moment is None:
        return None
    delta = moment.astimezone(tz).replace(tzinfo=None) - _EXCEL_EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400


def excel_date(day: date | None) -> int | None:
    """A calendar date as an Excel serial day number."""
    return None if day is None else (day - _EXCEL_EPOCH_DAY).days


def clean_text(value: str | None) -> str | None:
    """User text as a cell can hold it: control characters Excel cannot store removed, line
    breaks as Excel writes them (LF), and at most Excel's 32,767 characters."""
    if value is None:
        return None
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - 1] + "…"
    return text


def user_text(ws: Any, text: str | None) -> Any:
    """A cell value for (cleaned) text people typed: never a formula, never an error code.

    openpyxl turns any string starting with "=" into a live formula (and "#N/A" into an error
    value), and Excel re-reads "+1", "-1", "@SUM(…)" as formulas once the cell is edited. Such
    text gets a cell forced to the string type with Excel's quote prefix: the visible text is
    exactly what was typed (no added apostrophe) and stays text when edited.
    """
    if not text or not (text.startswith(FORMULA_TRIGGERS) or text in _ERROR_CODES):
        return text
    cell = WriteOnlyCell(ws, text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _dollars(cents: int | float | None) -> float | None:
    return None if cents is None else cents / 100


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Yes" if value else "No")


class Kind(Enum):
    """What a column holds, which fixes its number format (`FORMATS`)."""

    TEXT = "text"  # our own text (labels, ids, enum values)
    USER = "user"  # text people typed (cleaned): see `user_text`
    INT = "int"
    MONEY = "money"  # dollars
    PERCENT = "percent"  # fractions, or our own formulas
    WEIGHT = "weight"
    HOURS = "hours"
    SCORE = "score"
    RATIO = "ratio"
    DATE = "date"  # `excel_date` serials
    DATETIME = "datetime"  # `excel_datetime` serials
    VARIES = "varies"  # a `Typed` value per row (scorecard actuals and goals)


FORMATS: Final[dict[Kind, str]] = {
    Kind.INT: COUNT_FORMAT,
    Kind.MONEY: MONEY_FORMAT,
    Kind.PERCENT: PERCENT_FORMAT,
    Kind.WEIGHT: WEIGHT_FORMAT,
    Kind.HOURS: HOURS_FORMAT,
    Kind.SCORE: SCORE_FORMAT,
    Kind.RATIO: RATIO_FORMAT,
    Kind.DATE: DATE_FORMAT,
    Kind.DATETIME: DATETIME_FORMAT,
}
_UNIT_KINDS: Final = {
    Unit.MONEY: Kind.MONEY,
    Unit.PERCENT: Kind.PERCENT,
    Unit.SCORE: Kind.SCORE,
    Unit.RATIO: Kind.RATIO,
    Unit.COUNT: Kind.INT,
}
_FIXED_WIDTHS: Final = {
    Kind.DATETIME: 17.0,
    Kind.DATE: 11.0,
    Kind.PERCENT: 8.0,
    Kind.WEIGHT: 7.0,
    Kind.SCORE: 6.0,
    Kind.RATIO: 7.0,
}


@dataclass(frozen=True)
class Typed:
    """A value with its own kind, for a column whose format varies by row."""

    value: Any
    kind: Kind


def _unit_value(unit: Unit, value: float | None) -> float | None:
    """A `bot.kpis.goals` stored value in the unit a spreadsheet shows (cents to dollars)."""
    if value is None:
        return None
    return value / 100 if unit is Unit.MONEY else value


# --------------------------------------------------------------------------------------
# Sheet layouts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    note: str | None = None  # shown as an Excel note on the header cell


def _time_note(zone: str) -> str:
    return (
        f"Local time in {zone}, the workspace's time zone. Excel has no time zones, so "
        "times are written as that zone's wall-clock time."
    )


def weekly_columns(minimum: int) -> list[Column]:
    return [
        Column("Week"),
        Column("From", Kind.DATE, "First day of the ISO week inside the period."),
        Column("To", Kind.DATE, "Last day of the week inside the period (to now this week)."),
        Column("Requests filed", Kind.INT),
        Column("Requests delivered", Kind.INT),
        Column("Delivered on time", Kind.INT),
        Column(
            "On-time %",
            Kind.PERCENT,
            "Delivered before the end of the due date the requester typed; when the due date "
            "came from the SLA (or there is none), by the SLA deadline.",
        ),
        Column("Open at week end", Kind.INT, "At the week's end; for the week in progress, now."),
        Column(
            "Overdue at week end", Kind.INT, "At the week's end; for the week in progress, now."
        ),
        Column("Median hours to claim", Kind.HOURS, "Calendar hours, filed to claimed."),
        Column("Median hours to deliver", Kind.HOURS, "Calendar hours, filed to delivered."),
        Column(
            "Median business hours to deliver",
            Kind.HOURS,
            "Business hours, less time waiting on the requester.",
        ),
        Column("Average delivery rating", Kind.SCORE),
        Column(
            "Enablement satisfaction",
            Kind.SCORE,
            f"Mean 1–5 score; blank when fewer than {minimum} people answered (anonymity).",
        ),
        Column("Satisfaction note"),
        Column("Survey response rate", Kind.PERCENT),
        Column(
            "Marketing-sourced pipeline", Kind.MONEY, "CRM figures when imported, else surveys."
        ),
        Column("Marketing-influenced pipeline", Kind.MONEY),
        Column("New pipeline reported", Kind.MONEY),
        Column("Leads", Kind.INT),
        Column("Lead-to-opportunity conversion", Kind.PERCENT),
    ]


def request_columns(zone: str) -> list[Column]:
    note = _time_note(zone)
    return [
        Column("Reference"),
        Column("Type"),
        Column("Status"),
        Column("Account", Kind.USER),
        Column("Amount", Kind.MONEY),
        Column("Requester"),
        Column("Assignee"),
        Column("Created", Kind.DATETIME, note),
        Column("Claimed", Kind.DATETIME, note),
        Column("Delivered", Kind.DATETIME, note),
        Column("Due date", Kind.DATE),
        Column("Hours to claim", Kind.HOURS, "Calendar hours from filed to claimed."),
        Column("Hours to deliver", Kind.HOURS, "Calendar hours from filed to delivered."),
        Column("On time"),
        Column("Rating", Kind.INT),
        Column("Helped the deal"),
        Column("Rating comment", Kind.USER),
        Column("Source"),
        Column("Filed in period", note="No: filed earlier, claimed or delivered in the period."),
        Column("Details", Kind.USER),
        Column("Deliverable", Kind.USER),
        Column("CRM link", Kind.USER),
        Column("Outcome note", Kind.USER),
    ]


ENABLEMENT_LABEL: Final = "Enablement satisfaction (anonymous)"
PIPELINE_LABEL: Final = "Pipeline contribution"


def enablement_columns(minimum: int) -> list[Column]:
    return [
        Column("Survey"),
        Column("Week"),
        Column("Week starting", Kind.DATE),
        Column("Score", Kind.INT, "1–5. No names, ids or times: answers are anonymous."),
        Column("What would help most"),
        Column("Comment", Kind.USER),
        Column("Note", note=f"Weeks with fewer than {minimum} respondents are left out entirely."),
    ]


def pipeline_answer_columns() -> list[Column]:
    return [
        Column("Survey"),
        Column("Week"),
        Column("Week starting", Kind.DATE),
        Column("Rep", note="Slack user id: pipeline answers are named business data."),
        Column("New opportunities", Kind.INT),
        Column("New pipeline", Kind.MONEY),
        Column("Marketing-sourced opportunities", Kind.INT),
        Column("Marketing-sourced pipeline", Kind.MONEY),
        Column("Marketing-influenced opportunities", Kind.INT),
        Column("Marketing-influenced pipeline", Kind.MONEY),
        Column("Activities"),
    ]


def opportunity_columns() -> list[Column]:
    return [
        Column("CRM id", Kind.USER),
        Column("Name", Kind.USER),
        Column("Account", Kind.USER),
        Column("Amount", Kind.MONEY),
        Column("Stage", Kind.USER),
        Column("Created", Kind.DATE),
        Column("Close date", Kind.DATE),
        Column("Lead source", Kind.USER),
        Column("Marketing-sourced"),
        Column("Owner", Kind.USER),
        Column("Won"),
        Column("Closed"),
        Column("In period because", note="created: created in the period; closes: closes in it."),
    ]


def activity_columns() -> list[Column]:
    return [
        Column("Marketing activity"),
        Column(
            "Pipeline credited",
            Kind.MONEY,
            "Each answer's sourced + influenced value, split evenly among the activities it names.",
        ),
        Column("Mentions", Kind.INT),
    ]


def scorecard_columns() -> list[Column]:
    return [
        Column("Quarter"),
        Column("Function"),
        Column("Metric"),
        Column("Unit"),
        Column("Weight", Kind.WEIGHT),
        Column("Actual", Kind.VARIES, "Money in dollars, rates as percentages, scores 1–5."),
        Column("Goal", Kind.VARIES),
        Column("Attainment", Kind.PERCENT, "= Actual / Goal"),
        Column("Cap", Kind.WEIGHT),
        Column("Capped attainment", Kind.PERCENT, "= MIN(MAX(Attainment, 0), Cap)"),
        Column("Contribution", Kind.PERCENT, "= Weight × Capped attainment; total = SUM"),
        Column("Note"),
    ]


# --------------------------------------------------------------------------------------
# The plan and the KPIs (gathered by the export, written by the writer)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    team_id: str
    period: ExportPeriod
    settings: WorkspaceSettings
    now: datetime
    tz: ZoneInfo
    minimum: int
    window: Window  # the whole period, for raw rows
    kpi_window: Window | None  # the period up to now; None when it lies in the future
    weeks: list[tuple[date, Window]]  # each ISO week's Monday and its window, clipped
    quarters: list[str]  # quarters the period touches that have started

    @classmethod
    def make(
        cls, *, team_id: str, period: ExportPeriod, settings: WorkspaceSettings, now: datetime
    ) -> _Plan:
        tz = settings.zone
        window = period.window(tz)
        kpi_window = window.up_to(now) if now > window.start else None
        weeks: list[tuple[date, Window]] = []
        monday = period.start - timedelta(days=period.start.weekday())
        while monday <= period.end:
            # The ISO week, cut to the period and to now: one window definition throughout.
            week = week_window(monday, tz)
            part = replace(week, start=max(week.start, window.start), end=min(week.end, window.end))
            if part.start < now:
                weeks.append((monday, part.up_to(now)))
            monday += timedelta(days=7)
        today = now.astimezone(tz).date()
        quarters: list[str] = []
        quarter = quarter_of(period.start)
        while quarter_bounds(quarter)[0] <= min(period.end, today):
            quarters.append(quarter)
            quarter = next_quarter(quarter)
        return cls(
            team_id=team_id,
            period=period,
            settings=settings,
            now=now,
            tz=tz,
            minimum=effective_minimum(settings.survey_min_respondents),
            window=window,
            kpi_window=kpi_window,
            weeks=weeks,
            quarters=quarters,
        )


@dataclass(frozen=True)
class WeekKpis:
    week_start: date
    first: date
    last: date
    label: str
    requests: RequestStats
    satisfaction: SatisfactionStats | None  # None: the survey week began before the period
    pipeline: PipelineStats


@dataclass
class PeriodKpis:
    to_date: bool = False
    requests: RequestStats | None = None
    pipeline: PipelineStats | None = None
    satisfaction: Aggregate = field(default_factory=lambda: Aggregate(0, None, False))
    response_rate: float | None = None
    coverage: Coverage | None = None
    goals: dict[str, float] | None = None  # the quarter's targets when the period is in one
    goal_quarter: str | None = None
    scorecards: list[Scorecard] = field(default_factory=list)


@dataclass
class Counts:
    requests: int = 0
    enablement: int = 0
    pipeline_answers: int = 0
    opportunities: int = 0
    activities: int = 0
    weeks: int = 0
    scorecard_lines: int = 0


@dataclass(frozen=True)
class ExportResult:
    path: Path
    filename: str
    rows: dict[str, int]
    empty: bool


@dataclass(frozen=True)
class WriterStats:
    """What writing cost, measured where the writing happened."""

    process: bool
    max_rss_bytes: int
    traced_peak_bytes: int | None  # when tracemalloc was on in the writer


# --------------------------------------------------------------------------------------
# The writer: owns the workbook; runs in a worker thread or process
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Note:
    """An explanatory row among the data rows (a week left out, figures withheld)."""

    values: tuple[Any, ...]


class _Table:
    """A write-only sheet of one or more tables: styled header row with notes, fitted widths,
    the first table's header frozen and filtered.

    Rows arrive as plain cell values (serial dates, dollars, cleaned text); each column's
    `Kind` gives the number format. The first `SAMPLE_ROWS` rows are held back to fit the
    column widths, which write-only sheets need before their first row; after that each row
    goes straight to the file. One styled cell per column is reused row after row (openpyxl
    writes a row's cells before the next row is made), so formats cost no extra objects.
    """

    def __init__(
        self,
        book: Workbook,
        title: str,
        columns: Sequence[Column],
        *,
        later: Sequence[Sequence[Column]] = (),
    ) -> None:
        self.ws: Any = book.create_sheet(title)
        self.ws.freeze_panes = "A2"
        self.columns = list(columns)
        self._later = [list(section) for section in later]
        self._pending: list[tuple[Sequence[Any], bool]] | None = []
        self._converters = [self._converter(column.kind) for column in self.columns]
        self.row = 0  # the last sheet row written
        self._filter_end: int | None = None
        self._filter_columns = len(self.columns)

    def _converter(self, kind: Kind) -> Callable[[Any], Any]:
        ws = self.ws
        if kind is Kind.TEXT:
            return _same
        if kind is Kind.USER:
            return lambda value: user_text(ws, value)
        if kind is Kind.VARIES:
            return _typed_converter(ws)
        cell = WriteOnlyCell(ws)
        cell.number_format = FORMATS[kind]

        def styled(value: Any) -> Any:
            if value is None:
                return None
            cell.value = value
            return cell

        return styled

    def add(self, rows: Sequence[Any]) -> None:
        """Data rows (tuples) and note rows (`_Note`), in order."""
        pending = self._pending
        if pending is not None:
            for row in rows:
                is_note = isinstance(row, _Note)
                pending.append((row.values if is_note else row, is_note))
            if len(pending) >= SAMPLE_ROWS:
                self._flush()
            return
        append, converters = self.ws.append, self._converters
        for row in rows:
            if isinstance(row, _Note):
                self._append_note(row.values)
            else:
                append([convert(value) for convert, value in zip(converters, row, strict=False)])
                self.row += 1

    def _append_note(self, values: Sequence[Any]) -> None:
        cells: list[Any] = []
        for index, value in enumerate(values):
            if isinstance(value, str) and value:
                cell = WriteOnlyCell(self.ws, value)
                cell.data_type = "s"
                cell.font = NOTE_FONT
                cells.append(cell)
            elif index < len(self._converters):
                cells.append(self._converters[index](value))
            else:
                cells.append(value)
        self.ws.append(cells)
        self.row += 1

    def _header(self, columns: Sequence[Column]) -> None:
        cells = []
        for column in columns:
            cell = WriteOnlyCell(self.ws, column.header)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
            if column.note:
                note = Comment(column.note, "alignbot")
                note.width, note.height = 300, 110
                cell.comment = note
            cells.append(cell)
        self.ws.append(cells)
        self.row += 1

    def _flush(self) -> None:
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        sections = [self.columns, *self._later]
        for index in range(max(len(section) for section in sections)):
            width = 0.0
            for section in sections:
                if index < len(section):
                    column = section[index]
                    # Room for the filter button next to the header text.
                    width = max(width, len(column.header) + 3.0, _FIXED_WIDTHS.get(column.kind, 0))
            kind = self.columns[index].kind if index < len(self.columns) else Kind.TEXT
            for values, is_note in pending:
                if not is_note and index < len(values):
                    width = max(width, _shown_width(kind, values[index]) + 2.0)
            width = min(max(width, MIN_WIDTH), MAX_WIDTH)
            self.ws.column_dimensions[get_column_letter(index + 1)].width = width
        self._header(self.columns)
        rows = [_Note(tuple(values)) if is_note else values for values, is_note in pending]
        self.add(rows)

    def section(self, columns: Sequence[Column]) -> None:
        """Start the next table on this sheet: a blank row, then its own header row."""
        self._flush()
        if self._filter_end is None:
            self._filter_end = self.row
        self.ws.append([])
        self.row += 1
        self.columns = list(columns)
        self._converters = [self._converter(column.kind) for column in self.columns]
        self._header(self.columns)

    def finish(self) -> None:
        """Write what is held back and filter the first table."""
        self._flush()
        end = self._filter_end if self._filter_end is not None else self.row
        self.ws.auto_filter.ref = f"A1:{get_column_letter(self._filter_columns)}{max(end, 1)}"


def _same(value: Any) -> Any:
    return value


def _typed_converter(ws: Any) -> Callable[[Any], Any]:
    """For a `Kind.VARIES` column: a reused styled cell per kind met."""
    cells: dict[Kind, Any] = {}

    def convert(value: Any) -> Any:
        if not isinstance(value, Typed):
            return value
        if value.value is None:
            return None
        cell = cells.get(value.kind)
        if cell is None:
            cell = WriteOnlyCell(ws)
            cell.number_format = FORMATS.get(value.kind, "General")
            cells[value.kind] = cell
        cell.value = value.value
        return cell

    return convert


def _shown_width(kind: Kind, value: Any) -> float:
    """Roughly how many characters a value takes on screen."""
    if value is None:
        return 0.0
    fixed = _FIXED_WIDTHS.get(kind)
    if fixed is not None:
        return fixed
    if isinstance(value, Typed):
        return _shown_width(value.kind, value.value)
    if isinstance(value, str):
        if value.startswith("="):  # one of our formulas: as wide as its result
            return 12.0
        return float(max((len(line) for line in value.split("\n")), default=0))
    if kind is Kind.MONEY and isinstance(value, int | float):
        return float(len(f"${value:,.2f}"))
    if kind is Kind.INT and isinstance(value, int | float):
        return float(len(f"{value:,.0f}"))
    if isinstance(value, float):
        return float(len(f"{value:.1f}"))
    return float(len(str(value)))


class _Book:
    """The workbook being written. Sheets are made up front in their final order; each is
    a separate temporary file, so they can be filled in any order."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.started = time.perf_counter()
        self.book = Workbook(write_only=True)
        zone = plan.settings.timezone
        self.summary: Any = self.book.create_sheet(SHEETS[0])
        self.tables = {
            "weekly": _Table(self.book, SHEETS[1], weekly_columns(plan.minimum)),
            "requests": _Table(self.book, SHEETS[2], request_columns(zone)),
            "survey": _Table(
                self.book,
                SHEETS[3],
                enablement_columns(plan.minimum),
                later=[pipeline_answer_columns()],
            ),
            "pipeline": _Table(
                self.book, SHEETS[4], opportunity_columns(), later=[activity_columns()]
            ),
            "scorecard": _Table(self.book, SHEETS[5], scorecard_columns()),
        }
        # Now, before any row: a write-only sheet writes its fit-to-page flag with its first.
        for ws in self.book.worksheets:
            apply_page_setup(ws)

    def add(self, sheet: str, rows: Sequence[Any]) -> None:
        self.tables[sheet].add(rows)

    def section(self, sheet: str, layout: str) -> None:
        columns = {"pipeline_answers": pipeline_answer_columns, "activities": activity_columns}
        self.tables[sheet].section(columns[layout]())

    def finish(self, sheet: str) -> None:
        self.tables[sheet].finish()

    def charts(self, weeks: int) -> None:
        """Native charts under the weekly table, drawn from its cells."""
        table = self.tables["weekly"]
        add_weekly_charts(
            table.ws, headers=[column.header for column in table.columns], weeks=weeks
        )

    def write_summary(self, kpis: PeriodKpis, counts: Counts, empty: bool) -> None:
        _Summary(self.summary, self.plan, kpis, counts, empty).write()

    def save(self, out: Path) -> WriterStats:
        """Write the file next to `out` and move it in place, so nobody sees half a file."""
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        try:
            self.book.save(partial)
            os.replace(partial, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        traced = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        return WriterStats(
            process=multiprocessing.parent_process() is not None,
            max_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            traced_peak_bytes=traced,
        )

    def discard(self) -> None:
        """Remove the temporary sheet files of a workbook that will never be saved."""
        for ws in self.book.worksheets:
            writer = getattr(ws, "_writer", None)
            if writer is None:
                continue
            with contextlib.suppress(Exception):
                ws.close()
            with contextlib.suppress(Exception):
                writer.cleanup()


class _Summary:
    """The front sheet: what the period was, its key figures against goals, the scorecards."""

    WIDTHS: Final = (26, 36, 18, 18, 10, 14, 14, 14, 48)

    def __init__(self, ws: Any, plan: _Plan, kpis: PeriodKpis, counts: Counts, empty: bool) -> None:
        self.ws, self.plan, self.kpis, self.counts, self.empty = ws, plan, kpis, counts, empty

    def cell(self, value: Any, *, font: Font | None = None, fmt: str | None = None) -> Any:
        if value is None:
            return None
        cell = WriteOnlyCell(self.ws, value)
        if isinstance(value, str):
            cell.data_type = "s"  # our own text, but never a formula either
        if font is not None:
            cell.font = font
        if fmt is not None:
            cell.number_format = fmt
        return cell

    def value(self, kind: Kind, value: float | None) -> Any:
        """A figure in its kind's format (money arrives in cents)."""
        if value is None:
            return None
        return self.cell(value / 100 if kind is Kind.MONEY else value, fmt=FORMATS.get(kind))

    def metric_value(self, metric: str, value: float | None) -> Any:
        """A goal or scorecard figure in its metric's unit (`bot.kpis.goals` units)."""
        return self.value(_UNIT_KINDS.get(METRICS[metric].unit, Kind.TEXT), value)

    def line(self, *values: Any) -> None:
        self.ws.append(list(values))

    def header(self, *titles: str) -> None:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.ws, title)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
            cells.append(cell)
        self.line(*cells)

    def write(self) -> None:
        plan, kpis, period = self.plan, self.kpis, self.plan.period
        for index, width in enumerate(self.WIDTHS, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        local_now = plan.now.astimezone(plan.tz).replace(tzinfo=None, microsecond=0)
        shown = f"{period.start.isoformat()} to {period.end.isoformat()}"
        if period.quarter:
            shown = f"{period.quarter} ({shown})"
        if kpis.to_date:
            shown += f"; figures to date ({local_now:%Y-%m-%d %H:%M})"
        self.line(self.cell("alignbot export", font=TITLE_FONT))
        self.line(self.cell("Workspace", font=BOLD), self.cell(plan.team_id))
        self.line(self.cell("Period", font=BOLD), self.cell(shown))
        self.line(self.cell("Generated", font=BOLD), self.cell(local_now, fmt=DATETIME_FORMAT))
        self.line(
            self.cell("Time zone", font=BOLD),
            self.cell(
                f"{plan.settings.timezone}: every date and time in this workbook is local to "
                "it (Excel has no time zones)."
            ),
        )
        self.line(
            self.cell("Anonymity", font=BOLD),
            self.cell(
                "Enablement-satisfaction answers carry no names, ids or times; figures over "
                f"fewer than {plan.minimum} respondents are withheld and such weeks left out."
            ),
        )
        self.line()
        if self.empty:
            self.line(
                self.cell(
                    "No data in this period: no requests, survey responses, opportunities or "
                    f"leads between {period.start.isoformat()} and {period.end.isoformat()}.",
                    font=WARNING_FONT,
                )
            )
            self.line()
        if kpis.requests is not None and kpis.pipeline is not None:
            self.key_figures(kpis.requests, kpis.pipeline)
            self.line()
        self.scorecards()
        self.line()
        self.contents()

    def key_figures(self, req: RequestStats, pipe: PipelineStats) -> None:
        kpis = self.kpis
        goals = kpis.goals or {}
        self.line(self.cell("Key figures for the period", font=SECTION_FONT))
        goal_title = f"Goal ({kpis.goal_quarter})" if kpis.goal_quarter else "Goal"
        self.header("Function", "Metric", "Value", goal_title, "Note")
        support, demandgen = Function.SUPPORT.label, Function.DEMAND_GEN.label
        satisfaction = kpis.satisfaction
        satisfaction_note = "; ".join(
            note
            for note in (
                WITHHELD_TEXT
                if satisfaction.withheld
                else "no responses yet"
                if satisfaction.value is None
                else None,
                withheld_weeks_note(satisfaction.withheld_weeks, minimum=self.plan.minimum),
            )
            if note
        )
        source = "CRM" if pipe.crm_opportunities else "pipeline survey"
        at_end = "at period end" if req.window_ended else "now"
        rows: list[tuple[str, str, Kind, float | None, str | None, str | None]] = [
            (support, "Requests filed", Kind.INT, req.filed, None, None),
            (support, "Requests delivered", Kind.INT, req.delivered, "requests_delivered", None),
            (
                support,
                "On-time delivery",
                Kind.PERCENT,
                req.on_time_rate,
                "on_time_delivery_rate",
                None,
            ),
            (support, f"Open {at_end}", Kind.INT, req.open_at_end, None, None),
            (support, f"Overdue {at_end}", Kind.INT, req.overdue_at_end, None, None),
            (support, "Median hours to claim", Kind.HOURS, req.time_to_claim.median, None, None),
            (
                support,
                "Median hours to deliver",
                Kind.HOURS,
                req.time_to_deliver.median,
                None,
                None,
            ),
            (support, "Average delivery rating", Kind.SCORE, req.rating_average, None, None),
            (support, "Delivery helped the deal", Kind.PERCENT, req.helped_share, None, None),
            (
                support,
                "Enablement satisfaction",
                Kind.SCORE,
                satisfaction.value,
                "enablement_satisfaction",
                satisfaction_note,
            ),
            (support, "Survey response rate", Kind.PERCENT, kpis.response_rate, None, None),
            (
                demandgen,
                "Marketing-sourced pipeline",
                Kind.MONEY,
                sourced_cents(pipe),
                "sourced_pipeline",
                f"from the {source}",
            ),
            (
                demandgen,
                "Marketing-influenced pipeline",
                Kind.MONEY,
                pipe.influenced_cents,
                "influenced_pipeline",
                "from the pipeline survey",
            ),
            (
                demandgen,
                "New pipeline reported by reps",
                Kind.MONEY,
                pipe.new_pipeline_cents,
                None,
                None,
            ),
            (demandgen, "CRM pipeline created", Kind.MONEY, pipe.crm_pipeline_cents, None, None),
            (demandgen, "Leads", Kind.INT, pipe.leads, "qualified_leads", None),
            (
                demandgen,
                "Lead-to-opportunity conversion",
                Kind.PERCENT,
                pipe.lead_to_opportunity_rate,
                "lead_to_opportunity_rate",
                None,
            ),
        ]
        cover = kpis.coverage
        if cover is not None:
            rows.append(
                (
                    demandgen,
                    f"Pipeline coverage ({cover.quarter})",
                    Kind.RATIO,
                    cover.ratio,
                    "pipeline_coverage",
                    cover.status,
                )
            )
            rows.append(
                (
                    support,
                    f"Sales quota achieved ({cover.quarter})",
                    Kind.PERCENT,
                    cover.quota_attainment,
                    "quota_attainment",
                    None,
                )
            )
        for function, metric, kind, value, goal_metric, note in rows:
            goal = goals.get(goal_metric) if goal_metric else None
            self.line(
                self.cell(function),
                self.cell(metric),
                self.value(kind, value),
                self.metric_value(goal_metric, goal) if goal_metric and goal is not None else None,
                self.cell(note or ("no data yet" if value is None else None)),
            )
        if kpis.goal_quarter is None:
            self.line(
                None,
                self.cell(
                    "Goals are set per quarter and this period spans several: see Scorecards.",
                    font=NOTE_FONT,
                ),
            )

    def scorecards(self) -> None:
        self.line(self.cell("Scorecards (bonus attainment per quarter)", font=SECTION_FONT))
        if not self.kpis.scorecards:
            self.line(self.cell("No quarter of this period has started yet.", font=NOTE_FONT))
            return
        self.header(
            "Function",
            "Metric",
            "Actual",
            "Goal",
            "Weight",
            "Attainment",
            "Capped",
            "Contribution",
            "Note",
        )
        for card in self.kpis.scorecards:
            title = f"{card.quarter} · {card.function.label}"
            for line in card.lines:
                self.line(
                    self.cell(title),
                    self.cell(line.label),
                    self.metric_value(line.metric, line.actual),
                    self.metric_value(line.metric, line.target),
                    self.cell(line.weight, fmt=WEIGHT_FORMAT),
                    self.cell(line.attainment, fmt=PERCENT_FORMAT),
                    self.cell(line.capped, fmt=PERCENT_FORMAT),
                    self.cell(line.contribution, fmt=PERCENT_FORMAT),
                    self.cell("; ".join(part for part in (line.note, line.remark) if part) or None),
                )
            self.line(
                self.cell(title, font=BOLD),
                self.cell("Bonus attainment", font=BOLD),
                None,
                None,
                None,
                None,
                self.cell(f"cap {card.cap:.0%}"),
                self.cell(card.total, font=BOLD, fmt=PERCENT_FORMAT),
                self.cell(_total_note(card)),
            )

    def contents(self) -> None:
        counts = self.counts
        self.line(self.cell("In this workbook", font=SECTION_FONT))
        for sheet, text in (
            ("Weekly KPIs", f"{counts.weeks} weeks, with charts"),
            ("Requests", f"{counts.requests:,} requests"),
            (
                "Survey responses",
                f"{counts.enablement:,} anonymous enablement answers, "
                f"{counts.pipeline_answers:,} pipeline answers",
            ),
            (
                "Pipeline",
                f"{counts.opportunities:,} CRM opportunities, {counts.activities} activities",
            ),
            ("Scorecard", f"{counts.scorecard_lines} scorecard lines, as live formulas"),
        ):
            self.line(self.cell(sheet, font=BOLD), self.cell(text))


def _total_note(card: Scorecard) -> str:
    if card.total is None:
        return "nothing to score yet"
    if card.complete:
        return "bonus attainment"
    return f"partial: {card.covered_weight:.0%} of the weight could be scored"


# One writer per export, by key: in a worker process there is only ever one.
_WRITERS: dict[str, _Book] = {}


def _writer_open(key: str, plan: _Plan) -> None:
    _WRITERS[key] = _Book(plan)


def _writer_call(key: str, method: str, *args: Any) -> Any:
    return getattr(_WRITERS[key], method)(*args)


def _writer_save(key: str, out: Path) -> WriterStats:
    return _WRITERS.pop(key).save(out)


def _writer_discard(key: str) -> None:
    book = _WRITERS.pop(key, None)
    if book is not None:
        book.discard()


class _Writer:
    """The export's handle on its writer: calls run in order, one at a time."""

    def __init__(self, executor: Executor, *, process: bool) -> None:
        self.executor = executor
        self.process = process
        self.key = uuid.uuid4().hex
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, plan: _Plan, *, process: bool) -> _Writer:
        executor: Executor
        if process:
            # "spawn": forking a process that runs an event loop and driver threads is unsafe.
            context = multiprocessing.get_context("spawn")
            executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
        else:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alignbot-export")
        writer = cls(executor, process=process)
        await writer.submit(_writer_open, plan)
        return writer

    def submit(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        return asyncio.wrap_future(self.executor.submit(function, self.key, *args))

    def call(self, method: str, *args: Any) -> asyncio.Future[Any]:
        return self.submit(_writer_call, method, *args)

    async def close(self) -> None:
        await asyncio.to_thread(self.executor.shutdown, True)

    async def abandon(self) -> None:
        """Drop the workbook after what is queued (never racing a call still running)."""
        with contextlib.suppress(Exception):
            await self.submit(_writer_discard)
        self.executor.shutdown(wait=False, cancel_futures=True)


# --------------------------------------------------------------------------------------
# KPI steps (each a short piece of work the export fits in while the writer is busy)
# --------------------------------------------------------------------------------------

Step = Callable[[], Awaitable[None]]


def _kpi_steps(
    session: AsyncSession, plan: _Plan, weeks: list[WeekKpis], kpis: PeriodKpis
) -> deque[Step]:
    calendar = plan.settings.calendar
    steps: deque[Step] = deque()

    def week_step(monday: date, window: Window) -> Step:
        async def step() -> None:
            requests = await request_stats(
                session, team_id=plan.team_id, window=window, calendar=calendar, now=plan.now
            )
            pipeline = await pipeline_stats(session, team_id=plan.team_id, window=window)
            # A survey week belongs to the period its Monday is in (as in quarter figures).
            satisfaction = None
            if monday >= plan.period.start:
                satisfaction = await satisfaction_stats(
                    session,
                    team_id=plan.team_id,
                    week_start=monday,
                    minimum=plan.minimum,
                    weeks=1,
                )
            await session.commit()
            weeks.append(
                WeekKpis(
                    week_start=monday,
                    first=window.local_dates(plan.tz)[0],
                    last=window.last_date(plan.tz),
                    label=window.label,
                    requests=requests,
                    satisfaction=satisfaction,
                    pipeline=pipeline,
                )
            )

        return step

    for monday, window in plan.weeks:
        steps.append(week_step(monday, window))

    async def period_requests() -> None:
        window = plan.kpi_window or Window(plan.window.start, plan.window.start, "", plan.tz)
        kpis.to_date = plan.kpi_window is not None and plan.kpi_window.end < plan.window.end
        kpis.requests = await request_stats(
            session, team_id=plan.team_id, window=window, calendar=calendar, now=plan.now
        )
        await session.commit()

    async def period_pipeline() -> None:
        window = plan.kpi_window or Window(plan.window.start, plan.window.start, "", plan.tz)
        kpis.pipeline = await pipeline_stats(session, team_id=plan.team_id, window=window)
        kpis.satisfaction, kpis.response_rate = await _period_satisfaction(session, plan)
        if quarter_of(plan.period.start) == quarter_of(plan.period.end):
            kpis.goal_quarter = quarter_of(plan.period.start)
            # Plain targets, not ORM rows: they outlive this transaction and are pickled.
            kpis.goals = targets_of(
                await goals_for(session, team_id=plan.team_id, quarter=kpis.goal_quarter)
            )
        if plan.quarters:
            kpis.coverage = await coverage(
                session,
                team_id=plan.team_id,
                quarter=plan.quarters[-1],
                tz=plan.tz,
                now=plan.now,
            )
        await session.commit()

    steps.extend((period_requests, period_pipeline))

    def scorecard_step(quarter: str, function: Function) -> Step:
        async def step() -> None:
            kpis.scorecards.append(
                await scorecard_for(
                    session,
                    team_id=plan.team_id,
                    quarter=quarter,
                    function=function,
                    settings=plan.settings,
                    now=plan.now,
                )
            )
            await session.commit()

        return step

    for quarter in plan.quarters:
        for function in (Function.DEMAND_GEN, Function.SUPPORT):
            steps.append(scorecard_step(quarter, function))
    return steps


async def _period_satisfaction(
    session: AsyncSession, plan: _Plan
) -> tuple[Aggregate, float | None]:
    """Mean enablement score over the survey weeks of the period, through the privacy gate
    (`bot.surveys.satisfaction`, like `bot.kpis.digests.quarter_satisfaction`: shown weeks only, with the
    withheld weeks counted), and the response rate over those weeks' runs (answered / reached,
    never withheld)."""
    found = await window_satisfaction(
        session, team_id=plan.team_id, window=plan.window, tz=plan.tz, minimum=plan.minimum
    )
    run_ids = [week.run_id for week in found.weeks if week.run_id is not None]
    connection = await session.connection()
    reached_row = (
        await connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(
                    sa.case((col(SurveyDelivery.status) == DeliveryStatus.ANSWERED, 1), else_=0)
                ),
            ).where(
                col(SurveyDelivery.run_id).in_(run_ids),
                col(SurveyDelivery.status).in_([DeliveryStatus.SENT, DeliveryStatus.ANSWERED]),
            )
        )
    ).one()
    reached, answered = int(reached_row[0] or 0), int(reached_row[1] or 0)
    return found.mean, (answered / reached if reached else None)


# --------------------------------------------------------------------------------------
# Raw rows, a page at a time, as cell values
# --------------------------------------------------------------------------------------


async def _page(session: AsyncSession, statement: sa.Executable) -> list[Any]:
    connection = await session.connection()
    rows = list((await connection.execute(statement)).all())
    await session.commit()  # one short transaction per page: SQLite's lock is never held long
    return rows


@dataclass(frozen=True)
class _Sizes:
    """How much raw data the period holds, counted before anything is read."""

    requests: int
    responses: int
    opportunities: int
    leads: int

    @property
    def rows(self) -> int:
        return self.requests + self.responses + self.opportunities


async def _sizes(session: AsyncSession, plan: _Plan) -> _Sizes:
    first, last = plan.period.start, plan.period.end
    start, end = plan.window.start, plan.window.end

    async def count(statement: Any) -> int:
        return int((await _page(session, statement))[0][0] or 0)

    return _Sizes(
        requests=await count(
            sa.select(sa.func.count()).where(
                col(SupportRequest.team_id) == plan.team_id,
                col(SupportRequest.created_at) >= start,
                col(SupportRequest.created_at) < end,
            )
        ),
        responses=await count(
            sa.select(sa.func.count())
            .select_from(SurveyResponse)
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
            .where(
                col(SurveyRun.team_id) == plan.team_id,
                col(SurveyRun.period_start) >= first,
                col(SurveyRun.period_start) <= last,
            )
        ),
        opportunities=await count(
            sa.select(sa.func.count()).where(
                col(Opportunity.team_id) == plan.team_id,
                sa.or_(
                    sa.and_(
                        col(Opportunity.created_date) >= first,
                        col(Opportunity.created_date) <= last,
                    ),
                    sa.and_(
                        col(Opportunity.close_date) >= first, col(Opportunity.close_date) <= last
                    ),
                ),
            )
        ),
        leads=await count(
            sa.select(sa.func.count()).where(
                col(LeadCount.team_id) == plan.team_id,
                col(LeadCount.week_start) >= first,
                col(LeadCount.week_start) <= last,
            )
        ),
    )


_latest_delivery: Final = (
    sa.select(col(RequestEvent.id))
    .where(
        col(RequestEvent.request_id) == col(SupportRequest.id),
        col(RequestEvent.action) == Action.DELIVER.value,
    )
    .order_by(col(RequestEvent.id).desc())
    .limit(1)
    .correlate(SupportRequest)
    .scalar_subquery()
)

_REQUEST_FIELDS: Final = (
    col(SupportRequest.id),
    col(SupportRequest.number),
    col(SupportRequest.request_type),
    col(SupportRequest.status),
    col(SupportRequest.account),
    col(SupportRequest.amount_cents),
    col(SupportRequest.requester_id),
    col(SupportRequest.assignee_id),
    col(SupportRequest.created_at),
    col(SupportRequest.claimed_at),
    col(SupportRequest.delivered_at),
    *PROMISE_COLUMNS,
    col(SupportRequest.source),
    col(SupportRequest.details),
    col(SupportRequest.deliverable_url),
    col(SupportRequest.crm_link),
    col(SupportRequest.outcome_note),
    col(DeliveryRating.score),
    col(DeliveryRating.helped),
    col(DeliveryRating.comment),
)


def _requests_select() -> Any:
    """Requests with the rating of their current delivery (a reopen discards the old one)."""
    return sa.select(*_REQUEST_FIELDS).outerjoin(
        DeliveryRating,
        sa.and_(
            col(SupportRequest.status) == RequestStatus.DELIVERED,
            col(DeliveryRating.delivery_event_id) == _latest_delivery,
            col(DeliveryRating.discarded).is_(False),
        ),
    )


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600


def _request_row(row: Any, filed_in_period: bool, tz: ZoneInfo) -> tuple[Any, ...]:
    (
        _id,
        number,
        request_type,
        status,
        account,
        amount_cents,
        requester,
        assignee,
        created_at,
        claimed_at,
        delivered_at,
        due_date,
        due_from_sla,
        sla_deadline,
        source,
        details,
        deliverable,
        crm_link,
        outcome,
        score,
        helped,
        rating_comment,
    ) = row
    delivered = RequestStatus(status) == RequestStatus.DELIVERED and delivered_at is not None
    return (
        format_reference(number),
        RequestType(request_type).label,
        RequestStatus(status).value,
        clean_text(account),
        _dollars(amount_cents),
        requester,
        assignee,
        excel_datetime(created_at, tz),
        excel_datetime(claimed_at, tz),
        excel_datetime(delivered_at, tz),
        excel_date(due_date),
        _hours(created_at, claimed_at),
        _hours(created_at, delivered_at) if delivered else None,
        _yes_no(Promise(due_date, due_from_sla, sla_deadline).kept_by(delivered_at, tz))
        if delivered
        else None,
        score,
        helped.replace("_", " ") if helped else None,
        clean_text(rating_comment),
        source,
        _yes_no(filed_in_period),
        clean_text(details),
        clean_text(deliverable),
        clean_text(crm_link),
        clean_text(outcome),
    )


async def _request_pages(session: AsyncSession, plan: _Plan) -> AsyncIterator[list[Any]]:
    """Requests filed in the period (keyset on the created-time index), then those filed
    earlier and claimed or delivered in it (keyset on id)."""
    team = col(SupportRequest.team_id) == plan.team_id
    start, end, tz = plan.window.start, plan.window.end, plan.tz
    created, request_id = col(SupportRequest.created_at), col(SupportRequest.id)
    last: tuple[datetime, int] | None = None
    while True:
        statement = _requests_select().where(team, created >= start, created < end)
        if last is not None:
            statement = statement.where(sa.tuple_(created, request_id) > sa.tuple_(*last))
        rows = await _page(session, statement.order_by(created, request_id).limit(PAGE_ROWS))
        if rows:
            yield [_request_row(row, True, tz) for row in rows]
            last = (rows[-1].created_at, rows[-1].id)
        if len(rows) < PAGE_ROWS:
            break
    touched = sa.or_(
        sa.and_(col(SupportRequest.claimed_at) >= start, col(SupportRequest.claimed_at) < end),
        sa.and_(col(SupportRequest.delivered_at) >= start, col(SupportRequest.delivered_at) < end),
    )
    last_id = 0
    while True:
        rows = await _page(
            session,
            _requests_select()
            .where(team, created < start, touched, request_id > last_id)
            .order_by(request_id)
            .limit(PAGE_ROWS),
        )
        if rows:
            yield [_request_row(row, False, tz) for row in rows]
            last_id = rows[-1].id
        if len(rows) < PAGE_ROWS:
            break


@dataclass(frozen=True)
class _EnablementWeek:
    """One survey week of the period and what the privacy gate lets the sheet show of it."""

    run_id: int
    week_start: date
    shown: bool  # enough people answered: the week appears at all, with its comments
    scores_shown: bool
    scores_withheld: bool  # some gave a score, too few to show
    help_shown: bool
    help_withheld: bool


async def _enablement_weeks(session: AsyncSession, plan: _Plan) -> list[_EnablementWeek]:
    """Each enablement run of the period, judged by the privacy gate (`bot.surveys.satisfaction`) on
    the distinct people who answered anything, gave a score and said what would help."""
    found = await window_satisfaction(
        session, team_id=plan.team_id, window=plan.window, tz=plan.tz, minimum=plan.minimum
    )
    await session.commit()  # one short transaction, like every page
    return [
        _EnablementWeek(
            run_id=week.run_id,
            week_start=week.week_start,
            shown=week.gated.shown,
            scores_shown=week.gated.scores_shown,
            scores_withheld=week.gated.mean.withheld,
            help_shown=week.gated.help_most is not None,
            help_withheld=week.gated.help_withheld,
        )
        for week in found.weeks
        if week.run_id is not None
    ]


def _enablement_note(week: _EnablementWeek, text: str) -> _Note:
    label = iso_week_label(week.week_start)
    return _Note((ENABLEMENT_LABEL, label, excel_date(week.week_start), None, None, None, text))


async def _enablement_pages(
    session: AsyncSession, plan: _Plan, weeks: list[_EnablementWeek]
) -> AsyncIterator[list[Any]]:
    """The anonymous pulse, week by week, as the privacy gate decided (`_enablement_weeks`):

    * a week with fewer respondents than the minimum is left out, with a note row (which
      gives no count: a count below the minimum is itself withheld);
    * within a week, scores are shown only when at least the minimum gave one and "what would
      help" only when at least the minimum answered it (as the digests withhold them);
      comments go with the week's respondents (`bot.surveys.privacy.safe_comments`);
    * no user id, response id or time: the week is the only "when";
    * rows are ordered by what they show (never by submission or user), so their order
      reveals nothing that a withheld field or a timestamp would.
    """
    minimum = plan.minimum
    for week in weeks:
        if not week.shown:
            yield [
                _enablement_note(
                    week,
                    f"Week left out: fewer than {minimum} people answered, so answers could "
                    "be traced to a person.",
                )
            ]
            continue
        show_score, show_help = week.scores_shown, week.help_shown
        withheld = [
            name
            for name, hidden in (
                ("scores", week.scores_withheld),
                ("'what would help most'", week.help_withheld),
            )
            if hidden
        ]
        page: list[Any] = []
        if withheld:
            page.append(
                _enablement_note(
                    week,
                    f"{' and '.join(withheld).capitalize()} withheld this week: fewer than "
                    f"{minimum} people gave one.",
                )
            )
        keys: list[Any] = []
        if show_score:
            keys.append(sa.func.coalesce(col(SurveyResponse.score), 0))
        if show_help:
            keys.append(sa.func.coalesce(col(SurveyResponse.help_with), ""))
        keys += [sa.func.coalesce(col(SurveyResponse.comment), ""), col(SurveyResponse.id)]
        base = (
            sa.select(
                col(SurveyResponse.score),
                col(SurveyResponse.help_with),
                col(SurveyResponse.comment),
                *keys,
            )
            .where(
                col(SurveyResponse.run_id) == week.run_id,
                col(SurveyResponse.kind) == SurveyKind.ENABLEMENT,
            )
            .order_by(*keys)
            .limit(PAGE_ROWS)
        )
        label, day = iso_week_label(week.week_start), excel_date(week.week_start)
        last: tuple[Any, ...] | None = None
        while True:
            statement = base if last is None else base.where(sa.tuple_(*keys) > sa.tuple_(*last))
            rows = await _page(session, statement)
            for row in rows:
                score = row[0] if show_score else None
                help_with = HELP_OPTIONS.get(row[1], row[1]) if show_help and row[1] else None
                comment = clean_text(row[2].strip()) if row[2] and row[2].strip() else None
                if score is None and help_with is None and comment is None:
                    continue
                page.append((ENABLEMENT_LABEL, label, day, score, help_with, comment))
            if page:
                yield page
                page = []
            if len(rows) < PAGE_ROWS:
                break
            last = tuple(rows[-1][3:])


def _activity_label(key: str) -> str:
    if key.startswith("ms:"):
        reference = key.split(":")[-1]
        return f"Support request {reference}" if reference.startswith("MS-") else "Support request"
    return ACTIVITY_OPTIONS.get(key, "Other")


def activities_text(raw: str | None) -> str | None:
    """A response's activities (JSON) as labels: "Webinar, Content, Support request MS-42"."""
    try:
        values = json.loads(raw) if raw else []
    except ValueError:
        return None
    if not isinstance(values, list):
        return None
    labels = [_activity_label(value) for value in values if isinstance(value, str)]
    return ", ".join(dict.fromkeys(labels)) or None


async def _pipeline_answer_pages(session: AsyncSession, plan: _Plan) -> AsyncIterator[list[Any]]:
    """Pipeline-pulse answers week by week, rep by rep (keyset on the run's (run, user)
    unique index). Named: these are business data, not anonymous."""
    runs = await _page(
        session,
        sa.select(col(SurveyRun.id), col(SurveyRun.period_start))
        .where(
            col(SurveyRun.team_id) == plan.team_id,
            col(SurveyRun.kind) == SurveyKind.PIPELINE,
            col(SurveyRun.period_start) >= plan.period.start,
            col(SurveyRun.period_start) <= plan.period.end,
        )
        .order_by(col(SurveyRun.period_start)),
    )
    for run_id, week_start in runs:
        label, day = iso_week_label(week_start), excel_date(week_start)
        last_user = ""
        while True:
            rows = await _page(
                session,
                sa.select(
                    col(SurveyResponse.user_id),
                    col(SurveyResponse.opportunities),
                    col(SurveyResponse.pipeline_cents),
                    col(SurveyResponse.sourced_count),
                    col(SurveyResponse.sourced_cents),
                    col(SurveyResponse.influenced_count),
                    col(SurveyResponse.influenced_cents),
                    col(SurveyResponse.activities),
                )
                .where(
                    col(SurveyResponse.run_id) == run_id,
                    col(SurveyResponse.kind) == SurveyKind.PIPELINE,
                    col(SurveyResponse.user_id) > last_user,
                )
                .order_by(col(SurveyResponse.user_id))
                .limit(PAGE_ROWS),
            )
            if rows:
                yield [
                    (
                        PIPELINE_LABEL,
                        label,
                        day,
                        user_id,
                        opportunities,
                        _dollars(pipeline),
                        sourced_n,
                        _dollars(sourced),
                        influenced_n,
                        _dollars(influenced),
                        activities_text(activities),
                    )
                    for (
                        user_id,
                        opportunities,
                        pipeline,
                        sourced_n,
                        sourced,
                        influenced_n,
                        influenced,
                        activities,
                    ) in rows
                ]
                last_user = rows[-1][0]
            if len(rows) < PAGE_ROWS:
                break


_OPPORTUNITY_FIELDS: Final = (
    col(Opportunity.crm_id),
    col(Opportunity.name),
    col(Opportunity.account),
    col(Opportunity.amount_cents),
    col(Opportunity.stage),
    col(Opportunity.created_date),
    col(Opportunity.close_date),
    col(Opportunity.lead_source),
    col(Opportunity.marketing_sourced),
    col(Opportunity.owner_email),
    col(Opportunity.is_won),
    col(Opportunity.is_closed),
    col(Opportunity.id),
)


async def _opportunity_pages(session: AsyncSession, plan: _Plan) -> AsyncIterator[list[Any]]:
    """Opportunities created in the period (keyset on the created-date index), then those
    created outside it that close in it (keyset on the close-date index): each once."""
    first, last_day = plan.period.start, plan.period.end
    team = col(Opportunity.team_id) == plan.team_id
    created, closes = col(Opportunity.created_date), col(Opportunity.close_date)
    created_outside = sa.or_(created.is_(None), created < first, created > last_day)
    for reason, key, condition in (
        ("created", created, sa.and_(created >= first, created <= last_day)),
        ("closes", closes, sa.and_(closes >= first, closes <= last_day, created_outside)),
    ):
        last: tuple[date, int] | None = None
        while True:
            statement = sa.select(*_OPPORTUNITY_FIELDS, key.label("page_key")).where(
                team, condition
            )
            if last is not None:
                statement = statement.where(sa.tuple_(key, col(Opportunity.id)) > sa.tuple_(*last))
            rows = await _page(
                session, statement.order_by(key, col(Opportunity.id)).limit(PAGE_ROWS)
            )
            if rows:
                yield [
                    (
                        clean_text(crm_id),
                        clean_text(name),
                        clean_text(account),
                        _dollars(amount),
                        clean_text(stage),
                        excel_date(created_date),
                        excel_date(close_date),
                        clean_text(lead_source),
                        _yes_no(sourced),
                        clean_text(owner),
                        _yes_no(won),
                        _yes_no(closed),
                        reason,
                    )
                    for (
                        crm_id,
                        name,
                        account,
                        amount,
                        stage,
                        created_date,
                        close_date,
                        lead_source,
                        sourced,
                        owner,
                        won,
                        closed,
                        _id,
                        _key,
                    ) in rows
                ]
                last = (rows[-1][13], rows[-1][12])
            if len(rows) < PAGE_ROWS:
                break


def _weekly_rows(weeks: list[WeekKpis], minimum: int) -> list[tuple[Any, ...]]:
    rows = []
    for week in sorted(weeks, key=lambda item: item.week_start):
        req, pipe, sat = week.requests, week.pipeline, week.satisfaction
        score: float | None = None
        rate: float | None = None
        note: str | None
        if sat is None:
            note = "survey week began before the period"
        else:
            rate = sat.response_rate
            if sat.mean.withheld:
                note = f"withheld: fewer than {minimum} responses"
            elif sat.mean.value is None:
                note = "no responses yet"
            else:
                score, note = sat.mean.value, None
        rows.append(
            (
                week.label,
                excel_date(week.first),
                excel_date(week.last),
                req.filed,
                req.delivered,
                req.delivered_on_time,
                req.on_time_rate,
                req.open_at_end,
                req.overdue_at_end,
                req.time_to_claim.median,
                req.time_to_deliver.median,
                req.time_to_deliver_business.median,
                req.rating_average,
                score,
                note,
                rate,
                _dollars(sourced_cents(pipe)),
                _dollars(pipe.influenced_cents),
                _dollars(pipe.new_pipeline_cents),
                pipe.leads,
                pipe.lead_to_opportunity_rate,
            )
        )
    return rows


def _scorecard_rows(scorecards: list[Scorecard]) -> list[tuple[Any, ...]]:
    """Scorecard lines with their arithmetic as formulas over the row's own cells (the
    sheet's header is row 1, so the n-th row here is sheet row n + 2)."""
    rows: list[tuple[Any, ...]] = []
    for card in scorecards:
        first = len(rows) + 2
        for line in card.lines:
            number = len(rows) + 2
            unit = METRICS[line.metric].unit
            kind = _UNIT_KINDS.get(unit, Kind.TEXT)
            computed = line.contribution is not None
            rows.append(
                (
                    card.quarter,
                    card.function.label,
                    line.label,
                    unit.value,
                    line.weight,
                    Typed(_unit_value(unit, line.actual), kind),
                    Typed(_unit_value(unit, line.target), kind),
                    f"=F{number}/G{number}" if computed else None,
                    card.cap,
                    f"=MIN(MAX(H{number},0),I{number})" if computed else None,
                    f"=E{number}*J{number}" if computed else None,
                    "; ".join(part for part in (line.note, line.remark) if part) or None,
                )
            )
        last = len(rows) + 1
        total = f"=SUM(K{first}:K{last})" if card.total is not None else None
        rows.append(
            (card.quarter, card.function.label, "Total", *([None] * 7), total, _total_note(card))
        )
    return rows


# --------------------------------------------------------------------------------------
# The export
# --------------------------------------------------------------------------------------


async def build_workbook(
    session: AsyncSession,
    *,
    team_id: str,
    period: ExportPeriod,
    settings: WorkspaceSettings,
    out: Path,
    now: datetime,
) -> ExportResult:
    """Write the workbook for `period` to `out` and say what is in it.

    KPIs come from `bot.kpis.metrics` and `bot.kpis.digests` (the digests' own definitions); raw rows
    are read in keyset pages and handed to the writer while it writes the previous ones, and
    KPI queries fill the time the writer is busy. The session's transaction is ended after
    each page and KPI step (nothing may be pending on it). Everything is read in read-only
    transactions (`bot.core.db.read_only`): on SQLite an export never holds the write lock. A
    period without any data still gets a workbook, which says so (`ExportResult.empty`).
    """
    async with read_only(session):
        return await _build_workbook(
            session, team_id=team_id, period=period, settings=settings, out=out, now=now
        )


async def _build_workbook(
    session: AsyncSession,
    *,
    team_id: str,
    period: ExportPeriod,
    settings: WorkspaceSettings,
    out: Path,
    now: datetime,
) -> ExportResult:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    started = time.perf_counter()
    plan = _Plan.make(team_id=team_id, period=period, settings=settings, now=now)
    sizes = await _sizes(session, plan)
    writer = await _Writer.open(plan, process=sizes.rows >= PROCESS_MIN_ROWS)
    weeks: list[WeekKpis] = []
    kpis = PeriodKpis()
    steps = _kpi_steps(session, plan, weeks, kpis)
    counts = Counts()

    async def stream(sheet: str, pages: AsyncIterator[list[Any]]) -> int:
        """Hand pages to the writer, a few ahead; while it is busy, take KPI steps."""
        sent = 0
        in_flight: deque[asyncio.Future[Any]] = deque()

        async def settle(limit: int) -> None:
            while len(in_flight) > limit:
                if in_flight[0].done() or not steps:
                    await in_flight.popleft()
                else:
                    await steps.popleft()()

        async for page in pages:
            in_flight.append(writer.call("add", sheet, page))
            sent += sum(1 for row in page if not isinstance(row, _Note))
            await settle(PAGES_IN_FLIGHT - 1)
        await settle(0)
        return sent

    try:
        counts.requests = await stream("requests", _request_pages(session, plan))
        await writer.call("finish", "requests")
        enablement = await _enablement_weeks(session, plan)
        counts.enablement = await stream("survey", _enablement_pages(session, plan, enablement))
        await writer.call("section", "survey", "pipeline_answers")
        counts.pipeline_answers = await stream("survey", _pipeline_answer_pages(session, plan))
        await writer.call("finish", "survey")
        counts.opportunities = await stream("pipeline", _opportunity_pages(session, plan))
        while steps:
            await steps.popleft()()

        counts.weeks = len(weeks)
        await writer.call("add", "weekly", _weekly_rows(weeks, plan.minimum))
        await writer.call("finish", "weekly")
        if weeks:
            await writer.call("charts", len(weeks))
        activities = kpis.pipeline.activities if kpis.pipeline else []
        counts.activities = len(activities)
        await writer.call("section", "pipeline", "activities")
        rows = [
            (_activity_label(item.activity), _dollars(item.pipeline_cents), item.mentions)
            for item in activities
        ]
        await writer.call("add", "pipeline", rows)
        await writer.call("finish", "pipeline")
        counts.scorecard_lines = sum(len(card.lines) for card in kpis.scorecards)
        await writer.call("add", "scorecard", _scorecard_rows(kpis.scorecards))
        await writer.call("finish", "scorecard")
        # Empty: nothing to show and nothing withheld (a thin survey week is still data).
        empty = not (counts.requests or sizes.responses or counts.opportunities or sizes.leads)
        await writer.call("write_summary", kpis, counts, empty)
        stats: WriterStats = await writer.submit(_writer_save, out)
    except BaseException:
        await asyncio.shield(writer.abandon())
        raise
    await writer.close()
    logger.info(
        "export_written team=%s period=%s rows=%s seconds=%.1f writer=%s "
        "writer_max_rss_mb=%.0f writer_traced_peak_mb=%s",
        team_id,
        period.label,
        sizes.rows,
        time.perf_counter() - started,
        "process" if stats.process else "thread",
        stats.max_rss_bytes / 1e6,
        f"{stats.traced_peak_bytes / 1e6:.1f}" if stats.traced_peak_bytes is not None else "-",
    )
    return ExportResult(
        path=out,
        filename=export_filename(period),
        rows={
            "Weekly KPIs": counts.weeks,
            "Requests": counts.requests,
            "Survey responses": counts.enablement + counts.pipeline_answers,
            "Pipeline": counts.opportunities,
            "Scorecard": counts.scorecard_lines,
        },
        empty=empty,
    )
