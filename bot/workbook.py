"""The Excel export (PRODUCT.md §4): one .xlsx workbook holding the numbers and the raw data.

Sheets, in order:

* **Summary**: the period's key figures per function, the goals of its quarter and both
  scorecards (inputs, weights, attainment), as plain values so any viewer shows them.
* **Weekly KPIs**: one row per ISO week (clipped to the period, and to now), from the same
  `bot.metrics` functions the digests use, with native line and bar charts.
* **Requests**: every request filed in the period, plus earlier ones claimed or delivered in
  it, with real Excel datetimes and the durations the KPIs are computed from.
* **Survey responses**: the enablement pulse, anonymised by `bot.privacy`'s rules, then the
  pipeline pulse, which is named business data (the rep's user id).
* **Pipeline**: imported CRM opportunities created or closing in the period, and the marketing
  activities reps credited with pipeline.
* **Scorecard**: each quarter's scorecards with live formulas (attainment = actual / goal,
  capped = MIN(MAX(attainment, 0), cap), contribution = weight × capped, total = SUM).

How it stays fast and small: openpyxl's write-only mode streams each sheet to a temporary file,
and the database is read in pages of `PAGE_ROWS` rows by keyset pagination, each page in its
own short transaction (an export never holds SQLite's write lock for long). Pages are written
in one dedicated worker thread while the next page is read, so the event loop keeps serving
Slack while a big workbook is written. Memory is bounded by a page, whatever the period.

Excel has no time zones: datetimes are written as naive local times in the workspace's zone,
which header notes and the Summary say. User text is data, never a formula: see `user_text`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.digests import scorecard_for, sourced_cents
from bot.errors import UserError
from bot.goals import (
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
from bot.lifecycle import Action
from bot.metrics import (
    Coverage,
    PipelineStats,
    RequestStats,
    SatisfactionStats,
    Window,
    coverage,
    pipeline_stats,
    request_stats,
    satisfaction_stats,
)
from bot.metrics import _on_time as on_time  # the one definition of "delivered on time"
from bot.models import (
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
from bot.periods import local_midnight
from bot.privacy import WITHHELD_TEXT, Aggregate, counts_can_be_shown, effective_minimum
from bot.scorecard import Scorecard
from bot.surveys import ACTIVITY_OPTIONS, HELP_OPTIONS
from bot.text import format_reference
from bot.workspace import WorkspaceSettings

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "HOURS_FORMAT",
    "MAX_PERIOD_DAYS",
    "MONEY_FORMAT",
    "PAGE_ROWS",
    "PERCENT_FORMAT",
    "SHEETS",
    "ExportPeriod",
    "ExportResult",
    "build_workbook",
    "clean_text",
    "parse_export_period",
]

PAGE_ROWS: Final = 5000
"""Rows read from the database per page (and per transaction)."""
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
# Characters that make a spreadsheet treat text as a formula (or start one on edit).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r", "\n")

HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
HEADER_FILL: Final = PatternFill("solid", fgColor="1F4E78")
HEADER_ALIGNMENT: Final = Alignment(vertical="center")
SECTION_FONT: Final = Font(bold=True, size=12, color="1F4E78")
TITLE_FONT: Final = Font(bold=True, size=14, color="1F4E78")
NOTE_FONT: Final = Font(italic=True, color="595959")
WARNING_FONT: Final = Font(bold=True, color="C00000")
BOLD: Final = Font(bold=True)

T = TypeVar("T")


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
_TODAY: Final = frozenset({"today"})
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
    elif cleaned in _TODAY:
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
        _first, end, _single = _span(to_text, today=today)
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


# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """User text as a cell can hold it: control characters Excel cannot store removed, line
    breaks as Excel writes them (LF), and at most Excel's 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - 1] + "…"
    return text


def user_text(ws: Any, value: str | None) -> Any:
    """A cell value for text people typed: never a formula, never an error code.

    openpyxl turns any string starting with "=" into a live formula (and "#N/A" into an error
    value), and Excel re-reads "+1", "-1", "@SUM(…)" as formulas once the cell is edited. Such
    text gets a cell forced to the string type with Excel's quote prefix: the visible text is
    exactly what was typed (no added apostrophe) and stays text when edited.
    """
    if value is None:
        return None
    text = clean_text(value)
    if text.startswith(FORMULA_TRIGGERS) or text in ERROR_CODES:
        cell = WriteOnlyCell(ws, text)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return text


class Kind(Enum):
    """How a column's values are written: type and number format (`FORMATS`)."""

    TEXT = "text"  # our own text (labels, ids, enum values)
    USER = "user"  # text people typed: see `user_text`
    INT = "int"
    MONEY = "money"  # values in cents, written in dollars
    PERCENT = "percent"  # fractions, or our own formulas
    WEIGHT = "weight"
    HOURS = "hours"
    SCORE = "score"
    RATIO = "ratio"
    DATE = "date"
    DATETIME = "datetime"  # aware datetimes, written naive in the workspace zone
    YES_NO = "yes/no"
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


@dataclass(frozen=True)
class Typed:
    """A value with its own kind, for columns whose format varies by row."""

    value: Any
    kind: Kind


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
    Kind.YES_NO: 5.0,
    Kind.SCORE: 6.0,
    Kind.RATIO: 7.0,
}


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    note: str | None = None  # shown as an Excel note on the header cell


