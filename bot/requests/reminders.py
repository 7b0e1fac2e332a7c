"""SLA escalations: which step is due for which request, each recorded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.sla import EscalationStep, due_escalations
from bot.core.claims import insert_once
from bot.core.models import RequestEscalation, RequestEvent, RequestType, SupportRequest
from bot.requests.lifecycle import OPEN_STATES, Action
from bot.requests.queue import events_of, paused_intervals
from bot.workspace.settings import WorkspaceSettings


@dataclass(frozen=True)
class DueEscalation:
    request: SupportRequest
    step: EscalationStep
    cycle: int  # 1 + the number of reopens: a reopened request escalates afresh


def deadline_of(request: SupportRequest, settings: WorkspaceSettings) -> datetime:
    """The stored SLA deadline, or one worked out now for requests filed before SLAs existed."""
    if request.sla_deadline is not None:
        return request.sla_deadline
    return settings.calendar.sla_deadline(
        request.created_at,
        due_date=request.due_date,
        days=settings.sla_days_for(RequestType(request.request_type)),
    )


def cycle_of(events: list[RequestEvent]) -> int:
    return 1 + sum(1 for event in events if event.action == Action.REOPEN.value)


async def due_escalations_for_team(
    session: AsyncSession, *, team_id: str, settings: WorkspaceSettings, now: datetime
) -> list[DueEscalation]:
    """Every (request, step) whose threshold has passed and that has not been sent yet."""
    calendar = settings.calendar
    requests = (
        await session.exec(
            select(SupportRequest).where(
                SupportRequest.team_id == team_id,
                col(SupportRequest.status).in_(list(OPEN_STATES)),
            )
        )
    ).all()
    due: list[DueEscalation] = []
    for request in requests:
        assert request.id is not None
        events = await events_of(session, request_id=request.id)
        cycle = cycle_of(events)
        filed_at = max(
            [request.created_at]
            + [event.created_at for event in events if event.action == Action.REOPEN.value]
        )
        steps = due_escalations(
            calendar,
            filed_at=filed_at,
            deadline=max(deadline_of(request, settings), filed_at),
            now=now,
            claimed=request.assignee_id is not None,
            paused=paused_intervals(events),
        )
        if not steps:
            continue
        sent = set(
            (
                await session.exec(
                    select(RequestEscalation.step).where(
                        RequestEscalation.request_id == request.id,
                        RequestEscalation.cycle == cycle,
                    )
                )
            ).all()
        )
        due.extend(DueEscalation(request, step, cycle) for step in steps if step.value not in sent)
    return due


async def claim_escalation(
    session: AsyncSession,
    *,
    request_id: int,
    step: EscalationStep,
    cycle: int,
    now: datetime,
    version: int | None = None,
) -> bool:
    """Record that this step is being sent; False when another run or process got there first,
    or when the request changed since the job read it (`version`): a nudge decided on a stale
    read ("nobody has claimed this") must not go out after someone claimed it. The request's
    row is locked while the claim is written, so a transition either waits for it or is seen."""
    if version is not None:
        current = (
            await session.exec(
                select(SupportRequest.version)
                .where(SupportRequest.id == request_id)
                .with_for_update()
            )
        ).first()
        if current != version:
            await session.rollback()
            return False
    return await insert_once(
        session, RequestEscalation(request_id=request_id, step=step.value, cycle=cycle, sent_at=now)
    )


async def escalation_count(session: AsyncSession, *, request_id: int) -> int:
    result = await session.exec(
        select(func.count()).where(RequestEscalation.request_id == request_id)
    )
    return int(result.one())
