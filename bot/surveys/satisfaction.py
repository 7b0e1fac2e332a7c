"""Enablement-satisfaction answers of a set of survey weeks, read from the database and passed
through the one privacy gate, `bot.surveys.privacy.gate` (PRODUCT.md §2).

Every figure made of enablement answers comes from here: the digest's week and 8-week trend
(`bot.kpis.satisfaction.satisfaction_stats`), the scorecard's quarter (`bot.kpis.digests.quarter_satisfaction`),
the export's Summary, Weekly KPIs and Survey responses sheets. A figure over several weeks is
therefore always made of the weeks shown on their own, and a withheld week's answers cannot be
recovered by subtracting the shown weeks from it.

Counting happens in SQL, and user ids never leave the database. The minimum is judged on
distinct respondents per week: a week is one run (`uq_survey_run_period`) and a person has at
most one response per run (`uq_survey_response_person`), so counting a run's responses counts
distinct people — COUNT(DISTINCT user_id) would say the same at four times the cost on a big
week. A week's counts are defined once, in `bot.surveys.tallies`: a closed week's are read from
its tally (rolled up when it closed), the open week's (and any closed week not rolled up yet)
are counted live, with the same result. Comments are never tallied: they are read only for
weeks the gate will show, so a withheld week's comments are never even loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import Window
from bot.core.models import SurveyKind, SurveyResponse, SurveyRun
from bot.surveys.gate import Gated, GatedWeek, WeekAnswers, gate
from bot.surveys.privacy import Aggregate, counts_can_be_shown
from bot.surveys.tallies import EnablementTally, enablement_counts

__all__ = ["Satisfaction", "SurveyWeek", "weeks_satisfaction", "window_satisfaction"]

NOTHING = EnablementTally()


@dataclass(frozen=True)
class SurveyWeek:
    """One survey week: its run (None when no survey ran) and what the gate lets through."""

    week_start: date
    run_id: int | None
    gated: GatedWeek


@dataclass(frozen=True)
class Satisfaction:
    """The weeks asked for, oldest first, and the figures over all of them (`bot.surveys.privacy.Gated`:
    made of shown weeks only, saying how many were withheld)."""

    weeks: list[SurveyWeek]
    gated: Gated

    @property
    def mean(self) -> Aggregate:
        return self.gated.mean


async def weeks_satisfaction(
    session: AsyncSession,
    *,
    team_id: str,
    week_starts: Sequence[date],
    minimum: int,
    comments_for: Collection[date] = (),
) -> Satisfaction:
    """The given survey weeks (Mondays), in the order given, weeks without a run included (they
    read "no responses yet"). Comments are read for the weeks in `comments_for`."""
    runs = await _runs(session, team_id, col(SurveyRun.period_start).in_(list(week_starts)))
    return await _gated(
        session,
        [(day, runs.get(day)) for day in week_starts],
        minimum=minimum,
        comments_for=comments_for,
    )


async def window_satisfaction(
    session: AsyncSession,
    *,
    team_id: str,
    window: Window,
    minimum: int,
    tz: ZoneInfo | None = None,
    with_comments: bool = False,
) -> Satisfaction:
    """The survey weeks of a period: every enablement run whose week starts on a local date the
    window covers (`Window.local_dates`, in `tz` or the window's own zone), oldest first."""
    first, after = window.local_dates(tz)
    runs = await _runs(
        session,
        team_id,
        sa.and_(col(SurveyRun.period_start) >= first, col(SurveyRun.period_start) < after),
    )
    weeks = sorted(runs.items())
    return await _gated(
        session,
        [(day, run_id) for day, run_id in weeks],
        minimum=minimum,
        comments_for=runs.keys() if with_comments else (),
    )


async def _runs(session: AsyncSession, team_id: str, which: Any) -> dict[date, int]:
    rows = (
        await session.exec(
            select(col(SurveyRun.period_start), col(SurveyRun.id)).where(
                col(SurveyRun.team_id) == team_id,
                col(SurveyRun.kind) == SurveyKind.ENABLEMENT,
                which,
            )
        )
    ).all()
    return {period_start: int(run_id) for period_start, run_id in rows if run_id is not None}


async def _gated(
    session: AsyncSession,
    weeks: list[tuple[date, int | None]],
    *,
    minimum: int,
    comments_for: Collection[date],
) -> Satisfaction:
    run_ids = [run_id for _day, run_id in weeks if run_id is not None]
    # Closed weeks from their stored tallies, the others counted live: the same numbers
    # (`bot.surveys.tallies`, which owns the one definition of a week's counts).
    counted = await enablement_counts(session, run_ids) if run_ids else {}
    comments: dict[int, list[str]] = defaultdict(list)
    # Only weeks the gate will show: a withheld week's comments stay in the database.
    wanted = set(comments_for)
    readable = [
        run_id
        for day, run_id in weeks
        if run_id is not None
        and day in wanted
        and counts_can_be_shown(counted.get(run_id, NOTHING).respondents, minimum=minimum)
    ]
    if readable:
        for run_id, comment in (
            await session.exec(
                select(col(SurveyResponse.run_id), col(SurveyResponse.comment)).where(
                    col(SurveyResponse.run_id).in_(readable),
                    col(SurveyResponse.kind) == SurveyKind.ENABLEMENT,
                    col(SurveyResponse.comment).is_not(None),
                )
            )
        ).all():
            if comment:
                comments[int(run_id)].append(comment)

    tallies = []
    for day, week_run in weeks:
        key = week_run if week_run is not None else -1
        week = counted.get(key, NOTHING)
        tallies.append(
            WeekAnswers(
                key=day.isoformat(),
                respondents=week.respondents,
                scorers=week.scorers,
                scores=week.scores,
                helpers=week.helpers,
                help=week.help,
                comments=tuple(comments.get(key, ())),
            )
        )
    gated = gate(tallies, minimum=minimum)
    return Satisfaction(
        weeks=[
            SurveyWeek(week_start=day, run_id=week_run, gated=week)
            for (day, week_run), week in zip(weeks, gated.weeks, strict=True)
        ],
        gated=gated,
    )
