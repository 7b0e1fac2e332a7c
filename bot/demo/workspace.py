"""A realistic demo workspace: weeks of requests, pulse surveys, pipeline and goals.

`alignbot demo` fills a fresh database with it and prints the digests and scorecards; the
tests use it as a fixture workspace and `bench/digests.py` grows it (`scale`) to a million
survey responses. Everything is deterministic for a given `seed` and `now`, and every row is
consistent with what the bot itself would have written:

* requests move through the lifecycle's own transitions (`bot.demo.histories`), with one
  `RequestEvent` per transition, and `status`, `assignee_id`, `claimed_at`, `delivered_at`,
  `version` and `updated_at` match the events; due dates and SLA deadlines come from the
  business calendar (`bot.demo.requests`);
* survey runs are weekly (closed, except the current week's), with one delivery per sales rep
  and one response per answered delivery, plus its history row (`bot.demo.surveys`); the
  closed runs are rolled up at the end (`bot.surveys.tallies`), as closing them does;
* pipeline answers report the rep's own CRM opportunities of that week, so the survey and
  the CRM tell the same story and sourced + influenced never exceed the total (`bot.demo.crm`);
* the quarter's quota is set so open pipeline covers what is left of it 2.5 times
  (`bot.demo.goals`).

Rows go in with core bulk inserts in chunks (`bot.demo.writer`; ids assigned here, so children
can point at their parents without a round trip), which keeps a million-response workspace to
minutes. This module runs the steps week by week.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period, period_of, period_starting
from bot.calendar.windows import parse_quarter_label, quarter_of
from bot.core.models import SurveyKind
from bot.demo.crm import write_opportunities
from bot.demo.goals import write_feedback, write_quota_and_goals
from bot.demo.people import DEMO_TIMEZONE, set_up_people
from bot.demo.requests import first_request_number, save_request_counter, write_requests
from bot.demo.state import Demo, Progress, local_time
from bot.demo.surveys import write_survey_runs, write_surveys
from bot.demo.writer import BulkWriter
from bot.surveys.tallies import roll_up_runs

__all__ = ["generate_demo"]


async def generate_demo(
    session: AsyncSession,
    *,
    now: datetime,
    reps: int = 12,
    seed: int = 7,
    team_id: str = "TDEMO",
    scale: int = 1,
    weeks: int = 12,
    progress: Progress | None = None,
) -> str:
    """Fill a workspace with `weeks` weeks of realistic data ending at `now`; return its id.

    `scale` multiplies the sales roster (and so every volume: requests, surveys,
    opportunities, leads) and the marketing teams: `reps=12, scale=4160, weeks=12` makes
    about a million survey responses and 200,000 requests. The workspace must not exist yet
    (`alignbot demo` starts from a fresh file). `progress` receives a line per step.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if reps < 1 or scale < 1 or weeks < 2:
        raise ValueError("reps and scale must be at least 1, weeks at least 2")
    rng = random.Random(seed)
    tz = ZoneInfo(DEMO_TIMEZONE)
    first_week = period_of(now, tz).start - timedelta(days=7 * (weeks - 1))
    started = period_starting(first_week, tz).opens_at - timedelta(days=3)
    people = await set_up_people(
        session, rng=rng, team_id=team_id, reps=reps, scale=scale, started=started
    )
    sales, support = people.sales, people.support

    demo = Demo(
        session=session,
        rng=rng,
        now=now,
        team_id=team_id,
        weeks=weeks,
        reps=sales,
        support=support,
        settings=people.settings,
        progress=progress,
        writer=BulkWriter(session),
        rep_zones=people.rep_zones,
        # Some reps lean on Marketing Support far more than others.
        rep_weights=[rng.lognormvariate(0, 0.6) for _ in sales],
    )
    quarter_first, _after, _label = parse_quarter_label(quarter_of(demo.today))
    demo.quarter_start = local_time(quarter_first, 0.0, tz)
    demo.say(
        f"roster: {len(sales)} reps, {len(support)} Marketing Support, {len(people.demandgen)} DG"
    )
    writer = demo.writer
    for name in ("support_request", "request_event", "survey_run", "survey_response"):
        demo.next_ids[name] = await writer.next_id(name)
    demo.request_number = await first_request_number(session, team_id)

    periods = [
        period_starting(first_week + timedelta(days=7 * index), tz) for index in range(weeks)
    ]
    runs = await write_survey_runs(demo, periods)
    for index, period in enumerate(periods):
        await _week(demo, index, period, runs[period.start])
        await writer.flush_all()
        await session.commit()
        demo.say(
            f"week {period.label} ({index + 1}/{weeks}): "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(writer.written.items()))
        )

    await save_request_counter(demo)
    await write_quota_and_goals(demo, periods)
    await write_feedback(demo, periods)
    await writer.flush_all()
    await writer.fix_sequences(
        [
            "support_request",
            "request_event",
            "delivery_rating",
            "survey_run",
            "survey_delivery",
            "survey_response",
            "survey_response_history",
            "opportunity",
            "feedback_action",
        ]
    )
    # Closed weeks are rolled up as `close_due_runs` would have when they closed.
    await roll_up_runs(session, [run for week in runs.values() for run in week.values()], now)
    await session.commit()
    demo.say("done")
    return team_id


async def _week(demo: Demo, index: int, period: Period, runs: dict[SurveyKind, int]) -> None:
    opportunities = await write_opportunities(demo, index, period)
    await write_requests(demo, index, period)
    await write_surveys(demo, index, period, runs, opportunities)
