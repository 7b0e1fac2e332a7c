"""Survey deliveries: who gets the week's DM and when (planned once per person), and the
claims that make the fan-out exactly-once: a delivery is claimed before its DM is sent, a claim
orphaned by a crashed process is taken over after a lease, and every outcome (sent, failed,
retry later, reminded) is recorded only while the claim still holds.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period, WeeklySchedule, send_time, zone
from bot.core.db import dialect_insert
from bot.core.models import (
    DeliveryStatus,
    Role,
    RosterMember,
    RunStatus,
    SlackUser,
    SurveyDelivery,
    SurveyRun,
)
from bot.core.outbox import Outgoing, enqueue

__all__ = [
    "RETRY_DELAY",
    "SENDING_LEASE",
    "Recipient",
    "SentDM",
    "StaleDelivery",
    "claim_due_deliveries",
    "claim_due_reminders",
    "claim_stale_deliveries",
    "mark_failed",
    "mark_reminder",
    "mark_sent",
    "mark_sent_many",
    "plan_deliveries",
    "reset_for_resend",
    "return_to_pending",
    "sales_recipients",
]


@dataclass(frozen=True)
class Recipient:
    user_id: str
    tz: str | None


def sales_recipient_rows() -> sa.Select[str, str, str | None]:
    """(team, user, time zone) of every workspace's survey recipients: the sales roster less
    deactivated users and bots (a user Slack has told us nothing about yet counts). The one
    definition, for one workspace's plan and for the tick asking which workspaces have a rep
    not planned yet (bot.surveys.due)."""
    return (
        sa.select(col(RosterMember.team_id), col(RosterMember.user_id), col(SlackUser.tz))
        .join(
            SlackUser,
            sa.and_(
                col(SlackUser.team_id) == col(RosterMember.team_id),
                col(SlackUser.user_id) == col(RosterMember.user_id),
            ),
            isouter=True,
        )
        .where(
            col(RosterMember.role) == Role.SALES,
            col(SlackUser.deleted).is_not(True),
            col(SlackUser.is_bot).is_not(True),
        )
    )


async def sales_recipients(session: AsyncSession, *, team_id: str) -> list[Recipient]:
    """The sales roster, with time zones where known; deactivated users and bots left out."""
    connection = await session.connection()
    result = await connection.execute(
        sales_recipient_rows()
        .where(col(RosterMember.team_id) == team_id)
        .order_by(col(RosterMember.user_id))
    )
    return [Recipient(user_id, tz) for _team, user_id, tz in result.all()]


async def plan_deliveries(
    session: AsyncSession,
    *,
    run: SurveyRun,
    recipients: list[Recipient],
    schedule: WeeklySchedule,
    workspace_tz: str,
    local_time: bool,
) -> int:
    """Add a pending delivery for every recipient the run doesn't have yet (idempotent); returns
    how many were new to this process (another one may have planned some at the same moment)."""
    assert run.id is not None
    planned = set(
        (
            await session.exec(
                select(SurveyDelivery.user_id).where(SurveyDelivery.run_id == run.id)
            )
        ).all()
    )
    period = Period(run.period_start, run.opens_at, run.closes_at)
    times: dict[str | None, datetime] = {}

    def due_at(tz: str | None) -> datetime:
        key = tz if local_time else None
        if key not in times:
            times[key] = send_time(period, schedule, zone(key, workspace_tz))
        return times[key]

    rows = [
        {
            "run_id": run.id,
            "team_id": run.team_id,
            "user_id": recipient.user_id,
            "status": DeliveryStatus.PENDING.value,
            "send_at": due_at(recipient.tz),
            "attempts": 0,
        }
        for recipient in recipients
        if recipient.user_id not in planned
    ]
    if not rows:
        await session.commit()
        return 0
    statement = dialect_insert(session)(SurveyDelivery).on_conflict_do_nothing(
        index_elements=["run_id", "user_id"]
    )
    connection = await session.connection()
    for start in range(0, len(rows), 1000):
        await connection.execute(statement, rows[start : start + 1000])
    await session.commit()
    return len(rows)


# A delivery claimed ("sending") longer than this is presumed orphaned by a process that died
# before recording the outcome: a later run checks the DM for the message, then sends or records
# it. Far longer than a claimed delivery ever waits in a live fan-out (batches are small).
SENDING_LEASE = timedelta(minutes=10)


async def claim_due_deliveries(
    session: AsyncSession,
    *,
    run_id: int,
    now: datetime,
    limit: int = 10_000,
    claimed_at: datetime | None = None,
) -> list[SurveyDelivery]:
    """Take the deliveries that are due, atomically: a row claimed here is claimed nowhere else,
    so a re-run or a second process never DMs anyone twice. `claimed_at` (default `now`) starts
    the claim's lease."""
    due_ids = (
        select(SurveyDelivery.id)
        .where(
            SurveyDelivery.run_id == run_id,
            col(SurveyDelivery.status) == DeliveryStatus.PENDING,
            col(SurveyDelivery.send_at) <= now,
        )
        .order_by(col(SurveyDelivery.send_at))
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.exec(
        update(SurveyDelivery)
        .where(
            col(SurveyDelivery.id).in_(due_ids),
            col(SurveyDelivery.status) == DeliveryStatus.PENDING,
        )
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=secrets.token_hex(16),
            claimed_at=claimed_at or now,
            attempts=SurveyDelivery.attempts + 1,
        )
        .returning(SurveyDelivery)
    )
    claimed = list(result.scalars().all())
    await session.commit()
    return sorted(claimed, key=lambda delivery: (delivery.send_at, delivery.id or 0))


