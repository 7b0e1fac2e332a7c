"""Importing CRM exports: opportunities, quotas and weekly lead counts from .xlsx or .csv files.

Pipeline, bookings, lead source and quota live in the CRM, and the people who need them in
the bot can export a report but not run an integration (PRODUCT.md §4). So this module reads
reports the way Salesforce and HubSpot write them — title and filter lines above the header, a
Grand Totals footer, their own column names, US dates, "$1,234.50" — and is forgiving about
form but strict about meaning: a row it cannot read is listed with its spreadsheet row number
and the reason while every good row is kept, so a 10,000-row export with three typos still
imports and the person knows exactly which three cells to fix.

Re-importing is the normal workflow (export every week), so writes are upserts keyed by the
CRM's own id, and a row whose values did not change is not written at all: importing the same
file twice reports everything as unchanged and touches nothing. Rows missing from a file are
left alone, because exports are usually filtered (this quarter, my team).

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
* **Marketing-sourced** is a lead source in `DEFAULT_MARKETING_SOURCES` (case, spaces and
  underscores ignored, so HubSpot's `PAID_SEARCH` equals "Paid Search"). Referrals of every
  kind (partner, employee, customer, and HubSpot's `REFERRALS`) are *not* marketing: they are
  earned by sales, partners and customers, and crediting them to Demand Gen would inflate the
  number the playbook ties to its bonus. Direct traffic *is* (it is the website, like
  Salesforce's "Web"). Teams that disagree pass their own `marketing_sources`.
* **Ids**: Salesforce 18-character ids are shortened to the 15-character form reports show, so
  an API export and a report export update the same rows. With no id column at all, the id is
  a hash of name, account and created date: renaming a deal then creates a new row, which the
  summary says, asking for the Opportunity ID column.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import chain, islice
from typing import Any, Final, TypeVar, cast

import sqlalchemy as sa
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.errors import UserError
from bot.core.models import LeadCount, Opportunity, Quota
from bot.core.text import MAX_AMOUNT_CENTS, storable

__all__ = [
    "DEFAULT_MARKETING_SOURCES",
    "MAX_DATA_ROWS",
    "MAX_FILE_BYTES",
    "ImportReport",
    "RejectedRow",
    "check_file_size",
    "import_leads",
    "import_opportunities",
    "import_quotas",
    "read_table",
    "set_quota",
]

MAX_FILE_BYTES: Final = 50 * 1024 * 1024
# Excel's own limit is ~1M rows; half of that is far beyond any real export and stops a
# zip-bombed .xlsx (50 MB compressed, millions of rows) from running for minutes.
MAX_DATA_ROWS: Final = 500_000
# A stray cell in column XFD would otherwise make openpyxl pad every row to 16,384 cells.
MAX_COLUMNS: Final = 256
HEADER_SEARCH_ROWS: Final = 20
# 500 rows per statement keeps every backend under its bound-parameter limit and each round
# trip short, while 100k rows still take only 200 statements.
BATCH_ROWS: Final = 500

DEFAULT_MARKETING_SOURCES: Final[tuple[str, ...]] = (
    # Salesforce picklist values and common custom ones
    "Marketing",
    "Web",
    "Website",
    "Web Form",
    "Webinar",
    "Event",
    "Events",
    "Trade Show",
    "Tradeshow",
    "Conference",
    "Seminar",
    "Seminar - Internal",
    "Content",
    "Content Syndication",
    "Advertisement",
    "Paid Search",
    "Paid Social",
    "Organic Search",
    "Organic Social",
    "Social Media",
    "Email",
    "Email Marketing",
    "Inbound",
    "Public Relations",
    # HubSpot "Original Source" values (labels and internal names normalise alike)
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "PAID_SOCIAL",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "DIRECT_TRAFFIC",
    "OTHER_CAMPAIGNS",
    # Not marketing, on purpose: REFERRALS, Partner Referral, Employee Referral, Word of
    # mouth, Partner, OFFLINE (imports, sales-entered), Phone Inquiry, Purchased List, Other.
)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, by the row number the person sees in Excel (header
    included), so they can go straight to it."""

    row: int
    reason: str


