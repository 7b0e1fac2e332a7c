"""What Demand Gen generated in a window (PRODUCT.md §4): pipeline-survey answers, imported CRM
opportunities and leads, lead-to-opportunity conversion, and the activities reps credit the
pipeline to. Pipeline-survey answers are business data, not opinions: no anonymity gate.

Local dates are the window's (`Window.local_dates`); sums happen in SQL and an empty window
gives zeros and `None` rates.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import Window
from bot.core.models import LeadCount, Opportunity, SurveyKind, SurveyResponse, SurveyRun
from bot.surveys.responses import ACTIVITY_OPTIONS
from bot.surveys.tallies import PipelineTally, pipeline_counts
from bot.workspace.settings import load_settings

__all__ = [
    "SUPPORT_REQUEST_ACTIVITY",
    "ActivityImpact",
    "PipelineStats",
    "pipeline_stats",
    "rank_activities",
    "split_evenly",
]

SUPPORT_REQUEST_ACTIVITY: Final = "support_request"


@dataclass(frozen=True)
class ActivityImpact:
    """One marketing activity's share of the pipeline reps credited to marketing."""

    activity: str
    pipeline_cents: int
    mentions: int


@dataclass(frozen=True)
class PipelineStats:
    """Demand Gen's pipeline, leads and conversion for one window (see `pipeline_stats`)."""

    survey_respondents: int
    new_opportunities: int
    new_pipeline_cents: int
    sourced_count: int
    sourced_cents: int
    influenced_count: int
    influenced_cents: int
    crm_opportunities: int
    crm_pipeline_cents: int
    crm_sourced_count: int
    crm_sourced_cents: int
    leads: int
    lead_to_opportunity_rate: float | None
    activities: list[ActivityImpact]
    lead_conversion_source: str | None = None


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` cents in `parts` integer shares that add up exactly: each gets total // parts
    and the first also gets the remainder (1001 in 2 -> [501, 500]; 100 in 3 -> [34, 33, 33])."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    share, remainder = divmod(total, parts)
    return [share + remainder, *([share] * (parts - 1))]


def _activity_keys(raw: str | None) -> list[str]:
    """A response's activities as ranking keys, in the order given, each once.

    "ms:<request id>…" entries (a delivered support request) become "support_request"; keys
    no longer offered become "other"; unreadable JSON names nothing.
    """
    try:
        values = json.loads(raw) if raw else []
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    keys: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue
        if value.startswith("ms:"):
            key = SUPPORT_REQUEST_ACTIVITY
        elif value in ACTIVITY_OPTIONS:
            key = value
        else:
            key = "other"
        if key not in keys:
            keys.append(key)
    return keys


def rank_activities(answers: Iterable[tuple[Sequence[str], int]]) -> list[ActivityImpact]:
    """Rank activities by the pipeline credited to them, from (activities, value) answers.

    Each answer's value (its sourced + influenced cents) is split evenly among the distinct
    activities it names (`split_evenly`: remainder cents to the first named), and each named
    activity gets one mention. Answers naming no activity credit nothing. Ranked by pipeline
    cents descending, then mentions descending, then activity key.
    """
    cents: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for keys, value in answers:
        if not keys:
            continue
        for key, share in zip(keys, split_evenly(value, len(keys)), strict=True):
            cents[key] += share
            mentions[key] += 1
    return _ranked(cents, mentions)


def _ranked(cents: Counter[str], mentions: Counter[str]) -> list[ActivityImpact]:
    return sorted(
        (
            ActivityImpact(activity=key, pipeline_cents=cents[key], mentions=mentions[key])
            for key in mentions
        ),
        key=lambda impact: (-impact.pipeline_cents, -impact.mentions, impact.activity),
    )


async def _activities_in(session: AsyncSession, pipeline_runs: Any) -> list[ActivityImpact]:
    """`rank_activities` over the responses matching `pipeline_runs`, grouped in SQL.

    Responses naming the same activities (the same JSON text) share their keys, so one row per
    distinct text carries everything the even split needs: how many responses, the sum of
    their values and, for the number of keys n, the sum of each value's floor(value / n). The
    first key's share is then sum - (n - 1) * that, exactly the per-response remainders added
    up. A text whose values include a negative one (SQL divides those toward zero, Python
    floors) is split response by response instead.
    """
    value = sa.func.coalesce(col(SurveyResponse.sourced_cents), 0) + sa.func.coalesce(
        col(SurveyResponse.influenced_cents), 0
    )
    most_keys = len(ACTIVITY_OPTIONS)  # unknown keys become "other", so never more
    raw_text = col(SurveyResponse.activities)
    matching = sa.and_(pipeline_runs, raw_text.is_not(None))
    connection = await session.connection()
    groups = (
        await connection.execute(
            sa.select(
                raw_text,
                sa.func.count(),
                sa.func.min(value),
                *(sa.func.sum(value // parts) for parts in range(1, most_keys + 1)),
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
            .where(matching)
            .group_by(raw_text)
        )
    ).all()
    cents: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for raw, responses, lowest, *sums in groups:
        keys = _activity_keys(raw)
        if not keys:
            continue
        parts = len(keys)
        if int(lowest or 0) < 0 or parts > most_keys:
            values = (
                await connection.execute(
                    sa.select(value)
                    .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
                    .where(matching, raw_text == raw)
                )
            ).scalars()
            for total in values:
                for key, share in zip(keys, split_evenly(int(total), parts), strict=True):
                    cents[key] += share
        else:
            total, share = int(sums[0] or 0), int(sums[parts - 1] or 0)
            cents[keys[0]] += total - (parts - 1) * share
            for key in keys[1:]:
                cents[key] += share
        for key in keys:
            mentions[key] += int(responses)
    return _ranked(cents, mentions)


async def pipeline_stats(
    session: AsyncSession, *, team_id: str, window: Window, with_activities: bool = True
) -> PipelineStats:
    """What Demand Gen generated in a window: survey answers, CRM opportunities, leads.

    Local dates are the window's in its zone (`Window.tz`, else the workspace's setting).

    * Survey figures come from pipeline-survey responses to runs whose week (`period_start`)
      starts in the window: survey_respondents = responses; new_opportunities /
      new_pipeline_cents = the sums of what reps reported; sourced_count / sourced_cents and
      influenced_count / influenced_cents = the sums of the marketing-sourced and
      -influenced parts.
    * CRM figures come from imported opportunities whose `created_date` is in the window:
      crm_opportunities / crm_pipeline_cents = count and amount; crm_sourced_count /
      crm_sourced_cents = those flagged marketing-sourced.
    * leads: `LeadCount.leads` summed over weeks starting in the window.
    * lead_to_opportunity_rate: marketing-sourced opportunities / leads. The numerator is
      crm_sourced_count when the window has imported opportunities (crm_opportunities > 0,
      the same rule the digests use for sourced pipeline), else the survey's sourced_count;
      `lead_conversion_source` says which ("crm" or "survey"). `None` (and source `None`)
      when there were no leads.
    * activities: `rank_activities` over the survey responses: each response's sourced +
      influenced cents split evenly among the activities it names ("ms:…" entries count as
      "support_request"), with mentions = responses naming the activity.
    """
    tz = window.tz or (await load_settings(session, team_id)).zone
    first_day, end_day = window.local_dates(tz)

    runs_in_window = sa.and_(
        col(SurveyRun.team_id) == team_id,
        col(SurveyRun.kind) == SurveyKind.PIPELINE,
        col(SurveyRun.period_start) >= first_day,
        col(SurveyRun.period_start) < end_day,
    )
    pipeline_runs = sa.and_(runs_in_window, col(SurveyResponse.kind) == SurveyKind.PIPELINE)
    # Closed weeks from their stored tallies, the others summed live: the same sums
    # (`bot.surveys.tallies` owns what a week's pipeline answers add up to).
    run_ids = [
        int(run_id)
        for run_id in (await session.exec(select(col(SurveyRun.id)).where(runs_in_window))).all()
        if run_id is not None
    ]
    survey = sum((await pipeline_counts(session, run_ids)).values(), PipelineTally())

    activities = await _activities_in(session, pipeline_runs) if with_activities else []

    marketing = col(Opportunity.marketing_sourced).is_(True)
    crm = (
        await session.exec(
            select(
                sa.func.count(),
                sa.func.sum(col(Opportunity.amount_cents)),
                sa.func.sum(sa.case((marketing, 1), else_=0)),
                sa.func.sum(sa.case((marketing, col(Opportunity.amount_cents)), else_=0)),
            ).where(
                col(Opportunity.team_id) == team_id,
                col(Opportunity.created_date) >= first_day,
                col(Opportunity.created_date) < end_day,
            )
        )
    ).one()
    crm_count, crm_cents, crm_sourced_n, crm_sourced = (int(value or 0) for value in crm)

    leads = int(
        (
            await session.exec(
                select(sa.func.sum(col(LeadCount.leads))).where(
                    col(LeadCount.team_id) == team_id,
                    col(LeadCount.week_start) >= first_day,
                    col(LeadCount.week_start) < end_day,
                )
            )
        ).one()
        or 0
    )
    source: str | None = None
    rate: float | None = None
    if leads > 0:
        source = "crm" if crm_count else "survey"
        rate = (crm_sourced_n if crm_count else survey.sourced_count) / leads

    return PipelineStats(
        survey_respondents=survey.respondents,
        new_opportunities=survey.opportunities,
        new_pipeline_cents=survey.pipeline_cents,
        sourced_count=survey.sourced_count,
        sourced_cents=survey.sourced_cents,
        influenced_count=survey.influenced_count,
        influenced_cents=survey.influenced_cents,
        crm_opportunities=crm_count,
        crm_pipeline_cents=crm_cents,
        crm_sourced_count=crm_sourced_n,
        crm_sourced_cents=crm_sourced,
        leads=leads,
        lead_to_opportunity_rate=rate,
        activities=activities,
        lead_conversion_source=source,
    )
