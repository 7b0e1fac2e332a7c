"""Filing Marketing Support requests: validation, references, exactly-once storage."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.errors import UserError
from bot.core.models import Counter, RequestStatus, RequestType, Role, SupportRequest
from bot.core.outbox import KIND_INTAKE_POST, Outgoing, enqueue
from bot.core.text import format_reference, parse_amount, storable
from bot.requests.command import RequestDraft
from bot.requests.due_dates import check_due_date
from bot.workspace.roster import roles_of
from bot.workspace.settings import WorkspaceSettings

logger = logging.getLogger(__name__)

ACCOUNT_MAX_CHARS = 150
DETAILS_MAX_CHARS = 50_000
CRM_LINK_MAX_CHARS = 2_000
REQUEST_COUNTER = "request"

# Names of the request form's fields; the modal uses them as block ids so a UserError's
# `field` lands on the right input.
FIELD_TYPE = "type"
FIELD_ACCOUNT = "account"
FIELD_AMOUNT = "amount"
FIELD_DUE = "due"
FIELD_DETAILS = "details"
FIELD_CRM_LINK = "crm_link"


@dataclass(frozen=True)
class RequestForm:
    """The request modal's raw values, before validation."""

    request_type: str | None = None
    account: str | None = None
    amount: str | None = None
    due_date: date | None = None
    details: str | None = None
    crm_link: str | None = None


@dataclass(frozen=True)
class FiledRequest:
    request: SupportRequest
    created: bool  # False when a retry or double submission found the first one
    outbox_ids: tuple[int, ...] = ()  # its intake post, stored with it


def request_ordering(request_id: int) -> str:
    """The ordering key of every message about one request: they go out in order."""
    return f"request:{request_id}"


def intake_message_key(request_id: int) -> str:
    return f"intake:{request_id}"


def intake_post(request: SupportRequest, channel: str) -> Outgoing:
    """The request's post in the intake channel, rendered when it goes out; first of the
    messages about the request (the thread lines hang under it)."""
    assert request.id is not None
    return Outgoing(
        kind=KIND_INTAKE_POST,
        channel=channel,
        idempotency_key=f"intake:{request.id}",
        payload={"request_id": request.id, "about": format_reference(request.number)},
        ordering_key=request_ordering(request.id),
        message_key=intake_message_key(request.id),
    )


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


def draft_from_form(form: RequestForm, *, today: date) -> RequestDraft:
    """Turn modal input into a draft, with errors on the field that caused them."""
    if not form.request_type:
        raise UserError("Pick the kind of help you need.", field=FIELD_TYPE)
    try:
        request_type = RequestType(form.request_type)
    except ValueError:
        raise UserError("Pick one of the listed request types.", field=FIELD_TYPE) from None
    amount_text = _clean(form.amount)
    draft = RequestDraft(
        request_type=request_type,
        account=_clean(form.account),
        amount_cents=parse_amount(amount_text, field=FIELD_AMOUNT) if amount_text else None,
        due_date=form.due_date,
        details=_clean(form.details),
        crm_link=_clean(form.crm_link),
    )
    if not draft.details:
        raise UserError("Say what you need, so Marketing Support can start.", field=FIELD_DETAILS)
    return validate_draft(draft, today=today)


def validate_draft(draft: RequestDraft, *, today: date) -> RequestDraft:
    """Checks shared by every way of filing; returns the draft with whitespace tidied."""
    draft = replace(
        draft,
        account=storable(draft.account) if draft.account else draft.account,
        details=storable(draft.details) if draft.details else draft.details,
        crm_link=storable(draft.crm_link) if draft.crm_link else draft.crm_link,
    )
    if draft.request_type is None:
        raise UserError("Pick the kind of help you need.", field=FIELD_TYPE)
    account = " ".join(draft.account.split()) if draft.account else None
    if account and len(account) > ACCOUNT_MAX_CHARS:
        raise UserError(
            f"The account name is too long ({len(account):,} characters; at most "
            f"{ACCOUNT_MAX_CHARS}). Put the extra words in the details.",
            field=FIELD_ACCOUNT,
        )
    details = draft.details.strip() if draft.details else None
    if details and len(details) > DETAILS_MAX_CHARS:
        raise UserError(
            f"The details are too long ({len(details):,} characters; at most "
            f"{DETAILS_MAX_CHARS:,}). Link to a document instead.",
            field=FIELD_DETAILS,
        )
    crm_link = draft.crm_link.strip() if draft.crm_link else None
    if crm_link and (
        not crm_link.startswith(("https://", "http://"))
        or len(crm_link) > CRM_LINK_MAX_CHARS
        or any(char.isspace() for char in crm_link)
    ):
        raise UserError(
            "The CRM link must be a web address starting with https://", field=FIELD_CRM_LINK
        )
    if draft.amount_cents is not None and draft.amount_cents < 0:
        raise UserError("Amounts can't be negative.", field=FIELD_AMOUNT)
    due = check_due_date(draft.due_date, today=today, field=FIELD_DUE) if draft.due_date else None
    return replace(
        draft, account=account or None, details=details or None, crm_link=crm_link, due_date=due
    )


