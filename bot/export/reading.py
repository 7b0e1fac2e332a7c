"""Reading raw rows: one page of `PAGE_ROWS` rows per short transaction, and how much raw
data a period holds (which decides where the writer runs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import LeadCount, Opportunity, SupportRequest, SurveyResponse, SurveyRun
from bot.export.plan import ExportPlan

PAGE_ROWS: Final = 5000
"""Rows read from the database per page (and per transaction). The sheets read it as
`reading.PAGE_ROWS` when they run, so a test can shrink the pages."""


async def fetch_page(session: AsyncSession, statement: sa.Executable) -> list[Any]:
    """The statement's rows, in a transaction of their own."""
    connection = await session.connection()
    rows = list((await connection.execute(statement)).all())
    await session.commit()  # one short transaction per page: SQLite's lock is never held long
    return rows


@dataclass(frozen=True)
class Sizes:
    """How much raw data the period holds, counted before anything is read."""

    requests: int
    responses: int
    opportunities: int
    leads: int

    @property
    def rows(self) -> int:
        return self.requests + self.responses + self.opportunities


async def count_sizes(session: AsyncSession, plan: ExportPlan) -> Sizes:
    """Count the period's requests, survey responses, opportunities and lead rows."""
    first, last = plan.period.start, plan.period.end
    start, end = plan.window.start, plan.window.end

    async def count(statement: Any) -> int:
        return int((await fetch_page(session, statement))[0][0] or 0)

    return Sizes(
        requests=await count(
            sa.select(sa.func.count()).where(
                col(SupportRequest.team_id) == plan.team_id,
                col(SupportRequest.created_at) >= start,
                col(SupportRequest.created_at) < end,
            )
        ),
        responses=await count(
            sa.select(sa.func.count())
            .select_from(SurveyResponse)
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
            .where(
                col(SurveyRun.team_id) == plan.team_id,
                col(SurveyRun.period_start) >= first,
                col(SurveyRun.period_start) <= last,
            )
        ),
        opportunities=await count(
            sa.select(sa.func.count()).where(
                col(Opportunity.team_id) == plan.team_id,
                sa.or_(
                    sa.and_(
                        col(Opportunity.created_date) >= first,
                        col(Opportunity.created_date) <= last,
                    ),
                    sa.and_(
                        col(Opportunity.close_date) >= first, col(Opportunity.close_date) <= last
                    ),
                ),
            )
        ),
        leads=await count(
            sa.select(sa.func.count()).where(
                col(LeadCount.team_id) == plan.team_id,
                col(LeadCount.week_start) >= first,
                col(LeadCount.week_start) <= last,
            )
        ),
    )