def _shown_width(kind: Kind, value: Any) -> float:
    """Roughly how many characters a value takes on screen."""
    if value is None:
        return 0.0
    fixed = _FIXED_WIDTHS.get(kind)
    if fixed is not None:
        return fixed
    if isinstance(value, str):
        if value.startswith("="):  # one of our formulas: as wide as its result
            return 12.0
        return float(max((len(line) for line in value.split("\n")), default=0))
    if kind is Kind.MONEY and isinstance(value, int | float):
        return float(len(f"${value / 100:,.2f}"))
    if kind is Kind.INT and isinstance(value, int | float):
        return float(len(f"{value:,.0f}"))
    if isinstance(value, float):
        return float(len(f"{value:.1f}"))
    return float(len(str(value)))


class _Table:
    """A write-only sheet of one or more tables: styled header row with notes, fitted widths,
    the first table's header frozen and filtered.

    Rows are raw values (cents, aware datetimes, user text), converted per column `Kind`.
    The first `SAMPLE_ROWS` rows are held back to fit the column widths, which write-only
    sheets need before their first row; after that each row goes straight to the file. A
    styled cell per column is reused row after row (openpyxl writes a row's cells before
    the next row is made), so number formats cost no extra objects.
    """

    def __init__(
        self,
        book: Workbook,
        title: str,
        columns: Sequence[Column],
        *,
        tz: ZoneInfo,
        later: Sequence[Sequence[Column]] = (),
        frozen: bool = True,
    ) -> None:
        self.ws: Any = book.create_sheet(title)
        if frozen:
            self.ws.freeze_panes = "A2"
        self.tz = tz
        self.columns = list(columns)
        self._later = [list(section) for section in later]
        self._pending: list[tuple[Sequence[Any], bool]] | None = []
        self._converters = self._converters_for(self.columns)
        self.row = 0  # last sheet row written
        self.data_rows = 0
        self._filter_end: int | None = None
        self._filter_columns = len(self.columns)

    # -- conversion --

    def _converters_for(self, columns: Sequence[Column]) -> list[Callable[[Any], Any]]:
        return [self._converter(column.kind) for column in columns]

    def _converter(self, kind: Kind) -> Callable[[Any], Any]:
        ws, tz = self.ws, self.tz
        if kind is Kind.TEXT:
            return _same
        if kind is Kind.USER:
            return lambda value: user_text(ws, value)
        if kind is Kind.YES_NO:
            return _yes_no
        if kind is Kind.VARIES:
            return _typed_converter(ws)
        cell = WriteOnlyCell(ws)
        cell.number_format = FORMATS[kind]

        if kind is Kind.MONEY:

            def money(value: Any) -> Any:
                if value is None:
                    return None
                cell.value = value / 100 if isinstance(value, int) else value
                return cell

            return money
        if kind is Kind.DATETIME:

            def moment(value: Any) -> Any:
                if value is None:
                    return None
                cell.value = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
                return cell

            return moment

        def styled(value: Any) -> Any:
            if value is None:
                return None
            cell.value = value
            return cell

        return styled

    @property
    def next_row(self) -> int:
        """The sheet row the next `add` lands on (formulas refer to it)."""
        if self._pending is not None:
            return len(self._pending) + 2  # after the header, once flushed
        return self.row + 1

    def _append(self, values: Sequence[Any]) -> None:
        self.ws.append(
            [convert(value) for convert, value in zip(self._converters, values, strict=False)]
        )
        self.row += 1

    # -- rows --

    def add(self, values: Sequence[Any], *, note: bool = False) -> None:
        """A data row (or, with `note`, an explanatory row not counted as data)."""
        if not note:
            self.data_rows += 1
        if self._pending is not None:
            self._pending.append((values, note))
            if len(self._pending) >= SAMPLE_ROWS:
                self._flush()
            return
        if note:
            self._append_note(values)
        else:
            self._append(values)

    def _append_note(self, values: Sequence[Any]) -> None:
        cells: list[Any] = []
        for value in values:
            if isinstance(value, str) and value:
                cell = WriteOnlyCell(self.ws, clean_text(value))
                cell.data_type = "s"
                cell.font = NOTE_FONT
                cells.append(cell)
            else:
                cells.append(None)
        self.ws.append(cells)
        self.row += 1

    def _header(self, columns: Sequence[Column]) -> None:
        cells = []
        for column in columns:
            cell = WriteOnlyCell(self.ws, column.header)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = HEADER_ALIGNMENT
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
        count = max(len(section) for section in sections)
        for index in range(count):
            width = 0.0
            for section in sections:
                if index < len(section):
                    column = section[index]
                    # Room for the filter button next to the header text.
                    width = max(width, len(column.header) + 3.0, _FIXED_WIDTHS.get(column.kind, 0))
            kind = self.columns[index].kind if index < len(self.columns) else Kind.TEXT
            for values, note in pending:
                if not note and index < len(values):
                    width = max(width, _shown_width(kind, values[index]) + 2.0)
            letter = get_column_letter(index + 1)
            self.ws.column_dimensions[letter].width = min(max(width, MIN_WIDTH), MAX_WIDTH)
        self._header(self.columns)
        for values, note in pending:
            if note:
                self._append_note(values)
            else:
                self._append(values)

    def section(self, columns: Sequence[Column]) -> None:
        """Start the next table on this sheet: a blank row, then its own header row."""
        self._flush()
        if self._filter_end is None:
            self._filter_end = self.row
        self.ws.append([])
        self.row += 1
        self.columns = list(columns)
        self._converters = self._converters_for(self.columns)
        self._header(self.columns)

    def finish(self) -> None:
        """Write what is held back and filter the first table."""
        self._flush()
        end = self._filter_end if self._filter_end is not None else self.row
        self.ws.auto_filter.ref = f"A1:{get_column_letter(self._filter_columns)}{max(end, 1)}"


