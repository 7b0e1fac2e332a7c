"""Closed survey weeks are counted once (issue "Closed periods are computed once"): closing a run
stores its tally in the same transaction, readers take closed runs' tallies and count the rest
live, and the figures are the same as counting everything from scratch, whatever happened to
the weeks — closed by the job, closed before tallies existed, still open, comments erased by
retention after the close.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.calendar.windows import Window
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import RunStatus, SurveyKind, SurveyResponse, SurveyRun, SurveyRunTally
from bot.kpis.pipeline import pipeline_stats
from bot.surveys.responses import ACTIVITY_OPTIONS, HELP_OPTIONS, record_enablement
from bot.surveys.runs import close_due_runs
from bot.surveys.satisfaction import weeks_satisfaction, window_satisfaction
from bot.surveys.tallies import (
    EnablementTally,
    PipelineTally,
    count_enablement,
    count_pipeline,
    roll_up_runs,
    roll_up_untallied,
    tallies_for,
)
from bot.workspace.retention import erase_old_free_text

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # the `clock` fixture's time: Tuesday, W48
THIS_WEEK = date(2026, 11, 23)
WEEKS = [THIS_WEEK - timedelta(days=7 * back) for back in range(5, -1, -1)]  # W43 … W48
LONG_AGO = NOW - timedelta(days=400)  # past the default 365 days of retention
HELP_KEYS = sorted(HELP_OPTIONS)
ACTIVITY_KEYS = [*sorted(ACTIVITY_OPTIONS), "ms:12:MS-0012", "retired"]


def opens(week: date) -> datetime:
    return datetime.combine(week, time(), tzinfo=UTC)


# --------------------------------------------------------------------------------------
# Random histories
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enablement:
    score: int | None
    help_with: str | None
    comment: str | None
    old: bool  # last saved long ago: retention erases its comment


@dataclass(frozen=True)
class Pipeline:
    values: tuple[int | None, ...]  # the six count and cents columns
    activities: str | None


@dataclass(frozen=True)
class Week:
    enablement: list[Enablement]
    pipeline: list[Pipeline]
    closed_before: tuple[bool, bool]  # (enablement, pipeline) stored closed, without a tally


@dataclass(frozen=True)
class History:
    weeks: dict[date, Week]
    close_weeks: int  # how many of the oldest weeks close_due_runs closes
    heal: int | None  # roll_up_untallied's limit, when it runs
    erase: bool  # retention erases old comments after the close
    minimum: int


PIPELINE_COLUMNS = (
    "opportunities",
    "pipeline_cents",
    "sourced_count",
    "sourced_cents",
    "influenced_count",
    "influenced_cents",
)

enablement_answers = st.builds(
    Enablement,
    score=st.none() | st.integers(1, 5),
    help_with=st.none() | st.sampled_from(HELP_KEYS),
    comment=st.none() | st.sampled_from(["Great decks", "slow", "=SUM(A1)"]),
    old=st.booleans(),
)
pipeline_answers = st.builds(
    Pipeline,
    values=st.tuples(*(st.none() | st.integers(0, 10**9) for _ in PIPELINE_COLUMNS)),
    activities=st.none()
    | st.lists(st.sampled_from(ACTIVITY_KEYS), max_size=3).map(json.dumps)
    | st.just("not json"),
)


@st.composite
def histories(draw: st.DrawFn) -> History:
    count = draw(st.integers(2, len(WEEKS)))
    weeks = {
        week: Week(
            enablement=draw(st.lists(enablement_answers, max_size=8)),
            pipeline=draw(st.lists(pipeline_answers, max_size=5)),
            closed_before=(draw(st.booleans()), draw(st.booleans())),
        )
        for week in WEEKS[-count:]
    }
    return History(
        weeks=weeks,
        close_weeks=draw(st.integers(0, count)),
        heal=draw(st.none() | st.integers(0, 3)),
        erase=draw(st.booleans()),
        minimum=draw(st.integers(3, 5)),
    )


async def store(deps: Deps, team_id: str, history: History) -> dict[tuple[date, SurveyKind], int]:
    """The history's runs (open, or closed without a tally) and responses, as stored."""
    runs: dict[tuple[date, SurveyKind], int] = {}
    async with deps.sessions() as session:
        for week, answers in history.weeks.items():
            for kind, closed in zip(SurveyKind, answers.closed_before, strict=True):
                run = SurveyRun(
                    team_id=team_id,
                    kind=kind,
                    period_start=week,
                    period_end=week + timedelta(days=6),
                    opens_at=opens(week),
                    closes_at=opens(week) + timedelta(days=7),
                    status=RunStatus.CLOSED if closed else RunStatus.OPEN,
                    created_at=opens(week),
                    closed_at=opens(week) + timedelta(days=7) if closed else None,
                )
                session.add(run)
                await session.flush()
                assert run.id is not None
                runs[week, kind] = run.id
            saved = opens(week) + timedelta(hours=10)
            for index, reply in enumerate(answers.enablement):
                session.add(
                    SurveyResponse(
                        run_id=runs[week, SurveyKind.ENABLEMENT],
                        team_id=team_id,
                        kind=SurveyKind.ENABLEMENT,
                        user_id=f"U0REP{index:03d}",
                        score=reply.score,
                        help_with=reply.help_with,
                        comment=reply.comment,
                        created_at=saved,
                        updated_at=LONG_AGO if reply.old else saved,
                    )
                )
            for index, answer in enumerate(answers.pipeline):
                session.add(
                    SurveyResponse(
                        run_id=runs[week, SurveyKind.PIPELINE],
                        team_id=team_id,
                        kind=SurveyKind.PIPELINE,
                        user_id=f"U0REP{index:03d}",
                        activities=answer.activities,
                        created_at=saved,
                        updated_at=saved,
                        **dict(zip(PIPELINE_COLUMNS, answer.values, strict=True)),
                    )
                )
        await session.commit()
    return runs


