"""The Requests sheet's rows: every request filed in the period, then earlier ones claimed or
delivered in it, with the rating of their current delivery, read in keyset pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import (
    DeliveryRating,
    RequestEvent,
    RequestStatus,
    RequestType,
    SupportRequest,
)
from bot.core.text import format_reference
from bot.export import reading
from bot.export.cells import clean_text, dollars, excel_date, excel_datetime, hours, yes_no
from bot.export.plan import ExportPlan
from bot.requests.deadlines import PROMISE_COLUMNS, Promise
from bot.requests.lifecycle import Action

_latest_delivery: Final = (
    sa.select(col(RequestEvent.id))
    .where(
        col(RequestEvent.request_id) == col(SupportRequest.id),
        col(RequestEvent.action) == Action.DELIVER.value,
    )
    .order_by(col(RequestEvent.id).desc())
    .limit(1)
    .correlate(SupportRequest)
    .scalar_subquery()
)

_REQUEST_FIELDS: Final = (
    col(SupportRequest.id),
    col(SupportRequest.number),
    col(SupportRequest.request_type),
    col(SupportRequest.status),
    col(SupportRequest.account),
    col(SupportRequest.amount_cents),
    col(SupportRequest.requester_id),
    col(SupportRequest.assignee_id),
    col(SupportRequest.created_at),
    col(SupportRequest.claimed_at),
    col(SupportRequest.delivered_at),
    *PROMISE_COLUMNS,
    col(SupportRequest.source),
    col(SupportRequest.details),
    col(SupportRequest.deliverable_url),
    col(SupportRequest.crm_link),
    col(SupportRequest.outcome_note),
    col(DeliveryRating.score),
    col(DeliveryRating.helped),
    col(DeliveryRating.comment),
)


def _requests_select() -> Any:
    """Requests with the rating of their current delivery (a reopen discards the old one)."""
    return sa.select(*_REQUEST_FIELDS).outerjoin(
        DeliveryRating,
        sa.and_(
            col(SupportRequest.status) == RequestStatus.DELIVERED,
            col(DeliveryRating.delivery_event_id) == _latest_delivery,
            col(DeliveryRating.discarded).is_(False),
        ),
    )


def _request_row(row: Any, filed_in_period: bool, tz: ZoneInfo) -> tuple[Any, ...]:
    (
        _id,
        number,
        request_type,
        status,
        account,
        amount_cents,
        requester,
        assignee,
        created_at,
        claimed_at,
        delivered_at,
        due_date,
        due_from_sla,
        sla_deadline,
        source,
        details,
        deliverable,
        crm_link,
        outcome,
        score,
        helped,
        rating_comment,
    ) = row
    delivered = RequestStatus(status) == RequestStatus.DELIVERED and delivered_at is not None
    return (
        format_reference(number),
        RequestType(request_type).label,
        RequestStatus(status).value,
        clean_text(account),
        dollars(amount_cents),
        requester,
        assignee,
        excel_datetime(created_at, tz),
        excel_datetime(claimed_at, tz),
        excel_datetime(delivered_at, tz),
        excel_date(due_date),
        hours(created_at, claimed_at),
        hours(created_at, delivered_at) if delivered else None,
        yes_no(Promise(due_date, due_from_sla, sla_deadline).kept_by(delivered_at, tz))
        if delivered
        else None,
        score,
        helped.replace("_", " ") if helped else None,
        clean_text(rating_comment),
        source,
        yes_no(filed_in_period),
        clean_text(details),
        clean_text(deliverable),
        clean_text(crm_link),
        clean_text(outcome),
    )


async def request_pages(session: AsyncSession, plan: ExportPlan) -> AsyncIterator[list[Any]]:
    """Requests filed in the period (keyset on the created-time index), then those filed
    earlier and claimed or delivered in it (keyset on id)."""
    team = col(SupportRequest.team_id) == plan.team_id
    start, end, tz = plan.window.start, plan.window.end, plan.tz
    created, request_id = col(SupportRequest.created_at), col(SupportRequest.id)
    last: tuple[datetime, int] | None = None
    while True:
        statement = _requests_select().where(team, created >= start, created < end)
        if last is not None:
            statement = statement.where(sa.tuple_(created, request_id) > sa.tuple_(*last))
        rows = await reading.fetch_page(
            session, statement.order_by(created, request_id).limit(reading.PAGE_ROWS)
        )
        if rows:
            yield [_request_row(row, True, tz) for row in rows]
            last = (rows[-1].created_at, rows[-1].id)
        if len(rows) < reading.PAGE_ROWS:
            break
    touched = sa.or_(
        sa.and_(col(SupportRequest.claimed_at) >= start, col(SupportRequest.claimed_at) < end),
        sa.and_(col(SupportRequest.delivered_at) >= start, col(SupportRequest.delivered_at) < end),
    )
    last_id = 0
    while True:
        rows = await reading.fetch_page(
            session,
            _requests_select()
            .where(team, created < start, touched, request_id > last_id)
            .order_by(request_id)
            .limit(reading.PAGE_ROWS),
        )
        if rows:
            yield [_request_row(row, False, tz) for row in rows]
            last_id = rows[-1].id
        if len(rows) < reading.PAGE_ROWS:
            break
