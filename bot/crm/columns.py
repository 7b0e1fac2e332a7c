"""Column matching: the names Salesforce and HubSpot (and admins who renamed a column) give the
fields each import needs, and finding them in a header row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Final

from bot.crm.cells import normal, short

__all__ = [
    "ALL_KNOWN",
    "LEAD_REPORT_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "QUOTA_COLUMNS",
    "WEEKLY_LEAD_COLUMNS",
    "Column",
    "found_columns",
    "known_names",
    "match_columns",
]


@dataclass(frozen=True)
class Column:
    field: str
    synonyms: tuple[str, ...]  # in order of preference when a file has several

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(normal(name) for name in self.synonyms)


OPPORTUNITY_COLUMNS: Final = (
    Column("crm_id", ("Opportunity ID", "Record ID", "Deal ID", "Id")),
    Column("name", ("Opportunity Name", "Deal Name", "Name")),
    Column(
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
    Column(
        "amount",
        (
            "Amount (converted)",
            "Amount in company currency",
            "Amount",
            "Deal amount",
            "Total contract value",
        ),
    ),
    Column("stage", ("Stage", "Deal Stage", "Opportunity Stage", "Stage Name")),
    Column("close_date", ("Close Date", "Closed Date", "Expected close date")),
    Column("created_date", ("Created Date", "Create Date", "Created", "Created On")),
    Column(
        "lead_source",
        ("Lead Source", "Original Source", "Original source type", "Source", "Opportunity Source"),
    ),
    Column("owner_email", ("Owner Email", "Opportunity Owner Email", "Deal owner email")),
    Column("is_won", ("Won", "Is Won", "Closed Won", "Is Closed Won")),
    Column("is_closed", ("Closed", "Is Closed", "Is Deal Closed?")),
)

QUOTA_COLUMNS: Final = (
    Column("quarter", ("Quarter", "Fiscal Quarter", "Quota Quarter", "Period", "Fiscal Period")),
    Column(
        "owner",
        ("Owner Email", "Owner", "Quota Owner", "Rep Email", "User Email", "Email", "Rep"),
    ),
    Column("amount", ("Quota", "Quota Amount", "Quota (USD)", "Amount", "Target")),
)

WEEKLY_LEAD_COLUMNS: Final = (
    Column(
        "week",
        ("Week", "Week Start", "Week Starting", "Week Of", "Week Beginning", "Week Commencing"),
    ),
    Column("leads", ("Leads", "Lead Count", "New Leads", "Leads Created", "Number of Leads")),
    Column("qualified", ("Qualified", "Qualified Leads", "MQLs", "MQL", "SQLs", "SQL")),
)

LEAD_REPORT_COLUMNS: Final = (
    Column("created_date", ("Created Date", "Create Date", "Lead Created Date", "Created")),
    Column("status", ("Lead Status", "Status", "Lifecycle Stage")),
    Column("qualified", ("Qualified", "Is Qualified", "MQL", "Is MQL", "Marketing Qualified")),
)


def known_names(columns: Iterable[Column]) -> frozenset[str]:
    return frozenset(name for column in columns for name in column.names)


ALL_KNOWN: Final = known_names(
    chain(
        OPPORTUNITY_COLUMNS,
        QUOTA_COLUMNS,
        WEEKLY_LEAD_COLUMNS,
        LEAD_REPORT_COLUMNS,
        # Other columns of these reports, so a header with only one of ours is still found.
        [Column("other", ("Opportunity Owner", "Deal Owner", "Probability", "Fiscal Period"))],
    )
)


def match_columns(header: Sequence[str], columns: Sequence[Column]) -> dict[str, int]:
    """Field -> column index; each header is used once, preferring earlier synonyms."""
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(header):
        positions.setdefault(normal(text), []).append(index)
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


def found_columns(header: Sequence[str]) -> str:
    names = [text for text in header if text]
    if not names:
        return "no column names"
    shown = ", ".join(f'"{short(name)}"' for name in names[:15])
    return shown + (f" and {len(names) - 15} more" if len(names) > 15 else "")