async def figures(deps: Deps, team_id: str, history: History) -> list[str]:
    """Every figure the readers give over the history's weeks, as text."""
    weeks = sorted(history.weeks)
    bounds = [*weeks, weeks[-1] + timedelta(days=7)]
    out: list[str] = []
    async with deps.sessions() as session:
        for first, after in itertools.combinations(bounds, 2):
            window = Window(opens(first), opens(after), "window", tz=ZoneInfo("UTC"))
            for with_comments in (False, True):
                found = await window_satisfaction(
                    session,
                    team_id=team_id,
                    window=window,
                    minimum=history.minimum,
                    with_comments=with_comments,
                )
                out.append(repr(found))
            out.append(repr(await pipeline_stats(session, team_id=team_id, window=window)))
        # The digest's trend: weeks given, one before any run, comments for some.
        trend = [weeks[0] - timedelta(days=7), *weeks]
        for comments_for in (trend, trend[::2], ()):
            found = await weeks_satisfaction(
                session,
                team_id=team_id,
                week_starts=trend,
                minimum=history.minimum,
                comments_for=comments_for,
            )
            out.append(repr(found))
    return out


async def tallies_equal_a_count_from_scratch(deps: Deps, team_id: str) -> dict[int, Any]:
    """The invariant: every stored tally is a closed run's, equal to counting it afresh."""
    async with deps.sessions() as session:
        runs = (
            await session.exec(
                select(col(SurveyRun.id), col(SurveyRun.status), col(SurveyRun.kind)).where(
                    col(SurveyRun.team_id) == team_id
                )
            )
        ).all()
        ids = [int(run_id) for run_id, _status, _kind in runs if run_id is not None]
        stored = await tallies_for(session, ids)
        rows = (
            await session.exec(
                select(col(SurveyRunTally.run_id)).where(col(SurveyRunTally.team_id) == team_id)
            )
        ).all()
        fresh: dict[int, Any] = {
            **await count_enablement(
                session, [int(r) for r, _s, k in runs if k == SurveyKind.ENABLEMENT and r]
            ),
            **await count_pipeline(
                session, [int(r) for r, _s, k in runs if k == SurveyKind.PIPELINE and r]
            ),
        }
    closed = {int(run_id) for run_id, status, _kind in runs if status == RunStatus.CLOSED}
    assert set(rows) == set(stored) <= closed
    for run_id, tally in stored.items():
        assert tally == fresh[run_id]
    return stored


