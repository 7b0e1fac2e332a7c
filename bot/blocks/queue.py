"""Block Kit for working the queue: action modals, thread lines, DMs, ratings, the queue list."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.common import (
    Block,
    actions,
    button,
    context,
    input_block,
    modal,
    option,
    section,
    state_value,
)
from bot.blocks.requests import (
    ACTION_REOPEN,
    STATUS_LABELS,
    format_due,
    summary_line,
)
from bot.core.errors import UserError
from bot.core.models import DeliveryRating, RequestStatus, SupportRequest
from bot.core.text import (
    escape_and_truncate,
    escape_mrkdwn,
    format_reference,
    slack_link,
    truncate,
)
from bot.requests.deadlines import Promise
from bot.requests.lifecycle import Action
from bot.requests.queue import LOW_SCORE_REASONS, RATING_WINDOW, parse_deliverable_url

DELIVER_MODAL = "request_deliver_form"
DECLINE_MODAL = "request_decline_form"
REASSIGN_MODAL = "request_reassign_form"
NEED_INFO_MODAL = "request_need_info_form"
ANSWER_MODAL = "request_answer_form"
LOW_SCORE_MODAL = "rating_reason_form"

ACTION_ANSWER = "request_answer"
ACTION_RATE_SCORE = "rating_score"
ACTION_RATE_HELPED = "rating_helped"

FIELD_LINK = "link"
FIELD_NOTE = "note"
FIELD_ASSIGNEE = "assignee"
FIELD_QUESTION = "question"
FIELD_ANSWER = "answer"
FIELD_REASON = "reason"
FIELD_COMMENT = "comment"

HELPED_LABELS = {"yes": "Yes", "no": "No", "too_early": "Too early to say"}


def _metadata(request_id: int, **extra: str) -> str:
    return json.dumps({"request_id": request_id, **extra})


def parse_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _text_input(
    *, multiline: bool = False, max_length: int = 3000, placeholder: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": max_length,
    }
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    return element


def _heading(request: SupportRequest) -> Block:
    return section(f"*{format_reference(request.number)}* {summary_line(request)}")


def _request_modal(
    request: SupportRequest,
    callback_id: str,
    title: str,
    submit: str,
    inputs: list[Block],
    metadata: dict[str, str],
) -> dict[str, Any]:
    """A modal about one request: its heading over `inputs`, the request in its metadata."""
    return modal(
        callback_id,
        title,
        [_heading(request), *inputs],
        submit=submit,
        private_metadata=_metadata(request.id or 0, **metadata),
    )


def build_deliver_modal(request: SupportRequest, **metadata: str) -> dict[str, Any]:
    link = input_block(
        FIELD_LINK, "Link to the deliverable", {"type": "url_text_input", "action_id": "value"}
    )
    note = input_block(
        FIELD_NOTE,
        "Note for the requester",
        _text_input(multiline=True, placeholder="What's in it, how to use it"),
        optional=True,
    )
    return _request_modal(request, DELIVER_MODAL, "Deliver", "Deliver", [link, note], metadata)


def build_decline_modal(request: SupportRequest, **metadata: str) -> dict[str, Any]:
    why = input_block(
        FIELD_NOTE,
        "Why are you declining it?",
        _text_input(multiline=True, placeholder="The requester sees this"),
    )
    return _request_modal(request, DECLINE_MODAL, "Decline", "Decline", [why], metadata)


def build_reassign_modal(request: SupportRequest, **metadata: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select", "action_id": "value"}
    if request.assignee_id:
        element["initial_user"] = request.assignee_id
    inputs = [
        input_block(
            FIELD_ASSIGNEE,
            "Who should take it?",
            element,
            hint="Only Marketing Support members can take requests.",
        ),
        input_block(FIELD_NOTE, "Note", _text_input(multiline=True), optional=True),
    ]
    return _request_modal(request, REASSIGN_MODAL, "Reassign", "Reassign", inputs, metadata)


def build_need_info_modal(request: SupportRequest, **metadata: str) -> dict[str, Any]:
    question = input_block(
        FIELD_QUESTION,
        "What do you need from the requester?",
        _text_input(multiline=True),
        hint="Posted in the request's thread and sent to them; the SLA clock pauses until they answer.",
    )
    return _request_modal(
        request, NEED_INFO_MODAL, "Ask the requester", "Ask", [question], metadata
    )


def build_answer_modal(request: SupportRequest, question: str | None) -> dict[str, Any]:
    inputs: list[Block] = []
    if question:
        inputs.append(section(f"*Question:* {escape_and_truncate(question, 2500)}"))
    inputs.append(input_block(FIELD_ANSWER, "Your answer", _text_input(multiline=True)))
    return _request_modal(request, ANSWER_MODAL, "Answer", "Send", inputs, {})


def build_low_score_modal(request_id: int, score: int, **metadata: str) -> dict[str, Any]:
    reasons = [option(label, key) for key, label in LOW_SCORE_REASONS.items()]
    blocks = [
        section(
            f"Sorry it wasn't great ({score}/5). What went wrong? It helps Marketing Support improve."
        ),
        input_block(
            FIELD_REASON,
            "Main reason",
            {"type": "static_select", "action_id": "value", "options": reasons},
        ),
        input_block(FIELD_COMMENT, "Anything else?", _text_input(multiline=True), optional=True),
    ]
    return modal(
        LOW_SCORE_MODAL,
        "What went wrong?",
        blocks,
        submit="Send",
        private_metadata=json.dumps({"request_id": request_id, "score": score, **metadata}),
    )


def text_value(view: dict[str, Any], block_id: str) -> str | None:
    value = state_value(view, block_id).get("value")
    return str(value) if value else None


def selected_user(view: dict[str, Any], block_id: str) -> str | None:
    value = state_value(view, block_id).get("selected_user")
    return str(value) if value else None


def selected_value(view: dict[str, Any], block_id: str) -> str | None:
    chosen = state_value(view, block_id).get("selected_option") or {}
    value = chosen.get("value")
    return str(value) if value else None


# callback id -> the action its submission applies, and the field its refusals are shown on
ACTION_MODALS: dict[str, tuple[Action, str]] = {
    DELIVER_MODAL: (Action.DELIVER, FIELD_LINK),
    DECLINE_MODAL: (Action.DECLINE, FIELD_NOTE),
    REASSIGN_MODAL: (Action.REASSIGN, FIELD_ASSIGNEE),
    NEED_INFO_MODAL: (Action.NEED_INFO, FIELD_QUESTION),
    ANSWER_MODAL: (Action.RESUME, FIELD_ANSWER),
}


@dataclass(frozen=True)
class ActionForm:
    """A submitted action modal: what to do to which request, with the details it asked for."""

    action: Action
    field: str
    request_id: int | None
    note: str | None = None
    new_assignee_id: str | None = None
    deliverable_url: str | None = None


@dataclass(frozen=True)
class RatingClick:
    """A click on a rating button: `request:choice[:delivery event]`."""

    request_id: int
    choice: str
    delivery_event_id: int | None


def parse_rating_button(action: dict[str, Any]) -> RatingClick:
    parts = str(action.get("value") or "").split(":")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1]:
        raise UserError("That button is out of date.")
    delivery = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return RatingClick(int(parts[0]), parts[1], delivery)


def parse_rating_score(action: dict[str, Any]) -> tuple[RatingClick, int]:
    """A 1–5 rating click and its score."""
    try:
        click = parse_rating_button(action)
    except UserError:
        click = None
    if click is None or not click.choice.isdigit():
        raise UserError("That rating button is out of date.")
    return click, int(click.choice)


def _required(view: dict[str, Any], block_id: str, missing: str) -> str:
    text = (text_value(view, block_id) or "").strip()
    if not text:
        raise UserError(missing, block_id)
    return text


def parse_action_modal(view: dict[str, Any]) -> ActionForm:
    """Read any of the action modals; UserError on the field when something required is missing."""
    action, field = ACTION_MODALS[str(view.get("callback_id"))]
    request_id = parse_metadata(view).get("request_id")
    form = ActionForm(action, field, request_id if isinstance(request_id, int) else None)
    if action == Action.DELIVER:
        link = parse_deliverable_url(text_value(view, FIELD_LINK), field=FIELD_LINK)
        return ActionForm(
            action, field, form.request_id, text_value(view, FIELD_NOTE), deliverable_url=link
        )
    if action == Action.DECLINE:
        reason = _required(view, FIELD_NOTE, "Say why, so the requester knows what to do next.")
        return ActionForm(action, field, form.request_id, reason)
    if action == Action.REASSIGN:
        target = selected_user(view, FIELD_ASSIGNEE)
        if not target:
            raise UserError("Pick who should take it.", FIELD_ASSIGNEE)
        return ActionForm(
            action, field, form.request_id, text_value(view, FIELD_NOTE), new_assignee_id=target
        )
    if action == Action.NEED_INFO:
        question = _required(view, FIELD_QUESTION, "Write the question for the requester.")
        return ActionForm(action, field, form.request_id, question)
    return ActionForm(
        action, field, form.request_id, _required(view, FIELD_ANSWER, "Write your answer.")
    )


def thread_line(action: Action, actor_id: str, request: SupportRequest, note: str | None) -> str:
    """The line added under the intake post for each change."""
    who = f"<@{actor_id}>"
    shown = escape_and_truncate(note, 2500) if note else None
    lines = {
        Action.CLAIM: f"{who} claimed this.",
        Action.START: f"{who} started work on this.",
        Action.NEED_INFO: f"{who} asked <@{request.requester_id}>: {shown}\n"
        "_The SLA clock is paused until they answer here._",
        Action.RESUME: f"<@{request.requester_id}> answered; work resumes.",
        Action.DELIVER: f"{who} delivered this."
        + (
            " " + slack_link(request.deliverable_url, "Open the deliverable")
            if request.deliverable_url
            else ""
        ),
        Action.DECLINE: f"{who} declined this: {shown}",
        Action.CANCEL: f"{who} cancelled this.",
        Action.REOPEN: f"{who} reopened this.",
        Action.REASSIGN: f"{who} reassigned this to <@{request.assignee_id}>.",
    }
    line = lines[action]
    if shown and action in (Action.DELIVER, Action.REASSIGN, Action.CANCEL, Action.REOPEN):
        line += f"\n>{shown}"
    return truncate(line, 3000)


def requester_dm(
    action: Action,
    actor_id: str,
    request: SupportRequest,
    note: str | None,
    *,
    picked_up: bool = False,
    event_id: int | None = None,
) -> tuple[str, list[Block]] | None:
    """What the requester is told by DM, for the changes they care about."""
    reference = format_reference(request.number)
    link = (
        f"<{escape_mrkdwn(request.intake_permalink)}|{reference}>"
        if request.intake_permalink
        else f"*{reference}*"
    )
    shown = escape_and_truncate(note, 2500) if note else None
    value = str(request.id)
    if picked_up:
        text = f":raising_hand: <@{actor_id}> picked up {link} ({summary_line(request)}). Due {format_due(request.due_date)}."
        return text, [section(text)]
    if action == Action.REASSIGN:
        text = f":arrows_counterclockwise: {link} is now with <@{request.assignee_id}>."
        return text, [section(text)]
    if action == Action.DECLINE:
        text = f":no_entry_sign: <@{actor_id}> declined {link}: {shown or 'no reason given'}"
        return text, [
            section(text),
            actions("request_dm_actions", button("Reopen", ACTION_REOPEN, value=value)),
        ]
    if action == Action.NEED_INFO:
        text = f":question: <@{actor_id}> needs something from you for {link}: {shown}"
        return text, [
            section(text),
            context("Reply in the request's thread, or answer here. The due date waits for you."),
            actions(
                "request_dm_actions", button("Answer", ACTION_ANSWER, value=value, style="primary")
            ),
        ]
    if action == Action.DELIVER:
        return build_rating_dm(request, actor_id=actor_id, rating=None, delivery_event_id=event_id)
    return None


def build_rating_dm(
    request: SupportRequest,
    *,
    actor_id: str | None,
    rating: DeliveryRating | None,
    delivery_event_id: int | None = None,
) -> tuple[str, list[Block]]:
    """The delivery DM: what was delivered, then the 1–5 rating and 'did it help the deal?'."""
    reference = format_reference(request.number)
    deliverable = (
        " " + slack_link(request.deliverable_url, "Open the deliverable")
        if request.deliverable_url
        else ""
    )
    by = f" by <@{actor_id}>" if actor_id else ""
    text = f":package: {reference} ({summary_line(request)}) was delivered{by}.{deliverable}"
    value = str(request.id)
    delivery = f":{delivery_event_id}" if delivery_event_id else ""
    blocks: list[Block] = [section(text)]
    if request.outcome_note:
        blocks.append(context(escape_and_truncate(request.outcome_note, 1500)))
    blocks.append(section("*How good was it?* (1 = not useful, 5 = exactly what I needed)"))
    blocks.append(
        actions(
            "rating_scores",
            *[
                button(
                    f"{score}{' ✓' if rating and rating.score == score else ''}",
                    f"{ACTION_RATE_SCORE}_{score}",
                    value=f"{value}:{score}{delivery}",
                    style="primary" if rating and rating.score == score else None,
                )
                for score in range(1, 6)
            ],
        )
    )
    blocks.append(section("*Did it help the deal?*"))
    blocks.append(
        actions(
            "rating_helped",
            *[
                button(
                    f"{label}{' ✓' if rating and rating.helped == key else ''}",
                    f"{ACTION_RATE_HELPED}_{key}",
                    value=f"{value}:{key}{delivery}",
                    style="primary" if rating and rating.helped == key else None,
                )
                for key, label in HELPED_LABELS.items()
            ],
            button("Reopen", ACTION_REOPEN, value=value),
        )
    )
    if rating is not None:
        parts = []
        if rating.score is not None:
            parts.append(f"you rated it {rating.score}/5")
        if rating.helped:
            parts.append(f"helped the deal: {HELPED_LABELS[rating.helped].lower()}")
        if rating.reason:
            parts.append(f"reason: {LOW_SCORE_REASONS[rating.reason].lower()}")
        until = ((request.delivered_at or rating.created_at) + RATING_WINDOW).date()
        blocks.append(
            context(f"Thanks — {', '.join(parts)}. You can change it until {format_due(until)}.")
        )
    return text, blocks


def build_queue(requests: list[SupportRequest], *, now: datetime, tz: ZoneInfo) -> str:
    """`/align queue`: open requests grouped by status, due dates and owners; "overdue" by
    the one lateness rule (`bot.requests.deadlines`), the same as the digests count."""
    if not requests:
        return ":tada: The Marketing Support queue is empty."
    order = [
        RequestStatus.OPEN,
        RequestStatus.CLAIMED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.WAITING,
    ]
    lines = [f"*Marketing Support queue* — {len(requests)} open"]
    for status in order:
        group = [request for request in requests if request.status == status]
        if not group:
            continue
        lines.append(f"\n*{STATUS_LABELS[status].split(' — ')[0]}* ({len(group)})")
        for request in group[:15]:
            reference = format_reference(request.number)
            link = (
                f"<{escape_mrkdwn(request.intake_permalink)}|{reference}>"
                if request.intake_permalink
                else reference
            )
            late = Promise.of(request).broken_at(now, tz)
            overdue = " :rotating_light: overdue" if late else ""
            owner = f" · <@{request.assignee_id}>" if request.assignee_id else ""
            lines.append(f"• {link} {summary_line(request)}{owner}{overdue}")
        if len(group) > 15:
            lines.append(f"  …and {len(group) - 15} more")
    return truncate("\n".join(lines), 3000)
