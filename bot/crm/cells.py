"""Reading one cell of a CRM export: text, money, dates, yes/no and counts, each with the reason
a person can act on when the cell can't be read.

Decisions:

* **Dates**: real Excel date cells; ISO `2026-11-04` (a time after it is ignored, as HubSpot
  writes `2026-11-04 10:32`); US month/day/year `11/04/2026`, `11/4/26`; `4 Nov 2026`,
  `04-Nov-2026`, `Nov 4, 2026`; and Excel serial numbers from cells that lost their date format.
  Slashes are always month/day (US), never guessed per row, so `31/02/2026` is rejected with
  the reason rather than silently read day-first: a file that is half US and half European would
  otherwise be wrong without anyone noticing.
* **Money**: plain numbers and US formatting (`$1,234.50`, `USD 1,234`, `1234.5`). European
  `1.234,50` is rejected (it is ambiguous). One currency per file: the first currency code or
  symbol seen fixes it, and a row in another one is rejected pointing at "Amount (converted)",
  because adding EUR to USD would make every total wrong. Fractions of a cent round half up
  (HubSpot keeps `1234.567`). A blank amount is 0: a deal without an amount is still a deal
  for conversion counts. Negative and non-numeric amounts are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, TypeVar

from openpyxl.utils.datetime import from_excel

from bot.core.text import MAX_AMOUNT_CENTS, storable

__all__ = [
    "CellError",
    "Money",
    "Row",
    "cell_count",
    "cell_date",
    "cell_flag",
    "cell_text",
    "normal",
    "short",
    "shown",
    "week_start",
]


class CellError(Exception):
    """One unreadable cell; the row collects these into a single rejection reason."""


def normal(text: str) -> str:
    """Header and value matching ignores case, spaces, underscores and punctuation, because
    each CRM (and each admin who renamed a column) spells the same thing differently."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_text(value: object) -> str | None:
    """A cell as trimmed text, or None when blank. Whole floats lose their ".0" (an id typed
    as a number in Excel is 12345.0) and dates print as ISO."""
    if value is None:
        return None
    if (
        type(value) is str
        and value
        and not value[0].isspace()
        and not value[-1].isspace()
        and "\x00" not in value
    ):
        # The common case, called for every cell of every row: skip the general path.
        return value.replace("\u00a0", " ") if "\u00a0" in value else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    text = storable(text).replace("\u00a0", " ").strip()
    return text or None


def shown(value: object) -> str:
    return f'"{short(cell_text(value) or "")}"'


_CURRENCY_SYMBOLS: Final = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
# ISO codes are upper case in every export; "12abc" is a typo, not an amount in ABC.
_CURRENCY_RE: Final = re.compile(r"^(US\$|[$€£¥]|[A-Z]{3}(?=[\s\d.-]))\s*|\s*([A-Z]{3}|[€£])$")
_NUMBER_RE: Final = re.compile(r"(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|\.\d+|\d+(\.\d+)?[eE][+-]?\d{1,3}")
_MINUS: Final = ("-", "\u2212", "\u2013")


class Money:
    """Reads amounts as integer cents, remembering the file's currency (see module doc)."""

    def __init__(self) -> None:
        self.currency: str | None = None

    def cents(self, value: object, label: str) -> int:
        if value is None or (isinstance(value, str) and not value.strip()):
            return 0
        if isinstance(value, bool):
            raise CellError(f"{label} {shown(value)} isn't an amount")
        if isinstance(value, int | float | Decimal):
            return self._checked(
                Decimal(repr(value)) if isinstance(value, float) else Decimal(value), value, label
            )
        text = str(value).replace("\u00a0", " ").strip()
        negative = False
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1].strip()
        if text.startswith(_MINUS):
            negative, text = True, text[1:].strip()
        code: str | None = None
        for _ in range(2):  # a prefix and/or a suffix: "USD 1,234", "1,234 USD", "$1,234"
            match = _CURRENCY_RE.search(text)
            if match is None:
                break
            found = (match.group(1) or match.group(2)).upper()
            code = _CURRENCY_SYMBOLS.get(found, found)
            text = (text[: match.start()] + text[match.end() :]).strip()
        if text.startswith(_MINUS):
            negative, text = True, text[1:].strip()
        if not _NUMBER_RE.fullmatch(text):
            raise CellError(
                f"{label} {shown(value)} isn't a number I can read "
                "(write amounts like 1234.50 or $1,234.50)"
            )
        if code is not None:
            self.currency = self.currency or code
            if code != self.currency:
                raise CellError(
                    f"{label} {shown(value)} is in {code} but earlier rows are in "
                    f"{self.currency}; export the Amount (converted) column instead"
                )
        amount = Decimal(text.replace(",", ""))
        return self._checked(-amount if negative else amount, value, label)

    @staticmethod
    def _checked(amount: Decimal, value: object, label: str) -> int:
        if not amount.is_finite():
            raise CellError(f"{label} {shown(value)} isn't a number I can read")
        if amount < 0:
            raise CellError(f"{label} {shown(value)} is negative")
        try:
            cents = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        except InvalidOperation as error:
            raise CellError(f"{label} {shown(value)} is too large") from error
        if cents > MAX_AMOUNT_CENTS:
            raise CellError(f"{label} {shown(value)} is too large (the most is $100 billion)")
        return cents