def _same(value: T) -> T:
    return value


def _yes_no(value: Any) -> Any:
    if value is None:
        return None
    return "Yes" if value else "No"


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


# --------------------------------------------------------------------------------------
# Sheet layouts
# --------------------------------------------------------------------------------------


def _time_note(zone: str) -> str:
    return (
        f"Local time in {zone}, the workspace's time zone. Excel has no time zones, so "
        "times are written as that zone's wall-clock time."
    )


def weekly_columns(zone: str, minimum: int) -> list[Column]:
    return [
        Column("Week"),
        Column("From", Kind.DATE, "First day of the ISO week inside the period."),
        Column("To", Kind.DATE, "Last day of the week inside the period (to date for this week)."),
        Column("Requests filed", Kind.INT),
        Column("Requests delivered", Kind.INT),
        Column("Delivered on time", Kind.INT),
        Column(
            "On-time %",
            Kind.PERCENT,
            "Delivered before the end of the due date (or by the SLA deadline).",
        ),
        Column("Open at week end", Kind.INT),
        Column("Overdue at week end", Kind.INT),
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


WEEKLY_SATISFACTION_COLUMN: Final = 14
WEEKLY_CLAIM_COLUMN: Final = 10
WEEKLY_DELIVER_COLUMN: Final = 11
WEEKLY_SOURCED_COLUMN: Final = 17


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
        Column("On time", Kind.YES_NO),
        Column("Rating", Kind.INT),
        Column("Helped the deal"),
        Column("Rating comment", Kind.USER),
        Column("Source"),
        Column("Filed in period", Kind.YES_NO, "No: filed earlier, claimed or delivered in it."),
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
        Column(
            "Note",
            note=f"Weeks with fewer than {minimum} respondents are left out entirely.",
        ),
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
        Column("Marketing-sourced", Kind.YES_NO),
        Column("Owner", Kind.USER),
        Column("Won", Kind.YES_NO),
        Column("Closed", Kind.YES_NO),
        Column("In period because", note="created: created in the period; closes: closes in it."),
    ]


def activity_columns() -> list[Column]:
    return [
        Column("Marketing activity"),
        Column(
            "Pipeline credited",
            Kind.MONEY,
            "Each answer's value split evenly among the activities it names.",
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
# What the KPI sheets show
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekKpis:
    week_start: date
    first: date
    last: date
    label: str
    requests: RequestStats
    satisfaction: SatisfactionStats | None
    pipeline: PipelineStats


@dataclass(frozen=True)
class PeriodKpis:
    window: Window
    to_date: bool
    requests: RequestStats
    pipeline: PipelineStats
    satisfaction: Aggregate
    response_rate: float | None
    coverage: Coverage | None
    goals: dict[str, float] | None  # the quarter's targets when the period is in one quarter
    goal_quarter: str | None
    scorecards: list[Scorecard]


@dataclass
class Counts:
    requests: int = 0
    enablement: int = 0
    pipeline_answers: int = 0
    responses_stored: int = 0
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
class _Plan:
    team_id: str
    period: ExportPeriod
    settings: WorkspaceSettings
    now: datetime
    tz: ZoneInfo
    minimum: int
    window: Window  # the whole period, for raw rows
    kpi_window: Window | None  # the period up to now; None when it lies in the future
    weeks: list[tuple[date, Window]]
    quarters: list[str]

    @classmethod
    def make(
        cls,
        *,
        team_id: str,
        period: ExportPeriod,
        settings: WorkspaceSettings,
        now: datetime,
    ) -> _Plan:
        tz = settings.zone
        window = period.window(tz)
        kpi_window = None
        if now > window.start:
            kpi_window = Window(window.start, min(window.end, now), window.label, tz)
        weeks: list[tuple[date, Window]] = []
        monday = period.start - timedelta(days=period.start.weekday())
        while monday <= period.end:
            first = max(monday, period.start)
            after = min(monday + timedelta(days=7), period.end + timedelta(days=1))
            start, end = local_midnight(first, tz), local_midnight(after, tz)
            if start < now:
                label = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
                weeks.append((monday, Window(start, min(end, now), label, tz)))
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


async def _weekly(session: AsyncSession, plan: _Plan) -> list[WeekKpis]:
    rows = []
    calendar = plan.settings.calendar
    for monday, window in plan.weeks:
        requests = await request_stats(
            session, team_id=plan.team_id, window=window, calendar=calendar
        )
        pipeline = await pipeline_stats(session, team_id=plan.team_id, window=window)
        # A survey week belongs to the period its Monday is in (as in the quarter's figures).
        satisfaction = None
        if monday >= plan.period.start:
            satisfaction = await satisfaction_stats(
                session, team_id=plan.team_id, week_start=monday, minimum=plan.minimum, weeks=1
            )
        rows.append(
            WeekKpis(
                week_start=monday,
                first=window.start.astimezone(plan.tz).date(),
                last=(window.end - timedelta(microseconds=1)).astimezone(plan.tz).date(),
                label=window.label,
                requests=requests,
                satisfaction=satisfaction,
                pipeline=pipeline,
            )
        )
        await session.commit()  # a short transaction per week
    return rows


async def _period_satisfaction(
    session: AsyncSession, plan: _Plan
) -> tuple[Aggregate, float | None]:
    """Mean enablement score over the runs whose week starts in the period (withheld below
    the anonymity minimum, like `bot.digests.quarter_satisfaction`), and the response rate
    over those runs (answered / reached, never withheld)."""
    runs = sa.and_(
        col(SurveyRun.team_id) == plan.team_id,
        col(SurveyRun.kind) == SurveyKind.ENABLEMENT,
        col(SurveyRun.period_start) >= plan.period.start,
        col(SurveyRun.period_start) <= plan.period.end,
    )
    connection = await session.connection()
    scored = (
        await connection.execute(
            sa.select(
                sa.func.count(col(SurveyResponse.score)), sa.func.avg(col(SurveyResponse.score))
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
            .where(
                runs,
                col(SurveyResponse.kind) == SurveyKind.ENABLEMENT,
                col(SurveyResponse.score).is_not(None),
            )
        )
    ).one()
    respondents, average = int(scored[0] or 0), scored[1]
    if respondents == 0:
        mean = Aggregate(0, None, False)
    elif not counts_can_be_shown(respondents, minimum=plan.minimum):
        mean = Aggregate(respondents, None, True)
    else:
        mean = Aggregate(respondents, float(average), False)
    reached_row = (
        await connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(
                    sa.case((col(SurveyDelivery.status) == DeliveryStatus.ANSWERED, 1), else_=0)
                ),
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyDelivery.run_id))
            .where(
                runs,
                col(SurveyDelivery.status).in_([DeliveryStatus.SENT, DeliveryStatus.ANSWERED]),
            )
        )
    ).one()
    reached, answered = int(reached_row[0] or 0), int(reached_row[1] or 0)
    return mean, (answered / reached if reached else None)


