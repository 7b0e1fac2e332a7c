"""Claims that make replicas safe: one run of a job per workspace and period, one handling of
an Events API delivery. Both are a row inserted under a primary key: the first insert wins,
every other process (or retry) sees the conflict and skips."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import SQLModel, col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import JobClaim, SlackEvent

# Who claimed a job, for an operator reading the table: host and process id.
PROCESS_NAME = f"{socket.gethostname()[:48]}:{os.getpid()}"
# Slack retries an event for about an hour; keep ids a day, then let retention prune them.
EVENT_ID_KEEP = timedelta(days=1)
JOB_CLAIM_KEEP = timedelta(days=35)


def period_key(now: datetime, minutes: int) -> str:
    """The interval slot `now` falls in, e.g. '2026-12-01T10:15' for a 15-minute job.

    Slots are aligned to the UTC clock, so replicas started at different moments agree."""
    moment = now.astimezone(UTC)
    since_midnight = moment.hour * 60 + moment.minute
    slot = since_midnight - since_midnight % minutes if minutes < 24 * 60 else 0
    start = moment.replace(hour=slot // 60, minute=slot % 60, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M")


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
