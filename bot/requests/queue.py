"""Working the Marketing Support queue: transitions stored with events, safe under races."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.models import (
    DeliveryRating,
    RequestEvent,
    RequestStatus,
    SupportRequest,
)
from bot.core.outbox import Outgoing, enqueue
from bot.core.text import format_reference, storable
from bot.requests.lifecycle import (
    ALLOWED_FROM,
    OPEN_STATES,
    Action,
    Actor,
    RequestState,
    Transition,
    check_permission,
    plan_transition,
    refusal,
    request_changes,
)
from bot.workspace.roster import roles_of

logger = logging.getLogger(__name__)

MAX_RACE_RETRIES = 3
NOTE_MAX_CHARS = 3000


@dataclass(frozen=True)
class Outcome:
    request: SupportRequest
    transition: Transition
    event_id: int
    actor_id: str
    note: str | None
    # The outbox rows stored with the change (what it means to tell Slack).
    outbox_ids: tuple[int, ...] = ()


# What a change means to say, as outbox rows stored in its transaction (bot.blocks.announcements).
Announcer = Callable[[Outcome], Sequence[Outgoing]]


async def load_actor(session: AsyncSession, *, team_id: str, user_id: str, is_admin: bool) -> Actor:
    roles = await roles_of(session, team_id=team_id, user_id=user_id)
    return Actor(user_id=user_id, roles=frozenset(roles), is_admin=is_admin)


async def find_request(session: AsyncSession, *, team_id: str, request_id: int) -> SupportRequest:
    """A request of this workspace; another workspace's id reads as not found."""
    request = await session.get(SupportRequest, request_id, populate_existing=True)
    if request is None or request.team_id != team_id:
        raise UserError("That request doesn't exist in this workspace (any more).")
    return request


def state_of(request: SupportRequest) -> RequestState:
    return RequestState(
        status=RequestStatus(request.status),
        requester_id=request.requester_id,
        assignee_id=request.assignee_id,
    )


def check_may_begin(action: Action, request: SupportRequest, actor: Actor) -> None:
    """Whether `actor` may start `action` on the request as it is now, before being asked for
    its details (the deliver, decline, reassign and need-info modals); UserError saying why not.
    """
    state = state_of(request)
    check_permission(action, state, actor)
    if state.status not in ALLOWED_FROM[action]:
        raise UserError(refusal(action, state))


def parse_deliverable_url(text: str | None, *, field: str | None = None) -> str:
    """The link a delivery points at: one web address, no spaces."""
    link = (text or "").strip()
    if not link.startswith(("https://", "http://")) or any(char.isspace() for char in link):
        raise UserError("Paste a link that starts with https://", field)
    return link


async def apply_action(
    session: AsyncSession,
    *,
    team_id: str,
    request_id: int,
    action: Action,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    new_assignee: Actor | None = None,
    deliverable_url: str | None = None,
    announce: Announcer | None = None,
) -> Outcome:
    """Apply one transition exactly once, even when two people click at the same moment, and
    store what `announce` says it means to tell Slack in the same transaction.

    The update is conditional on the version read; when another click won, the request is
    re-read and the action re-planned against what is true now (which usually refuses it,
    saying who has the request).
    """
    note = storable(note).strip()[:NOTE_MAX_CHARS] if note and storable(note).strip() else None
    deliverable_url = storable(deliverable_url) if deliverable_url else deliverable_url
    for _attempt in range(MAX_RACE_RETRIES):
        request = await find_request(session, team_id=team_id, request_id=request_id)
        transition = plan_transition(action, state_of(request), actor, new_assignee=new_assignee)
        values = request_changes(
            action,
            transition.to_status,
            transition.assignee_id,
            at=now,
            claimed_at=request.claimed_at,
            note=note,
            deliverable_url=deliverable_url,
        ) | {"updated_at": now, "version": request.version + 1}
        result = await session.exec(
            update(SupportRequest)
            .where(
                col(SupportRequest.id) == request_id, col(SupportRequest.version) == request.version
            )
            .values(**values)
        )
        if result.rowcount == 1:
            break
        await session.rollback()
    else:
        raise UserError("This request is changing quickly right now; try again in a moment.")
    event = RequestEvent(
        request_id=request_id,
        team_id=team_id,
        actor_id=actor.user_id,
        action=action.value,
        from_status=transition.from_status,
        to_status=transition.to_status,
        assignee_id=transition.assignee_id,
        note=note if action != Action.DELIVER else _delivery_note(deliverable_url, note),
        created_at=now,
    )
    session.add(event)
    if action == Action.REOPEN:
        await session.exec(
            update(DeliveryRating)
            .where(col(DeliveryRating.request_id) == request_id)
            .values(discarded=True)
        )
    await session.flush()
    assert event.id is not None
    fresh = await find_request(session, team_id=team_id, request_id=request_id)
    outbox_ids: list[int] = []
    if announce is not None:
        said = announce(Outcome(fresh, transition, event.id, actor.user_id, note))
        outbox_ids = await enqueue(session, team_id=team_id, messages=said, now=now)
    await session.commit()
    fresh = await find_request(session, team_id=team_id, request_id=request_id)
    logger.info(
        "request_transition ref=%s team=%s action=%s from=%s to=%s",
        format_reference(fresh.number),
        team_id,
        action.value,
        transition.from_status.value,
        transition.to_status.value,
    )
    return Outcome(fresh, transition, event.id, actor.user_id, note, tuple(outbox_ids))


