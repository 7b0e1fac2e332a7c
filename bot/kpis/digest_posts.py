"""Exactly-once weekly digest posts: a row per (team, kind, week) claimed before posting.

A post Slack refused for a passing reason (rate limit, its own outage) is marked `retry`, with
the error, and the next run takes it over with a conditional update: still one post a week."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import DigestPost


async def claim_digest(
    session: AsyncSession, *, team_id: str, kind: str, period_start: date, now: datetime
) -> bool:
    """True for the one caller that may post this digest; every other run or process gets False."""
    session.add(
        DigestPost(
            team_id=team_id, kind=kind, period_start=period_start, status="posting", claimed_at=now
        )
    )
    try:
        await session.commit()
    except sa.exc.IntegrityError:
        await session.rollback()
    else:
        return True
    retaken = await session.exec(
        update(DigestPost)
        .where(
            col(DigestPost.team_id) == team_id,
            col(DigestPost.kind) == kind,
            col(DigestPost.period_start) == period_start,
            col(DigestPost.status) == "retry",
        )
        .values(status="posting", claimed_at=now)
    )
    await session.commit()
    return bool(retaken.rowcount)


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
    await session.commit()