async def _next_number(session: AsyncSession, *, team_id: str, name: str) -> int:
    """Increment a per-team counter atomically (an upsert; works on SQLite and PostgreSQL)."""
    insert = dialect_insert(session)
    statement = (
        insert(Counter)
        .values(team_id=team_id, name=name, value=1)
        .on_conflict_do_update(
            index_elements=["team_id", "name"],
            set_={"value": Counter.value + 1},
        )
        .returning(col(Counter.value))
    )
    connection = await session.connection()  # SQLModel's exec() takes no DML with RETURNING
    return int((await connection.execute(statement)).scalar_one())


async def find_by_source(
    session: AsyncSession, *, team_id: str, source_key: str
) -> SupportRequest | None:
    result = await session.exec(
        select(SupportRequest).where(
            SupportRequest.team_id == team_id, SupportRequest.source_key == source_key
        )
    )
    return result.first()


async def file_request(
    session: AsyncSession,
    *,
    team_id: str,
    requester_id: str,
    draft: RequestDraft,
    settings: WorkspaceSettings,
    source: str,
    source_key: str,
    now: datetime,
) -> FiledRequest:
    """Store a request for the Marketing Support queue, once per `source_key`."""
    today = now.astimezone(settings.zone).date()
    draft = validate_draft(draft, today=today)
    assert draft.request_type is not None  # validate_draft guarantees it
    existing = await find_by_source(session, team_id=team_id, source_key=source_key)
    if existing is not None:
        return FiledRequest(existing, created=False)
    in_sales: bool | None = None
    if settings.sales_usergroup:
        in_sales = Role.SALES in await roles_of(session, team_id=team_id, user_id=requester_id)
    calendar = settings.calendar
    sla_days = settings.sla_days_for(draft.request_type)
    due_date = draft.due_date or calendar.due_date_for(now, sla_days)
    request = SupportRequest(
        team_id=team_id,
        number=await _next_number(session, team_id=team_id, name=REQUEST_COUNTER),
        request_type=draft.request_type,
        status=RequestStatus.OPEN,
        account=draft.account,
        amount_cents=draft.amount_cents,
        due_date=due_date,
        due_from_sla=draft.due_date is None,
        sla_deadline=calendar.sla_deadline(now, due_date=draft.due_date, days=sla_days),
        details=draft.details,
        crm_link=draft.crm_link,
        requester_id=requester_id,
        requester_in_sales=in_sales,
        source=source,
        source_key=source_key,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    outbox_ids: list[int] = []
    try:
        await session.flush()
        if settings.intake_channel:
            outbox_ids = await enqueue(
                session,
                team_id=team_id,
                messages=[intake_post(request, settings.intake_channel)],
                now=now,
            )
        await session.commit()
    except sa.exc.IntegrityError:
        # The same submission arrived twice at once; the other delivery stored it.
        await session.rollback()
        existing = await find_by_source(session, team_id=team_id, source_key=source_key)
        if existing is None:
            raise
        return FiledRequest(existing, created=False)
    logger.info(
        "request_filed ref=%s team=%s type=%s source=%s",
        format_reference(request.number),
        team_id,
        request.request_type.value,
        source,
    )
    return FiledRequest(request, created=True, outbox_ids=tuple(outbox_ids))


async def record_intake_post(
    session: AsyncSession,
    *,
    request_id: int,
    channel: str,
    ts: str,
    permalink: str | None,
    commit: bool = True,
) -> None:
    request = await session.get(SupportRequest, request_id)
    if request is None:
        return
    request.intake_channel, request.intake_ts = channel, ts
    request.intake_permalink, request.intake_error = permalink, None
    if commit:
        await session.commit()
    else:
        await session.flush()


async def record_intake_failure(session: AsyncSession, *, request_id: int, reason: str) -> None:
    request = await session.get(SupportRequest, request_id)
    if request is None:
        return
    request.intake_error = reason[:255]
    await session.commit()


async def get_request(session: AsyncSession, *, team_id: str, number: int) -> SupportRequest:
    result = await session.exec(
        select(SupportRequest).where(
            SupportRequest.team_id == team_id, SupportRequest.number == number
        )
    )
    request = result.first()
    if request is None:
        raise UserError(f"There is no request {format_reference(number)} in this workspace.")
    return request


async def open_requests_of(
    session: AsyncSession, *, team_id: str, requester_id: str, limit: int = 20
) -> list[SupportRequest]:
    open_statuses = [status for status in RequestStatus if status.is_open]
    result = await session.exec(
        select(SupportRequest)
        .where(
            SupportRequest.team_id == team_id,
            SupportRequest.requester_id == requester_id,
            col(SupportRequest.status).in_(open_statuses),
        )
        .order_by(col(SupportRequest.number).desc())
        .limit(limit)
    )
    return list(result.all())