def _delivery_note(url: str | None, note: str | None) -> str | None:
    parts = [part for part in (url, note) if part]
    return "\n".join(parts) if parts else None


async def events_of(session: AsyncSession, *, request_id: int) -> list[RequestEvent]:
    result = await session.exec(
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id)
        .order_by(col(RequestEvent.created_at), col(RequestEvent.id))
    )
    return list(result.all())


class Transition_(Protocol):
    """What pause arithmetic needs of an event (metrics pass light tuples, not ORM rows)."""

    @property
    def to_status(self) -> RequestStatus: ...

    @property
    def created_at(self) -> datetime: ...


def paused_intervals(
    events: Sequence[Transition_],
) -> list[tuple[datetime, datetime | None]]:
    """Spans spent waiting on the requester: the SLA clock does not run during them."""
    spans: list[tuple[datetime, datetime | None]] = []
    started: datetime | None = None
    for event in events:
        if event.to_status == RequestStatus.WAITING and started is None:
            started = event.created_at
        elif event.to_status != RequestStatus.WAITING and started is not None:
            spans.append((started, event.created_at))
            started = None
    if started is not None:
        spans.append((started, None))
    return spans


async def open_queue(
    session: AsyncSession, *, team_id: str, limit: int = 200
) -> list[SupportRequest]:
    """Every open request, oldest due first (no due date last)."""
    result = await session.exec(
        select(SupportRequest)
        .where(
            SupportRequest.team_id == team_id,
            col(SupportRequest.status).in_(list(OPEN_STATES)),
        )
        .order_by(
            col(SupportRequest.due_date).is_(None),
            col(SupportRequest.due_date),
            col(SupportRequest.number),
        )
        .limit(limit)
    )
    return list(result.all())


async def latest_delivery_event(session: AsyncSession, *, request_id: int) -> RequestEvent | None:
    result = await session.exec(
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id, RequestEvent.action == Action.DELIVER.value)
        .order_by(col(RequestEvent.id).desc())
        .limit(1)
    )
    return result.first()


RATING_WINDOW = timedelta(days=14)
RATING_HELPED = ("yes", "no", "too_early")
LOW_SCORE_REASONS = {
    "late": "Arrived too late",
    "brief": "Missed the brief",
    "quality": "Quality wasn't there",
    "format": "Wrong format or audience",
    "other": "Something else",
}


async def rate_delivery(
    session: AsyncSession,
    *,
    team_id: str,
    request_id: int,
    rater_id: str,
    now: datetime,
    score: int | None = None,
    helped: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    delivery_event_id: int | None = None,
) -> DeliveryRating:
    """Record or edit the requester's rating of the latest delivery (one per delivery).

    `delivery_event_id` is the delivery the clicked DM was about: a DM from before a reopen
    must not rate the newer delivery.
    """
    request = await find_request(session, team_id=team_id, request_id=request_id)
    if request.requester_id != rater_id:
        raise UserError("Only the person who asked for it can rate a delivery.")
    if request.status != RequestStatus.DELIVERED:
        raise UserError(
            f"{format_reference(request.number)} isn't delivered right now "
            "(it may have been reopened), so there is nothing to rate."
        )
    delivery = await latest_delivery_event(session, request_id=request_id)
    assert delivery is not None
    assert delivery.id is not None
    # Kept as plain values: the rollback after a double click's clash expires every loaded
    # row, and reading an expired attribute would be I/O outside the async context.
    latest_delivery_id = delivery.id
    if delivery_event_id is not None and delivery_event_id != latest_delivery_id:
        raise UserError(
            f"That message is about an earlier delivery of {format_reference(request.number)}. "
            "Rate the latest one from its own message."
        )
    if now - delivery.created_at > RATING_WINDOW:
        raise UserError("Ratings close 14 days after delivery, so this one can't change now.")
    if score is not None and not 1 <= score <= 5:
        raise UserError("Ratings go from 1 to 5.", field="score")
    if helped is not None and helped not in RATING_HELPED:
        raise UserError("Pick yes, no or too early.", field="helped")
    if reason is not None and reason not in LOW_SCORE_REASONS:
        raise UserError("Pick one of the listed reasons.", field="reason")
    for _attempt in range(2):
        rating = (
            await session.exec(
                select(DeliveryRating).where(DeliveryRating.delivery_event_id == latest_delivery_id)
            )
        ).first()
        if rating is None:
            rating = DeliveryRating(
                request_id=request_id,
                delivery_event_id=latest_delivery_id,
                team_id=team_id,
                rater_id=rater_id,
                created_at=now,
                updated_at=now,
            )
            session.add(rating)
        if score is not None:
            rating.score = score
            if score > 2:
                rating.reason = None
        if helped is not None:
            rating.helped = helped
        if reason is not None:
            rating.reason = reason
        if comment is not None:
            rating.comment = storable(comment).strip()[:NOTE_MAX_CHARS] or None
        rating.updated_at = now
        try:
            await session.commit()
        except sa.exc.IntegrityError:
            await session.rollback()  # a double click inserted it first: edit that one
            continue
        return rating
    raise UserError("That rating clashed with another click; try again.")


async def current_rating(session: AsyncSession, *, request_id: int) -> DeliveryRating | None:
    delivery = await latest_delivery_event(session, request_id=request_id)
    if delivery is None:
        return None
    return (
        await session.exec(
            select(DeliveryRating).where(
                DeliveryRating.delivery_event_id == delivery.id,
                col(DeliveryRating.discarded).is_(False),
            )
        )
    ).first()
