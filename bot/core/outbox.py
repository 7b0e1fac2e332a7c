"""The outbox: the Slack writes the bot owes, stored in the transaction of the change they report.

The rules live here, once:
- `enqueue` adds rows inside the caller's transaction (the caller commits), so a change and
  what it means to say are stored together or not at all. A repeated idempotency key is a no-op.
- `claim_due` hands a dispatcher the rows it may send now: due, and with no earlier unsent row
  of the same ordering key (so the messages about one request go out in order). A claim is a
  token and a lease; on PostgreSQL replicas skip each other's rows (`FOR UPDATE SKIP LOCKED`),
  on SQLite the conditional update is the lock. A claim whose lease ran out (its process died
  mid-send) is taken again with `maybe_sent`: the next attempt looks in Slack before posting.
- Each claim ends in `mark_sent`, `retry_later` (exponential backoff capped at BACKOFF_CAP,
  or Slack's Retry-After; dead after GIVE_UP_AFTER of trying), `dead_letter` or `skip`; every
  one of them checks the claim token, so a dispatcher whose lease was taken over changes nothing.
- Operators list rows and send dead ones again (`list_rows`, `retry`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import OutboxMessage, OutboxState

# What a row is; the dispatcher knows how to send each (jobs.dispatcher).
KIND_MESSAGE = "message"  # a post whose text and blocks are in the payload
KIND_INTAKE_POST = "intake_post"  # a request's intake post, rendered at send time
KIND_INTAKE_UPDATE = "intake_update"  # the intake post shown as the request is at send time
KIND_THREAD_LINE = "thread_line"  # a line under a request's intake post
KIND_DIGEST = "digest"  # a weekly digest (its digest_post row learns the ts)
KIND_SURVEY_REMINDER = "survey_reminder"  # (its survey_delivery learns it was sent)
KIND_ADMIN_NOTICE = "admin_notice"  # never noticed again when it dead-letters itself
RENDERED_FROM_REQUEST = frozenset({KIND_INTAKE_POST, KIND_INTAKE_UPDATE, KIND_THREAD_LINE})

CLAIM_LEASE = timedelta(seconds=60)
GIVE_UP_AFTER = timedelta(hours=24)
SENT_KEEP = timedelta(days=7)  # long enough to read what went out while debugging an incident
BACKOFF_CAP = 60.0
UNSENT = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class Outgoing:
    """One Slack write to store: what kind, to which channel or user, and what to say.

    `ordering_key` groups the rows that must go out in order (default: the channel);
    `message_key` names the message a post creates or an update edits; `coalesce` lets an
    update stand for every later one while it has not been sent (it renders at send time)."""

    kind: str
    channel: str
    idempotency_key: str
    payload: dict[str, Any] = field(default_factory=dict)
    ordering_key: str | None = None
    message_key: str | None = None
    coalesce: bool = False


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … after each failed attempt, never more than BACKOFF_CAP: a three-minute
    outage is caught up within a minute of Slack coming back."""
    return timedelta(seconds=min(2.0 ** max(attempts - 1, 0), BACKOFF_CAP))


def payload_of(row: OutboxMessage) -> dict[str, Any]:
    loaded = json.loads(row.payload)
    return loaded if isinstance(loaded, dict) else {}


async def enqueue(
    session: AsyncSession, *, team_id: str, messages: Sequence[Outgoing], now: datetime
) -> list[int]:
    """Store `messages` in the caller's transaction (not committed here); their new row ids.

    A message whose idempotency key is already stored is left out, as is a coalescing update
    while an unclaimed one for the same message waits."""
    ids: list[int] = []
    insert = dialect_insert(session)
    for message in messages:
        if message.coalesce and message.message_key is not None:
            waiting = await session.exec(
                select(OutboxMessage.id).where(
                    col(OutboxMessage.team_id) == team_id,
                    col(OutboxMessage.message_key) == message.message_key,
                    col(OutboxMessage.kind) == message.kind,
                    col(OutboxMessage.state) == OutboxState.PENDING,
                    col(OutboxMessage.claim_token).is_(None),
                )
            )
            if waiting.first() is not None:
                continue
        statement = (
            insert(OutboxMessage)
            .values(
                team_id=team_id,
                kind=message.kind,
                channel=message.channel,
                ordering_key=(message.ordering_key or message.channel)[:96],
                message_key=message.message_key,
                idempotency_key=message.idempotency_key[:128],
                payload=json.dumps(message.payload, separators=(",", ":")),
                state=OutboxState.PENDING,
                attempts=0,
                maybe_sent=False,
                created_at=now,
                next_attempt_at=now,
            )
            .on_conflict_do_nothing(index_elements=["team_id", "idempotency_key"])
            .returning(OutboxMessage.id)
        )
        new_id = (await session.exec(statement)).scalar_one_or_none()
        if new_id is not None:
            ids.append(int(new_id))
    return ids


