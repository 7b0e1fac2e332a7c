"""Survey tallies: what the figures need of each survey run's responses, counted in one place,
and stored once for every closed run (`SurveyRunTally`).

This module owns the definition of a run's counts — the only one; the readers
(`bot.surveys.satisfaction` for enablement answers, `bot.kpis.pipeline` for pipeline answers) and
the roll-up both use it:

* enablement: `respondents` = responses that answered anything (a score, an option or a
  comment), `scorers` = those with a score, `scores` = responses per score, `helpers` = those
  that picked what would help most, `help` = responses per option. One response per person and
  run (`uq_survey_response_person`), so responses counted are distinct people. Comments are not
  tallied: they are read live, and only for weeks the privacy gate shows.
* pipeline: `respondents` = responses, and the sums of the counts and cents reps reported.
  Activity rankings are not tallied (`bot.kpis.pipeline` ranks them live where asked).

Invariant: a tally exists only for a closed run, and equals counting that run's responses from
scratch (`count_enablement`, `count_pipeline`). A closed run refuses answers
(`bot.surveys.responses`), so it is written once, in the transaction that closes the run
(`bot.surveys.runs.close_due_runs`); runs closed before tallies existed (or by the demo) are
rolled up by `roll_up_untallied`. Anything that changes a closed run's responses invalidates its
tally in the same transaction (`forget_tallies`, or `refresh_tallies` to count it again at
once): today that is only retention erasing survey comments (`bot.workspace.retention`), since
a comment alone makes a respondent. Changing the counting rules here means a migration that
deletes every tally, so that they are rolled up again under the new rules.

Readers (`enablement_counts`, `pipeline_counts`) take a run's tally when it has one and count
the other runs (the open week, a run not rolled up yet) live: both give the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import RunStatus, SurveyKind, SurveyResponse, SurveyRun, SurveyRunTally

__all__ = [
    "HEAL_BATCH",
    "EnablementTally",
    "PipelineTally",
    "RunTally",
    "count_enablement",
    "count_pipeline",
    "enablement_counts",
    "forget_tallies",
    "pipeline_counts",
    "refresh_tallies",
    "roll_up_runs",
    "roll_up_untallied",
    "tallies_for",
]

HEAL_BATCH: Final = 50
"""Closed runs without a tally that one `roll_up_untallied` call rolls up at most."""


@dataclass(frozen=True)
class EnablementTally:
    """One run's enablement answers, counted (see the module docstring)."""

    respondents: int = 0
    scorers: int = 0
    scores: dict[int, int] = field(default_factory=dict)
    helpers: int = 0
    help: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineTally:
    """One run's pipeline answers, summed (see the module docstring); `+` adds runs up."""

    respondents: int = 0
    opportunities: int = 0
    pipeline_cents: int = 0
    sourced_count: int = 0
    sourced_cents: int = 0
    influenced_count: int = 0
    influenced_cents: int = 0

    def __add__(self, other: PipelineTally) -> PipelineTally:
        mine, theirs = asdict(self), asdict(other)
        return PipelineTally(**{name: mine[name] + theirs[name] for name in mine})


RunTally = EnablementTally | PipelineTally
_Tally = TypeVar("_Tally", EnablementTally, PipelineTally)


# --------------------------------------------------------------------------------------
# Counting from scratch: the one definition
# --------------------------------------------------------------------------------------


