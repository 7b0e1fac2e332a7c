"""Block Kit for filing requests: the modal, the intake post, confirmations and lists."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from bot.blocks.common import (
    PLAIN_INPUT_MAX,
    Block,
    actions,
    button,
    context,
    fields_section,
    header,
    input_block,
    modal,
    option,
    section,
    state_value,
)
from bot.core.models import RequestStatus, SupportRequest
from bot.core.text import (
    escape_and_truncate,
    escape_mrkdwn,
    format_money,
    format_reference,
    slack_link,
    truncate,
)
from bot.requests.command import RequestDraft
from bot.requests.filing import (
    ACCOUNT_MAX_CHARS,
    FIELD_ACCOUNT,
    FIELD_AMOUNT,
    FIELD_CRM_LINK,
    FIELD_DETAILS,
    FIELD_DUE,
    FIELD_TYPE,
    RequestForm,
)
from bot.requests.types import REQUEST_TYPE_LABELS, RequestType

REQUEST_MODAL = "request_form"
INTAKE_ACTIONS_BLOCK = "request_actions"
ACTION_CLAIM = "request_claim"
ACTION_START = "request_start"
ACTION_DELIVER = "request_deliver"
ACTION_DECLINE = "request_decline"
ACTION_REASSIGN = "request_reassign"
ACTION_NEED_INFO = "request_need_info"
ACTION_CANCEL = "request_cancel"
ACTION_REOPEN = "request_reopen"
INTAKE_ACTION_IDS = (
    ACTION_CLAIM,
    ACTION_START,
    ACTION_NEED_INFO,
    ACTION_DELIVER,
    ACTION_DECLINE,
    ACTION_REASSIGN,
    ACTION_CANCEL,
    ACTION_REOPEN,
)

DETAILS_SHOWN_CHARS = 2800

STATUS_EMOJI: dict[RequestStatus, str] = {
    RequestStatus.OPEN: ":large_yellow_circle:",
    RequestStatus.CLAIMED: ":large_blue_circle:",
    RequestStatus.IN_PROGRESS: ":hammer_and_wrench:",
    RequestStatus.WAITING: ":hourglass_flowing_sand:",
    RequestStatus.DELIVERED: ":white_check_mark:",
    RequestStatus.DECLINED: ":no_entry_sign:",
    RequestStatus.CANCELLED: ":heavy_multiplication_x:",
}

STATUS_LABELS: dict[RequestStatus, str] = {
    RequestStatus.OPEN: "Open — waiting for someone to claim it",
    RequestStatus.CLAIMED: "Claimed",
    RequestStatus.IN_PROGRESS: "In progress",
    RequestStatus.WAITING: "Waiting on requester",
    RequestStatus.DELIVERED: "Delivered",
    RequestStatus.DECLINED: "Declined",
    RequestStatus.CANCELLED: "Cancelled",
}


def format_due(due: date | None) -> str:
    return due.strftime("%a %-d %b %Y") if due else "not set"


def _type_options() -> list[dict[str, Any]]:
    return [
        option(label, request_type.value) for request_type, label in REQUEST_TYPE_LABELS.items()
    ]


def build_request_modal(
    draft: RequestDraft | None = None,
    *,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The request form, prefilled from whatever the one-line text or a message gave us."""
    draft = draft or RequestDraft()
    blocks: list[Block] = []
    if reason:
        blocks.append(context(escape_mrkdwn(reason)))
    type_element: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": "Choose one"},
        "options": _type_options(),
    }
    if draft.request_type:
        type_element["initial_option"] = option(draft.request_type.label, draft.request_type.value)
    blocks.append(input_block(FIELD_TYPE, "What do you need?", type_element))
    blocks.append(
        input_block(
            FIELD_ACCOUNT,
            "Account",
            _text_input(draft.account, max_length=ACCOUNT_MAX_CHARS, placeholder="Acme Corp"),
            optional=True,
        )
    )
    amount_text = format_money(draft.amount_cents) if draft.amount_cents is not None else None
    blocks.append(
        input_block(
            FIELD_AMOUNT,
            "Deal amount",
            _text_input(amount_text, max_length=40, placeholder="$250k"),
            optional=True,
            hint="Like $250k, $1.2m or $48,000.",
        )
    )
    due_element: dict[str, Any] = {"type": "datepicker", "action_id": "value"}
    if draft.due_date:
        due_element["initial_date"] = draft.due_date.isoformat()
    blocks.append(
        input_block(
            FIELD_DUE,
            "Needed by",
            due_element,
            optional=True,
            hint="Leave empty and Marketing Support's usual turnaround for this kind applies.",
        )
    )
    blocks.append(
        input_block(
            FIELD_DETAILS,
            "Details",
            _text_input(
                draft.details,
                max_length=PLAIN_INPUT_MAX,
                multiline=True,
                placeholder="Who is it for, what should it say, anything to reuse?",
            ),
        )
    )
    crm_element: dict[str, Any] = {"type": "url_text_input", "action_id": "value"}
    if draft.crm_link:
        crm_element["initial_value"] = draft.crm_link
    blocks.append(input_block(FIELD_CRM_LINK, "CRM link", crm_element, optional=True))
    return modal(
        REQUEST_MODAL,
        "Marketing Support",
        blocks,
        submit="Send request",
        private_metadata=json.dumps(metadata or {}),
    )