_teams = itertools.count(1)


@pytest.mark.timeout(120)
@settings(
    max_examples=12,
    deadline=None,
    # Each example is its own workspace (team id) in the test's database.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
async def test_figures_are_the_same_from_tallies_and_from_scratch(
    deps: Deps, history: History
) -> None:
    team_id = f"TTALLY{next(_teams)}"
    runs = await store(deps, team_id, history)
    weeks = sorted(history.weeks)
    close_at = opens(weeks[0]) + timedelta(days=7 * history.close_weeks)
    async with deps.sessions() as session:
        closed = await close_due_runs(session, team_id=team_id, now=close_at)
    due = [
        run
        for (week, kind), run in runs.items()
        if week < weeks[0] + timedelta(days=7 * history.close_weeks)
        and not history.weeks[week].closed_before[list(SurveyKind).index(kind)]
    ]
    assert closed == len(due)
    if history.heal is not None:
        async with deps.sessions() as session:
            await roll_up_untallied(session, team_id=team_id, now=close_at, limit=history.heal)
            await session.commit()
    if history.erase:
        async with deps.sessions() as session:
            await erase_old_free_text(session, team_id=team_id, retention_days=365, now=NOW)

    stored = await tallies_equal_a_count_from_scratch(deps, team_id)
    assert set(due) <= set(stored)
    with_tallies = await figures(deps, team_id, history)

    async with deps.sessions() as session:
        await session.exec(sa.delete(SurveyRunTally).where(col(SurveyRunTally.team_id) == team_id))
        await session.commit()
    from_scratch = await figures(deps, team_id, history)

    assert with_tallies == from_scratch


# --------------------------------------------------------------------------------------
# Closing, racing, refusing, forgetting
# --------------------------------------------------------------------------------------

W46, W47 = date(2026, 11, 9), date(2026, 11, 16)
ANSWERS = [(5, "roi", None), (4, None, "good"), (None, None, "only a comment"), (2, "roi", None)]


async def two_open_weeks(deps: Deps, team_id: str = "TTALLY") -> dict[tuple[date, SurveyKind], int]:
    history = History(
        weeks={
            week: Week(
                enablement=[
                    Enablement(s, h, c, old=index == 2) for index, (s, h, c) in enumerate(ANSWERS)
                ],
                pipeline=[Pipeline((3, 300_000, 1, 100_000, 1, 50_000), '["webinar"]')],
                closed_before=(False, False),
            )
            for week in (W46, W47)
        },
        close_weeks=0,
        heal=None,
        erase=False,
        minimum=3,
    )
    return await store(deps, team_id, history)


async def stored_tallies(deps: Deps) -> list[tuple[int, str, str]]:
    async with deps.sessions() as session:
        rows = (
            await session.exec(
                select(
                    col(SurveyRunTally.run_id),
                    col(SurveyRunTally.kind),
                    col(SurveyRunTally.payload),
                ).order_by(col(SurveyRunTally.run_id))
            )
        ).all()
    return [(int(run), str(kind), payload) for run, kind, payload in rows]


async def test_closing_stores_exactly_one_tally_per_closed_run(deps: Deps) -> None:
    runs = await two_open_weeks(deps)
    async with deps.sessions() as session:
        assert await close_due_runs(session, team_id="TTALLY", now=opens(W47)) == 2

    tallies = await stored_tallies(deps)
    assert [run for run, _kind, _payload in tallies] == sorted(
        [runs[W46, SurveyKind.ENABLEMENT], runs[W46, SurveyKind.PIPELINE]]
    )
    async with deps.sessions() as session:
        found = await tallies_for(session, runs.values())
    assert found == {
        runs[W46, SurveyKind.ENABLEMENT]: EnablementTally(
            respondents=4, scorers=3, scores={2: 1, 4: 1, 5: 1}, helpers=2, help={"roi": 2}
        ),
        runs[W46, SurveyKind.PIPELINE]: PipelineTally(1, 3, 300_000, 1, 100_000, 1, 50_000),
    }
    # Closing again (the next tick) closes nothing and stores nothing.
    async with deps.sessions() as session:
        assert await close_due_runs(session, team_id="TTALLY", now=opens(W47)) == 0
    assert await stored_tallies(deps) == tallies


async def test_racing_closes_store_one_tally_each(deps: Deps) -> None:
    runs = await two_open_weeks(deps)

    async def close() -> int:
        async with deps.sessions() as session:
            return await close_due_runs(session, team_id="TTALLY", now=NOW)

    assert sorted(await asyncio.gather(close(), close())) == [0, 4]
    assert [run for run, _kind, _payload in await stored_tallies(deps)] == sorted(runs.values())
    # Two replicas healing the same runs: the second stores nothing.
    async with deps.sessions() as session:
        assert await roll_up_runs(session, runs.values(), NOW) == 0
        await session.commit()
    await tallies_equal_a_count_from_scratch(deps, "TTALLY")


async def test_an_answer_committed_while_the_close_waits_is_counted(deps: Deps) -> None:
    runs = await two_open_weeks(deps)
    run_id = runs[W46, SurveyKind.ENABLEMENT]
    async with deps.sessions() as answering:
        # What saving an answer does first: lock the run's row (SQLite: the write lock).
        await answering.exec(select(SurveyRun).where(SurveyRun.id == run_id).with_for_update())
        closing = asyncio.create_task(close_at(deps, opens(W47)))
        await asyncio.sleep(0.3)
        assert not closing.done()  # the close waits for the answer
        answering.add(
            SurveyResponse(
                run_id=run_id,
                team_id="TTALLY",
                kind=SurveyKind.ENABLEMENT,
                user_id="U0LATE",
                score=1,
                created_at=opens(W47) - timedelta(minutes=1),
                updated_at=opens(W47) - timedelta(minutes=1),
            )
        )
        await answering.commit()
    assert await closing == 2
    async with deps.sessions() as session:
        tally = (await tallies_for(session, [run_id]))[run_id]
    assert isinstance(tally, EnablementTally)
    assert (tally.respondents, tally.scores) == (5, {1: 1, 2: 1, 4: 1, 5: 1})


async def close_at(deps: Deps, now: datetime) -> int:
    async with deps.sessions() as session:
        return await close_due_runs(session, team_id="TTALLY", now=now)


async def test_an_answer_after_the_close_is_refused_and_the_tally_unchanged(deps: Deps) -> None:
    runs = await two_open_weeks(deps)
    await close_at(deps, opens(W47))
    before = await stored_tallies(deps)

    async with deps.sessions() as session:
        with pytest.raises(UserError, match="closed"):
            # A clock still inside the week: the run's status refuses it all the same.
            await record_enablement(
                session,
                team_id="TTALLY",
                run_id=runs[W46, SurveyKind.ENABLEMENT],
                user_id="U0LATE",
                now=opens(W47) - timedelta(hours=1),
                score=1,
            )

    assert await stored_tallies(deps) == before
    await tallies_equal_a_count_from_scratch(deps, "TTALLY")


async def test_retention_erasing_a_comment_counts_the_closed_week_again(deps: Deps) -> None:
    runs = await two_open_weeks(deps)
    await close_at(deps, opens(W47))
    run_id = runs[W46, SurveyKind.ENABLEMENT]
    async with deps.sessions() as session:
        before = (await tallies_for(session, [run_id]))[run_id]
    assert isinstance(before, EnablementTally)
    assert before.respondents == 4

    async with deps.sessions() as session:
        report = await erase_old_free_text(session, team_id="TTALLY", retention_days=365, now=NOW)
    assert report.survey_responses == 2  # the only-a-comment answer of each week

    # The one who only commented no longer answered anything: the tally says so.
    async with deps.sessions() as session:
        after = (await tallies_for(session, [run_id]))[run_id]
    assert isinstance(after, EnablementTally)
    assert after.respondents == 3
    await tallies_equal_a_count_from_scratch(deps, "TTALLY")
    # The open week has no tally: it is counted live.
    async with deps.sessions() as session:
        assert runs[W47, SurveyKind.ENABLEMENT] not in await tallies_for(session, runs.values())
