"""Importing leads: weekly lead and qualified counts, from a leads report (one row per lead,
counted in the ISO week of its created date) or a sheet of weekly counts.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from itertools import chain
from typing import Final

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.models import LeadCount
from bot.crm.cells import (
    CellError,
    Row,
    cell_count,
    cell_date,
    cell_flag,
    cell_text,
    normal,
    shown,
    week_start,
)
from bot.crm.columns import (
    LEAD_REPORT_COLUMNS,
    WEEKLY_LEAD_COLUMNS,
    found_columns,
    known_names,
    match_columns,
)
from bot.crm.files import check_file_size, read_table
from bot.crm.report import ImportReport, Parsed, Plan, RejectedRow, build_report
from bot.crm.store import chunks, upsert

__all__ = ["import_leads"]

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
    return bool(_QUALIFIED_RE.search(status)) or normal(status) in ("opportunity", "customer")


def _week(value: object, label: str) -> date:
    """The Monday of the ISO week of a date, or of an ISO week written as 2026-W48."""
    text = cell_text(value)
    if isinstance(value, str) and text is not None:
        match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.IGNORECASE)
        if match:
            try:
                return date.fromisocalendar(int(match[1]), int(match[2]), 1)
            except ValueError as error:
                raise CellError(f"{label} {shown(value)} isn't a week") from error
    day = cell_date(value, label)
    if day is None:
        raise CellError(f"{label} is blank")
    return week_start(day)


def _parse_leads(data: bytes, filename: str) -> Parsed:
    known = known_names(chain(WEEKLY_LEAD_COLUMNS, LEAD_REPORT_COLUMNS))
    header, rows = read_table(data, filename, known=known, sheet_names=("lead", "report"))
    weekly = match_columns(header, WEEKLY_LEAD_COLUMNS)
    if "week" in weekly and "leads" in weekly:
        return _weekly_leads(header, rows, weekly)
    report = match_columns(header, LEAD_REPORT_COLUMNS)
    if "created_date" in report:
        return _lead_report(header, rows, report)
    raise UserError(
        f"I couldn't find the columns I need in {filename}. Expected either a leads report "
        "with Created Date (and Lead Status or Qualified), or weekly counts with Week, Leads "
        f"(and Qualified); found: {found_columns(header)}."
    )


class _WeekTotals:
    """Leads and qualified leads per ISO week, with the first file row that counted in each:
    both lead reports (weekly totals, one row per lead) add up into it the same way."""

    def __init__(self) -> None:
        self.counts: dict[date, list[int]] = {}
        self.first_row: dict[date, int] = {}

    def add(self, week: date, number: int, *, leads: int, qualified: int) -> None:
        total = self.counts.setdefault(week, [0, 0])
        self.first_row.setdefault(week, number)
        total[0] += leads
        total[1] += qualified

    def record(self, parsed: Parsed) -> None:
        for week, (leads, qualified) in self.counts.items():
            parsed.records[week] = (self.first_row[week], {"leads": leads, "qualified": qualified})


def _weekly_leads(
    header: Sequence[str], rows: Iterator[tuple[int, list[object]]], columns: dict[str, int]
) -> Parsed:
    """Rows for the same week are added together: a weekly sheet split by source or campaign
    means the week's total, and keeping only the last row would lose leads silently."""
    labels = {name: header[index] for name, index in columns.items()}
    parsed = Parsed(columns=labels)
    totals = _WeekTotals()
    shared = 0
    for number, cells in rows:
        row = Row(cells, columns, labels)
        week = row.read("week", _week)
        leads = row.read("leads", cell_count) or 0
        qualified = row.read("qualified", cell_count) or 0
        if not row.problems and qualified > leads:
            row.problems.append(
                f"{labels['qualified']} ({qualified}) is more than {labels['leads']} ({leads})"
            )
        if row.problems or week is None:
            parsed.rejected.append(RejectedRow(number, "; ".join(row.problems)))
            continue
        if week in totals.counts:
            shared += 1
        totals.add(week, number, leads=leads, qualified=qualified)
    totals.record(parsed)
    if shared:
        parsed.notes.append(
            f"{shared:,} {'row was' if shared == 1 else 'rows were'} for a week already in "
            "the file; I added them together."
        )
    return parsed


def _lead_report(
    header: Sequence[str], rows: Iterator[tuple[int, list[object]]], columns: dict[str, int]
) -> Parsed:
    """One row per lead, counted in the ISO week (Monday start) of its created date."""
    labels = {name: header[index] for name, index in columns.items()}
    parsed = Parsed(columns=labels)
    totals = _WeekTotals()
    for number, cells in rows:
        row = Row(cells, columns, labels)
        if cell_text(row.raw("created_date")) is None:
            row.problems.append(f"{labels['created_date']} is blank")
        created = row.read("created_date", cell_date)
        flag = row.read("qualified", cell_flag)
        if row.problems or created is None:
            parsed.rejected.append(RejectedRow(number, "; ".join(row.problems)))
            continue
        status = row.text("status")
        qualified = 1 if flag or _status_qualified(status) else 0
        totals.add(week_start(created), number, leads=1, qualified=qualified)
    totals.record(parsed)
    if weeks := totals.counts:
        parsed.notes.append(
            f"Counted leads in {len(weeks):,} weeks from {min(weeks).isoformat()} to "
            f"{max(weeks).isoformat()}; each week's counts were replaced by the file's. "
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
    for chunk in chunks(weeks):
        result = await connection.execute(
            sa.select(
                col(LeadCount.week_start), col(LeadCount.leads), col(LeadCount.qualified)
            ).where(col(LeadCount.team_id) == team_id, col(LeadCount.week_start).in_(chunk))
        )
        existing.update((row[0], (row[1], row[2])) for row in result)
    plan = Plan()
    for week in weeks:
        values = parsed.records[week][1]
        plan.add(
            {"team_id": team_id, "week_start": week, **values, "updated_at": now},
            (values["leads"], values["qualified"]),
            existing.get(week),
        )
    await upsert(
        session,
        LeadCount,
        plan.write,
        keys=("team_id", "week_start"),
        update=("leads", "qualified", "updated_at"),
    )
    await session.commit()
    return build_report("leads", parsed, plan)