async def _claimed_with(session: AsyncSession, token: str, ids: list[int]) -> list[SurveyDelivery]:
    """Those of `ids` this claim (`token`) took; the others were taken elsewhere first."""
    result = await session.exec(
        select(SurveyDelivery)
        .where(
            col(SurveyDelivery.id).in_(ids),
            SurveyDelivery.claim_token == token,
            SurveyDelivery.status == DeliveryStatus.SENDING,
        )
        .order_by(col(SurveyDelivery.send_at), col(SurveyDelivery.id))
    )
    return list(result.all())


@dataclass(frozen=True)
class StaleDelivery:
    """A delivery re-claimed after its lease ran out; `since` is when the lost claim was made
    (the DM, if it went out, is no older than that)."""

    delivery: SurveyDelivery
    since: datetime


async def claim_stale_deliveries(
    session: AsyncSession,
    *,
    run_id: int,
    now: datetime,
    lease: timedelta = SENDING_LEASE,
    limit: int = 500,
) -> list[StaleDelivery]:
    """Re-claim deliveries left "sending" past their lease (their process died between the claim
    and recording the outcome). Each is taken over only if its claim token is still the one read
    here, so of two processes doing this at once only one gets each delivery."""
    rows = (
        await session.exec(
            select(SurveyDelivery.id, SurveyDelivery.claim_token, SurveyDelivery.claimed_at)
            .where(
                SurveyDelivery.run_id == run_id,
                col(SurveyDelivery.status) == DeliveryStatus.SENDING,
                col(SurveyDelivery.claimed_at) <= now - lease,
            )
            .order_by(col(SurveyDelivery.claimed_at), col(SurveyDelivery.id))
            .limit(limit)
        )
    ).all()
    if not rows:
        await session.commit()
        return []
    token = secrets.token_hex(16)
    since = {int(delivery_id or 0): claimed_at for delivery_id, _old, claimed_at in rows}
    await _update_held_claims(
        session,
        [{"b_id": delivery_id, "b_token": old} for delivery_id, old, _at in rows],
        claim_token=token,
        claimed_at=now,
        attempts=_TABLE.c.attempts + 1,
    )
    await session.commit()
    return [
        StaleDelivery(delivery, since[delivery.id] or now)
        for delivery in await _claimed_with(session, token, list(since))
        if delivery.id is not None
    ]


_TABLE = SurveyDelivery.__table__  # type: ignore[attr-defined]


async def _update_held_claims(
    session: AsyncSession, rows: list[dict[str, Any]], **values: Any
) -> None:
    """Update many deliveries in one statement, each row (`b_id`, its claim token in `b_token`)
    only while it is still sending under that claim."""
    statement = (
        sa.update(_TABLE)
        .where(
            _TABLE.c.id == sa.bindparam("b_id"),
            _TABLE.c.status == DeliveryStatus.SENDING,
            _TABLE.c.claim_token == sa.bindparam("b_token"),
        )
        .values(**values)
    )
    connection = await session.connection()
    await connection.execute(statement, rows)


@dataclass(frozen=True)
class SentDM:
    delivery_id: int
    claim_token: str
    channel: str
    ts: str


