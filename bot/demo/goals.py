"""The demo's quarter: the team quota, the goals, and Marketing Support's "you said, we did"
actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.calendar.periods import Period
from bot.calendar.windows import parse_quarter_label, quarter_of
from bot.core.models import FeedbackAction, Quota
from bot.demo.people import ADMIN
from bot.demo.state import Demo, local_time
from bot.kpis.goals import set_goal

__all__ = ["TARGET_COVERAGE", "write_feedback", "write_quota_and_goals"]

TARGET_COVERAGE: Final = 2.5
LEAD_CONVERSION_GOAL: Final = 0.12


async def write_quota_and_goals(demo: Demo, periods: list[Period]) -> None:
    """The quarter's team quota (open pipeline covers what is left of it `TARGET_COVERAGE`
    times) and its goals."""
    totals = demo.totals
    quarter = quarter_of(demo.today)
    q_first, q_after, _label = parse_quarter_label(quarter)
    remaining = max(round(totals.open_in_quarter / TARGET_COVERAGE), 100_000)
    demo.session.add(
        Quota(
            team_id=demo.team_id,
            quarter=quarter,
            owner="*",
            amount_cents=totals.booked_in_quarter + remaining,
            updated_at=demo.now,
        )
    )
    await demo.session.flush()
    # Goals a little above the pace so far: attainment reads as a realistic 80–100%.
    first_data = max(q_first, periods[0].start)
    elapsed = max((demo.today - first_data).days + 1, 1)
    length = (q_after - first_data).days
    pace = length / elapsed
    sourced_goal = max(round(totals.sourced_in_quarter * pace * 1.1, -5), 100_000.0)
    delivered_goal = float(max(round(totals.delivered_in_quarter * pace), 1))
    for metric, target, paired in (
        ("sourced_pipeline", float(sourced_goal), LEAD_CONVERSION_GOAL),
        ("requests_delivered", delivered_goal, 0.9),
        ("enablement_satisfaction", 4.0, None),
        ("quota_attainment", 1.0, None),
    ):
        await set_goal(
            demo.session,
            team_id=demo.team_id,
            quarter=quarter,
            metric=metric,
            target=target,
            paired_target=paired,
            set_by=ADMIN,
            now=demo.now,
        )


async def write_feedback(demo: Demo, periods: list[Period]) -> None:
    """Two "you said, we did" actions from Marketing Support, in the last two weeks."""
    for back, theme, text in (
        (2, "competitive", "Published new battlecards for Northwind and Contoso"),
        (1, "case_studies", "Added two healthcare case studies to the content hub"),
    ):
        period = periods[-1 - back] if back < len(periods) else periods[0]
        created = local_time(period.start + timedelta(days=4), 15.0, demo.tz)
        demo.session.add(
            FeedbackAction(
                team_id=demo.team_id,
                week_start=period.start,
                theme=theme,
                text=text,
                created_by=demo.support[0],
                created_at=min(created, demo.now),
            )
        )
    await demo.session.flush()