def _text_input(
    initial: str | None, *, max_length: int, multiline: bool = False, placeholder: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": max_length,
        "multiline": multiline,
    }
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    if initial:
        element["initial_value"] = truncate(initial, max_length)
    return element


def parse_request_modal(view: dict[str, Any]) -> RequestForm:
    selected = state_value(view, FIELD_TYPE).get("selected_option") or {}
    due_text = state_value(view, FIELD_DUE).get("selected_date")
    return RequestForm(
        request_type=selected.get("value"),
        account=state_value(view, FIELD_ACCOUNT).get("value"),
        amount=state_value(view, FIELD_AMOUNT).get("value"),
        due_date=date.fromisoformat(due_text) if due_text else None,
        details=state_value(view, FIELD_DETAILS).get("value"),
        crm_link=state_value(view, FIELD_CRM_LINK).get("value"),
    )


def parse_modal_metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return (
        {str(key): str(value) for key, value in metadata.items()}
        if isinstance(metadata, dict)
        else {}
    )


def summary_line(request: SupportRequest) -> str:
    """`Deal deck · Acme Corp · $250,000 · due Fri 4 Dec 2026`, escaped for mrkdwn."""
    parts = [RequestType(request.request_type).label]
    if request.account:
        parts.append(escape_and_truncate(request.account, 200))
    if request.amount_cents is not None:
        parts.append(format_money(request.amount_cents))
    if request.due_date:
        parts.append(f"due {format_due(request.due_date)}")
    return " · ".join(parts)


def slack_date(moment: datetime, template: str) -> str:
    """Slack renders this in each reader's own time zone; the fallback is UTC."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{template}|{fallback}>"


def intake_buttons(request: SupportRequest) -> list[dict[str, Any]]:
    """The buttons that make sense in the request's current state."""
    value = str(request.id)
    status = RequestStatus(request.status)
    claim = button("Claim", ACTION_CLAIM, value=value, style="primary")
    start = button("Start", ACTION_START, value=value)
    resume = button("Resume", ACTION_START, value=value)
    need_info = button("Need info", ACTION_NEED_INFO, value=value)
    deliver = button("Deliver", ACTION_DELIVER, value=value, style="primary")
    decline = button("Decline", ACTION_DECLINE, value=value, style="danger")
    reassign = button("Reassign", ACTION_REASSIGN, value=value)
    cancel = button("Cancel", ACTION_CANCEL, value=value)
    reopen = button("Reopen", ACTION_REOPEN, value=value)
    by_status: dict[RequestStatus, list[dict[str, Any]]] = {
        RequestStatus.OPEN: [claim, start, decline, reassign, cancel],
        RequestStatus.CLAIMED: [start, need_info, deliver, decline, reassign, cancel],
        RequestStatus.IN_PROGRESS: [need_info, deliver, decline, reassign, cancel],
        RequestStatus.WAITING: [resume, deliver, decline, reassign, cancel],
        RequestStatus.DELIVERED: [reopen],
        RequestStatus.DECLINED: [reopen],
        RequestStatus.CANCELLED: [],
    }
    return by_status[status]


