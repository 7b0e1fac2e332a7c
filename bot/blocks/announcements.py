"""What the bot says after a change, as outbox rows: the intake post's refresh, the thread line,
the requester's and the new assignee's DMs; and the notice to admins when a row dead-letters.

Every message of a request shares its ordering key, so the thread line never lands before the
intake post it hangs under; DMs are ordered per person and request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.blocks.queue import requester_dm, thread_line
from bot.blocks.requests import summary_line
from bot.core.models import OutboxMessage, RequestStatus, SupportRequest
from bot.core.outbox import (
    KIND_ADMIN_NOTICE,
    KIND_DIGEST,
    KIND_INTAKE_POST,
    KIND_INTAKE_UPDATE,
    KIND_MESSAGE,
    KIND_SURVEY_REMINDER,
    KIND_THREAD_LINE,
    Outgoing,
    payload_of,
)
from bot.core.slack_errors import describe_channel_problem
from bot.core.text import escape_mrkdwn, format_reference
from bot.requests.filing import intake_message_key, request_ordering
from bot.requests.lifecycle import Action
from bot.requests.queue import Outcome

WHAT_A_KIND_IS = {
    KIND_INTAKE_POST: "a request's post in the intake channel",
    KIND_INTAKE_UPDATE: "an update of a request's intake post",
    KIND_THREAD_LINE: "a line in a request's intake thread",
    KIND_DIGEST: "a weekly digest",
    KIND_SURVEY_REMINDER: "a survey reminder",
    KIND_MESSAGE: "a message",
}
PERSON_PROBLEMS = {
    "user_not_found": "that person is not in the workspace any more.",
    "account_inactive": "that person's account is deactivated.",
    "cannot_dm_bot": "that is a bot, which I can't DM.",
}


def dm(
    user_id: str,
    text: str,
    *,
    key: str,
    about: int | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> Outgoing:
    """A DM: ordered per person and (when given) request."""
    return Outgoing(
        kind=KIND_MESSAGE,
        channel=user_id,
        idempotency_key=key,
        payload={"text": text, "blocks": blocks} if blocks else {"text": text},
        ordering_key=f"dm:{user_id}:{about}" if about is not None else f"dm:{user_id}",
    )


def intake_refresh(request: SupportRequest, *, key: str | None = None) -> Outgoing:
    """The intake post shown as the request is when it goes out (repeats coalesce)."""
    assert request.id is not None
    return Outgoing(
        kind=KIND_INTAKE_UPDATE,
        channel=request.intake_channel or "",
        idempotency_key=key or f"intake-update:{request.id}:{request.version}",
        payload={"request_id": request.id, "about": format_reference(request.number)},
        ordering_key=request_ordering(request.id),
        message_key=intake_message_key(request.id),
        coalesce=True,
    )


def announcement(outcome: Outcome) -> list[Outgoing]:
    """Everything a transition means to say, to store with it."""
    request, action, event = outcome.request, outcome.transition.action, outcome.event_id
    assert request.id is not None
    reference = format_reference(request.number)
    rows = [
        intake_refresh(request),
        Outgoing(
            kind=KIND_THREAD_LINE,
            channel=request.intake_channel or "",
            idempotency_key=f"thread:{event}",
            payload={
                "request_id": request.id,
                "about": reference,
                "text": thread_line(action, outcome.actor_id, request, outcome.note),
            },
            # After the post and its refreshes: a line hangs under the post as it is now.
            ordering_key=request_ordering(request.id),
        ),
    ]
    if outcome.actor_id != request.requester_id:
        transition = outcome.transition
        message = requester_dm(
            action,
            outcome.actor_id,
            request,
            outcome.note,
            picked_up=transition.from_status == RequestStatus.OPEN
            and transition.to_status in (RequestStatus.CLAIMED, RequestStatus.IN_PROGRESS)
            and action in (Action.CLAIM, Action.START),
            event_id=event,
        )
        if message is not None:
            text, dm_blocks = message
            rows.append(
                dm(
                    request.requester_id,
                    text,
                    blocks=list(dm_blocks),
                    key=f"requester:{event}",
                    about=request.id,
                )
            )
    if (
        action == Action.REASSIGN
        and request.assignee_id
        and request.assignee_id != outcome.actor_id
    ):
        link = f"<{request.intake_permalink}|Open it>" if request.intake_permalink else ""
        rows.append(
            dm(
                request.assignee_id,
                f":inbox_tray: <@{outcome.actor_id}> handed you "
                f"{format_reference(request.number)}: {summary_line(request)}. " + link,
                key=f"assignee:{event}",
                about=request.id,
            )
        )
    return rows


def dead_letter_notices(
    row: OutboxMessage, code: str, admins: Sequence[str], *, now: datetime
) -> list[Outgoing]:
    """One DM per admin saying what could not be sent and what to fix (at most one a day for
    the same target and error, however many rows met it)."""
    if row.kind == KIND_ADMIN_NOTICE:
        return []
    payload = payload_of(row)
    what = WHAT_A_KIND_IS.get(row.kind, "a message")
    about = payload.get("about")
    if about:
        what += f" ({escape_mrkdwn(str(about))})"
    target = row.channel
    where = f"<#{target}>" if target.startswith(("C", "G")) else f"<@{target}>"
    problem = PERSON_PROBLEMS.get(code) or describe_channel_problem(code)
    if code in ("not_installed",):
        problem = "the app is no longer installed in this workspace."
    text = (
        f":warning: I couldn't send {what} to {where}: {problem}\n"
        "Once that is fixed, an operator can send it again with "
        f"`alignbot outbox retry --dead --team {row.team_id}` (outbox row {row.id})."
    )
    day = now.date().isoformat()
    return [
        Outgoing(
            kind=KIND_ADMIN_NOTICE,
            channel=admin,
            idempotency_key=f"dead-notice:{admin}:{target}:{code}:{day}",
            payload={"text": text},
            ordering_key=f"notice:{admin}",
        )
        for admin in admins
    ]
