"""A write-only table sheet (`Table`): styled header row with notes, fitted column widths,
number formats by column kind, note rows among the data, more tables below the first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from bot.export.cells import HEADER_ALIGNMENT, HEADER_FILL, HEADER_FONT, NOTE_FONT, user_text
from bot.export.columns import FIXED_WIDTHS, FORMATS, Column, Kind, Typed

SAMPLE_ROWS: Final = 50
"""Rows looked at to fit column widths (write-only sheets fix widths before the first row)."""
MIN_WIDTH: Final = 6.0
MAX_WIDTH: Final = 60.0


@dataclass(frozen=True)
class Note:
    """An explanatory row among the data rows (a week left out, figures withheld)."""

    values: tuple[Any, ...]


class Table:
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
        """Data rows (tuples) and note rows (`Note`), in order."""
        pending = self._pending
        if pending is not None:
            for row in rows:
                is_note = isinstance(row, Note)
                pending.append((row.values if is_note else row, is_note))
            if len(pending) >= SAMPLE_ROWS:
                self._flush()
            return
        append, converters = self.ws.append, self._converters
        for row in rows:
            if isinstance(row, Note):
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
                    width = max(width, len(column.header) + 3.0, FIXED_WIDTHS.get(column.kind, 0))
            kind = self.columns[index].kind if index < len(self.columns) else Kind.TEXT
            for values, is_note in pending:
                if not is_note and index < len(values):
                    width = max(width, _shown_width(kind, values[index]) + 2.0)
            width = min(max(width, MIN_WIDTH), MAX_WIDTH)
            self.ws.column_dimensions[get_column_letter(index + 1)].width = width
        self._header(self.columns)
        rows = [Note(tuple(values)) if is_note else values for values, is_note in pending]
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
    fixed = FIXED_WIDTHS.get(kind)
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