async def count_enablement(
    session: AsyncSession, run_ids: Collection[int]
) -> dict[int, EnablementTally]:
    """Every run in `run_ids` counted from its enablement responses (zeros for none), in one
    pass grouped by what was answered."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    people: dict[int, list[int]] = {run: [0, 0, 0] for run in ids}
    scores: dict[int, dict[int, int]] = {run: {} for run in ids}
    wishes: dict[int, dict[str, int]] = {run: {} for run in ids}
    connection = await session.connection()
    rows = (
        await connection.execute(
            sa.select(
                col(SurveyResponse.run_id),
                col(SurveyResponse.score),
                col(SurveyResponse.help_with),
                sa.func.count(),
                sa.func.sum(sa.case((col(SurveyResponse.comment).is_not(None), 1), else_=0)),
            )
            .where(
                col(SurveyResponse.run_id).in_(ids),
                col(SurveyResponse.kind) == SurveyKind.ENABLEMENT,
            )
            .group_by(
                col(SurveyResponse.run_id),
                col(SurveyResponse.score),
                col(SurveyResponse.help_with),
            )
        )
    ).all()
    for run_id, value, option, count, commented in rows:
        run, count = int(run_id), int(count)
        counts = people[run]
        # Someone who only commented answered too; a response with nothing in it did not.
        counts[0] += count if value is not None or option is not None else int(commented or 0)
        if value is not None:
            counts[1] += count
            scores[run][int(value)] = scores[run].get(int(value), 0) + count
        if option is not None:
            counts[2] += count
            wishes[run][str(option)] = wishes[run].get(str(option), 0) + count
    return {
        run: EnablementTally(
            respondents=people[run][0],
            scorers=people[run][1],
            scores=dict(sorted(scores[run].items())),
            helpers=people[run][2],
            help=dict(sorted(wishes[run].items())),
        )
        for run in ids
    }


async def count_pipeline(
    session: AsyncSession, run_ids: Collection[int]
) -> dict[int, PipelineTally]:
    """Every run in `run_ids` summed from its pipeline responses (zeros for none)."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    connection = await session.connection()
    rows = (
        await connection.execute(
            sa.select(
                col(SurveyResponse.run_id),
                sa.func.count(),
                sa.func.sum(col(SurveyResponse.opportunities)),
                sa.func.sum(col(SurveyResponse.pipeline_cents)),
                sa.func.sum(col(SurveyResponse.sourced_count)),
                sa.func.sum(col(SurveyResponse.sourced_cents)),
                sa.func.sum(col(SurveyResponse.influenced_count)),
                sa.func.sum(col(SurveyResponse.influenced_cents)),
            )
            .where(
                col(SurveyResponse.run_id).in_(ids),
                col(SurveyResponse.kind) == SurveyKind.PIPELINE,
            )
            .group_by(col(SurveyResponse.run_id))
        )
    ).all()
    tallies = dict.fromkeys(ids, PipelineTally())
    for run_id, *sums in rows:
        tallies[int(run_id)] = PipelineTally(*(int(value or 0) for value in sums))
    return tallies


# --------------------------------------------------------------------------------------
# Reading: stored tallies for closed runs, live counts for the rest
# --------------------------------------------------------------------------------------


async def enablement_counts(
    session: AsyncSession, run_ids: Collection[int]
) -> dict[int, EnablementTally]:
    """`count_enablement`'s answer, from the stored tallies where runs have one."""
    return await _stored_else_counted(session, run_ids, EnablementTally, count_enablement)


async def pipeline_counts(
    session: AsyncSession, run_ids: Collection[int]
) -> dict[int, PipelineTally]:
    """`count_pipeline`'s answer, from the stored tallies where runs have one."""
    return await _stored_else_counted(session, run_ids, PipelineTally, count_pipeline)


async def _stored_else_counted(
    session: AsyncSession,
    run_ids: Collection[int],
    kind: type[_Tally],
    count: Callable[[AsyncSession, Collection[int]], Awaitable[dict[int, _Tally]]],
) -> dict[int, _Tally]:
    stored = {
        run: tally
        for run, tally in (await tallies_for(session, run_ids)).items()
        if isinstance(tally, kind)
    }
    return {**stored, **await count(session, [run for run in run_ids if run not in stored])}


