"""The Pipeline sheet's rows: CRM opportunities created or closing in the period, read in
keyset pages, and the marketing activities reps credited with pipeline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Opportunity
from bot.export import reading
from bot.export.cells import clean_text, dollars, excel_date, yes_no
from bot.export.plan import ExportPlan
from bot.kpis.pipeline import ActivityImpact
from bot.surveys.responses import ACTIVITY_OPTIONS


def activity_label(key: str) -> str:
    """A survey activity key as a label ("ms:…:MS-42" names the Support request)."""
    if key.startswith("ms:"):
        reference = key.split(":")[-1]
        return f"Support request {reference}" if reference.startswith("MS-") else "Support request"
    return ACTIVITY_OPTIONS.get(key, "Other")


def activities_text(raw: str | None) -> str | None:
    """A response's activities (JSON) as labels: "Webinar, Content, Support request MS-42"."""
    try:
        values = json.loads(raw) if raw else []
    except ValueError:
        return None
    if not isinstance(values, list):
        return None
    labels = [activity_label(value) for value in values if isinstance(value, str)]
    return ", ".join(dict.fromkeys(labels)) or None


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


async def opportunity_pages(session: AsyncSession, plan: ExportPlan) -> AsyncIterator[list[Any]]:
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
            rows = await reading.fetch_page(
                session, statement.order_by(key, col(Opportunity.id)).limit(reading.PAGE_ROWS)
            )
            if rows:
                yield [
                    (
                        clean_text(crm_id),
                        clean_text(name),
                        clean_text(account),
                        dollars(amount),
                        clean_text(stage),
                        excel_date(created_date),
                        excel_date(close_date),
                        clean_text(lead_source),
                        yes_no(sourced),
                        clean_text(owner),
                        yes_no(won),
                        yes_no(closed),
                        reason,
                    )
                    for (
                        crm_id,
                        name,
                        account,
                        amount,
                        stage,
                        created_date,
                        close_date,
                        lead_source,
                        sourced,
                        owner,
                        won,
                        closed,
                        _id,
                        _key,
                    ) in rows
                ]
                last = (rows[-1][13], rows[-1][12])
            if len(rows) < reading.PAGE_ROWS:
                break


def activity_rows(activities: Sequence[ActivityImpact]) -> list[tuple[Any, ...]]:
    """The activities table below the opportunities: label, pipeline credited, mentions."""
    return [
        (activity_label(item.activity), dollars(item.pipeline_cents), item.mentions)
        for item in activities
    ]
