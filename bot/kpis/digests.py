"""What goes into the weekly digests and the scorecard: metrics, goals and feedback, gathered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import Window, quarter_of, quarter_window, week_window
from bot.core.db import reads_only
from bot.core.models import (
    FeedbackAction,
    Function,
    Goal,
    RequestStatus,
    SupportRequest,
)
from bot.kpis.coverage import Coverage, coverage
from bot.kpis.feedback import recent_actions
from bot.kpis.goals import goals_for
from bot.kpis.pipeline import PipelineStats, pipeline_stats
from bot.kpis.satisfaction import SatisfactionStats, satisfaction_stats
from bot.kpis.scorecard import DEFAULT_CAP, DEFAULT_WEIGHTS, Scorecard, Weighting, compute_scorecard
from bot.kpis.support import RequestStats, delivered_on_time, filed_per_type, request_stats
from bot.surveys.gate import withheld_weeks_note
from bot.surveys.privacy import Aggregate, effective_minimum
from bot.surveys.satisfaction import window_satisfaction
from bot.workspace.settings import WorkspaceSettings

TREND_WEEKS = 8


class DigestKind:
    SUPPORT = "support"
    DEMAND_GEN = "demandgen"
    ALL = (SUPPORT, DEMAND_GEN)


@dataclass(frozen=True)
class SupportDigest:
    window: Window
    quarter: str
    this: RequestStats
    # The week before shows only how many were filed: measuring all of it (durations, ratings,
    # objections) would cost more than the whole digest of this week.
    last_filed: int
    quarter_delivered: int
    satisfaction: SatisfactionStats
    goals: dict[str, Goal]
    actions: list[FeedbackAction]


@dataclass(frozen=True)
class DemandGenDigest:
    window: Window
    quarter: str
    this: PipelineStats
    last: PipelineStats
    quarter_to_date: PipelineStats
    weekly_sourced: list[tuple[str, int]]
    coverage: Coverage
    goals: dict[str, Goal]


def sourced_cents(stats: PipelineStats) -> int:
    """Marketing-sourced pipeline: CRM figures when opportunities were imported, else surveys."""
    return stats.crm_sourced_cents if stats.crm_opportunities else stats.sourced_cents


def sourced_count(stats: PipelineStats) -> int:
    return stats.crm_sourced_count if stats.crm_opportunities else stats.sourced_count


def _quarter_to(window: Window, quarter: str, settings: WorkspaceSettings) -> Window:
    whole = quarter_window(quarter, settings.zone)
    return replace(whole, end=min(whole.end, window.end), label=f"{quarter} to date")


@reads_only
async def support_digest(
    session: AsyncSession,
    *,
    team_id: str,
    week_start: date,
    settings: WorkspaceSettings,
    now: datetime,
) -> SupportDigest:
    """Marketing Support's weekly digest for the ISO week starting `week_start`, made at `now`:
    a week in progress is measured as it is at `now`."""
    window = week_window(week_start, settings.zone)
    previous = week_window(week_start - timedelta(days=7), settings.zone)
    quarter = quarter_of(week_start + timedelta(days=6))
    calendar = settings.calendar
    return SupportDigest(
        window=window,
        quarter=quarter,
        this=await request_stats(
            session, team_id=team_id, window=window, calendar=calendar, now=now
        ),
        last_filed=sum((await filed_per_type(session, team_id=team_id, window=previous)).values()),
        quarter_delivered=await delivered_count(
            session, team_id=team_id, window=_quarter_to(window, quarter, settings)
        ),
        satisfaction=await satisfaction_stats(
            session,
            team_id=team_id,
            week_start=week_start,
            minimum=effective_minimum(settings.survey_min_respondents),
            weeks=TREND_WEEKS,
        ),
        goals=await goals_for(session, team_id=team_id, quarter=quarter),
        actions=await recent_actions(
            session, team_id=team_id, since=week_start - timedelta(days=14), until=week_start
        ),
    )


@reads_only
async def demandgen_digest(
    session: AsyncSession,
    *,
    team_id: str,
    week_start: date,
    settings: WorkspaceSettings,
    now: datetime,
) -> DemandGenDigest:
    """Demand Gen's weekly digest for the ISO week starting `week_start`, made at `now`: a
    past week is judged as it stood at its end."""
    window = week_window(week_start, settings.zone)
    quarter = quarter_of(week_start + timedelta(days=6))
    weekly: list[tuple[str, int]] = []
    stats_by_week: list[PipelineStats] = []
    for back in range(TREND_WEEKS - 1, -1, -1):
        week = week_window(week_start - timedelta(days=7 * back), settings.zone)
        stats = await pipeline_stats(
            session, team_id=team_id, window=week, with_activities=back == 0
        )
        stats_by_week.append(stats)
        weekly.append((week.label, sourced_cents(stats)))
    return DemandGenDigest(
        window=window,
        quarter=quarter,
        this=stats_by_week[-1],
        last=stats_by_week[-2],
        quarter_to_date=await pipeline_stats(
            session,
            team_id=team_id,
            window=_quarter_to(window, quarter, settings),
            with_activities=False,
        ),
        weekly_sourced=weekly,
        # A past week's coverage is as of that week's end, not as of today.
        coverage=await coverage(
            session,
            team_id=team_id,
            quarter=quarter,
            tz=settings.zone,
            now=now,
            until=window.end,
        ),
        goals=await goals_for(session, team_id=team_id, quarter=quarter),
    )


async def delivered_count(session: AsyncSession, *, team_id: str, window: Window) -> int:
    """Requests delivered in the window (the quarter-to-date line needs no durations)."""
    result = await session.exec(
        select(sa.func.count()).where(
            SupportRequest.team_id == team_id,
            col(SupportRequest.status) == RequestStatus.DELIVERED,
            col(SupportRequest.delivered_at) >= window.start,
            col(SupportRequest.delivered_at) < window.end,
        )
    )
    return int(result.one())


async def quarter_satisfaction(
    session: AsyncSession, *, team_id: str, quarter: str, settings: WorkspaceSettings
) -> Aggregate:
    """Mean enablement score over the quarter's survey weeks, through the privacy gate
    (`bot.surveys.satisfaction`): made of the weeks shown on their own only, with `withheld_weeks`
    the weeks left out; withheld itself when every week with answers was."""
    found = await window_satisfaction(
        session,
        team_id=team_id,
        window=quarter_window(quarter, settings.zone),
        tz=settings.zone,
        minimum=effective_minimum(settings.survey_min_respondents),
    )
    return found.mean


def weights_for(settings: WorkspaceSettings, function: Function) -> tuple[Weighting, ...]:
    from bot.kpis.scorecard import parse_weights

    text = (
        settings.demandgen_weights if function == Function.DEMAND_GEN else settings.support_weights
    )
    return parse_weights(text, function) if text else DEFAULT_WEIGHTS[function]


@reads_only
async def scorecard_for(
    session: AsyncSession,
    *,
    team_id: str,
    quarter: str,
    function: Function,
    settings: WorkspaceSettings,
    now: datetime,
) -> Scorecard:
    """Bonus attainment for one function and quarter, from the quarter's actuals and goals;
    point-in-time inputs (coverage, quota attainment) as of `now`, or the quarter's end once it
    has passed."""
    whole = quarter_window(quarter, settings.zone)
    goals = await goals_for(session, team_id=team_id, quarter=quarter)
    targets = {metric: goal.target for metric, goal in goals.items()}
    actuals: dict[str, float | None] = {}
    withheld: list[str] = []
    remarks: dict[str, str] = {}
    cover = await coverage(session, team_id=team_id, quarter=quarter, tz=settings.zone, now=now)
    if function == Function.DEMAND_GEN:
        pipeline = await pipeline_stats(session, team_id=team_id, window=whole)
        actuals["sourced_pipeline"] = float(sourced_cents(pipeline))
        actuals["influenced_pipeline"] = float(pipeline.influenced_cents)
        actuals["lead_to_opportunity_rate"] = pipeline.lead_to_opportunity_rate
        actuals["campaign_effectiveness"] = pipeline.lead_to_opportunity_rate
        actuals["qualified_leads"] = float(pipeline.leads)
        actuals["pipeline_coverage"] = cover.ratio
    else:
        actuals["quota_attainment"] = cover.quota_attainment
        satisfaction = await quarter_satisfaction(
            session, team_id=team_id, quarter=quarter, settings=settings
        )
        actuals["enablement_satisfaction"] = satisfaction.value
        if satisfaction.withheld:
            withheld.append("enablement_satisfaction")
        left_out = withheld_weeks_note(
            satisfaction.withheld_weeks, minimum=effective_minimum(settings.survey_min_respondents)
        )
        if left_out:
            remarks["enablement_satisfaction"] = left_out
        delivered, on_time = await delivered_on_time(
            session, team_id=team_id, window=whole, tz=settings.zone
        )
        actuals["requests_delivered"] = float(delivered)
        actuals["on_time_delivery_rate"] = on_time / delivered if delivered else None
    return compute_scorecard(
        function,
        quarter,
        actuals=actuals,
        targets=targets,
        weights=weights_for(settings, function),
        cap=settings.attainment_cap or DEFAULT_CAP,
        withheld=withheld,
        remarks=remarks,
    )


async def digest_for(
    session: AsyncSession,
    *,
    kind: str,
    team_id: str,
    week_start: date,
    settings: WorkspaceSettings,
    now: datetime,
) -> SupportDigest | DemandGenDigest:
    """The weekly digest of one kind (`DigestKind.SUPPORT` or `DigestKind.DEMAND_GEN`)."""
    if kind == DigestKind.SUPPORT:
        return await support_digest(
            session, team_id=team_id, week_start=week_start, settings=settings, now=now
        )
    if kind == DigestKind.DEMAND_GEN:
        return await demandgen_digest(
            session, team_id=team_id, week_start=week_start, settings=settings, now=now
        )
    raise ValueError(f"unknown digest kind {kind!r}")


# The order people read them in: the pipeline first, then the support behind it.
SCORECARD_FUNCTIONS = (Function.DEMAND_GEN, Function.SUPPORT)


async def scorecards_for(
    session: AsyncSession, *, team_id: str, quarter: str, settings: WorkspaceSettings, now: datetime
) -> list[Scorecard]:
    """Both functions' scorecards for `quarter` (`scorecard_for`), Demand Gen first."""
    return [
        await scorecard_for(
            session,
            team_id=team_id,
            quarter=quarter,
            function=function,
            settings=settings,
            now=now,
        )
        for function in SCORECARD_FUNCTIONS
    ]


async def digests_for(
    session: AsyncSession,
    *,
    kinds: Sequence[str] = DigestKind.ALL,
    team_id: str,
    week_start: date,
    settings: WorkspaceSettings,
    now: datetime,
) -> list[SupportDigest | DemandGenDigest]:
    """The weekly digests of `kinds` (`digest_for`), in that order."""
    return [
        await digest_for(
            session, kind=kind, team_id=team_id, week_start=week_start, settings=settings, now=now
        )
        for kind in kinds
    ]