async def store(
    session: AsyncSession, *, team_id: str, messages: Sequence[Outgoing], now: datetime
) -> list[int]:
    """`enqueue` and commit: for a write that is the whole change (a refresh, a notice)."""
    ids = await enqueue(session, team_id=team_id, messages=messages, now=now)
    await session.commit()
    return ids


async def stored_ids(
    session: AsyncSession, *, team_id: str, messages: Sequence[Outgoing]
) -> list[int]:
    """The row ids of messages already stored (by their idempotency keys)."""
    if not messages:
        return []
    result = await session.exec(
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.idempotency_key).in_([m.idempotency_key[:128] for m in messages]),
        )
        .order_by(col(OutboxMessage.id))
    )
    return [int(row_id) for row_id in result.all() if row_id is not None]


def _an_earlier_row(
    where: Callable[[type[OutboxMessage]], Sequence[sa.ColumnElement[bool]]],
) -> sa.Exists:
    """An earlier row of the same workspace and ordering key, matching `where(earlier)`."""
    earlier = aliased(OutboxMessage)
    return sa.exists().where(
        col(earlier.ordering_key) == col(OutboxMessage.ordering_key),
        col(earlier.team_id) == col(OutboxMessage.team_id),
        col(earlier.id) < col(OutboxMessage.id),
        *where(earlier),
    )


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.or_(
            sa.and_(
                col(OutboxMessage.state) == OutboxState.PENDING,
                col(OutboxMessage.next_attempt_at) <= now,
            ),
            sa.and_(
                col(OutboxMessage.state) == OutboxState.SENDING,
                col(OutboxMessage.claimed_until) < now,
            ),
        ),
        ~_an_earlier_row(lambda earlier: [col(earlier.state).in_(UNSENT)]),
    )


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int = 50,
    ids: Sequence[int] | None = None,
    skip_teams: Sequence[str] = (),
    fresh_grace: timedelta | None = None,
) -> list[OutboxMessage]:
    """Claim up to `limit` rows that may be sent now, committed. With `ids`, only those rows and
    the rows they wait for (same ordering key): whoever stored a message also sends the ones
    ahead of it, rather than leave it for the next poll. A background claim leaves alone the
    workspaces in `skip_teams` (Slack is failing for them) and, with `fresh_grace`, untried rows
    younger than that: the code that stored them is sending them right now."""
    candidates = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        if not ids:
            return []
        named = select(OutboxMessage.ordering_key).where(col(OutboxMessage.id).in_(list(ids)))
        teams = select(OutboxMessage.team_id).where(col(OutboxMessage.id).in_(list(ids)))
        candidates = candidates.where(
            col(OutboxMessage.ordering_key).in_(named.scalar_subquery()),
            col(OutboxMessage.team_id).in_(teams.scalar_subquery()),
            col(OutboxMessage.id) <= max(ids),
        )
    if skip_teams:
        candidates = candidates.where(col(OutboxMessage.team_id).not_in(list(skip_teams)))
    if fresh_grace is not None:
        candidates = candidates.where(
            sa.or_(
                col(OutboxMessage.attempts) > 0,
                col(OutboxMessage.created_at) <= now - fresh_grace,
            )
        )
    token = secrets.token_hex(16)
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()), _claimable(now))
        .values(
            # A lapsed claim means a process died mid-send: Slack may have the message.
            maybe_sent=sa.or_(
                col(OutboxMessage.maybe_sent), col(OutboxMessage.state) == OutboxState.SENDING
            ),
            state=OutboxState.SENDING,
            claim_token=token,
            claimed_until=now + CLAIM_LEASE,
            attempts=col(OutboxMessage.attempts) + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    claimed = sorted(result.scalars().all(), key=lambda row: row.id or 0)
    await session.commit()
    return claimed


async def hurry(session: AsyncSession, *, team_id: str, now: datetime) -> int:
    """Slack took a message again after failing: every row of the workspace waiting out a
    backoff is due now (the outage is over; nobody should wait up to a minute more)."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.next_attempt_at) > now,
            col(OutboxMessage.attempts) > 0,
            col(OutboxMessage.last_error) != "ratelimited",  # that wait is Slack's own
        )
        .values(next_attempt_at=now)
    )
    await session.commit()
    return int(result.rowcount)


async def unsent_rows(session: AsyncSession, *, ids: Sequence[int]) -> list[OutboxMessage]:
    result = await session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(list(ids))))
    return list(result.all())


async def waiting_for_turn(session: AsyncSession, *, ids: Sequence[int], now: datetime) -> bool:
    """True if any of these rows is due and waits only for earlier rows of its ordering key that
    are being sent or due now (so its turn comes in a moment); False when each is sent, or waits
    for an earlier row's retry later on (the dispatcher's loop sees to those)."""
    if not ids:
        return False
    retrying_later = _an_earlier_row(
        lambda earlier: [
            col(earlier.state) == OutboxState.PENDING,
            col(earlier.next_attempt_at) > now,
        ]
    )
    result = await session.exec(
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.id).in_(list(ids)),
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
            ~retrying_later,
        )
        .limit(1)
    )
    return result.first() is not None


async def _finish(
    session: AsyncSession, row: OutboxMessage, values: dict[str, Any], *, commit: bool = True
) -> bool:
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == row.id,
            col(OutboxMessage.claim_token) == row.claim_token,
            col(OutboxMessage.state) == OutboxState.SENDING,
        )
        .values(claim_token=None, claimed_until=None, **values)
    )
    if commit:
        await session.commit()
    return bool(result.rowcount)


async def mark_sent(
    session: AsyncSession,
    row: OutboxMessage,
    *,
    channel: str | None,
    ts: str | None,
    now: datetime,
    commit: bool = True,
) -> bool:
    """The row went out (or was found in Slack); False if its claim was lost meanwhile."""
    return await _finish(
        session,
        row,
        {
            "state": OutboxState.SENT,
            "sent_at": now,
            "sent_channel": channel,
            "sent_ts": ts,
            "last_error": None,
        },
        commit=commit,
    )


async def retry_later(
    session: AsyncSession,
    row: OutboxMessage,
    *,
    error: str,
    now: datetime,
    retry_after: float | None = None,
    maybe_sent: bool = False,
) -> OutboxState | None:
    """Slack said "not now": try again after the backoff (or Retry-After), or give up once the
    row has been tried for GIVE_UP_AFTER. The state it ends in (None if the claim was lost)."""
    if now - row.created_at >= GIVE_UP_AFTER:
        return OutboxState.DEAD if await dead_letter(session, row, error=error, now=now) else None
    wait = backoff(row.attempts)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    moved = await _finish(
        session,
        row,
        {
            "state": OutboxState.PENDING,
            "next_attempt_at": now + wait,
            "last_error": error[:255],
            "maybe_sent": row.maybe_sent or maybe_sent,
        },
    )
    return OutboxState.PENDING if moved else None


async def dead_letter(
    session: AsyncSession, row: OutboxMessage, *, error: str, now: datetime
) -> bool:
    """Slack will never take it: stop trying. True if this call moved it."""
    return await _finish(
        session,
        row,
        {"state": OutboxState.DEAD, "last_error": error[:255], "next_attempt_at": now},
    )


async def skip(session: AsyncSession, row: OutboxMessage, *, reason: str) -> bool:
    """Nothing left to send (an update of a message that was never posted)."""
    return await _finish(session, row, {"state": OutboxState.SKIPPED, "last_error": reason[:255]})


async def newest_id(session: AsyncSession, *, team_id: str, message_key: str) -> int:
    """The newest row stored for a message (0 if none): read before rendering it, it says which
    updates the render already shows."""
    result = await session.exec(
        select(func.max(OutboxMessage.id)).where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.message_key) == message_key,
        )
    )
    return int(result.first() or 0)


async def coalesce_into(session: AsyncSession, row: OutboxMessage, *, shown_up_to: int) -> int:
    """`row` went out showing every change up to row `shown_up_to`: the updates of the same
    message stored by then and still waiting have nothing left to say (not committed here)."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.team_id) == row.team_id,
            col(OutboxMessage.message_key) == row.message_key,
            col(OutboxMessage.kind) == row.kind,
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.claim_token).is_(None),
            col(OutboxMessage.id) <= shown_up_to,
            col(OutboxMessage.id) != row.id,
        )
        .values(state=OutboxState.SKIPPED, last_error="coalesced")
    )
    return int(result.rowcount)


