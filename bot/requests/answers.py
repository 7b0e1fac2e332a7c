"""The requester's answer to a request waiting on them: the question they were asked, and which
thread replies count as their answer (and so resume the request and its SLA clock).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.models import RequestEvent, RequestStatus, SupportRequest
from bot.requests.lifecycle import Action
from bot.requests.queue import events_of, find_request
from bot.workspace.settings import load_settings

NOT_WAITING = "This request isn't waiting on you any more; no answer needed."


def open_question(events: Sequence[RequestEvent]) -> str | None:
    """The latest question asked of the requester (the note of the last "need info")."""
    return next(
        (event.note for event in reversed(events) if event.action == Action.NEED_INFO.value),
        None,
    )


def check_waiting(request: SupportRequest) -> None:
    """An answer is only wanted while the request waits on the requester."""
    if request.status != RequestStatus.WAITING:
        raise UserError(NOT_WAITING)


async def question_to_answer(
    session: AsyncSession, *, team_id: str, request_id: int
) -> tuple[SupportRequest, str | None]:
    """The request waiting on an answer and the question asked; UserError if none is wanted."""
    request = await find_request(session, team_id=team_id, request_id=request_id)
    check_waiting(request)
    return request, open_question(await events_of(session, request_id=request_id))


def is_answer(request: SupportRequest | None, *, user_id: str) -> bool:
    """A reply answers a request when the request waits on the requester and they wrote it."""
    return (
        request is not None
        and request.id is not None
        and request.status == RequestStatus.WAITING
        and user_id == request.requester_id
    )


async def request_of_thread(
    session: AsyncSession, *, team_id: str, channel: str, thread_ts: str
) -> SupportRequest | None:
    """The request whose intake post starts this thread, if any."""
    result = await session.exec(
        select(SupportRequest).where(
            SupportRequest.team_id == team_id,
            SupportRequest.intake_channel == channel,
            SupportRequest.intake_ts == thread_ts,
        )
    )
    return result.first()


async def request_answered_by_reply(
    session: AsyncSession, *, team_id: str, channel: str, thread_ts: str, user_id: str
) -> SupportRequest | None:
    """The request a reply in the intake channel answers (and so resumes), or None."""
    settings = await load_settings(session, team_id)
    if channel != settings.intake_channel:
        return None
    request = await request_of_thread(
        session, team_id=team_id, channel=channel, thread_ts=thread_ts
    )
    return request if is_answer(request, user_id=user_id) else None
