"""The export's KPI queries as short steps, each fitted in while the writer is busy: every
week's figures, the period's, its goals and coverage, and each quarter's scorecards (the same
`bot.kpis` functions the digests use)."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from datetime import date

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import Window, quarter_of
from bot.core.models import DeliveryStatus, Function, SurveyDelivery
from bot.export.plan import ExportPlan, PeriodKpis, WeekKpis
from bot.kpis.coverage import coverage
from bot.kpis.digests import scorecard_for
from bot.kpis.goals import goals_for, targets_of
from bot.kpis.pipeline import pipeline_stats
from bot.kpis.satisfaction import satisfaction_stats
from bot.kpis.support import request_stats
from bot.surveys.privacy import Aggregate
from bot.surveys.satisfaction import window_satisfaction

Step = Callable[[], Awaitable[None]]
"""One short piece of KPI work that ends its own transaction."""


def kpi_steps(
    session: AsyncSession, plan: ExportPlan, weeks: list[WeekKpis], kpis: PeriodKpis
) -> deque[Step]:
    """The queries of every week, of the period and of each quarter's scorecards, as steps
    that append to `weeks` and fill `kpis`; each ends its own transaction."""
    calendar = plan.settings.calendar
    steps: deque[Step] = deque()

    def week_step(monday: date, window: Window) -> Step:
        async def step() -> None:
            requests = await request_stats(
                session, team_id=plan.team_id, window=window, calendar=calendar, now=plan.now
            )
            pipeline = await pipeline_stats(session, team_id=plan.team_id, window=window)
            # A survey week belongs to the period its Monday is in (as in quarter figures).
            satisfaction = None
            if monday >= plan.period.start:
                satisfaction = await satisfaction_stats(
                    session,
                    team_id=plan.team_id,
                    week_start=monday,
                    minimum=plan.minimum,
                    weeks=1,
                )
            await session.commit()
            weeks.append(
                WeekKpis(
                    week_start=monday,
                    first=window.local_dates(plan.tz)[0],
                    last=window.last_date(plan.tz),
                    label=window.label,
                    requests=requests,
                    satisfaction=satisfaction,
                    pipeline=pipeline,
                )
            )

        return step

    for monday, window in plan.weeks:
        steps.append(week_step(monday, window))

    async def period_requests() -> None:
        window = plan.kpi_window or Window(plan.window.start, plan.window.start, "", plan.tz)
        kpis.to_date = plan.kpi_window is not None and plan.kpi_window.end < plan.window.end
        kpis.requests = await request_stats(
            session, team_id=plan.team_id, window=window, calendar=calendar, now=plan.now
        )
        await session.commit()

    async def period_pipeline() -> None:
        window = plan.kpi_window or Window(plan.window.start, plan.window.start, "", plan.tz)
        kpis.pipeline = await pipeline_stats(session, team_id=plan.team_id, window=window)
        kpis.satisfaction, kpis.response_rate = await _period_satisfaction(session, plan)
        if quarter_of(plan.period.start) == quarter_of(plan.period.end):
            kpis.goal_quarter = quarter_of(plan.period.start)
            # Plain targets, not ORM rows: they outlive this transaction and are pickled.
            kpis.goals = targets_of(
                await goals_for(session, team_id=plan.team_id, quarter=kpis.goal_quarter)
            )
        if plan.quarters:
            kpis.coverage = await coverage(
                session,
                team_id=plan.team_id,
                quarter=plan.quarters[-1],
                tz=plan.tz,
                now=plan.now,
            )
        await session.commit()

    steps.extend((period_requests, period_pipeline))

    def scorecard_step(quarter: str, function: Function) -> Step:
        async def step() -> None:
            kpis.scorecards.append(
                await scorecard_for(
                    session,
                    team_id=plan.team_id,
                    quarter=quarter,
                    function=function,
                    settings=plan.settings,
                    now=plan.now,
                )
            )
            await session.commit()

        return step

    for quarter in plan.quarters:
        for function in (Function.DEMAND_GEN, Function.SUPPORT):
            steps.append(scorecard_step(quarter, function))
    return steps


async def _period_satisfaction(
    session: AsyncSession, plan: ExportPlan
) -> tuple[Aggregate, float | None]:
    """Mean enablement score over the survey weeks of the period, through the privacy gate
    (`bot.surveys.satisfaction`, like `bot.kpis.digests.quarter_satisfaction`: shown weeks only, with the
    withheld weeks counted), and the response rate over those weeks' runs (answered / reached,
    never withheld)."""
    found = await window_satisfaction(
        session, team_id=plan.team_id, window=plan.window, tz=plan.tz, minimum=plan.minimum
    )
    run_ids = [week.run_id for week in found.weeks if week.run_id is not None]
    connection = await session.connection()
    reached_row = (
        await connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(
                    sa.case((col(SurveyDelivery.status) == DeliveryStatus.ANSWERED, 1), else_=0)
                ),
            ).where(
                col(SurveyDelivery.run_id).in_(run_ids),
                col(SurveyDelivery.status).in_([DeliveryStatus.SENT, DeliveryStatus.ANSWERED]),
            )
        )
    ).one()
    reached, answered = int(reached_row[0] or 0), int(reached_row[1] or 0)
    return found.mean, (answered / reached if reached else None)