async def tallies_for(session: AsyncSession, run_ids: Collection[int]) -> dict[int, RunTally]:
    """The stored tallies of those of `run_ids` that have one (and are closed); a payload that
    cannot be read is left out, so that run is counted live."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    connection = await session.connection()
    rows = (
        await connection.execute(
            sa.select(
                col(SurveyRunTally.run_id), col(SurveyRunTally.kind), col(SurveyRunTally.payload)
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyRunTally.run_id))
            .where(
                col(SurveyRunTally.run_id).in_(ids),
                col(SurveyRun.status) == RunStatus.CLOSED,
                col(SurveyRun.kind) == col(SurveyRunTally.kind),
            )
        )
    ).all()
    found: dict[int, RunTally] = {}
    for run_id, kind, payload in rows:
        tally = _loaded(SurveyKind(kind), payload)
        if tally is not None:
            found[int(run_id)] = tally
    return found


def _dumped(tally: RunTally) -> str:
    return json.dumps(asdict(tally), sort_keys=True, separators=(",", ":"))


def _loaded(kind: SurveyKind, payload: str) -> RunTally | None:
    try:
        values: Any = json.loads(payload)
        if kind == SurveyKind.ENABLEMENT:
            return EnablementTally(
                respondents=int(values["respondents"]),
                scorers=int(values["scorers"]),
                scores={int(key): int(count) for key, count in sorted(values["scores"].items())},
                helpers=int(values["helpers"]),
                help={str(key): int(count) for key, count in sorted(values["help"].items())},
            )
        return PipelineTally(**{name: int(value) for name, value in values.items()})
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


# --------------------------------------------------------------------------------------
# Writing: roll up closed runs, forget what changed
# --------------------------------------------------------------------------------------


async def roll_up_runs(session: AsyncSession, run_ids: Iterable[int], now: datetime) -> int:
    """Store the tally of each closed run among `run_ids` that has none yet, counted from
    scratch in the caller's transaction (which commits). Open runs are skipped; a tally another
    process stored first is kept (insert-or-nothing). Returns how many were stored."""
    ids = sorted(set(run_ids))
    if not ids:
        return 0
    connection = await session.connection()
    runs = (
        await connection.execute(
            sa.select(col(SurveyRun.id), col(SurveyRun.team_id), col(SurveyRun.kind)).where(
                col(SurveyRun.id).in_(ids), col(SurveyRun.status) == RunStatus.CLOSED
            )
        )
    ).all()
    kinds = {
        int(run_id): (team_id, SurveyKind(kind))
        for run_id, team_id, kind in runs
        if run_id is not None
    }
    counted: Mapping[int, RunTally] = {
        **await count_enablement(
            session, [run for run, (_team, kind) in kinds.items() if kind == SurveyKind.ENABLEMENT]
        ),
        **await count_pipeline(
            session, [run for run, (_team, kind) in kinds.items() if kind == SurveyKind.PIPELINE]
        ),
    }
    if not counted:
        return 0
    statement = (
        dialect_insert(session)(SurveyRunTally)
        .values(
            [
                {
                    "run_id": run,
                    "team_id": kinds[run][0],
                    "kind": kinds[run][1].value,
                    "computed_at": now,
                    "payload": _dumped(tally),
                }
                for run, tally in sorted(counted.items())
            ]
        )
        .on_conflict_do_nothing(index_elements=["run_id"])
        .returning(col(SurveyRunTally.run_id))
    )
    return len((await connection.execute(statement)).all())


def untallied() -> sa.ColumnElement[bool]:
    """A closed run with no tally: what `roll_up_untallied` heals (and so, for the surveys tick,
    work to do)."""
    return sa.and_(
        col(SurveyRun.status) == RunStatus.CLOSED,
        ~sa.exists().where(col(SurveyRunTally.run_id) == col(SurveyRun.id)),
    )


async def roll_up_untallied(
    session: AsyncSession, *, team_id: str, now: datetime, limit: int = HEAL_BATCH
) -> int:
    """Roll up up to `limit` of the workspace's closed runs that have no tally (closed before
    tallies existed, written closed by the demo, or forgotten), latest weeks first. The caller
    commits. Returns how many were stored."""
    connection = await session.connection()
    missing = (
        (
            await connection.execute(
                sa.select(col(SurveyRun.id))
                .where(col(SurveyRun.team_id) == team_id, untallied())
                .order_by(col(SurveyRun.period_start).desc(), col(SurveyRun.id).desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return await roll_up_runs(
        session, [int(run_id) for run_id in missing if run_id is not None], now
    )


async def forget_tallies(session: AsyncSession, run_ids: Iterable[int]) -> int:
    """Delete the tallies of `run_ids` (their responses changed), in the caller's transaction:
    those runs are counted live until rolled up again. Returns how many were deleted."""
    ids = sorted(set(run_ids))
    if not ids:
        return 0
    connection = await session.connection()
    result = await connection.execute(
        sa.delete(SurveyRunTally).where(col(SurveyRunTally.run_id).in_(ids))
    )
    return int(result.rowcount or 0)


async def refresh_tallies(session: AsyncSession, run_ids: Iterable[int], now: datetime) -> int:
    """Forget the tallies of `run_ids` and roll the closed ones up again from their responses
    as they now are, in the caller's transaction. Returns how many were stored."""
    ids = sorted(set(run_ids))
    await forget_tallies(session, ids)
    return await roll_up_runs(session, ids, now)