_TITLES: Final = {
    "opportunities": ("Opportunities", "opportunities"),
    "quotas": ("Quotas", "quotas"),
    "leads": ("Weekly lead counts", "weeks"),
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did, in counts a person can check against their CRM.

    `imported`, `updated` and `unchanged` count distinct records after de-duplication
    (opportunities, quota lines, or weeks for leads), so they add up to what is now stored
    from this file. `duplicates` are earlier rows replaced by a later row with the same key.
    """

    kind: str
    imported: int
    updated: int
    unchanged: int
    rejected: tuple[RejectedRow, ...]
    columns: dict[str, str]
    duplicates: tuple[RejectedRow, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self, limit: int = 20) -> str:
        """Plain text for Slack or a terminal: counts, then the first `limit` problems."""
        title, noun = _TITLES.get(self.kind, (self.kind.title(), "records"))
        lines = [
            f"{title}: {self.imported:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged; {len(self.rejected):,} "
            f"{'row' if len(self.rejected) == 1 else 'rows'} rejected."
        ]
        if not (self.imported or self.updated or self.unchanged or self.rejected):
            lines.append(f"The file had no {noun} to import.")
        if self.rejected:
            lines.append("Rejected rows (every other row was saved; fix these and import again):")
            lines.extend(_problem_lines(self.rejected, limit, "rejected rows"))
        if self.duplicates:
            lines.append("Rows replaced by a later row with the same key:")
            lines.extend(_problem_lines(self.duplicates, limit, "replaced rows"))
        lines.extend(self.notes)
        return "\n".join(lines)


def _problem_lines(problems: Sequence[RejectedRow], limit: int, what: str) -> list[str]:
    shown = [f"Row {problem.row}: {problem.reason}" for problem in problems[: max(limit, 0)]]
    if len(problems) > len(shown):
        shown.append(f"…and {len(problems) - len(shown):,} more {what}.")
    return shown


class _CellError(Exception):
    """One unreadable cell; the row collects these into a single rejection reason."""


# --------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------


def _normal(text: str) -> str:
    """Header and value matching ignores case, spaces, underscores and punctuation, because
    each CRM (and each admin who renamed a column) spells the same thing differently."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


@dataclass(frozen=True)
class _Column:
    field: str
    synonyms: tuple[str, ...]  # in order of preference when a file has several

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(_normal(name) for name in self.synonyms)


_OPPORTUNITY_COLUMNS: Final = (
    _Column("crm_id", ("Opportunity ID", "Record ID", "Deal ID", "Id")),
    _Column("name", ("Opportunity Name", "Deal Name", "Name")),
    _Column(
        "account",
        (
            "Account Name",
            "Account",
            "Company",
            "Associated Company",
            "Associated Company (Primary)",
            "Company name",
        ),
    ),
    # Converted amounts first: in a multi-currency org they are the ones in one currency.
    _Column(
        "amount",
        (
            "Amount (converted)",
            "Amount in company currency",
            "Amount",
            "Deal amount",
            "Total contract value",
        ),
    ),
    _Column("stage", ("Stage", "Deal Stage", "Opportunity Stage", "Stage Name")),
    _Column("close_date", ("Close Date", "Closed Date", "Expected close date")),
    _Column("created_date", ("Created Date", "Create Date", "Created", "Created On")),
    _Column(
        "lead_source",
        ("Lead Source", "Original Source", "Original source type", "Source", "Opportunity Source"),
    ),
    _Column("owner_email", ("Owner Email", "Opportunity Owner Email", "Deal owner email")),
    _Column("is_won", ("Won", "Is Won", "Closed Won", "Is Closed Won")),
    _Column("is_closed", ("Closed", "Is Closed", "Is Deal Closed?")),
)

_QUOTA_COLUMNS: Final = (
    _Column("quarter", ("Quarter", "Fiscal Quarter", "Quota Quarter", "Period", "Fiscal Period")),
    _Column(
        "owner",
        ("Owner Email", "Owner", "Quota Owner", "Rep Email", "User Email", "Email", "Rep"),
    ),
    _Column("amount", ("Quota", "Quota Amount", "Quota (USD)", "Amount", "Target")),
)

_WEEKLY_LEAD_COLUMNS: Final = (
    _Column(
        "week",
        ("Week", "Week Start", "Week Starting", "Week Of", "Week Beginning", "Week Commencing"),
    ),
    _Column("leads", ("Leads", "Lead Count", "New Leads", "Leads Created", "Number of Leads")),
    _Column("qualified", ("Qualified", "Qualified Leads", "MQLs", "MQL", "SQLs", "SQL")),
)

_LEAD_REPORT_COLUMNS: Final = (
    _Column("created_date", ("Created Date", "Create Date", "Lead Created Date", "Created")),
    _Column("status", ("Lead Status", "Status", "Lifecycle Stage")),
    _Column("qualified", ("Qualified", "Is Qualified", "MQL", "Is MQL", "Marketing Qualified")),
)


def _known(columns: Iterable[_Column]) -> frozenset[str]:
    return frozenset(name for column in columns for name in column.names)


_ALL_KNOWN: Final = _known(
    chain(
        _OPPORTUNITY_COLUMNS,
        _QUOTA_COLUMNS,
        _WEEKLY_LEAD_COLUMNS,
        _LEAD_REPORT_COLUMNS,
        # Other columns of these reports, so a header with only one of ours is still found.
        [_Column("other", ("Opportunity Owner", "Deal Owner", "Probability", "Fiscal Period"))],
    )
)


def _match_columns(header: Sequence[str], columns: Sequence[_Column]) -> dict[str, int]:
    """Field -> column index; each header is used once, preferring earlier synonyms."""
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(header):
        positions.setdefault(_normal(text), []).append(index)
    taken: set[int] = set()
    matched: dict[str, int] = {}
    for column in columns:
        for name in column.names:
            free = next((i for i in positions.get(name, []) if i not in taken), None)
            if free is not None:
                matched[column.field] = free
                taken.add(free)
                break
    return matched


def _found(header: Sequence[str]) -> str:
    names = [text for text in header if text]
    if not names:
        return "no column names"
    shown = ", ".join(f'"{_short(name)}"' for name in names[:15])
    return shown + (f" and {len(names) - 15} more" if len(names) > 15 else "")


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------


def check_file_size(size: int, filename: str) -> None:
    """Refuse oversized files before anything reads them (callers may check a Slack file's
    declared size before downloading it)."""
    if size > MAX_FILE_BYTES:
        megabytes = math.ceil(size / (1024 * 1024))
        raise UserError(
            f"{filename} is {megabytes} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB. "
            "Export fewer columns or a shorter date range."
        )


def read_table(
    data: bytes,
    filename: str,
    *,
    known: Collection[str] | None = None,
    sheet_names: Sequence[str] = ("opportunit", "deal", "report"),
) -> tuple[list[str], Iterator[tuple[int, list[object]]]]:
    """The header and the data rows of an .xlsx or .csv export, as (row number, cells).

    Row numbers are the ones Excel shows (title lines and the header count), so a rejection
    can say "row 14" and mean the row the person sees. The header is the first of the first
    20 rows with at least two `known` column names (any importer's, by default); blank rows,
    total rows and Salesforce's copyright footer are skipped. In a workbook with several
    sheets, the first sheet with such a header wins, trying sheets whose name contains one of
    `sheet_names` first (a "Summary" tab often comes before the data); failing that, the
    best-named sheet. Unknown extensions and old .xls workbooks are refused in words.
    """
    check_file_size(len(data), filename)
    names = _ALL_KNOWN if known is None else frozenset(_normal(name) for name in known)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in ("xlsx", "xlsm"):
        return _locate(_xlsx_rows(data, filename, names, sheet_names), names, filename)
    if extension in ("csv", "tsv", "txt"):
        return _locate(_csv_rows(data, filename, names), names, filename)
    if extension == "xls":
        raise UserError(
            f"{filename} is an old-style .xls workbook. Open it in Excel and save it as .xlsx, "
            "or export the report as .csv."
        )
    raise UserError(f"I can read .xlsx and .csv files; {filename} is neither.")


def _is_blank(row: Sequence[object]) -> bool:
    return all(_text(value) is None for value in row)


def _header_score(row: Sequence[object], known: frozenset[str]) -> int:
    return len({_normal(value) for value in row if isinstance(value, str)} & known)


def _find_header(rows: Sequence[Sequence[object]], known: frozenset[str]) -> tuple[int, int] | None:
    """(index, score) of the first row naming at least two known columns."""
    for index, row in enumerate(rows):
        score = _header_score(row, known)
        if score >= 2:
            return index, score
    return None


def _locate(
    rows: Iterator[list[object]], known: frozenset[str], filename: str
) -> tuple[list[str], Iterator[tuple[int, list[object]]]]:
    head = list(islice(rows, HEADER_SEARCH_ROWS))
    found = _find_header(head, known)
    # With no header we recognise, the first non-blank row is what "found: …" reports.
    first = next((i for i, row in enumerate(head) if not _is_blank(row)), None)
    if first is None:
        raise UserError(f"{filename} is empty: I found no rows in it.")
    index = first if found is None else found[0]
    header = [_text(value) or "" for value in head[index]]
    numbered = chain(
        enumerate(head[index + 1 :], start=index + 2), enumerate(rows, start=len(head) + 1)
    )
    return header, _data_rows(numbered, filename)


_TOTAL_RE: Final = re.compile(
    r"(grand\s+totals?|sub-?totals?|totals?)\s*(\(.*\))?\s*:?", re.IGNORECASE
)
_FOOTER_RE: Final = re.compile(
    r"(copyright\b.*salesforce|confidential information\b|generated by\b)", re.IGNORECASE
)


def _data_rows(
    rows: Iterator[tuple[int, list[object]]], filename: str
) -> Iterator[tuple[int, list[object]]]:
    """Skip blank and total rows; stop at Salesforce's footer.

    Salesforce CSV exports end with blank lines, the report name, a copyright line and
    "Confidential Information - Do Not Distribute". Single-cell rows after a blank row are
    held back until the next real row: if the footer follows, they were part of it.
    """
    pending: list[tuple[int, list[object]]] = []
    after_blank = False
    count = 0
    for number, row in rows:
        filled = [value for value in row if _text(value) is not None]
        if not filled:
            after_blank = True
            continue
        first = _text(filled[0]) or ""
        if _FOOTER_RE.match(first):
            return
        if _TOTAL_RE.fullmatch(first):
            continue
        if after_blank and len(filled) == 1:
            pending.append((number, row))
            continue
        count += len(pending) + 1
        if count > MAX_DATA_ROWS:
            raise UserError(
                f"{filename} has more than {MAX_DATA_ROWS:,} rows. "
                "Export a shorter date range and import it in parts."
            )
        yield from pending
        pending.clear()
        after_blank = False
        yield number, row
    yield from pending


def _xlsx_rows(
    data: bytes, filename: str, known: frozenset[str], sheet_names: Sequence[str]
) -> Iterator[list[object]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        raise UserError(
            f"I couldn't open {filename} as an Excel workbook. Save it from Excel as .xlsx, "
            "or export the report as .csv."
        ) from error
    try:
        sheet = _choose_sheet(workbook, known, sheet_names)
    except BaseException:
        workbook.close()
        raise
    return _sheet_values(workbook, sheet, filename, close=True)


def _choose_sheet(
    workbook: Workbook, known: frozenset[str], sheet_names: Sequence[str]
) -> ReadOnlyWorksheet:
    sheets = [sheet for sheet in workbook.worksheets if isinstance(sheet, ReadOnlyWorksheet)]
    if not sheets:
        raise UserError("The workbook has no worksheets.")
    wanted = [_normal(name) for name in sheet_names]

    def rank(item: tuple[int, ReadOnlyWorksheet]) -> tuple[bool, bool, int]:
        index, sheet = item
        named = any(name in _normal(sheet.title) for name in wanted)
        return (not named, sheet.sheet_state != "visible", index)

    ordered = [sheet for _, sheet in sorted(enumerate(sheets), key=rank)]
    if len(ordered) > 1:
        for sheet in ordered:
            head = list(islice(_sheet_values(workbook, sheet, "", close=False), 20))
            if _find_header(head, known) is not None:
                return sheet
    return ordered[0]


def _sheet_values(
    workbook: Workbook, sheet: ReadOnlyWorksheet, filename: str, *, close: bool
) -> Iterator[list[object]]:
    # Some generators write a wrong <dimension>; trusting it would silently cut rows off.
    sheet.reset_dimensions()
    try:
        # The stubs type iter_rows for Worksheet only; ReadOnlyWorksheet borrows it as is.
        rows: Iterator[tuple[object, ...]] = cast(Any, sheet).iter_rows(
            min_row=1, min_col=1, values_only=True
        )
        for values in rows:
            yield list(values[:MAX_COLUMNS])
    except UserError:
        raise
    except Exception as error:
        raise UserError(f"Part of {filename} is damaged and I couldn't read it.") from error
    finally:
        if close:
            workbook.close()


_DELIMITERS: Final = (",", ";", "\t")


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) as HubSpot and modern Excel write; UTF-16 from Excel's
    "Unicode text"; otherwise Windows-1252, which older Salesforce and Excel exports use."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_rows(data: bytes, filename: str, known: frozenset[str]) -> Iterator[list[object]]:
    text = _decode(data)
    delimiter = _sniff_delimiter(text[: 256 * 1024], known)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _csv_values(reader, filename)


def _csv_values(reader: Iterator[list[str]], filename: str) -> Iterator[list[object]]:
    try:
        for row in reader:
            cells: list[object] = list(row[:MAX_COLUMNS])
            yield cells
    except csv.Error as error:
        raise UserError(
            f"I couldn't read {filename} as CSV: {error}. "
            "Export the report again as CSV (comma separated, UTF-8)."
        ) from error


def _sniff_delimiter(sample: str, known: frozenset[str]) -> str:
    """The delimiter whose parse finds the best header; failing that, the widest rows.

    csv.Sniffer guesses from character frequencies and is fooled by quoted amounts like
    "1,234.50"; asking "which split names our columns" is both simpler and right.
    """
    best = _DELIMITERS[0]
    best_key = (-1, -1)
    for delimiter in _DELIMITERS:
        try:
            rows = list(
                islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 20)
            )
        except csv.Error:
            continue
        found = _find_header(rows, known)
        key = (found[1] if found else 0, max((len(row) for row in rows), default=0))
        if key > best_key:
            best, best_key = delimiter, key
    return best


# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
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


def _shown(value: object) -> str:
    return f'"{_short(_text(value) or "")}"'


_CURRENCY_SYMBOLS: Final = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
# ISO codes are upper case in every export; "12abc" is a typo, not an amount in ABC.
_CURRENCY_RE: Final = re.compile(r"^(US\$|[$€£¥]|[A-Z]{3}(?=[\s\d.-]))\s*|\s*([A-Z]{3}|[€£])$")
_NUMBER_RE: Final = re.compile(r"(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|\.\d+|\d+(\.\d+)?[eE][+-]?\d{1,3}")
_MINUS: Final = ("-", "\u2212", "\u2013")


class _Money:
    """Reads amounts as integer cents, remembering the file's currency (see module doc)."""

    def __init__(self) -> None:
        self.currency: str | None = None

    def cents(self, value: object, label: str) -> int:
        if value is None or (isinstance(value, str) and not value.strip()):
            return 0
        if isinstance(value, bool):
            raise _CellError(f"{label} {_shown(value)} isn't an amount")
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
            raise _CellError(
                f"{label} {_shown(value)} isn't a number I can read "
                "(write amounts like 1234.50 or $1,234.50)"
            )
        if code is not None:
            self.currency = self.currency or code
            if code != self.currency:
                raise _CellError(
                    f"{label} {_shown(value)} is in {code} but earlier rows are in "
                    f"{self.currency}; export the Amount (converted) column instead"
                )
        amount = Decimal(text.replace(",", ""))
        return self._checked(-amount if negative else amount, value, label)

    @staticmethod
    def _checked(amount: Decimal, value: object, label: str) -> int:
        if not amount.is_finite():
            raise _CellError(f"{label} {_shown(value)} isn't a number I can read")
        if amount < 0:
            raise _CellError(f"{label} {_shown(value)} is negative")
        try:
            cents = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        except InvalidOperation as error:
            raise _CellError(f"{label} {_shown(value)} is too large") from error
        if cents > MAX_AMOUNT_CENTS:
            raise _CellError(f"{label} {_shown(value)} is too large (the most is $100 billion)")
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


