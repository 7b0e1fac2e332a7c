"""Survey runs: one per kind and period, opened once even under races, closed when the period
ends (and rolled up then, `bot.surveys.tallies`); finding a run, refusing answers to a closed one, and a run's counts (never who).
Deliveries of a run live in `bot.surveys.deliveries`, its answers in `bot.surveys.responses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period
from bot.core.db import dialect_insert
from bot.core.errors import UserError
from bot.core.models import DeliveryStatus, RunStatus, SurveyDelivery, SurveyKind, SurveyRun
from bot.surveys.tallies import roll_up_runs

__all__ = [
    "RunSummary",
    "check_open",
    "close_due_runs",
    "find_run",
    "get_or_create_run",
    "open_runs",
    "summarise_run",
]


async def get_or_create_run(
    session: AsyncSession, *, team_id: str, kind: SurveyKind, period: Period, now: datetime
) -> SurveyRun:
    """The run for this period, created once even when several processes race to create it."""
    statement = (
        dialect_insert(session)(SurveyRun)
        .values(
            team_id=team_id,
            kind=kind.value,
            period_start=period.start,
            period_end=period.end,
            opens_at=period.opens_at,
            closes_at=period.closes_at,
            status=RunStatus.OPEN.value,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["team_id", "kind", "period_start"])
    )
    await (await session.connection()).execute(statement)
    await session.commit()
    run = (
        await session.exec(
            select(SurveyRun).where(
                SurveyRun.team_id == team_id,
                SurveyRun.kind == kind,
                SurveyRun.period_start == period.start,
            )
        )
    ).one()
    return run


async def close_due_runs(session: AsyncSession, *, team_id: str, now: datetime) -> int:
    """Close every run whose period has ended, and roll each up (`bot.surveys.tallies`), in
    one transaction; answers after that are refused.

    The UPDATE comes first: on PostgreSQL it waits for the lock an answer being saved holds on
    the run's row (`bot.surveys.responses`), so every answer is either committed before the
    close, and counted, or refused after it (SQLite's write lock gives the same order). Only the
    runs this UPDATE closed are rolled up: a second process closing at the same moment finds
    them closed and writes nothing."""
    closed = (
        await session.exec(
            update(SurveyRun)
            .where(
                col(SurveyRun.team_id) == team_id,
                col(SurveyRun.status) == RunStatus.OPEN,
                col(SurveyRun.closes_at) <= now,
            )
            .values(status=RunStatus.CLOSED, closed_at=now)
            .returning(col(SurveyRun.id))
        )
    ).all()
    run_ids = [int(run_id) for (run_id,) in closed]
    await roll_up_runs(session, run_ids, now)
    await session.commit()
    return len(run_ids)


async def open_runs(session: AsyncSession, *, team_id: str) -> list[SurveyRun]:
    result = await session.exec(
        select(SurveyRun)
        .where(SurveyRun.team_id == team_id, SurveyRun.status == RunStatus.OPEN)
        .order_by(col(SurveyRun.period_start), col(SurveyRun.kind))
    )
    return list(result.all())


async def find_run(session: AsyncSession, *, team_id: str, run_id: int) -> SurveyRun:
    run = await session.get(SurveyRun, run_id)
    if run is None or run.team_id != team_id:
        raise UserError("That survey doesn't exist in this workspace.")
    return run


def check_open(run: SurveyRun, now: datetime) -> None:
    if run.status != RunStatus.OPEN or now >= run.closes_at:
        raise UserError(
            f"This survey closed at the end of the week of {run.period_start:%-d %b}. "
            "Next week's arrives on schedule; thanks for wanting to answer!"
        )


@dataclass(frozen=True)
class RunSummary:
    run: SurveyRun
    recipients: int
    sent: int
    answered: int
    pending: int
    failed: int
    failure_reasons: dict[str, int]

    @property
    def reached(self) -> int:
        return self.sent + self.answered

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.reached if self.reached else None


async def summarise_run(session: AsyncSession, *, run: SurveyRun) -> RunSummary:
    """Counts only: who did or didn't answer is never listed."""
    rows = (
        await session.exec(
            select(SurveyDelivery.status, SurveyDelivery.error, func.count())
            .where(SurveyDelivery.run_id == run.id)
            .group_by(col(SurveyDelivery.status), col(SurveyDelivery.error))
        )
    ).all()
    by_status: dict[DeliveryStatus, int] = {}
    reasons: dict[str, int] = {}
    for status, error, count in rows:
        by_status[DeliveryStatus(status)] = by_status.get(DeliveryStatus(status), 0) + count
        if status == DeliveryStatus.FAILED:
            reasons[error or "unknown"] = reasons.get(error or "unknown", 0) + count
    return RunSummary(
        run=run,
        recipients=sum(by_status.values()),
        sent=by_status.get(DeliveryStatus.SENT, 0),
        answered=by_status.get(DeliveryStatus.ANSWERED, 0),
        pending=by_status.get(DeliveryStatus.PENDING, 0) + by_status.get(DeliveryStatus.SENDING, 0),
        failed=by_status.get(DeliveryStatus.FAILED, 0),
        failure_reasons=reasons,
    )
