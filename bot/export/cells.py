"""Cell values and styles: Excel serial dates in the workspace's zone, user text cleaned and
kept from ever becoming a formula, dollars, yes/no, the number formats and the fonts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from bot.kpis.catalogue import Unit

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


def dollars(cents: int | float | None) -> float | None:
    """Stored cents as the dollars a money cell shows."""
    return None if cents is None else cents / 100


def yes_no(value: bool | None) -> str | None:
    """A flag as "Yes" / "No" (blank when unknown)."""
    return None if value is None else ("Yes" if value else "No")


def unit_value(unit: Unit, value: float | None) -> float | None:
    """A `bot.kpis.goals` stored value in the unit a spreadsheet shows (cents to dollars)."""
    if value is None:
        return None
    return value / 100 if unit is Unit.MONEY else value


def hours(start: datetime | None, end: datetime | None) -> float | None:
    """Calendar hours between two moments (blank when either is missing)."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600