def _claim_held(delivery_id: int, claim_token: str | None) -> list[Any]:
    conditions: list[Any] = [
        col(SurveyDelivery.id) == delivery_id,
        col(SurveyDelivery.status) == DeliveryStatus.SENDING,
    ]
    if claim_token is not None:
        conditions.append(col(SurveyDelivery.claim_token) == claim_token)
    return conditions


async def mark_sent(
    session: AsyncSession,
    *,
    delivery_id: int,
    channel: str,
    ts: str,
    now: datetime,
    claim_token: str | None = None,
) -> None:
    await session.exec(
        update(SurveyDelivery)
        .where(*_claim_held(delivery_id, claim_token))
        .values(status=DeliveryStatus.SENT, channel=channel, message_ts=ts, sent_at=now, error=None)
    )
    await session.commit()


async def mark_sent_many(session: AsyncSession, *, sent: list[SentDM], now: datetime) -> None:
    """Record a batch of posted DMs in one statement (each only while its claim still holds)."""
    if not sent:
        return
    await _update_held_claims(
        session,
        [
            {
                "b_id": dm.delivery_id,
                "b_token": dm.claim_token,
                "b_channel": dm.channel,
                "b_ts": dm.ts,
            }
            for dm in sent
        ],
        status=DeliveryStatus.SENT,
        channel=sa.bindparam("b_channel"),
        message_ts=sa.bindparam("b_ts"),
        sent_at=now,
        error=None,
    )
    await session.commit()


async def mark_failed(
    session: AsyncSession, *, delivery_id: int, error: str, claim_token: str | None = None
) -> None:
    """A delivery Slack refused: recorded with its reason, never retried by itself."""
    await session.exec(
        update(SurveyDelivery)
        .where(*_claim_held(delivery_id, claim_token))
        .values(status=DeliveryStatus.FAILED, error=error[:255])
    )
    await session.commit()


RETRY_DELAY = timedelta(minutes=5)


async def return_to_pending(
    session: AsyncSession, *, delivery_id: int, now: datetime, claim_token: str | None = None
) -> None:
    """Slack said 'not now' (rate limit, outage): a later run, not this one, tries again."""
    await session.exec(
        update(SurveyDelivery)
        .where(*_claim_held(delivery_id, claim_token))
        .values(status=DeliveryStatus.PENDING, claim_token=None, send_at=now + RETRY_DELAY)
    )
    await session.commit()


async def claim_due_reminders(
    session: AsyncSession,
    *,
    run: SurveyRun,
    reminder_days: int,
    now: datetime,
    message: Callable[[SurveyDelivery], Outgoing] | None = None,
    queued_at: datetime | None = None,
) -> list[int]:
    """One reminder per non-responder, claimed and stored in the outbox (`message` builds each
    row) in one transaction, so it is sent once and a crash never loses it: the outbox ids."""
    if reminder_days <= 0 or run.status != RunStatus.OPEN or now >= run.closes_at:
        return []
    result = await session.exec(
        update(SurveyDelivery)
        .where(
            col(SurveyDelivery.run_id) == run.id,
            col(SurveyDelivery.status) == DeliveryStatus.SENT,
            col(SurveyDelivery.reminder_status).is_(None),
            col(SurveyDelivery.sent_at) <= now - timedelta(days=reminder_days),
        )
        .values(reminder_status="queued", claim_token=secrets.token_hex(16), reminded_at=now)
        .returning(SurveyDelivery)
    )
    claimed = list(result.scalars().all())
    ids: list[int] = []
    if message is not None and claimed:
        ids = await enqueue(
            session,
            team_id=run.team_id,
            messages=[message(d) for d in claimed],
            now=queued_at or now,
        )
    await session.commit()
    return ids


async def mark_reminder(
    session: AsyncSession, *, delivery_id: int, outcome: str, commit: bool = True
) -> None:
    await session.exec(
        update(SurveyDelivery)
        .where(col(SurveyDelivery.id) == delivery_id)
        .values(reminder_status=outcome[:16])
    )
    if commit:
        await session.commit()


async def reset_for_resend(session: AsyncSession, *, run_id: int, now: datetime) -> int:
    """`/align survey send`: failed deliveries get one more go, now."""
    result = await session.exec(
        update(SurveyDelivery)
        .where(
            col(SurveyDelivery.run_id) == run_id,
            col(SurveyDelivery.status) == DeliveryStatus.FAILED,
        )
        .values(status=DeliveryStatus.PENDING, send_at=now, error=None)
    )
    await session.commit()
    return int(result.rowcount)
