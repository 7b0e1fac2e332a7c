"""The enablement-satisfaction KPI of one week, as the digest shows it: mean, distribution,
response rate, trend, "what would help most" and comments. Every figure made of answers comes
through the anonymity gate of `bot.surveys.satisfaction` / `bot.surveys.privacy`; this module
only shapes the gated figures into the digest's `SatisfactionStats` and adds the delivery
counts (reached, answered), which carry no answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import iso_week_label, require_monday
from bot.core.models import DeliveryStatus, SurveyDelivery
from bot.surveys.privacy import DEFAULT_MINIMUM, Aggregate, response_rate
from bot.surveys.satisfaction import weeks_satisfaction

__all__ = ["SatisfactionStats", "satisfaction_stats"]


@dataclass(frozen=True)
class SatisfactionStats:
    """The week's enablement-satisfaction pulse, anonymised (see `satisfaction_stats`)."""

    week_label: str
    mean: Aggregate
    distribution: dict[int, int] | None
    responses: int
    reached: int
    response_rate: float | None
    trend: list[tuple[str, Aggregate]]
    help_most: list[tuple[str, int]] | None
    comments: list[str]
    answered: int = 0
    # Weeks of the trend whose mean is withheld, and the minimum they fell short of (the
    # digest says "2 weeks withheld (fewer than 5 respondents)" next to the trend).
    withheld_weeks: int = 0
    minimum: int = DEFAULT_MINIMUM


async def satisfaction_stats(
    session: AsyncSession, *, team_id: str, week_start: date, minimum: int, weeks: int = 8
) -> SatisfactionStats:
    """Sales' satisfaction with enablement for the ISO week starting `week_start` (a Monday).

    The week's run is the enablement `SurveyRun` with `period_start == week_start`; without
    one every count is 0, every figure "no responses yet" and every rate `None`. Every figure
    made of answers comes through the privacy gate (`bot.surveys.satisfaction`, `bot.surveys.privacy.gate`),
    each judged on the distinct people who gave it:

    * mean / distribution: the mean 1–5 score and how many gave each score, withheld below
      `minimum` people who gave a score.
    * responses: how many of the week's respondents gave a score (the mean's respondents).
    * reached: the run's deliveries whose DM went out (status sent or answered).
    * answered: those deliveries marked answered; response_rate = answered / reached
      (`bot.surveys.privacy.response_rate`, never withheld, `None` when nobody was reached), the same
      figure as the survey's own run summary.
    * trend: (ISO week label, mean) for the `weeks` weeks ending with this one, oldest
      first; each week judged on its own, weeks without a run or answers read "no responses
      yet". withheld_weeks: how many of them are withheld.
    * help_most: (option key, answers) of "what would help you most", most first, ties by
      key, only options somebody picked; `None` (withheld) when fewer than `minimum` people
      answered that question.
    * comments: the week's comments (`bot.surveys.privacy.safe_comments`), with the week's
      respondents (anyone who answered anything) as the respondent count: empty below the
      minimum, sorted, never names.
    """
    require_monday(week_start)
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    first_week = week_start - timedelta(days=7 * (weeks - 1))
    found = await weeks_satisfaction(
        session,
        team_id=team_id,
        week_starts=[first_week + timedelta(days=7 * back) for back in range(weeks)],
        minimum=minimum,
        comments_for=[week_start],
    )
    weekly = [(iso_week_label(week.week_start), week.gated.mean) for week in found.weeks]
    this = found.weeks[-1]
    reached = answered = 0
    if this.run_id is not None:
        delivery_row = (
            await session.exec(
                select(
                    sa.func.count(),
                    sa.func.sum(
                        sa.case((col(SurveyDelivery.status) == DeliveryStatus.ANSWERED, 1), else_=0)
                    ),
                ).where(
                    col(SurveyDelivery.run_id) == this.run_id,
                    col(SurveyDelivery.status).in_([DeliveryStatus.SENT, DeliveryStatus.ANSWERED]),
                )
            )
        ).one()
        reached, answered = int(delivery_row[0] or 0), int(delivery_row[1] or 0)
    return SatisfactionStats(
        week_label=iso_week_label(week_start),
        mean=this.gated.mean,
        distribution=this.gated.distribution,
        responses=this.gated.mean.respondents,
        reached=reached,
        response_rate=response_rate(answered, reached),
        trend=weekly,
        help_most=this.gated.help_most,
        comments=this.gated.comments,
        answered=answered,
        withheld_weeks=found.mean.withheld_weeks,
        minimum=minimum,
    )
