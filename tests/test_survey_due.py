"""The survey job's pre-filter: every workspace it leaves out really has nothing to do.

For workspaces in many states (surveys off, no sales group, no run yet, DMs waiting or due,
sent and waiting for the reminder, a claim orphaned by a crash, a run due to close, a closed run
without its tally, a rep added or moved after planning, everything answered) and many moments,
each workspace `teams_with_survey_work` leaves out is run through the real job anyway: not a row
of the survey or outbox tables may change, and Slack must hear nothing. The busy ones must be
named and the idle ones not, or the filter would be useless.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import (
    DeliveryStatus,
    OutboxMessage,
    Role,
    SurveyDelivery,
    SurveyKind,
    SurveyRun,
    SurveyRunTally,
)
from bot.surveys.due import teams_with_survey_work
from bot.workspace.roster import SlackUserFacts, replace_role_members, store_slack_users
from bot.workspace.settings import load_settings
from jobs.surveys import run_team_surveys
from sandbox.fakeslack import FakeSlack
from tests.support.workspace import ADMIN, SALES_GROUP, FixedClock, configure

MON = datetime(2026, 11, 23, tzinfo=UTC)  # Monday of the test week (ISO week 48)
TABLES = (SurveyRun, SurveyRunTally, SurveyDelivery, OutboxMessage)


async def workspace(
    deps: Deps, fake: FakeSlack, team_id: str, reps: dict[str, str | None], **changes: Any
) -> None:
    """A workspace with settings and a sales roster as roster sync stores it."""
    await configure(deps, team_id, admins=(ADMIN,), **changes)
    await roster(deps, fake, team_id, reps)


async def roster(
    deps: Deps,
    fake: FakeSlack,
    team_id: str,
    reps: dict[str, str | None],
    gone: Iterable[str] = (),
) -> None:
    """The sales roster as roster sync stores it; `gone` are deactivated in Slack (no DM)."""
    for user_id, tz in reps.items():
        fake.add_user(user_id, tz=tz or "UTC")
    async with deps.sessions() as session:
        await replace_role_members(
            session, team_id=team_id, role=Role.SALES, user_ids=list(reps), now=deps.clock()
        )
        await store_slack_users(
            session,
            team_id=team_id,
            users=[
                SlackUserFacts(user, tz, user in gone, user.startswith("U0BOT"))
                for user, tz in reps.items()
            ],
            now=deps.clock(),
        )


async def job(deps: Deps, clock: FixedClock, team_id: str, now: datetime) -> None:
    clock.now = now
    await run_team_surveys(deps, make_client(deps), team_id=team_id, now=now)


async def execute(deps: Deps, statement: Any) -> None:
    async with deps.sessions() as session:
        await session.exec(statement)
        await session.commit()


async def snapshot(deps: Deps) -> list[list[tuple[Any, ...]]]:
    async with deps.sessions() as session:
        connection = await session.connection()
        tables = []
        for model in TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            rows = await connection.execute(sa.select(table).order_by(*table.primary_key))
            tables.append([tuple(row) for row in rows.all()])
        return tables


async def tick(
    deps: Deps, fake: FakeSlack, clock: FixedClock, teams: Iterable[str], now: datetime
) -> set[str]:
    """One filtered tick: the skipped workspaces run anyway and must do nothing; the rest run."""
    clock.now = now
    async with deps.sessions() as session:
        config = {team: await load_settings(session, team) for team in teams}
    async with deps.sessions() as session:
        due = await teams_with_survey_work(session, settings=config, now=now)
    assert due <= set(config)
    for team in sorted(set(config) - due):
        before, calls = await snapshot(deps), len(fake.calls)
        await job(deps, clock, team, now)
        assert await snapshot(deps) == before, f"{team} had work at {now:%a %H:%M}"
        assert fake.calls[calls:] == [], f"{team} called Slack at {now:%a %H:%M}"
    for team in sorted(due):
        await job(deps, clock, team, now)
    return due


# --------------------------------------------------------------------------------------
# Named states, moment by moment
# --------------------------------------------------------------------------------------

STATES = ("OFF", "NOGRP", "NEW", "WAIT", "SENT", "STALE", "CLOSE", "UNTAL", "ADDED", "TZ", "DONE")


async def test_skipped_workspaces_have_nothing_to_do_and_busy_ones_are_named(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    t = {name: f"T0{name}" for name in STATES}
    on = {"sales_usergroup": SALES_GROUP}
    await workspace(deps, fake_slack, t["OFF"], {"U0OFF": None}, surveys_enabled=False, **on)
    await workspace(deps, fake_slack, t["NOGRP"], {"U0NOGRP": None})
    await workspace(deps, fake_slack, t["NEW"], {"U0NEW": "Europe/Berlin"}, **on)
    await workspace(deps, fake_slack, t["WAIT"], {"U0WAIT": "America/Los_Angeles"}, **on)
    await workspace(deps, fake_slack, t["SENT"], {"U0SENT": "Asia/Tokyo"}, **on)
    await workspace(deps, fake_slack, t["STALE"], {"U0STALE": "Asia/Tokyo"}, **on)
    await workspace(deps, fake_slack, t["ADDED"], {"U0ADD1": "Asia/Tokyo"}, **on)
    await workspace(deps, fake_slack, t["TZ"], {"U0TZ": "America/Los_Angeles"}, **on)
    await workspace(deps, fake_slack, t["DONE"], {"U0DONE": "Asia/Tokyo"}, **on)
    # Last week's runs, then surveys turned off: only closing (Mon 08:00 UTC) is left.
    await workspace(
        deps, fake_slack, t["CLOSE"], {"U0CLOSE": None}, timezone="America/Los_Angeles", **on
    )
    await job(deps, clock, t["CLOSE"], MON - timedelta(days=6))
    await configure(deps, t["CLOSE"], surveys_enabled=False)
    # Last week's runs closed, then their tallies lost.
    await workspace(deps, fake_slack, t["UNTAL"], {"U0UNTAL": None}, **on)
    await job(deps, clock, t["UNTAL"], MON - timedelta(days=6))
    await configure(deps, t["UNTAL"], surveys_enabled=False)
    await job(deps, clock, t["UNTAL"], MON + timedelta(hours=1))
    await execute(deps, sa.delete(SurveyRunTally).where(col(SurveyRunTally.team_id) == t["UNTAL"]))

    setup = MON + timedelta(hours=2)
    for name in ("WAIT", "SENT", "STALE", "ADDED", "TZ", "DONE"):
        await job(deps, clock, t[name], setup)
    stale = (
        sa.update(SurveyDelivery)
        .where(col(SurveyDelivery.team_id) == t["STALE"])
        .values(status=DeliveryStatus.SENDING, claim_token="lost", claimed_at=setup, sent_at=None)
    )
    await execute(deps, stale)
    await roster(deps, fake_slack, t["ADDED"], {"U0ADD1": "Asia/Tokyo", "U0ADD2": "Asia/Tokyo"})
    await roster(deps, fake_slack, t["TZ"], {"U0TZ": "Asia/Tokyo"})  # planned for LA: kept
    await execute(
        deps,
        sa.update(SurveyDelivery)
        .where(col(SurveyDelivery.team_id) == t["DONE"])
        .values(status=DeliveryStatus.ANSWERED, answered_at=setup),
    )

    def named(*names: str) -> set[str]:
        return {t[name] for name in names}

    teams = list(t.values())
    day, hour = timedelta(days=1), timedelta(hours=1)
    expected: list[tuple[datetime, set[str]]] = [
        (setup + timedelta(minutes=5), named("NEW", "ADDED", "UNTAL")),
        (setup + timedelta(minutes=10), named("STALE")),  # the lost claim's lease is over
        (MON + 8 * hour, named("CLOSE")),  # the end of last week in Los Angeles
        (MON + 9 * hour, named("NEW")),  # Monday 10:00 in Berlin
        (MON + 17 * hour, set()),
        (MON + 18 * hour, named("WAIT", "TZ")),  # Monday 10:00 in Los Angeles
        (MON + day + 12 * hour, set()),
        (MON + 2 * day + 2 * hour + timedelta(minutes=5), named("SENT", "STALE", "ADDED")),
        (MON + 2 * day + 9 * hour, named("NEW")),
        (MON + 2 * day + 18 * hour, named("WAIT", "TZ")),
        (MON + 3 * day, set()),
        (MON + 7 * day, named("NEW", "WAIT", "SENT", "STALE", "ADDED", "TZ", "DONE")),
        (MON + 7 * day + timedelta(minutes=5), set()),
    ]
    for now, busy in expected:
        assert await tick(deps, fake_slack, clock, teams, now) == busy, f"{now:%a %d %H:%M}"


# --------------------------------------------------------------------------------------
# Random histories
# --------------------------------------------------------------------------------------

ZONES = ("UTC", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago")
MINUTES = st.integers(min_value=0, max_value=10 * 24 * 12).map(lambda n: timedelta(minutes=5 * n))


@dataclass(frozen=True)
class Team:
    enabled: bool
    group: bool
    timezone: str
    local_time: bool
    reminder_days: int
    schedule: str
    reps: dict[str, str | None]
    ran_at: list[timedelta]  # jobs run before the moments checked (from MON - 7 days)
    stale_at: timedelta | None  # one delivery's claim lost at that time
    answered: bool  # some deliveries answered
    later_reps: dict[str, str | None] | None  # roster after the jobs (adds, moves, removals)
    gone: frozenset[str]  # of later_reps, deactivated in Slack
    later_timezone: str | None
    later_enabled: bool | None
    lose_tallies: bool
    drop_pipeline: bool  # the pipeline run lost (only enablement's left)


reps = st.dictionaries(
    st.sampled_from(["U0R1", "U0R2", "U0R3", "U0BOT1"]),
    st.none() | st.sampled_from(ZONES),
    max_size=3,
)
teams = st.builds(
    Team,
    enabled=st.sampled_from([True, True, True, False]),
    group=st.sampled_from([True, True, True, False]),
    timezone=st.sampled_from(ZONES),
    local_time=st.booleans(),
    reminder_days=st.integers(min_value=0, max_value=3),
    schedule=st.sampled_from(["mon 10:00", "wed 23:30", "sun 23:55", "fri 00:00"]),
    reps=reps,
    ran_at=st.lists(MINUTES, max_size=3),
    stale_at=st.none() | MINUTES,
    answered=st.booleans(),
    later_reps=st.none() | reps,
    gone=st.frozensets(st.sampled_from(["U0R2", "U0R3"])),
    later_timezone=st.none() | st.sampled_from(ZONES),
    later_enabled=st.none() | st.booleans(),
    lose_tallies=st.booleans(),
    drop_pipeline=st.sampled_from([False, False, True]),
)
_examples = itertools.count(1)


@pytest.mark.timeout(120)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    states=st.lists(teams, min_size=3, max_size=3),
    moments=st.lists(MINUTES, min_size=1, max_size=3),
)
async def test_no_workspace_left_out_ever_had_work(
    deps: Deps,
    fake_slack: FakeSlack,
    clock: FixedClock,
    states: list[Team],
    moments: list[timedelta],
) -> None:
    start = MON - timedelta(days=7)
    example = next(_examples)
    names = []
    for index, state in enumerate(states):
        team = f"TH{example}X{index}"
        names.append(team)
        await workspace(
            deps,
            fake_slack,
            team,
            state.reps,
            surveys_enabled=state.enabled,
            timezone=state.timezone,
            survey_local_time=state.local_time,
            survey_reminder_days=state.reminder_days,
            enablement_survey_schedule=state.schedule,
            **({"sales_usergroup": SALES_GROUP} if state.group else {}),
        )
        for offset in sorted(state.ran_at):
            await job(deps, clock, team, start + offset)
        if state.stale_at is not None:
            first = sa.select(sa.func.min(col(SurveyDelivery.id))).where(
                col(SurveyDelivery.team_id) == team
            )
            await execute(
                deps,
                sa.update(SurveyDelivery)
                .where(col(SurveyDelivery.id) == first.scalar_subquery())
                .values(
                    status=DeliveryStatus.SENDING,
                    claim_token="lost",
                    claimed_at=start + state.stale_at,
                ),
            )
        if state.answered:
            await execute(
                deps,
                sa.update(SurveyDelivery)
                .where(
                    col(SurveyDelivery.team_id) == team,
                    col(SurveyDelivery.status) == DeliveryStatus.SENT,
                    col(SurveyDelivery.user_id) != "U0R1",
                )
                .values(status=DeliveryStatus.ANSWERED),
            )
        if state.later_reps is not None:
            await roster(deps, fake_slack, team, state.later_reps, state.gone)
        later = {"timezone": state.later_timezone, "surveys_enabled": state.later_enabled}
        if any(value is not None for value in later.values()):
            await configure(deps, team, **{k: v for k, v in later.items() if v is not None})
        if state.drop_pipeline:
            pipeline = sa.select(col(SurveyRun.id)).where(
                col(SurveyRun.team_id) == team, col(SurveyRun.kind) == SurveyKind.PIPELINE
            )
            for model in (SurveyDelivery, SurveyRunTally):
                await execute(deps, sa.delete(model).where(col(model.run_id).in_(pipeline)))
            await execute(deps, sa.delete(SurveyRun).where(col(SurveyRun.id).in_(pipeline)))
        if state.lose_tallies:
            await execute(
                deps, sa.delete(SurveyRunTally).where(col(SurveyRunTally.team_id) == team)
            )

    last = max(
        [*(t for s in states for t in s.ran_at), *(s.stale_at or timedelta() for s in states)]
    )
    for offset in sorted(moments):  # from the last job on, some minutes to days later
        await tick(deps, fake_slack, clock, names, start + last + offset / 3)
