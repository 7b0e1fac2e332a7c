"""Claims that make replicas safe: one run of a job per workspace and period, one handling of
an Events API delivery. Both are a row inserted under a primary key: the first insert wins,
every other process (or retry) sees the conflict and skips."""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import JobClaim, SlackEvent

# Who claimed a job, for an operator reading the table: host and process id.
PROCESS_NAME = f"{socket.gethostname()[:48]}:{os.getpid()}"
# Slack retries an event for about an hour; keep ids a day, then let retention prune them.
EVENT_ID_KEEP = timedelta(days=1)
JOB_CLAIM_KEEP = timedelta(days=35)


def period_start(now: datetime, minutes: int) -> datetime:
    """The start of the interval slot `now` falls in, for a job claimed every `minutes`.

    Slots are aligned to the UTC clock, so replicas started at different moments agree."""
    moment = now.astimezone(UTC)
    since_midnight = moment.hour * 60 + moment.minute
    slot = since_midnight - since_midnight % minutes if minutes < 24 * 60 else 0
    return moment.replace(hour=slot // 60, minute=slot % 60, second=0, microsecond=0)


def period_key(now: datetime, minutes: int) -> str:
    """The interval slot `now` falls in, e.g. '2026-12-01T10:15' for a 15-minute job."""
    return period_start(now, minutes).strftime("%Y-%m-%dT%H:%M")


def spread_offset(job: str, team_id: str, *, period_minutes: int, tick_minutes: int) -> timedelta:
    """Where in each period a job once-per-period starts for one workspace: a fixed point, the
    same in every replica, spread evenly over the workspaces so they do not all start at the
    period's first tick. It is before the period's last tick, so that tick serves everyone."""
    span = max(period_minutes - tick_minutes, 1)
    return timedelta(minutes=zlib.crc32(f"{job}:{team_id}".encode()) % span)


async def insert_once(session: AsyncSession, row: SQLModel) -> bool:
    """Commit a row whose unique key makes it a claim: True for the one writer that stored it,
    False (rolled back) for every other, across processes and replicas."""
    session.add(row)
    try:
        await session.commit()
    except sa.exc.IntegrityError:
        await session.rollback()
        return False
    return True


async def claim_job_period(
    session: AsyncSession, *, job: str, team_id: str, period: str, now: datetime
) -> bool:
    """True for the one process that gets to run `job` for `team_id` in `period`."""
    claim = JobClaim(
        job=job, team_id=team_id, period_key=period, claimed_at=now, claimed_by=PROCESS_NAME
    )
    return await insert_once(session, claim)


async def claimed_teams(session: AsyncSession, *, job: str, period: str) -> set[str]:
    """The workspaces whose `job` for `period` some process has already claimed."""
    rows = await session.exec(
        select(JobClaim.team_id).where(col(JobClaim.job) == job, col(JobClaim.period_key) == period)
    )
    return set(rows.all())


CLAIM_CHUNK = 500  # rows per INSERT, well inside SQLite's and PostgreSQL's parameter limits


async def claim_job_periods(
    session: AsyncSession, *, job: str, team_ids: Iterable[str], period: str, now: datetime
) -> set[str]:
    """`claim_job_period` for many workspaces in a statement per CLAIM_CHUNK: the ones this
    process got. Rows another process inserted first are skipped by the database
    (ON CONFLICT DO NOTHING), so of several replicas each workspace goes to exactly one."""
    teams = sorted(set(team_ids))
    won: set[str] = set()
    insert = dialect_insert(session)
    for start in range(0, len(teams), CLAIM_CHUNK):
        rows = [
            {
                "job": job,
                "team_id": team,
                "period_key": period,
                "claimed_at": now,
                "claimed_by": PROCESS_NAME,
            }
            for team in teams[start : start + CLAIM_CHUNK]
        ]
        statement = (
            insert(JobClaim).values(rows).on_conflict_do_nothing().returning(col(JobClaim.team_id))
        )
        connection = await session.connection()
        result = await connection.execute(statement)
        won.update(str(team) for team in result.scalars().all())
    await session.commit()
    return won


async def first_delivery_of_event(
    session: AsyncSession, *, event_id: str, team_id: str | None, now: datetime
) -> bool:
    """True the first time an Events API `event_id` is seen; False for retries and replays."""
    return await insert_once(
        session, SlackEvent(event_id=event_id[:64], team_id=team_id, received_at=now)
    )


async def prune_claims(session: AsyncSession, *, team_id: str, now: datetime) -> int:
    """Forget a workspace's event ids and job claims old enough that no retry or replica can
    still need them (and events that named no workspace)."""
    events = await session.exec(
        delete(SlackEvent).where(
            sa.or_(col(SlackEvent.team_id) == team_id, col(SlackEvent.team_id).is_(None)),
            col(SlackEvent.received_at) < now - EVENT_ID_KEEP,
        )
    )
    claims = await session.exec(
        delete(JobClaim).where(
            col(JobClaim.team_id) == team_id,
            col(JobClaim.claimed_at) < now - JOB_CLAIM_KEEP,
        )
    )
    await session.commit()
    return int(events.rowcount or 0) + int(claims.rowcount or 0)