async def _period(session: AsyncSession, plan: _Plan) -> PeriodKpis:
    window = plan.kpi_window or Window(
        plan.window.start, plan.window.start, plan.window.label, plan.tz
    )
    requests = await request_stats(
        session, team_id=plan.team_id, window=window, calendar=plan.settings.calendar
    )
    pipeline = await pipeline_stats(session, team_id=plan.team_id, window=window)
    satisfaction, rate = await _period_satisfaction(session, plan)
    await session.commit()
    goal_quarter = None
    goals = None
    if quarter_of(plan.period.start) == quarter_of(plan.period.end):
        goal_quarter = quarter_of(plan.period.start)
        # Plain targets, not ORM rows: they are read after later commits, in another thread.
        goals = targets_of(await goals_for(session, team_id=plan.team_id, quarter=goal_quarter))
    cover = None
    if plan.quarters:
        cover = await coverage(session, team_id=plan.team_id, quarter=plan.quarters[-1], tz=plan.tz)
    scorecards = []
    for quarter in plan.quarters:
        for function in (Function.DEMAND_GEN, Function.SUPPORT):
            scorecards.append(
                await scorecard_for(
                    session,
                    team_id=plan.team_id,
                    quarter=quarter,
                    function=function,
                    settings=plan.settings,
                )
            )
            await session.commit()
    return PeriodKpis(
        window=window,
        to_date=plan.kpi_window is not None and plan.kpi_window.end < plan.window.end,
        requests=requests,
        pipeline=pipeline,
        satisfaction=satisfaction,
        response_rate=rate,
        coverage=cover,
        goals=goals,
        goal_quarter=goal_quarter,
        scorecards=scorecards,
    )


# --------------------------------------------------------------------------------------
# Reading raw rows, a page at a time
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Note:
    """An explanatory row among the data rows (a week left out, figures withheld)."""

    values: tuple[Any, ...]


async def _page(session: AsyncSession, statement: sa.Executable) -> list[Any]:
    connection = await session.connection()
    rows = list((await connection.execute(statement)).all())
    await session.commit()  # one short transaction per page: SQLite's lock is never held long
    return rows


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
    col(SupportRequest.due_date),
    col(SupportRequest.sla_deadline),
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


async def _request_pages(session: AsyncSession, plan: _Plan) -> AsyncIterator[list[Any]]:
    """Requests filed in the period (by created time), then those filed earlier and claimed
    or delivered in it (by id): keyset pages, each on an index."""
    team = col(SupportRequest.team_id) == plan.team_id
    start, end = plan.window.start, plan.window.end
    created = col(SupportRequest.created_at)
    last: tuple[datetime, int] | None = None
    while True:
        statement = _requests_select().where(team, created >= start, created < end)
        if last is not None:
            statement = statement.where(
                sa.tuple_(created, col(SupportRequest.id)) > sa.tuple_(*last)
            )
        rows = await _page(
            session, statement.order_by(created, col(SupportRequest.id)).limit(PAGE_ROWS)
        )
        if not rows:
            break
        yield [(*row, True) for row in rows]
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
            .where(team, created < start, touched, col(SupportRequest.id) > last_id)
            .order_by(col(SupportRequest.id))
            .limit(PAGE_ROWS),
        )
        if not rows:
            break
        yield [(*row, False) for row in rows]
        last_id = rows[-1].id
        if len(rows) < PAGE_ROWS:
            break