def _date(value: object, label: str) -> date | None:
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
        raise _CellError(f"{label} {_shown(value)} isn't a date ({_DATE_HELP})")
    text = _text(value)
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
    raise _CellError(f"{label} {_shown(value)} isn't a date I can read ({_DATE_HELP})")


_TRUE: Final = frozenset({"true", "yes", "y", "1", "x", "checked"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "unchecked"})


def _flag(value: object, label: str) -> bool | None:
    """A checkbox column (TRUE/FALSE, 1/0, Yes/No); None when blank."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _text(value)
    if text is None:
        return None
    word = _normal(text)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _CellError(f"{label} {_shown(value)} isn't yes or no")


def _count(value: object, label: str) -> int:
    """A whole, non-negative count of leads; blank is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _CellError(f"{label} {_shown(value)} isn't a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = (_text(value) or "0").replace(",", "")
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise _CellError(f"{label} {_shown(value)} isn't a whole number")
    number = int(text)
    if number < 0:
        raise _CellError(f"{label} {_shown(value)} is negative")
    return number


def _clip(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


def _cell(row: Sequence[object], columns: dict[str, int], name: str) -> object:
    index = columns.get(name)
    return row[index] if index is not None and index < len(row) else None


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


_T = TypeVar("_T")


class _Row:
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
        return _clip(_text(self.raw(name)), limit)

    def read(self, name: str, reader: Callable[[object, str], _T]) -> _T | None:
        try:
            return reader(self.raw(name), self.labels.get(name, name))
        except _CellError as error:
            self.problems.append(str(error))
            return None


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


async def _upsert(
    session: AsyncSession,
    table: type[SQLModel],
    rows: Sequence[dict[str, object]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert-or-update in batches: one statement per BATCH_ROWS rows, on both backends, and
    safe if another import writes the same keys at the same time."""
    if not rows:
        return
    connection = await session.connection()
    statement = dialect_insert(connection)(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )
    for start in range(0, len(rows), BATCH_ROWS):
        await connection.execute(statement, list(rows[start : start + BATCH_ROWS]))


def _chunks(items: Sequence[Any], size: int = BATCH_ROWS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Plan:
    """Parsed rows split into what to write, with the counts for the report."""

    write: list[dict[str, object]] = field(default_factory=list)
    imported: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, values: dict[str, object], compared: tuple[object, ...], old: object) -> None:
        if old is None:
            self.imported += 1
            self.write.append(values)
        elif old != compared:
            self.updated += 1
            self.write.append(values)
        else:
            self.unchanged += 1


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------

_OPPORTUNITY_FIELDS: Final = (
    "name",
    "account",
    "amount_cents",
    "stage",
    "close_date",
    "created_date",
    "lead_source",
    "marketing_sourced",
    "owner_email",
    "is_won",
    "is_closed",
)
_SALESFORCE_ID_RE: Final = re.compile(r"[A-Za-z0-9]{18}")
_SALESFORCE_CHECKSUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _crm_id(text: str) -> str:
    """Salesforce's 18-character id is its 15-character id plus a case checksum; keep the
    15 so report exports (15) and API exports (18) name the same row."""
    if _SALESFORCE_ID_RE.fullmatch(text):
        suffix = "".join(
            _SALESFORCE_CHECKSUM[
                sum(
                    1 << bit
                    for bit, char in enumerate(text[chunk * 5 : chunk * 5 + 5])
                    if "A" <= char <= "Z"
                )
            ]
            for chunk in range(3)
        )
        if text[15:] == suffix:
            return text[:15]
    return text


def _derived_id(name: str, account: str | None, created: date | None) -> str:
    key = "\x1f".join([name.casefold(), (account or "").casefold(), str(created or "")])
    return "derived:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _stage_outcome(stage: str | None) -> tuple[bool, bool]:
    """(won, closed) from a stage name, for exports without the Won/Closed checkboxes:
    Salesforce's "Closed Won"/"Closed Lost", HubSpot's "closedwon"/"closedlost"."""
    word = _normal(stage or "")
    if word.startswith("closedwon") or word == "won":
        return True, True
    if word.startswith("closedlost") or word in ("lost", "closed"):
        return False, True
    return False, False


@dataclass
class _Parsed:
    """The outcome of reading a file, before any database work."""

    columns: dict[str, str]
    records: dict[Any, tuple[int, dict[str, object]]] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    duplicates: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def keep(self, key: Any, number: int, values: dict[str, object], label: str) -> None:
        """Last row wins for a repeated key; the earlier one is reported."""
        earlier = self.records.get(key)
        if earlier is not None:
            self.duplicates.append(
                RejectedRow(
                    earlier[0], f"{label} appears again in row {number}; row {number} was used"
                )
            )
        self.records[key] = (number, values)


def _parse_opportunities(data: bytes, filename: str, marketing_sources: Collection[str]) -> _Parsed:
    header, rows = read_table(data, filename, known=_known(_OPPORTUNITY_COLUMNS))
    columns = _match_columns(header, _OPPORTUNITY_COLUMNS)
    has_identity = "crm_id" in columns or "name" in columns
    missing = [
        label
        for label, ok in (
            ("Opportunity ID", has_identity),
            ("Amount", "amount" in columns),
            ("Created Date", "created_date" in columns),
        )
        if not ok
    ]
    if missing:
        raise UserError(
            f"I couldn't find the columns I need in {filename}. Expected at least "
            "Opportunity ID (or Deal ID / Record ID), Amount and Created Date (or Create Date); "
            f"missing: {', '.join(missing)}; found: {_found(header)}."
        )
    labels = {name: header[index] for name, index in columns.items()}
    parsed = _Parsed(columns=labels)
    if "crm_id" not in columns:
        parsed.notes.append(
            f"{filename} has no Opportunity ID column, so I matched rows by name, account and "
            "created date. Add the Opportunity ID (or Record ID) column to the report so a "
            "renamed deal updates instead of being added again."
        )
    sources = frozenset(_normal(source) for source in marketing_sources)
    money = _Money()
    for number, cells in rows:
        try:
            crm_id, values = _opportunity_row(_Row(cells, columns, labels), money, sources)
        except _CellError as error:
            parsed.rejected.append(RejectedRow(number, str(error)))
            continue
        if "crm_id" in columns:
            label = f'{labels["crm_id"]} "{_short(crm_id)}"'
        else:
            label = f'{labels["name"]} "{_short(str(values["name"]))}" (same account and date)'
        parsed.keep(crm_id, number, values, label)
    return parsed


def _opportunity_row(
    row: _Row, money: _Money, sources: frozenset[str]
) -> tuple[str, dict[str, object]]:
    """One opportunity's values, or _CellError listing every unreadable cell of the row."""
    labels = row.labels
    name = row.text("name")
    account = row.text("account")
    stage = row.text("stage", 128)
    lead_source = row.text("lead_source", 128)
    owner = row.text("owner_email")
    amount = row.read("amount", money.cents)
    close_date = row.read("close_date", _date)
    created_date = row.read("created_date", _date)
    won_flag = row.read("is_won", _flag)
    closed_flag = row.read("is_closed", _flag)

    crm_id: str | None = None
    if "crm_id" in row.columns:
        raw_id = _text(row.raw("crm_id"))
        if raw_id is None:
            row.problems.insert(0, f"{labels['crm_id']} is blank")
        elif len(raw_id) > 128:
            row.problems.insert(0, f"{labels['crm_id']} {_shown(raw_id)} is too long")
        else:
            crm_id = _crm_id(raw_id)
    elif name is None:
        row.problems.insert(
            0,
            f"{labels['name']} is blank and the file has no ID column, "
            "so I can't tell which opportunity this is",
        )
    else:
        crm_id = _derived_id(name, account, created_date)
    if row.problems or crm_id is None:
        raise _CellError("; ".join(row.problems))

    stage_won, stage_closed = _stage_outcome(stage)
    is_won = stage_won if won_flag is None else won_flag
    is_closed = (stage_closed if closed_flag is None else closed_flag) or is_won
    return crm_id, {
        "name": name,
        "account": account,
        "amount_cents": amount or 0,
        "stage": stage,
        "close_date": close_date,
        "created_date": created_date,
        "lead_source": lead_source,
        "marketing_sourced": lead_source is not None and _normal(lead_source) in sources,
        "owner_email": owner.lower() if owner else None,
        "is_won": is_won,
        "is_closed": is_closed,
    }


# Above this many ids, one query for the whole team beats IN lists: right after a big first
# import PostgreSQL's statistics still say "empty table", and each 500-id IN list became a
# sequential scan (a 100k-row re-import took minutes instead of seconds).
_WHOLE_TEAM_ABOVE: Final = 4 * BATCH_ROWS


async def _stored_opportunities(
    session: AsyncSession, team_id: str, ids: Sequence[str]
) -> dict[str, tuple[object, ...]]:
    """crm_id -> the compared values of the team's stored opportunities among `ids`."""
    connection = await session.connection()
    query = sa.select(
        col(Opportunity.crm_id), *[col(getattr(Opportunity, name)) for name in _OPPORTUNITY_FIELDS]
    ).where(col(Opportunity.team_id) == team_id)
    wanted = set(ids)
    existing: dict[str, tuple[object, ...]] = {}
    if len(ids) > _WHOLE_TEAM_ABOVE:
        result = await connection.stream(query.execution_options(yield_per=BATCH_ROWS * 10))
        async for row in result:
            if row[0] in wanted:
                existing[row[0]] = tuple(row[1:])
        return existing
    for chunk in _chunks(ids):
        chunk_result = await connection.execute(query.where(col(Opportunity.crm_id).in_(chunk)))
        existing.update((row[0], tuple(row[1:])) for row in chunk_result)
    return existing


async def import_opportunities(
    session: AsyncSession,
    *,
    team_id: str,
    data: bytes,
    filename: str,
    now: datetime,
    marketing_sources: Collection[str] = DEFAULT_MARKETING_SOURCES,
) -> ImportReport:
    """Upsert a Salesforce or HubSpot opportunity export by (team, CRM id) and commit.

    Parsing runs in a worker thread: a 50 MB workbook takes seconds of CPU, and the bot's
    event loop must keep acknowledging Slack meanwhile.
    """
    check_file_size(len(data), filename)
    parsed = await asyncio.to_thread(_parse_opportunities, data, filename, marketing_sources)
    existing = await _stored_opportunities(session, team_id, list(parsed.records))
    plan = _Plan()
    for crm_id, (_, values) in parsed.records.items():
        compared = tuple(values[name] for name in _OPPORTUNITY_FIELDS)
        plan.add(
            {"team_id": team_id, "crm_id": crm_id, **values, "imported_at": now, "updated_at": now},
            compared,
            existing.get(crm_id),
        )
    await _upsert(
        session,
        Opportunity,
        plan.write,
        keys=("team_id", "crm_id"),
        update=(*_OPPORTUNITY_FIELDS, "updated_at"),
    )
    await session.commit()
    return _report("opportunities", parsed, plan)


def _report(kind: str, parsed: _Parsed, plan: _Plan) -> ImportReport:
    return ImportReport(
        kind=kind,
        imported=plan.imported,
        updated=plan.updated,
        unchanged=plan.unchanged,
        rejected=tuple(sorted(parsed.rejected, key=lambda problem: problem.row)),
        columns=parsed.columns,
        duplicates=tuple(sorted(parsed.duplicates, key=lambda problem: problem.row)),
        notes=tuple(parsed.notes),
    )


# --------------------------------------------------------------------------------------
# Quotas
# --------------------------------------------------------------------------------------

_QUARTER_RES: Final = (
    re.compile(r"(?P<year>\d{4})\s*[-/ ]?\s*Q(?P<q>[1-4])", re.IGNORECASE),
    re.compile(r"Q(?P<q>[1-4])\s*[-/ ]?\s*(?P<year>\d{4})", re.IGNORECASE),
)
_QUARTER_HELP: Final = "write quarters as 2026-Q4 or Q4 2026 (calendar quarters)"


def _quarter(value: object, label: str) -> str:
    """'2026-Q4' from "2026-Q4", "Q4 2026" or a date in the quarter. Fiscal labels (FY26 Q4)
    are refused: without the fiscal calendar they would land in the wrong quarter."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    text = _text(value)
    if text is None:
        raise _CellError(f"{label} is blank")
    for pattern in _QUARTER_RES:
        if (match := pattern.fullmatch(text)) and 2000 <= int(match["year"]) <= 2100:
            return f"{match['year']}-Q{match['q']}"
    raise _CellError(f"{label} {_shown(value)} isn't a quarter I can read ({_QUARTER_HELP})")


def _owner(value: object, label: str) -> str:
    """'*' for the whole team (blank, "*", "All", "Team"), else a lower-cased e-mail."""
    text = _text(value)
    if text is None or _normal(text) in ("", "all", "team", "total", "everyone"):
        return "*"
    if "@" not in text or " " in text or len(text) > 255:
        raise _CellError(
            f"{label} {_shown(value)} isn't an e-mail address (leave it blank for the whole team)"
        )
    return text.lower()


def _parse_quotas(data: bytes, filename: str) -> _Parsed:
    header, rows = read_table(data, filename, known=_known(_QUOTA_COLUMNS), sheet_names=("quota",))
    columns = _match_columns(header, _QUOTA_COLUMNS)
    if "quarter" not in columns or "amount" not in columns:
        raise UserError(
            f"I couldn't find the columns I need in {filename}. Expected Quarter and Quota "
            f"(and optionally Owner Email); found: {_found(header)}."
        )
    labels = {name: header[index] for name, index in columns.items()}
    parsed = _Parsed(columns=labels)
    money = _Money()
    for number, cells in rows:
        row = _Row(cells, columns, labels)
        quarter = row.read("quarter", _quarter)
        owner = row.read("owner", _owner) or "*"
        if _text(row.raw("amount")) is None:
            row.problems.append(f"{labels['amount']} is blank")
        amount = row.read("amount", money.cents)
        if row.problems or quarter is None or amount is None:
            parsed.rejected.append(RejectedRow(number, "; ".join(row.problems)))
            continue
        who = "the whole team" if owner == "*" else owner
        parsed.keep(
            (quarter, owner), number, {"amount_cents": amount}, f"The quota for {quarter}, {who},"
        )
    return parsed


async def import_quotas(
    session: AsyncSession, *, team_id: str, data: bytes, filename: str, now: datetime
) -> ImportReport:
    """Upsert quotas by (team, quarter, owner) and commit; quotas not in the file stay."""
    check_file_size(len(data), filename)
    parsed = await asyncio.to_thread(_parse_quotas, data, filename)
    connection = await session.connection()
    result = await connection.execute(
        sa.select(col(Quota.quarter), col(Quota.owner), col(Quota.amount_cents)).where(
            col(Quota.team_id) == team_id
        )
    )
    existing = {(row[0], row[1]): (row[2],) for row in result}
    plan = _Plan()
    for (quarter, owner), (_, values) in parsed.records.items():
        plan.add(
            {
                "team_id": team_id,
                "quarter": quarter,
                "owner": owner,
                "amount_cents": values["amount_cents"],
                "updated_at": now,
            },
            (values["amount_cents"],),
            existing.get((quarter, owner)),
        )
    await _upsert(
        session,
        Quota,
        plan.write,
        keys=("team_id", "quarter", "owner"),
        update=("amount_cents", "updated_at"),
    )
    await session.commit()
    return _report("quotas", parsed, plan)


async def set_quota(
    session: AsyncSession,
    *,
    team_id: str,
    quarter: str,
    amount_cents: int,
    owner: str = "*",
    now: datetime,
) -> Quota:
    """Set one quota from settings or the CLI, with the same rules as a quota sheet."""
    try:
        normal_quarter = _quarter(quarter, "Quarter")
    except _CellError as error:
        raise UserError(f"{error}.", "quarter") from error
    try:
        normal_owner = _owner(owner, "Owner")
    except _CellError as error:
        raise UserError(f"{error}.", "owner") from error
    if not 0 <= amount_cents <= MAX_AMOUNT_CENTS:
        raise UserError(
            "A quota must be between $0 and $100 billion.",
            "amount",
        )
    quota = Quota(
        team_id=team_id,
        quarter=normal_quarter,
        owner=normal_owner,
        amount_cents=amount_cents,
        updated_at=now,
    )
    await _upsert(
        session,
        Quota,
        [quota.model_dump()],
        keys=("team_id", "quarter", "owner"),
        update=("amount_cents", "updated_at"),
    )
    await session.commit()
    return quota


# --------------------------------------------------------------------------------------
# Leads
# --------------------------------------------------------------------------------------

_NOT_QUALIFIED_RE: Final = re.compile(
    r"(un|dis|not|non)[\s_-]*qualified|not[\s_-]*converted|unconverted", re.IGNORECASE
)
_QUALIFIED_RE: Final = re.compile(
    r"qualified|(?<![a-z])(mql|sql)(?![a-z])|(?<![a-z])converted", re.IGNORECASE
)


def _status_qualified(status: str | None) -> bool:
    """Qualified when the status says qualified, MQL, SQL or converted — and not "Unqualified",
    "Disqualified" or "Closed - Not Converted" — or is HubSpot's later lifecycle stages."""
    if status is None or _NOT_QUALIFIED_RE.search(status):
        return False
    return bool(_QUALIFIED_RE.search(status)) or _normal(status) in ("opportunity", "customer")


def _week(value: object, label: str) -> date:
    """The Monday of the ISO week of a date, or of an ISO week written as 2026-W48."""
    text = _text(value)
    if isinstance(value, str) and text is not None:
        match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.IGNORECASE)
        if match:
            try:
                return date.fromisocalendar(int(match[1]), int(match[2]), 1)
            except ValueError as error:
                raise _CellError(f"{label} {_shown(value)} isn't a week") from error
    day = _date(value, label)
    if day is None:
        raise _CellError(f"{label} is blank")
    return _week_start(day)


def _parse_leads(data: bytes, filename: str) -> _Parsed:
    known = _known(chain(_WEEKLY_LEAD_COLUMNS, _LEAD_REPORT_COLUMNS))
    header, rows = read_table(data, filename, known=known, sheet_names=("lead", "report"))
    weekly = _match_columns(header, _WEEKLY_LEAD_COLUMNS)
    if "week" in weekly and "leads" in weekly:
        return _weekly_leads(header, rows, weekly)
    report = _match_columns(header, _LEAD_REPORT_COLUMNS)
    if "created_date" in report:
        return _lead_report(header, rows, report)
    raise UserError(
        f"I couldn't find the columns I need in {filename}. Expected either a leads report "
        "with Created Date (and Lead Status or Qualified), or weekly counts with Week, Leads "
        f"(and Qualified); found: {_found(header)}."
    )


def _weekly_leads(
    header: Sequence[str], rows: Iterator[tuple[int, list[object]]], columns: dict[str, int]
) -> _Parsed:
    """Rows for the same week are added together: a weekly sheet split by source or campaign
    means the week's total, and keeping only the last row would lose leads silently."""
    labels = {name: header[index] for name, index in columns.items()}
    parsed = _Parsed(columns=labels)
    totals: dict[date, list[int]] = {}
    first_row: dict[date, int] = {}
    shared = 0
    for number, cells in rows:
        row = _Row(cells, columns, labels)
        week = row.read("week", _week)
        leads = row.read("leads", _count) or 0
        qualified = row.read("qualified", _count) or 0
        if not row.problems and qualified > leads:
            row.problems.append(
                f"{labels['qualified']} ({qualified}) is more than {labels['leads']} ({leads})"
            )
        if row.problems or week is None:
            parsed.rejected.append(RejectedRow(number, "; ".join(row.problems)))
            continue
        if week in totals:
            shared += 1
        total = totals.setdefault(week, [0, 0])
        first_row.setdefault(week, number)
        total[0] += leads
        total[1] += qualified
    for week, (leads_total, qualified_total) in totals.items():
        parsed.records[week] = (
            first_row[week],
            {"leads": leads_total, "qualified": qualified_total},
        )
    if shared:
        parsed.notes.append(
            f"{shared:,} {'row was' if shared == 1 else 'rows were'} for a week already in "
            "the file; I added them together."
        )
    return parsed


def _lead_report(
    header: Sequence[str], rows: Iterator[tuple[int, list[object]]], columns: dict[str, int]
) -> _Parsed:
    """One row per lead, counted in the ISO week (Monday start) of its created date."""
    labels = {name: header[index] for name, index in columns.items()}
    parsed = _Parsed(columns=labels)
    totals: dict[date, list[int]] = {}
    first_row: dict[date, int] = {}
    for number, cells in rows:
        row = _Row(cells, columns, labels)
        if _text(row.raw("created_date")) is None:
            row.problems.append(f"{labels['created_date']} is blank")
        created = row.read("created_date", _date)
        flag = row.read("qualified", _flag)
        if row.problems or created is None:
            parsed.rejected.append(RejectedRow(number, "; ".join(row.problems)))
            continue
        status = row.text("status")
        week = _week_start(created)
        total = totals.setdefault(week, [0, 0])
        first_row.setdefault(week, number)
        total[0] += 1
        total[1] += 1 if flag or _status_qualified(status) else 0
    for week, (leads_total, qualified_total) in totals.items():
        parsed.records[week] = (
            first_row[week],
            {"leads": leads_total, "qualified": qualified_total},
        )
    if totals:
        parsed.notes.append(
            f"Counted leads in {len(totals):,} weeks from {min(totals).isoformat()} to "
            f"{max(totals).isoformat()}; each week's counts were replaced by the file's. "
            "If the report starts or ends mid-week, that week holds only part of its leads."
        )
    return parsed


async def import_leads(
    session: AsyncSession, *, team_id: str, data: bytes, filename: str, now: datetime
) -> ImportReport:
    """Replace the lead counts of every week the file covers (leads report or weekly sheet)
    and commit; weeks the file doesn't mention keep their counts."""
    check_file_size(len(data), filename)
    parsed = await asyncio.to_thread(_parse_leads, data, filename)
    weeks = sorted(parsed.records)
    existing: dict[date, tuple[object, ...]] = {}
    connection = await session.connection()
    for chunk in _chunks(weeks):
        result = await connection.execute(
            sa.select(
                col(LeadCount.week_start), col(LeadCount.leads), col(LeadCount.qualified)
            ).where(col(LeadCount.team_id) == team_id, col(LeadCount.week_start).in_(chunk))
        )
        existing.update((row[0], (row[1], row[2])) for row in result)
    plan = _Plan()
    for week in weeks:
        values = parsed.records[week][1]
        plan.add(
            {"team_id": team_id, "week_start": week, **values, "updated_at": now},
            (values["leads"], values["qualified"]),
            existing.get(week),
        )
    await _upsert(
        session,
        LeadCount,
        plan.write,
        keys=("team_id", "week_start"),
        update=("leads", "qualified", "updated_at"),
    )
    await session.commit()
    return _report("leads", parsed, plan)