_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_ISO_DATE_RE: Final = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ].*)?")
_US_DATE_RE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ ,]+.*)?")
_DAY_MONTH_RE: Final = re.compile(r"(\d{1,2})[\s-]+([A-Za-z]+)\.?,?[\s-]+(\d{4})")
_MONTH_DAY_RE: Final = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_DATE_HELP: Final = "write dates as 2026-11-04, 11/04/2026 or 4 Nov 2026"
# Excel serial numbers between 1954 and 2119: a date cell that lost its format, not a count.
_SERIAL_RANGE: Final = (20_000, 80_000)


def cell_date(value: object, label: str) -> date | None:
    """A date from a cell, None when blank; see the module doc for the formats and why."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            serial = from_excel(value)
            if isinstance(serial, datetime):
                return serial.date()
        raise CellError(f"{label} {shown(value)} isn't a date ({_DATE_HELP})")
    text = cell_text(value)
    if text is None:
        return None
    parts: tuple[int, int, int] | None = None
    if match := _ISO_DATE_RE.fullmatch(text):
        parts = (int(match[1]), int(match[2]), int(match[3]))
    elif match := _US_DATE_RE.fullmatch(text):
        year = int(match[3])
        parts = (year + 2000 if year < 100 else year, int(match[1]), int(match[2]))
    elif (match := _DAY_MONTH_RE.fullmatch(text)) and match[2].lower() in _MONTHS:
        parts = (int(match[3]), _MONTHS[match[2].lower()], int(match[1]))
    elif (match := _MONTH_DAY_RE.fullmatch(text)) and match[1].lower() in _MONTHS:
        parts = (int(match[3]), _MONTHS[match[1].lower()], int(match[2]))
    if parts is not None:
        try:
            return date(*parts)
        except ValueError:
            pass
    raise CellError(f"{label} {shown(value)} isn't a date I can read ({_DATE_HELP})")


_TRUE: Final = frozenset({"true", "yes", "y", "1", "x", "checked"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "unchecked"})


def cell_flag(value: object, label: str) -> bool | None:
    """A checkbox column (TRUE/FALSE, 1/0, Yes/No); None when blank."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = cell_text(value)
    if text is None:
        return None
    word = normal(text)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(f"{label} {shown(value)} isn't yes or no")


def cell_count(value: object, label: str) -> int:
    """A whole, non-negative count of leads; blank is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise CellError(f"{label} {shown(value)} isn't a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = (cell_text(value) or "0").replace(",", "")
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise CellError(f"{label} {shown(value)} isn't a whole number")
    number = int(text)
    if number < 0:
        raise CellError(f"{label} {shown(value)} is negative")
    return number


def _clip(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


def _cell(row: Sequence[object], columns: dict[str, int], name: str) -> object:
    index = columns.get(name)
    return row[index] if index is not None and index < len(row) else None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


_T = TypeVar("_T")


class Row:
    """One data row read field by field; every unreadable cell is collected, so the person
    sees all of a row's problems at once rather than fixing them one import at a time."""

    def __init__(
        self, cells: Sequence[object], columns: dict[str, int], labels: dict[str, str]
    ) -> None:
        self.cells = cells
        self.columns = columns
        self.labels = labels
        self.problems: list[str] = []

    def raw(self, name: str) -> object:
        return _cell(self.cells, self.columns, name)

    def text(self, name: str, limit: int = 255) -> str | None:
        return _clip(cell_text(self.raw(name)), limit)

    def read(self, name: str, reader: Callable[[object, str], _T]) -> _T | None:
        try:
            return reader(self.raw(name), self.labels.get(name, name))
        except CellError as error:
            self.problems.append(str(error))
            return None