async def sent_ts_of(session: AsyncSession, *, team_id: str, message_key: str) -> str | None:
    """The ts of the newest message posted under `message_key`, if any was."""
    result = await session.exec(
        select(OutboxMessage.sent_ts)
        .where(
            col(OutboxMessage.team_id) == team_id,
            col(OutboxMessage.message_key) == message_key,
            col(OutboxMessage.state) == OutboxState.SENT,
            col(OutboxMessage.sent_ts).is_not(None),
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    return result.first()


async def list_rows(
    session: AsyncSession,
    *,
    team_id: str | None = None,
    states: Sequence[OutboxState] = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.DEAD),
    limit: int = 100,
) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(col(OutboxMessage.state).in_(list(states)))
    if team_id is not None:
        query = query.where(col(OutboxMessage.team_id) == team_id)
    result = await session.exec(query.order_by(col(OutboxMessage.id)).limit(limit))
    return list(result.all())


async def retry(
    session: AsyncSession,
    *,
    now: datetime,
    ids: Sequence[int] = (),
    dead: bool = False,
    team_id: str | None = None,
) -> int:
    """Send dead rows (the ones named, or every dead one) again from now, with a fresh 24 h."""
    if not ids and not dead:
        return 0
    where = [col(OutboxMessage.state) == OutboxState.DEAD]
    if ids:
        where.append(col(OutboxMessage.id).in_(list(ids)))
    if team_id is not None:
        where.append(col(OutboxMessage.team_id) == team_id)
    result = await session.exec(
        update(OutboxMessage)
        .where(*where)
        # A fresh 24 h from now; the attempts stay (and mark it as no new row for the loop).
        .values(state=OutboxState.PENDING, next_attempt_at=now, created_at=now)
    )
    await session.commit()
    return int(result.rowcount)


async def oldest_unsent_at(session: AsyncSession) -> datetime | None:
    """When the oldest row still waiting to go out was written (None when nothing waits)."""
    result = await session.exec(
        select(func.min(OutboxMessage.created_at)).where(col(OutboxMessage.state).in_(UNSENT))
    )
    return result.first()


async def next_due_at(session: AsyncSession) -> datetime | None:
    result = await session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            col(OutboxMessage.state) == OutboxState.PENDING
        )
    )
    return result.first()


async def prune(
    session: AsyncSession, *, team_id: str, now: datetime, dead_after: timedelta
) -> int:
    """Forget a workspace's rows that went out (or had nothing to say) a week ago, and dead
    ones after `dead_after`: their payloads hold people's words, which retention must not keep."""
    result = await session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.team_id) == team_id,
            sa.or_(
                sa.and_(
                    col(OutboxMessage.state).in_([OutboxState.SENT, OutboxState.SKIPPED]),
                    col(OutboxMessage.created_at) < now - SENT_KEEP,
                ),
                sa.and_(
                    col(OutboxMessage.state) == OutboxState.DEAD,
                    col(OutboxMessage.created_at) < now - dead_after,
                ),
            ),
        )
    )
    await session.commit()
    return int(result.rowcount)
