"""Reading report files: .xlsx and .csv exports as numbered rows under their header, within
size limits, the way Salesforce and HubSpot write them (title and filter lines above the header,
total rows, a copyright footer, any of three delimiters and four encodings).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Iterator, Sequence
from itertools import chain, islice
from typing import Any, Final, cast

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from bot.core.errors import UserError
from bot.crm.cells import cell_text, normal
from bot.crm.columns import ALL_KNOWN

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MAX_COLUMNS",
    "MAX_DATA_ROWS",
    "MAX_FILE_BYTES",
    "check_file_size",
    "read_table",
]

MAX_FILE_BYTES: Final = 50 * 1024 * 1024
# Excel's own limit is ~1M rows; half of that is far beyond any real export and stops a
# zip-bombed .xlsx (50 MB compressed, millions of rows) from running for minutes.
MAX_DATA_ROWS: Final = 500_000
# A stray cell in column XFD would otherwise make openpyxl pad every row to 16,384 cells.
MAX_COLUMNS: Final = 256
HEADER_SEARCH_ROWS: Final = 20
# 500 rows per statement keeps every backend under its bound-parameter limit and each round


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
    names = ALL_KNOWN if known is None else frozenset(normal(name) for name in known)
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
    return all(cell_text(value) is None for value in row)


def _header_score(row: Sequence[object], known: frozenset[str]) -> int:
    return len({normal(value) for value in row if isinstance(value, str)} & known)


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
    header = [cell_text(value) or "" for value in head[index]]
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
        filled = [value for value in row if cell_text(value) is not None]
        if not filled:
            after_blank = True
            continue
        first = cell_text(filled[0]) or ""
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
    wanted = [normal(name) for name in sheet_names]

    def rank(item: tuple[int, ReadOnlyWorksheet]) -> tuple[bool, bool, int]:
        index, sheet = item
        named = any(name in normal(sheet.title) for name in wanted)
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
