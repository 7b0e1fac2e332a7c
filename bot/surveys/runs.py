"""Weekly pulse surveys: runs per period, deliveries claimed before sending, one response each."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period, WeeklySchedule, send_time, zone
from bot.core.db import dialect_insert
from bot.core.errors import UserError
from bot.core.models import (
    DeliveryStatus,
    RequestStatus,
    Role,
    RosterMember,
    RunStatus,
    SlackUser,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyResponseHistory,
    SurveyRun,
)
from bot.core.text import format_money, format_reference, parse_amount, storable

HELP_OPTIONS: dict[str, str] = {
    "case_studies": "Case studies",
    "roi": "ROI material",
    "competitive": "Competitive material",
    "objections": "Objection handling",
    "other": "Something else",
}
ACTIVITY_OPTIONS: dict[str, str] = {
    "webinar": "Webinar",
    "event": "Event",
    "content": "Content",
    "email": "Email",
    "paid": "Paid",
    "seo": "SEO",
    "support_request": "A delivered support request",
    "other": "Other",
}
MAX_COUNT = 100_000
COMMENT_MAX_CHARS = 3000

FIELD_NEW_COUNT = "new_count"
FIELD_NEW_VALUE = "new_value"
FIELD_SOURCED_COUNT = "sourced_count"
FIELD_SOURCED_VALUE = "sourced_value"
FIELD_INFLUENCED_COUNT = "influenced_count"
FIELD_INFLUENCED_VALUE = "influenced_value"
FIELD_ACTIVITIES = "activities"


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
    """Close every run whose period has ended; answers after that are refused."""
    result = await session.exec(
        update(SurveyRun)
        .where(
            col(SurveyRun.team_id) == team_id,
            col(SurveyRun.status) == RunStatus.OPEN,
            col(SurveyRun.closes_at) <= now,
        )
        .values(status=RunStatus.CLOSED, closed_at=now)
    )
    await session.commit()
    return int(result.rowcount)


@dataclass(frozen=True)
class Recipient:
    user_id: str
    tz: str | None


async def sales_recipients(session: AsyncSession, *, team_id: str) -> list[Recipient]:
    """The sales roster, with time zones where known; deactivated users and bots left out."""
    result = await session.exec(
        select(RosterMember.user_id, SlackUser.tz, SlackUser.deleted, SlackUser.is_bot)
        .join(
            SlackUser,
            sa.and_(
                col(SlackUser.team_id) == col(RosterMember.team_id),
                col(SlackUser.user_id) == col(RosterMember.user_id),
            ),
            isouter=True,
        )
        .where(RosterMember.team_id == team_id, col(RosterMember.role) == Role.SALES)
        .order_by(col(RosterMember.user_id))
    )
    return [
        Recipient(user_id, tz)
        for user_id, tz, deleted, is_bot in result.all()
        if not deleted and not is_bot
    ]


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
    table = SurveyDelivery.__table__  # type: ignore[attr-defined]
    statement = (
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("b_id"),
            table.c.status == DeliveryStatus.SENDING,
            table.c.claim_token == sa.bindparam("b_old"),
        )
        .values(
            claim_token=token,
            claimed_at=now,
            attempts=table.c.attempts + 1,
        )
    )
    connection = await session.connection()
    await connection.execute(
        statement, [{"b_id": delivery_id, "b_old": old} for delivery_id, old, _at in rows]
    )
    await session.commit()
    return [
        StaleDelivery(delivery, since[delivery.id] or now)
        for delivery in await _claimed_with(session, token, list(since))
        if delivery.id is not None
    ]


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
    table = SurveyDelivery.__table__  # type: ignore[attr-defined]
    statement = (
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("b_id"),
            table.c.status == DeliveryStatus.SENDING,
            table.c.claim_token == sa.bindparam("b_token"),
        )
        .values(
            status=DeliveryStatus.SENT,
            channel=sa.bindparam("b_channel"),
            message_ts=sa.bindparam("b_ts"),
            sent_at=now,
            error=None,
        )
    )
    connection = await session.connection()
    await connection.execute(
        statement,
        [
            {
                "b_id": dm.delivery_id,
                "b_token": dm.claim_token,
                "b_channel": dm.channel,
                "b_ts": dm.ts,
            }
            for dm in sent
        ],
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
    session: AsyncSession, *, run: SurveyRun, reminder_days: int, now: datetime
) -> list[SurveyDelivery]:
    """One reminder per non-responder, claimed like deliveries so it is sent once."""
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
        .values(reminder_status="sending", claim_token=secrets.token_hex(16), reminded_at=now)
        .returning(SurveyDelivery)
    )
    claimed = list(result.scalars().all())
    await session.commit()
    return claimed


async def mark_reminder(session: AsyncSession, *, delivery_id: int, outcome: str) -> None:
    await session.exec(
        update(SurveyDelivery)
        .where(col(SurveyDelivery.id) == delivery_id)
        .values(reminder_status=outcome[:16])
    )
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


async def _save_response(
    session: AsyncSession,
    *,
    run: SurveyRun,
    user_id: str,
    now: datetime,
    values: dict[str, Any],
) -> SurveyResponse:
    """Upsert one person's answer (last write wins), keep its history, mark the delivery."""
    assert run.id is not None
    for _attempt in range(2):
        # The run row, locked: on PostgreSQL the week's close (an UPDATE of this row) then
        # waits for this answer's commit, or this answer sees the close and is refused. An
        # answer never lands in a week that has already been closed (SQLite's write lock
        # gives the same order).
        locked = (
            await session.exec(
                select(SurveyRun)
                .where(SurveyRun.id == run.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).one()
        check_open(locked, now)
        response = (
            await session.exec(
                select(SurveyResponse).where(
                    SurveyResponse.run_id == run.id, SurveyResponse.user_id == user_id
                )
            )
        ).first()
        if response is None:
            response = SurveyResponse(
                run_id=run.id,
                team_id=run.team_id,
                kind=run.kind,
                user_id=user_id,
                created_at=now,
                updated_at=now,
            )
            session.add(response)
        for key, value in values.items():
            setattr(response, key, value)
        response.updated_at = now
        try:
            await session.flush()
        except sa.exc.IntegrityError:
            await session.rollback()  # a double click inserted it first: update that one
            continue
        assert response.id is not None
        snapshot = {
            key: getattr(response, key)
            for key in (
                "score",
                "comment",
                "help_with",
                "opportunities",
                "pipeline_cents",
                "sourced_count",
                "sourced_cents",
                "influenced_count",
                "influenced_cents",
                "activities",
            )
        }
        session.add(
            SurveyResponseHistory(
                response_id=response.id, saved_at=now, payload=json.dumps(snapshot)
            )
        )
        await session.exec(
            update(SurveyDelivery)
            .where(col(SurveyDelivery.run_id) == run.id, col(SurveyDelivery.user_id) == user_id)
            .values(status=DeliveryStatus.ANSWERED, answered_at=now)
        )
        await session.commit()
        return response
    raise UserError("That answer clashed with another click; try again.")


async def record_enablement(
    session: AsyncSession,
    *,
    team_id: str,
    run_id: int,
    user_id: str,
    now: datetime,
    score: int | None = None,
    comment: str | None = None,
    help_with: str | None = None,
) -> SurveyResponse:
    run = await find_run(session, team_id=team_id, run_id=run_id)
    if run.kind != SurveyKind.ENABLEMENT:
        raise UserError("That answer belongs to another survey.")
    check_open(run, now)
    values: dict[str, Any] = {}
    if score is not None:
        if not 1 <= score <= 5:
            raise UserError("Scores go from 1 to 5.", field="score")
        values["score"] = score
    if comment is not None:
        values["comment"] = storable(comment).strip()[:COMMENT_MAX_CHARS] or None
    if help_with is not None:
        if help_with not in HELP_OPTIONS:
            raise UserError("Pick one of the listed options.", field="help_with")
        values["help_with"] = help_with
    return await _save_response(session, run=run, user_id=user_id, now=now, values=values)


@dataclass(frozen=True)
class PipelineForm:
    """The pipeline survey modal's raw text."""

    new_count: str | None = None
    new_value: str | None = None
    sourced_count: str | None = None
    sourced_value: str | None = None
    influenced_count: str | None = None
    influenced_value: str | None = None
    activities: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineAnswer:
    opportunities: int
    pipeline_cents: int
    sourced_count: int
    sourced_cents: int
    influenced_count: int
    influenced_cents: int
    activities: tuple[str, ...]


NO_NEW_PIPELINE = PipelineAnswer(0, 0, 0, 0, 0, 0, ())


def _count(text: str | None, field: str) -> int:
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        return 0
    if not cleaned.isdigit():
        raise UserError(f"Write a whole number, like 3 (not {text!r}).", field=field)
    value = int(cleaned)
    if value > MAX_COUNT:
        raise UserError("That's more opportunities than one week can hold; check it.", field=field)
    return value


def _money(text: str | None, field: str) -> int:
    cleaned = (text or "").strip()
    return parse_amount(cleaned, field=field) if cleaned else 0


def validate_pipeline_form(form: PipelineForm) -> PipelineAnswer:
    """Field-by-field checks; sourced and influenced never add up to more than the total."""
    answer = PipelineAnswer(
        opportunities=_count(form.new_count, FIELD_NEW_COUNT),
        pipeline_cents=_money(form.new_value, FIELD_NEW_VALUE),
        sourced_count=_count(form.sourced_count, FIELD_SOURCED_COUNT),
        sourced_cents=_money(form.sourced_value, FIELD_SOURCED_VALUE),
        influenced_count=_count(form.influenced_count, FIELD_INFLUENCED_COUNT),
        influenced_cents=_money(form.influenced_value, FIELD_INFLUENCED_VALUE),
        activities=tuple(dict.fromkeys(form.activities)),
    )
    if answer.sourced_count + answer.influenced_count > answer.opportunities:
        raise UserError(
            f"Sourced plus influenced ({answer.sourced_count + answer.influenced_count}) can't be "
            f"more than your new opportunities ({answer.opportunities}).",
            field=FIELD_INFLUENCED_COUNT,
        )
    if answer.sourced_cents + answer.influenced_cents > answer.pipeline_cents:
        raise UserError(
            f"Sourced plus influenced ({format_money(answer.sourced_cents + answer.influenced_cents)}) "
            f"can't be more than the total value ({format_money(answer.pipeline_cents)}).",
            field=FIELD_INFLUENCED_VALUE,
        )
    for activity in answer.activities:
        if activity not in ACTIVITY_OPTIONS and not activity.startswith("ms:"):
            raise UserError("Pick activities from the list.", field=FIELD_ACTIVITIES)
    return answer


async def record_pipeline(
    session: AsyncSession,
    *,
    team_id: str,
    run_id: int,
    user_id: str,
    now: datetime,
    answer: PipelineAnswer,
) -> SurveyResponse:
    run = await find_run(session, team_id=team_id, run_id=run_id)
    if run.kind != SurveyKind.PIPELINE:
        raise UserError("That answer belongs to another survey.")
    check_open(run, now)
    values = asdict(answer)
    values["activities"] = json.dumps(list(answer.activities))
    return await _save_response(session, run=run, user_id=user_id, now=now, values=values)


async def response_of(session: AsyncSession, *, run_id: int, user_id: str) -> SurveyResponse | None:
    """The person's own answer, for showing back to them only."""
    return (
        await session.exec(
            select(SurveyResponse).where(
                SurveyResponse.run_id == run_id, SurveyResponse.user_id == user_id
            )
        )
    ).first()


async def recent_deliveries_for(
    session: AsyncSession, *, team_id: str, user_id: str, now: datetime, days: int = 30
) -> list[SupportRequest]:
    """The rep's requests delivered lately, offered as 'a delivered support request' activity."""
    result = await session.exec(
        select(SupportRequest)
        .where(
            SupportRequest.team_id == team_id,
            SupportRequest.requester_id == user_id,
            col(SupportRequest.status) == RequestStatus.DELIVERED,
            col(SupportRequest.delivered_at) >= now - timedelta(days=days),
        )
        .order_by(col(SupportRequest.delivered_at).desc())
        .limit(20)
    )
    return list(result.all())


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


def delivered_reference(request: SupportRequest) -> str:
    return f"ms:{request.id}:{format_reference(request.number)}"
