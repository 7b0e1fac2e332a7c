"""Outbox rows as Slack messages: what a row becomes at send time (`render`), how a message in
Slack names its row (message metadata), and what the database learns once a row went out
(`record_sent`) or never will (`record_dead`). The dispatcher (jobs.dispatcher) does the sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.requests import build_intake_message
from bot.core import outbox
from bot.core.deps import Deps
from bot.core.models import OutboxMessage, SupportRequest
from bot.core.outbox import (
    KIND_DIGEST,
    KIND_INTAKE_POST,
    KIND_INTAKE_UPDATE,
    KIND_SURVEY_REMINDER,
    KIND_THREAD_LINE,
    RENDERED_FROM_REQUEST,
)
from bot.kpis.digest_posts import finish_digest
from bot.requests.filing import record_intake_failure, record_intake_post
from bot.surveys.deliveries import mark_reminder

OUTBOX_EVENT = "alignbot_outbox"


@dataclass(frozen=True)
class Prepared:
    """What one row becomes in Slack at send time."""

    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    update_ts: str | None = None  # chat.update of this message instead of a post
    shown_up_to: int = 0  # the render shows the changes of every row stored up to this id
    thread_ts: str | None = None
    join_first_if_needed: bool = False


class Skip(Exception):
    """Nothing to send for this row any more."""


class NotYet(Exception):
    """This row needs another to go out first (a thread line, its intake post)."""


def outbox_metadata(row_id: int) -> dict[str, Any]:
    return {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": row_id}}


def outbox_id_of(message: dict[str, Any]) -> int | None:
    """The outbox row a message in Slack was posted for (from its metadata), if any."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != OUTBOX_EVENT:
        return None
    try:
        return int(str(payload.get("outbox_id")))
    except ValueError:
        return None


async def render(deps: Deps, row: OutboxMessage) -> Prepared:
    """What a row becomes in Slack at send time: a request's post and updates are rendered from
    the request as it is now; a thread line waits for its post."""
    payload = outbox.payload_of(row)
    if row.kind not in RENDERED_FROM_REQUEST:
        return Prepared(
            channel=row.channel,
            text=str(payload.get("text") or ""),
            blocks=payload.get("blocks"),
        )
    async with deps.sessions() as session:
        shown_up_to = (
            await outbox.newest_id(session, team_id=row.team_id, message_key=row.message_key)
            if row.kind == KIND_INTAKE_UPDATE and row.message_key
            else 0
        )
        request = await session.get(SupportRequest, int(payload["request_id"]))
    if request is None:
        raise Skip("request_deleted")
    if row.kind == KIND_THREAD_LINE:
        if not (request.intake_channel and request.intake_ts):
            if request.intake_error:
                raise Skip("intake_not_posted")
            raise NotYet("waiting_for_intake_post")
        return Prepared(
            channel=request.intake_channel,
            text=str(payload.get("text") or ""),
            thread_ts=request.intake_ts,
        )
    text, blocks = build_intake_message(request)
    if row.kind == KIND_INTAKE_UPDATE:
        if not (request.intake_channel and request.intake_ts):
            raise Skip("intake_not_posted")
        return Prepared(
            channel=request.intake_channel,
            text=text,
            blocks=blocks,
            update_ts=request.intake_ts,
            shown_up_to=shown_up_to,
        )
    return Prepared(channel=row.channel, text=text, blocks=blocks, join_first_if_needed=True)


async def record_sent(
    session: AsyncSession, row: OutboxMessage, channel: str, ts: str, permalink: str | None
) -> None:
    """What the rest of the database learns from a row that went out (same transaction)."""
    payload = outbox.payload_of(row)
    if row.kind in (KIND_INTAKE_POST, KIND_INTAKE_UPDATE) and payload.get("request_id"):
        request = await session.get(SupportRequest, int(payload["request_id"]))
        if request is not None and (row.kind == KIND_INTAKE_POST or request.intake_ts != ts):
            await record_intake_post(
                session,
                request_id=int(payload["request_id"]),
                channel=channel,
                ts=ts,
                permalink=permalink,
                commit=False,
            )
    elif row.kind == KIND_DIGEST:
        await finish_digest_row(session, row, payload, ts=ts, error=None, commit=False)
    elif row.kind == KIND_SURVEY_REMINDER and payload.get("delivery_id"):
        await mark_reminder(
            session, delivery_id=int(payload["delivery_id"]), outcome="sent", commit=False
        )


async def finish_digest_row(
    session: AsyncSession,
    row: OutboxMessage,
    payload: dict[str, Any],
    *,
    ts: str | None,
    error: str | None,
    commit: bool = True,
) -> None:
    await finish_digest(
        session,
        team_id=row.team_id,
        kind=str(payload["digest_kind"]),
        period_start=datetime.fromisoformat(str(payload["period_start"])).date(),
        channel=row.channel,
        ts=ts,
        error=error,
        retry=False,
        commit=commit,
    )


async def record_dead(session: AsyncSession, row: OutboxMessage, code: str) -> None:
    """What the rest of the database learns from a row Slack will not take."""
    payload = outbox.payload_of(row)
    if row.kind == KIND_INTAKE_POST and payload.get("request_id"):
        await record_intake_failure(session, request_id=int(payload["request_id"]), reason=code)
    if row.kind == KIND_DIGEST:
        await finish_digest_row(session, row, payload, ts=None, error=code)
    if row.kind == KIND_SURVEY_REMINDER and payload.get("delivery_id"):
        await mark_reminder(session, delivery_id=int(payload["delivery_id"]), outcome="failed")
