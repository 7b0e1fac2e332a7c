"""Importing quotas: a quota sheet upserted by (quarter, owner), and one quota set by hand.

Quarters are calendar quarters, named and dated by `bot.calendar.windows` (the one definition
of a quarter); this module only recognises the CRM spellings of them ("Q4 2026", "2026/Q4").
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Final

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import parse_quarter_label, quarter_of
from bot.core.errors import UserError
from bot.core.models import Quota
from bot.core.text import MAX_AMOUNT_CENTS
from bot.crm.cells import CellError, Money, Row, cell_text, normal, shown
from bot.crm.columns import QUOTA_COLUMNS, found_columns, known_names, match_columns
from bot.crm.files import check_file_size, read_table
from bot.crm.report import ImportReport, Parsed, Plan, RejectedRow, build_report
from bot.crm.store import upsert

__all__ = ["import_quotas", "set_quota"]

# The CRM spellings of a calendar quarter ("2026-Q4", "Q4 2026", "2026/Q4"); what a quarter
# is, and its label, come from bot.calendar.windows.
_QUARTER_RES: Final = (
    re.compile(r"(?P<year>\d{4})\s*[-/ ]?\s*Q(?P<q>[1-4])", re.IGNORECASE),
    re.compile(r"Q(?P<q>[1-4])\s*[-/ ]?\s*(?P<year>\d{4})", re.IGNORECASE),
)
_QUARTER_HELP: Final = "write quarters as 2026-Q4 or Q4 2026 (calendar quarters)"


def cell_quarter(value: object, label: str) -> str:
    """'2026-Q4' from "2026-Q4", "Q4 2026" or a date in the quarter. Fiscal labels (FY26 Q4)
    are refused: without the fiscal calendar they would land in the wrong quarter."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return quarter_of(value)
    text = cell_text(value)
    if text is None:
        raise CellError(f"{label} is blank")
    for pattern in _QUARTER_RES:
        if (match := pattern.fullmatch(text)) and 2000 <= int(match["year"]) <= 2100:
            _first, _after, quarter = parse_quarter_label(f"{match['year']}-Q{match['q']}")
            return quarter
    raise CellError(f"{label} {shown(value)} isn't a quarter I can read ({_QUARTER_HELP})")


def _owner(value: object, label: str) -> str:
    """'*' for the whole team (blank, "*", "All", "Team"), else a lower-cased e-mail."""
    text = cell_text(value)
    if text is None or normal(text) in ("", "all", "team", "total", "everyone"):
        return "*"
    if "@" not in text or " " in text or len(text) > 255:
        raise CellError(
            f"{label} {shown(value)} isn't an e-mail address (leave it blank for the whole team)"
        )
    return text.lower()


def _parse_quotas(data: bytes, filename: str) -> Parsed:
    header, rows = read_table(
        data, filename, known=known_names(QUOTA_COLUMNS), sheet_names=("quota",)
    )
    columns = match_columns(header, QUOTA_COLUMNS)
    if "quarter" not in columns or "amount" not in columns:
        raise UserError(
            f"I couldn't find the columns I need in {filename}. Expected Quarter and Quota "
            f"(and optionally Owner Email); found: {found_columns(header)}."
        )
    labels = {name: header[index] for name, index in columns.items()}
    parsed = Parsed(columns=labels)
    money = Money()
    for number, cells in rows:
        row = Row(cells, columns, labels)
        quarter = row.read("quarter", cell_quarter)
        owner = row.read("owner", _owner) or "*"
        if cell_text(row.raw("amount")) is None:
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
    plan = Plan()
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
    await upsert(
        session,
        Quota,
        plan.write,
        keys=("team_id", "quarter", "owner"),
        update=("amount_cents", "updated_at"),
    )
    await session.commit()
    return build_report("quotas", parsed, plan)


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
        normal_quarter = cell_quarter(quarter, "Quarter")
    except CellError as error:
        raise UserError(f"{error}.", "quarter") from error
    try:
        normal_owner = _owner(owner, "Owner")
    except CellError as error:
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
    await upsert(
        session,
        Quota,
        [quota.model_dump()],
        keys=("team_id", "quarter", "owner"),
        update=("amount_cents", "updated_at"),
    )
    await session.commit()
    return quota
