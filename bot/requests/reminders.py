"""SLA escalations: which step is due for which request, each recorded once per request, and
who is told what about it (the words are `bot.blocks.reminders`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.claims import insert_once
from bot.core.models import (
    RequestEscalation,
    RequestEvent,
    RequestType,
    SupportRequest,
    Workspace,
)
from bot.core.outbox import Outgoing, enqueue
from bot.requests.lifecycle import OPEN_STATES, Action
from bot.requests.queue import events_of, paused_intervals
from bot.requests.sla import EscalationStep, due_escalations
from bot.workspace.settings import WorkspaceSettings


@dataclass(frozen=True)
class DueEscalation:
    request: SupportRequest
    step: EscalationStep
    cycle: int  # 1 + the number of reopens: a reopened request escalates afresh


class ReminderKind(StrEnum):
    UNCLAIMED = "unclaimed"  # to the intake channel: nobody has claimed it
    ASSIGNEE_GONE = "assignee_gone"  # to the intake channel: its owner left the workspace
    NUDGE = "nudge"  # to the assignee: 75% of the turnaround used
    OVERDUE = "overdue"  # to the assignee: past due
    OVERDUE_TO_LEAD = "overdue_to_lead"  # to each Marketing Support lead but the assignee


@dataclass(frozen=True)
class Reminder:
    """One message about one escalation, to one channel or person."""

    channel: str
    kind: ReminderKind
    escalation: DueEscalation


def assignee_to_check(escalation: DueEscalation) -> str | None:
    """The owner whose presence in the workspace decides who is told (claimed steps only)."""
    if escalation.step == EscalationStep.UNCLAIMED_4H:
        return None
    return escalation.request.assignee_id


def superseded(escalation: DueEscalation, due: Sequence[DueEscalation]) -> bool:
    """A 75% nudge found in the same run as the overdue step is not sent: the overdue
    message says it all."""
    return escalation.step == EscalationStep.NUDGE_75 and any(
        other.step == EscalationStep.OVERDUE_100 and other.request.id == escalation.request.id
        for other in due
    )


def reminders_for(
    escalation: DueEscalation, settings: WorkspaceSettings, *, assignee_gone: bool = False
) -> list[Reminder]:
    """Who is told about an escalation step, in sending order.

    Nobody owns it yet: the intake channel asks who can claim it. Its owner has left the
    workspace: the intake channel is asked to reassign it. Otherwise the owner is nudged at
    75%, and at 100% told it is overdue, together with every Marketing Support lead."""
    step, assignee = escalation.step, escalation.request.assignee_id
    intake = settings.intake_channel
    if step == EscalationStep.UNCLAIMED_4H:
        return [Reminder(intake, ReminderKind.UNCLAIMED, escalation)] if intake else []
    if assignee is None:
        return []
    if assignee_gone:
        return [Reminder(intake, ReminderKind.ASSIGNEE_GONE, escalation)] if intake else []
    if step == EscalationStep.NUDGE_75:
        return [Reminder(assignee, ReminderKind.NUDGE, escalation)]
    return [Reminder(assignee, ReminderKind.OVERDUE, escalation)] + [
        Reminder(lead, ReminderKind.OVERDUE_TO_LEAD, escalation)
        for lead in settings.support_leads
        if lead != assignee
    ]


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


async def teams_with_open_requests(
    session: AsyncSession, team_ids: Sequence[str], now: datetime
) -> set[str]:
    """The SLA tick's filter: a workspace with no open request has no step to send. One query
    for every workspace (an index probe each, on ix_support_request_team_status)."""
    del now  # the shape of a tick's filter; whether a step is due is decided per request
    has_open = (
        sa.exists()
        .where(
            col(SupportRequest.team_id) == col(Workspace.team_id),
            col(SupportRequest.status).in_(list(OPEN_STATES)),
        )
        .correlate(Workspace)
    )
    rows = await session.exec(select(Workspace.team_id).where(has_open))
    return set(rows.all()) & set(team_ids)


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
    messages: Sequence[Outgoing] = (),
    team_id: str = "",
    queued_at: datetime | None = None,
) -> bool:
    """Record that this step is being sent, with its `messages` stored in the outbox in the same
    transaction; False when another run or process got there first,
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
    # The outbox keeps the process's own time (`queued_at`), whatever time the job runs "as of".
    await enqueue(session, team_id=team_id, messages=messages, now=queued_at or now)
    return await insert_once(
        session, RequestEscalation(request_id=request_id, step=step.value, cycle=cycle, sent_at=now)
    )