def build_intake_message(request: SupportRequest) -> tuple[str, list[Block]]:
    """The post in the Marketing Support intake channel, with the buttons for its state."""
    reference = format_reference(request.number)
    request_type = RequestType(request.request_type)
    status = RequestStatus(request.status)
    due = format_due(request.due_date)
    if request.due_date and request.due_from_sla:
        due += " (usual turnaround)"
    fields = [
        f"*Requested by*\n<@{request.requester_id}>",
        f"*Status*\n{STATUS_EMOJI[status]} {STATUS_LABELS[status]}",
        f"*Account*\n{escape_and_truncate(request.account, 500) if request.account else '—'}",
        "*Amount*\n"
        + (format_money(request.amount_cents) if request.amount_cents is not None else "—"),
        f"*Due*\n{due}",
        f"*Assignee*\n{f'<@{request.assignee_id}>' if request.assignee_id else 'nobody yet'}",
    ]
    blocks: list[Block] = [header(f"{reference} · {request_type.label}"), fields_section(fields)]
    if request.details:
        shown = escape_and_truncate(request.details, DETAILS_SHOWN_CHARS)
        if len(request.details) > DETAILS_SHOWN_CHARS // 2 and shown.endswith("…"):
            shown += (
                f"\n_(shortened here; the full {len(request.details):,} characters are stored)_"
            )
        blocks.append(section(shown))
    if request.crm_link:
        blocks.append(section(slack_link(request.crm_link, "Open in CRM")))
    if status == RequestStatus.DELIVERED and request.deliverable_url:
        blocks.append(
            section(
                ":package: Delivered: "
                + slack_link(request.deliverable_url, "open the deliverable")
            )
        )
    if status in (RequestStatus.DECLINED, RequestStatus.DELIVERED) and request.outcome_note:
        blocks.append(context(escape_and_truncate(request.outcome_note, 1500)))
    notes = [slack_date(request.created_at, "Filed {ago}"), f"via {escape_mrkdwn(request.source)}"]
    if request.requester_in_sales is False:
        notes.append(":warning: the requester is not in the Sales user group")
    blocks.append(context(" · ".join(notes)))
    buttons = intake_buttons(request)
    if buttons:
        blocks.append(actions(INTAKE_ACTIONS_BLOCK, *buttons))
    text = f"{reference} · {request_type.label} from <@{request.requester_id}>: {summary_line(request)} — {STATUS_LABELS[status]}"
    return truncate(text, 3000), blocks


def build_filed_confirmation(
    request: SupportRequest,
    *,
    intake_channel: str | None,
    problem: str | None,
    posting: bool = False,
) -> str:
    """The requester's ephemeral answer once the request is stored (and, ideally, posted)."""
    reference = format_reference(request.number)
    summary = summary_line(request)
    if intake_channel is None:
        return (
            f":floppy_disk: Saved as *{reference}* ({summary}), but no Marketing Support intake "
            "channel is set up yet, so nobody has been told. Ask an admin to run "
            "`/align settings`; your request is kept and will show in the queue."
        )
    if problem is not None:
        return (
            f":floppy_disk: Saved as *{reference}* ({summary}), but I couldn't post it to "
            f"<#{intake_channel}>: {problem} Your request is kept; tell an admin."
        )
    if posting:
        return (
            f":white_check_mark: Filed *{reference}*: {summary}. Slack is slow to take messages "
            f"right now, so I'm still posting it to <#{intake_channel}>; it's saved and will "
            "appear there as soon as Slack lets me. I'll DM you when someone picks it up."
        )
    link = (
        f"<{escape_mrkdwn(request.intake_permalink)}|{reference}>"
        if request.intake_permalink
        else f"*{reference}*"
    )
    return (
        f":white_check_mark: Filed {link}: {summary}. It's in <#{intake_channel}> for "
        "Marketing Support; I'll DM you when someone picks it up."
    )


def build_my_requests(requests: list[SupportRequest]) -> str:
    if not requests:
        return "You have no open requests. File one with `/mktg` (try `/mktg help`)."
    lines = ["*Your open requests*"]
    for request in requests:
        reference = format_reference(request.number)
        link = (
            f"<{escape_mrkdwn(request.intake_permalink)}|{reference}>"
            if request.intake_permalink
            else reference
        )
        status = STATUS_LABELS[RequestStatus(request.status)].split(" — ")[0]
        lines.append(f"• {link} {summary_line(request)} — {status}")
    return truncate("\n".join(lines), 3000)


def build_status(request: SupportRequest) -> str:
    reference = format_reference(request.number)
    assignee = f"<@{request.assignee_id}>" if request.assignee_id else "nobody yet"
    return (
        f"*{reference}* {summary_line(request)}\n"
        f"Status: {STATUS_LABELS[RequestStatus(request.status)]} · assignee: {assignee}"
    )
