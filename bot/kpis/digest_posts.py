"""Exactly-once weekly digest posts: a row per (team, kind, week), claimed in the transaction
that stores the post in the outbox ("queued"); the dispatcher marks it "posted" (or "failed").

A post Slack refused for a passing reason (rate limit, its own outage) is marked `retry`, with
the error, and the next run takes it over with a conditional update: still one post a week."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import DigestPost
from bot.core.outbox import Outgoing, enqueue


async def digest_taken(
    session: AsyncSession, *, team_id: str, kind: str, period_start: date
) -> bool:
    """True when this week's digest is already queued or posted (a cheap look before building)."""
    row = await session.get(DigestPost, (team_id, kind, period_start))
    return row is not None and row.status != "retry"


async def queue_digest(
    session: AsyncSession,
    *,
    team_id: str,
    kind: str,
    period_start: date,
    now: datetime,
    message: Outgoing,
    queued_at: datetime | None = None,
) -> list[int]:
    """Claim the week's digest and store its post in the outbox, in one transaction: the outbox
    ids for the one caller that got it, [] for every other run or process."""
    taken = await session.exec(
        update(DigestPost)
        .where(
            col(DigestPost.team_id) == team_id,
            col(DigestPost.kind) == kind,
            col(DigestPost.period_start) == period_start,
            col(DigestPost.status) == "retry",  # left by a version without the outbox
        )
        .values(status="queued", claimed_at=now, channel=message.channel)
    )
    if not taken.rowcount:
        session.add(
            DigestPost(
                team_id=team_id,
                kind=kind,
                period_start=period_start,
                status="queued",
                claimed_at=now,
                channel=message.channel,
            )
        )
    try:
        await session.flush()
        ids = await enqueue(session, team_id=team_id, messages=[message], now=queued_at or now)
        await session.commit()
    except sa.exc.IntegrityError:
        await session.rollback()
        return []
    return ids


async def finish_digest(
    session: AsyncSession,
    *,
    team_id: str,
    kind: str,
    period_start: date,
    channel: str | None,
    ts: str | None,
    error: str | None,
    retry: bool = False,
    commit: bool = True,
) -> None:
    """Record how the post went; `retry` leaves it for the next run to take over."""
    status = "posted" if not error else "retry" if retry else "failed"
    await session.exec(
        update(DigestPost)
        .where(
            col(DigestPost.team_id) == team_id,
            col(DigestPost.kind) == kind,
            col(DigestPost.period_start) == period_start,
        )
        .values(status=status, channel=channel, ts=ts, error=error)
    )
    if commit:
        await session.commit()