@dataclass(frozen=True)
class _EnablementWeek:
    run_id: int
    week_start: date
    respondents: int
    scorers: int
    helpers: int
    commenters: int


async def _enablement_weeks(session: AsyncSession, plan: _Plan) -> list[_EnablementWeek]:
    answered_anything = sa.or_(
        col(SurveyResponse.score).is_not(None),
        col(SurveyResponse.comment).is_not(None),
        col(SurveyResponse.help_with).is_not(None),
    )

    def tally(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    statement = (
        sa.select(
            col(SurveyRun.id),
            col(SurveyRun.period_start),
            tally(answered_anything),
            tally(col(SurveyResponse.score).is_not(None)),
            tally(col(SurveyResponse.help_with).is_not(None)),
            tally(sa.func.length(sa.func.trim(col(SurveyResponse.comment))) > 0),
        )
        .select_from(SurveyRun)
        .outerjoin(
            SurveyResponse,
            sa.and_(
                col(SurveyResponse.run_id) == col(SurveyRun.id),
                col(SurveyResponse.kind) == SurveyKind.ENABLEMENT,
            ),
        )
        .where(
            col(SurveyRun.team_id) == plan.team_id,
            col(SurveyRun.kind) == SurveyKind.ENABLEMENT,
            col(SurveyRun.period_start) >= plan.period.start,
            col(SurveyRun.period_start) <= plan.period.end,
        )
        .group_by(col(SurveyRun.id), col(SurveyRun.period_start))
        .order_by(col(SurveyRun.period_start))
    )
    return [
        _EnablementWeek(int(run_id), week, int(a or 0), int(s or 0), int(h or 0), int(c or 0))
        for run_id, week, a, s, h, c in await _page(session, statement)
    ]


def _week_label(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


async def _enablement_pages(
    session: AsyncSession, plan: _Plan, weeks: list[_EnablementWeek]
) -> AsyncIterator[list[Any]]:
    """The anonymous pulse, week by week, with the anonymity rules applied:

    * a week with fewer respondents than the minimum is left out, with a note row;
    * within a week, scores are shown only when at least the minimum gave one, "what would
      help" only when at least the minimum answered it (as the digests withhold them), and
      comments only for weeks meeting the minimum (`bot.privacy.safe_comments`);
    * no user id, response id or time: the week is the only "when";
    * rows are ordered by what they show (never by submission or user), so their order
      reveals nothing a withheld field or a timestamp would.
    """
    minimum = plan.minimum
    for week in weeks:
        label = _week_label(week.week_start)
        if not counts_can_be_shown(week.respondents, minimum=minimum):
            yield [
                _Note(
                    (
                        ENABLEMENT_LABEL,
                        label,
                        week.week_start,
                        None,
                        None,
                        None,
                        f"Week left out: fewer than {minimum} people answered, so answers "
                        "could be traced to a person.",
                    )
                )
            ]
            continue
        show_score = counts_can_be_shown(week.scorers, minimum=minimum)
        show_help = counts_can_be_shown(week.helpers, minimum=minimum)
        withheld = [
            name
            for name, shown in (("scores", show_score), ("'what would help most'", show_help))
            if not shown and (week.scorers if name == "scores" else week.helpers)
        ]
        page: list[Any] = []
        if withheld:
            page.append(
                _Note(
                    (
                        ENABLEMENT_LABEL,
                        label,
                        week.week_start,
                        None,
                        None,
                        None,
                        f"{' and '.join(withheld).capitalize()} withheld this week: fewer than "
                        f"{minimum} people gave one.",
                    )
                )
            )
        keys: list[Any] = []
        if show_score:
            keys.append(sa.func.coalesce(col(SurveyResponse.score), 0))
        if show_help:
            keys.append(sa.func.coalesce(col(SurveyResponse.help_with), ""))
        keys.append(sa.func.coalesce(col(SurveyResponse.comment), ""))
        keys.append(col(SurveyResponse.id))
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
        last: tuple[Any, ...] | None = None
        while True:
            statement = base if last is None else base.where(sa.tuple_(*keys) > sa.tuple_(*last))
            rows = await _page(session, statement)
            for row in rows:
                score = row[0] if show_score else None
                help_with = HELP_OPTIONS.get(row[1], row[1]) if show_help and row[1] else None
                comment = row[2].strip() if row[2] and row[2].strip() else None
                if score is None and help_with is None and comment is None:
                    continue
                page.append((ENABLEMENT_LABEL, label, week.week_start, score, help_with, comment))
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
    return ACTIVITY_OPTIONS.get(key, key)


def activities_text(raw: str | None) -> str | None:
    """A response's activities JSON as labels: "Webinar, Content, Support request MS-42"."""
    try:
        values = json.loads(raw) if raw else []
    except ValueError:
        return None
    if not isinstance(values, list):
        return None
    labels = [_activity_label(value) for value in values if isinstance(value, str)]
    return ", ".join(dict.fromkeys(labels)) or None


async def _pipeline_answer_pages(session: AsyncSession, plan: _Plan) -> AsyncIterator[list[Any]]:
    """Pipeline-pulse answers, week by week and rep by rep (keyset on the run's unique
    (run, user) index)."""
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
        label = _week_label(week_start)
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
                yield [(PIPELINE_LABEL, label, week_start, *row) for row in rows]
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
                yield [(*row[:12], reason) for row in rows]
                last = (rows[-1][13], rows[-1][12])
            if len(rows) < PAGE_ROWS:
                break


async def _count_responses(session: AsyncSession, plan: _Plan) -> int:
    rows = await _page(
        session,
        sa.select(sa.func.count())
        .select_from(SurveyResponse)
        .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
        .where(
            col(SurveyRun.team_id) == plan.team_id,
            col(SurveyRun.period_start) >= plan.period.start,
            col(SurveyRun.period_start) <= plan.period.end,
        ),
    )
    return int(rows[0][0] or 0)


async def _has_leads(session: AsyncSession, plan: _Plan) -> bool:
    rows = await _page(
        session,
        sa.select(sa.func.count()).where(
            col(LeadCount.team_id) == plan.team_id,
            col(LeadCount.week_start) >= plan.period.start,
            col(LeadCount.week_start) <= plan.period.end,
        ),
    )
    return bool(rows[0][0])


# --------------------------------------------------------------------------------------
# Writing (all of it in one worker thread)
# --------------------------------------------------------------------------------------


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600


def _cents(value: int | float | None) -> float | None:
    return None if value is None else value / 100


class _Book:
    """The workbook being written; every method runs in the export's worker thread."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.book = Workbook(write_only=True)
        zone = plan.settings.timezone
        tz = plan.tz
        self.summary: Any = self.book.create_sheet(SHEETS[0])
        self.weekly = _Table(self.book, SHEETS[1], weekly_columns(zone, plan.minimum), tz=tz)
        self.requests = _Table(self.book, SHEETS[2], request_columns(zone), tz=tz)
        self.survey = _Table(
            self.book,
            SHEETS[3],
            enablement_columns(plan.minimum),
            tz=tz,
            later=[pipeline_answer_columns()],
        )
        self.pipeline = _Table(
            self.book, SHEETS[4], opportunity_columns(), tz=tz, later=[activity_columns()]
        )
        self.scorecard = _Table(self.book, SHEETS[5], scorecard_columns(), tz=tz)
        self.counts = Counts()

    # -- Weekly KPIs --

    def write_weekly(self, weeks: list[WeekKpis]) -> None:
        table = self.weekly
        for week in weeks:
            req, pipe, sat = week.requests, week.pipeline, week.satisfaction
            score: float | None = None
            note: str | None
            rate: float | None = None
            if sat is None:
                note = "survey week began before the period"
            else:
                rate = sat.response_rate
                if sat.mean.withheld:
                    note = f"withheld: fewer than {self.plan.minimum} responses"
                elif sat.mean.value is None:
                    note = "no responses yet"
                else:
                    score, note = sat.mean.value, None
            table.add(
                (
                    week.label,
                    week.first,
                    week.last,
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
                    sourced_cents(pipe),
                    pipe.influenced_cents,
                    pipe.new_pipeline_cents,
                    pipe.leads,
                    pipe.lead_to_opportunity_rate,
                )
            )
        table.finish()
        self.counts.weeks = len(weeks)
        if weeks:
            self._charts(len(weeks))

    def _charts(self, count: int) -> None:
        ws = self.weekly.ws
        last = count + 1
        categories = Reference(ws, min_col=1, min_row=2, max_row=last)

        satisfaction = LineChart()
        satisfaction.title = "Enablement satisfaction (1–5)"
        satisfaction.add_data(
            Reference(ws, min_col=WEEKLY_SATISFACTION_COLUMN, min_row=1, max_row=last),
            titles_from_data=True,
        )
        satisfaction.y_axis.scaling.min = 1
        satisfaction.y_axis.scaling.max = 5
        satisfaction.y_axis.title = "Mean score"

        turnaround = BarChart()
        turnaround.type = "col"
        turnaround.title = "Turnaround (median hours)"
        turnaround.add_data(
            Reference(
                ws,
                min_col=WEEKLY_CLAIM_COLUMN,
                max_col=WEEKLY_DELIVER_COLUMN,
                min_row=1,
                max_row=last,
            ),
            titles_from_data=True,
        )
        turnaround.y_axis.title = "Hours"

        sourced = BarChart()
        sourced.type = "col"
        sourced.title = "Marketing-sourced pipeline"
        sourced.add_data(
            Reference(ws, min_col=WEEKLY_SOURCED_COLUMN, min_row=1, max_row=last),
            titles_from_data=True,
        )
        sourced.y_axis.number_format = '"$"#,##0'
        sourced.legend = None

        anchor = last + 3
        for chart in (satisfaction, turnaround, sourced):
            chart.set_categories(categories)
            chart.display_blanks = "gap"
            chart.width = 16
            # openpyxl 3.1 hides axes unless told otherwise.
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.x_axis.title = "ISO week"
            ws.add_chart(chart, f"A{anchor}")
            anchor += 16

    # -- Requests --

    def write_requests(self, rows: list[Any]) -> None:
        table, tz = self.requests, self.plan.tz
        for row in rows:
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
                sla_deadline,
                source,
                details,
                deliverable,
                crm_link,
                outcome,
                score,
                helped,
                rating_comment,
                filed_in_period,
            ) = row
            status = RequestStatus(status)
            delivered = status == RequestStatus.DELIVERED and delivered_at is not None
            table.add(
                (
                    format_reference(number),
                    RequestType(request_type).label,
                    status.value,
                    account,
                    amount_cents,
                    requester,
                    assignee,
                    created_at,
                    claimed_at,
                    delivered_at,
                    due_date,
                    _hours(created_at, claimed_at),
                    _hours(created_at, delivered_at) if delivered else None,
                    on_time(delivered_at, due_date=due_date, sla_deadline=sla_deadline, tz=tz)
                    if delivered
                    else None,
                    score,
                    helped.replace("_", " ") if helped else None,
                    rating_comment,
                    source,
                    filed_in_period,
                    details,
                    deliverable,
                    crm_link,
                    outcome,
                )
            )
        self.counts.requests = table.data_rows

    def finish_requests(self) -> None:
        self.requests.finish()

    # -- Survey responses --

    def write_enablement(self, rows: list[Any]) -> None:
        table = self.survey
        for row in rows:
            if isinstance(row, _Note):
                table.add(row.values, note=True)
            else:
                table.add(row)
        self.counts.enablement = table.data_rows

    def start_pipeline_answers(self) -> None:
        self.survey.section(pipeline_answer_columns())

    def write_pipeline_answers(self, rows: list[Any]) -> None:
        table = self.survey
        for label, week, week_start, user_id, opps, pipeline, s_n, s_c, i_n, i_c, acts in rows:
            table.add(
                (
                    label,
                    week,
                    week_start,
                    user_id,
                    opps,
                    pipeline,
                    s_n,
                    s_c,
                    i_n,
                    i_c,
                    activities_text(acts),
                )
            )
        self.counts.pipeline_answers = table.data_rows - self.counts.enablement

    def finish_survey(self) -> None:
        self.survey.finish()

    # -- Pipeline --

    def write_opportunities(self, rows: list[Any]) -> None:
        for row in rows:
            self.pipeline.add(row)
        self.counts.opportunities = self.pipeline.data_rows

    def write_activities(self, stats: PipelineStats) -> None:
        table = self.pipeline
        table.section(activity_columns())
        for impact in stats.activities:
            table.add((_activity_label(impact.activity), impact.pipeline_cents, impact.mentions))
        self.counts.activities = len(stats.activities)
        table.finish()

    # -- Scorecard (formulas) --

    def write_scorecard(self, scorecards: list[Scorecard]) -> None:
        table = self.scorecard
        for card in scorecards:
            first = table.next_row
            row = first
            for line in card.lines:
                unit = METRICS[line.metric].unit
                kind = _UNIT_KINDS.get(unit, Kind.TEXT)
                computed = line.contribution is not None
                table.add(
                    (
                        card.quarter,
                        card.function.label,
                        line.label,
                        unit.value,
                        line.weight,
                        Typed(_unit_value(unit, line.actual), kind),
                        Typed(_unit_value(unit, line.target), kind),
                        f"=F{row}/G{row}" if computed else None,
                        card.cap,
                        f"=MIN(MAX(H{row},0),I{row})" if computed else None,
                        f"=E{row}*J{row}" if computed else None,
                        line.note,
                    )
                )
                row += 1
            total = f"=SUM(K{first}:K{row - 1})" if card.total is not None else None
            if card.total is None:
                total_note = "nothing to score yet"
            elif card.complete:
                total_note = "bonus attainment"
            else:
                total_note = (
                    f"partial: lines without data are left out ({card.covered_weight:.0%} of "
                    "the weight counted)"
                )
            table.add(
                (
                    card.quarter,
                    card.function.label,
                    "Total",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    total,
                    total_note,
                )
            )
        self.counts.scorecard_lines = sum(len(card.lines) for card in scorecards)
        table.finish()

    # -- Summary --

    def write_summary(self, kpis: PeriodKpis, empty: bool) -> None:
        _Summary(self.summary, self.plan, kpis, self.counts, empty).write()

    # -- the file --

    def save(self, out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        try:
            self.book.save(partial)
            os.replace(partial, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()

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


def _unit_value(unit: Unit, value: float | None) -> float | None:
    if value is None:
        return None
    return value / 100 if unit is Unit.MONEY else value


class _Summary:
    """The front sheet: what the period was, its key figures against goals, the scorecards."""

    def __init__(self, ws: Any, plan: _Plan, kpis: PeriodKpis, counts: Counts, empty: bool) -> None:
        self.ws, self.plan, self.kpis, self.counts, self.empty = ws, plan, kpis, counts, empty
        self.row = 0

    def cell(self, value: Any, *, font: Font | None = None, fmt: str | None = None) -> Any:
        if value is None:
            return None
        cell = WriteOnlyCell(self.ws, clean_text(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        if fmt is not None:
            cell.number_format = fmt
        return cell

    def line(self, *values: Any) -> None:
        self.ws.append(list(values))
        self.row += 1

    def header(self, *titles: str) -> None:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.ws, title)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
            cells.append(cell)
        self.line(*cells)

    def value(self, kind: Kind, value: float | None) -> Any:
        """A figure in its kind's format (money arrives in cents)."""
        if value is None:
            return None
        return self.cell(value / 100 if kind is Kind.MONEY else value, fmt=FORMATS.get(kind))

    def metric_value(self, metric: str, value: float | None) -> Any:
        """A goal or scorecard figure in its metric's unit (`bot.goals` units)."""
        return self.value(_UNIT_KINDS.get(METRICS[metric].unit, Kind.TEXT), value)

    def write(self) -> None:
        ws, plan, kpis = self.ws, self.plan, self.kpis
        for letter, width in zip("ABCDEFGHI", (26, 36, 18, 18, 10, 14, 14, 14, 48), strict=True):
            ws.column_dimensions[letter].width = width
        local_now = plan.now.astimezone(plan.tz).replace(tzinfo=None, microsecond=0)
        period = plan.period
        shown = f"{period.start.isoformat()} to {period.end.isoformat()}"
        if period.quarter:
            shown = f"{period.quarter} ({shown})"
        if kpis.to_date:
            shown += f"; figures to date ({local_now:%Y-%m-%d %H:%M})"
        self.line(self.cell("alignbot export", font=TITLE_FONT))
        self.line(self.cell("Workspace", font=BOLD), self.cell(plan.team_id))
        self.line(self.cell("Period", font=BOLD), self.cell(shown))
        self.line(
            self.cell("Generated", font=BOLD),
            self.cell(local_now, fmt=DATETIME_FORMAT),
        )
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
                f"Enablement-satisfaction answers carry no names; figures over fewer than "
                f"{plan.minimum} respondents are withheld and such weeks left out."
            ),
        )
        self.line()
        if self.empty:
            self.line(
                self.cell(
                    f"No data in this period: no requests, survey responses, opportunities or "
                    f"leads between {period.start.isoformat()} and {period.end.isoformat()}.",
                    font=WARNING_FONT,
                )
            )
            self.line()
        self.key_figures()
        self.line()
        self.scorecards()
        self.line()
        self.contents()

    def key_figures(self) -> None:
        kpis = self.kpis
        goals = kpis.goals or {}
        goal_title = f"Goal ({kpis.goal_quarter})" if kpis.goal_quarter else "Goal"
        self.line(self.cell("Key figures for the period", font=SECTION_FONT))
        self.header("Function", "Metric", "Value", goal_title, "Note")
        req, pipe = kpis.requests, kpis.pipeline
        support, demandgen = Function.SUPPORT.label, Function.DEMAND_GEN.label
        satisfaction = kpis.satisfaction
        sat_note = (
            WITHHELD_TEXT
            if satisfaction.withheld
            else "no responses yet"
            if satisfaction.value is None
            else None
        )
        source = "CRM" if pipe.crm_opportunities else "pipeline survey"
        cover = kpis.coverage
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
            (support, "Open at period end", Kind.INT, req.open_at_end, None, None),
            (support, "Overdue at period end", Kind.INT, req.overdue_at_end, None, None),
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
                sat_note,
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
            shown_note = note
            if value is None and shown_note is None:
                shown_note = "no data yet"
            self.line(
                self.cell(function),
                self.cell(metric),
                self.value(kind, value),
                self.metric_value(goal_metric, goal) if goal is not None and goal_metric else None,
                self.cell(shown_note),
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
                    self.cell(line.note),
                )
            note = (
                "complete"
                if card.complete
                else f"partial: {card.covered_weight:.0%} of the weight could be scored"
                if card.total is not None
                else "nothing to score yet"
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
                self.cell(note),
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


# --------------------------------------------------------------------------------------
# The export
# --------------------------------------------------------------------------------------


def export_filename(period: ExportPeriod) -> str:
    label = period.quarter or f"{period.start.isoformat()}_to_{period.end.isoformat()}"
    return f"alignbot-export-{label}.xlsx"


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

    KPIs come from `bot.metrics` and `bot.digests` (the digests' own definitions); raw rows
    are read in keyset pages and written in a dedicated thread while the next page is read.
    The session's transaction is ended after each page and KPI step (nothing may be pending
    on it). A period without any data still gets a workbook, which says so (`empty`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    plan = _Plan.make(team_id=team_id, period=period, settings=settings, now=now)
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alignbot-export")

    async def run(function: Callable[..., T], *args: Any) -> T:
        return await loop.run_in_executor(executor, function, *args)

    async def pump(pages: AsyncIterator[list[Any]], write: Callable[[list[Any]], None]) -> None:
        """Write each page in the worker thread while the next one is read."""
        writing: asyncio.Future[None] | None = None
        async for page in pages:
            if writing is not None:
                await writing
            writing = loop.run_in_executor(executor, write, page)
        if writing is not None:
            await writing

    book = await run(_Book, plan)
    try:
        weeks = await _weekly(session, plan)
        await run(book.write_weekly, weeks)
        await pump(_request_pages(session, plan), book.write_requests)
        await run(book.finish_requests)
        enablement = await _enablement_weeks(session, plan)
        await pump(_enablement_pages(session, plan, enablement), book.write_enablement)
        await run(book.start_pipeline_answers)
        await pump(_pipeline_answer_pages(session, plan), book.write_pipeline_answers)
        await run(book.finish_survey)
        await pump(_opportunity_pages(session, plan), book.write_opportunities)
        kpis = await _period(session, plan)
        await run(book.write_activities, kpis.pipeline)
        await run(book.write_scorecard, kpis.scorecards)
        responses = await _count_responses(session, plan)
        has_leads = await _has_leads(session, plan)
        counts = book.counts
        empty = not (counts.requests or responses or counts.opportunities or has_leads)
        await run(book.write_summary, kpis, empty)
        await run(book.save, out)
    except BaseException:
        # Queued behind any page still being written, so the thread never races it.
        await asyncio.shield(loop.run_in_executor(executor, book.discard))
        raise
    finally:
        executor.shutdown(wait=False)
    counts = book.counts
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
