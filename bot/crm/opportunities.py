"""Importing opportunities: a Salesforce or HubSpot opportunity export upserted by CRM id.

Re-importing is the normal workflow (export every week), so writes are upserts keyed by the
CRM's own id, and a row whose values did not change is not written at all: importing the same
file twice reports everything as unchanged and touches nothing. Rows missing from a file are
left alone, because exports are usually filtered (this quarter, my team).

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
import hashlib
import re
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Final

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.models import Opportunity
from bot.crm.cells import (
    CellError,
    Money,
    Row,
    cell_date,
    cell_flag,
    cell_text,
    normal,
    short,
    shown,
)
from bot.crm.columns import OPPORTUNITY_COLUMNS, found_columns, known_names, match_columns
from bot.crm.files import check_file_size, read_table
from bot.crm.report import ImportReport, Parsed, Plan, RejectedRow, build_report
from bot.crm.store import BATCH_ROWS, chunks, upsert

__all__ = ["DEFAULT_MARKETING_SOURCES", "import_opportunities"]

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
    word = normal(stage or "")
    if word.startswith("closedwon") or word == "won":
        return True, True
    if word.startswith("closedlost") or word in ("lost", "closed"):
        return False, True
    return False, False


def _parse_opportunities(data: bytes, filename: str, marketing_sources: Collection[str]) -> Parsed:
    header, rows = read_table(data, filename, known=known_names(OPPORTUNITY_COLUMNS))
    columns = match_columns(header, OPPORTUNITY_COLUMNS)
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
            f"missing: {', '.join(missing)}; found: {found_columns(header)}."
        )
    labels = {name: header[index] for name, index in columns.items()}
    parsed = Parsed(columns=labels)
    if "crm_id" not in columns:
        parsed.notes.append(
            f"{filename} has no Opportunity ID column, so I matched rows by name, account and "
            "created date. Add the Opportunity ID (or Record ID) column to the report so a "
            "renamed deal updates instead of being added again."
        )
    sources = frozenset(normal(source) for source in marketing_sources)
    money = Money()
    for number, cells in rows:
        try:
            crm_id, values = _opportunity_row(Row(cells, columns, labels), money, sources)
        except CellError as error:
            parsed.rejected.append(RejectedRow(number, str(error)))
            continue
        if "crm_id" in columns:
            label = f'{labels["crm_id"]} "{short(crm_id)}"'
        else:
            label = f'{labels["name"]} "{short(str(values["name"]))}" (same account and date)'
        parsed.keep(crm_id, number, values, label)
    return parsed


def _opportunity_row(
    row: Row, money: Money, sources: frozenset[str]
) -> tuple[str, dict[str, object]]:
    """One opportunity's values, or CellError listing every unreadable cell of the row."""
    labels = row.labels
    name = row.text("name")
    account = row.text("account")
    stage = row.text("stage", 128)
    lead_source = row.text("lead_source", 128)
    owner = row.text("owner_email")
    amount = row.read("amount", money.cents)
    close_date = row.read("close_date", cell_date)
    created_date = row.read("created_date", cell_date)
    won_flag = row.read("is_won", cell_flag)
    closed_flag = row.read("is_closed", cell_flag)

    crm_id: str | None = None
    if "crm_id" in row.columns:
        raw_id = cell_text(row.raw("crm_id"))
        if raw_id is None:
            row.problems.insert(0, f"{labels['crm_id']} is blank")
        elif len(raw_id) > 128:
            row.problems.insert(0, f"{labels['crm_id']} {shown(raw_id)} is too long")
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
        raise CellError("; ".join(row.problems))

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
        "marketing_sourced": lead_source is not None and normal(lead_source) in sources,
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
    for chunk in chunks(ids):
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
    plan = Plan()
    for crm_id, (_, values) in parsed.records.items():
        compared = tuple(values[name] for name in _OPPORTUNITY_FIELDS)
        plan.add(
            {"team_id": team_id, "crm_id": crm_id, **values, "imported_at": now, "updated_at": now},
            compared,
            existing.get(crm_id),
        )
    await upsert(
        session,
        Opportunity,
        plan.write,
        keys=("team_id", "crm_id"),
        update=(*_OPPORTUNITY_FIELDS, "updated_at"),
    )
    await session.commit()
    return build_report("opportunities", parsed, plan)
