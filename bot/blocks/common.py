"""Small Block Kit element builders that respect Slack's limits by construction."""

from __future__ import annotations

from typing import Any

from bot.core.text import truncate

Block = dict[str, Any]

SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
OPTION_TEXT_MAX = 75
MODAL_TITLE_MAX = 24
MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100
PLAIN_INPUT_MAX = 3000
FALLBACK_TEXT_MAX = 3000


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    """`text` must already be escaped: callers escape user text where they assemble it."""
    return {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_MAX) or " "}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def section(text: str, *, block_id: str | None = None, fields: list[str] | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": truncate(field, FIELD_TEXT_MAX)} for field in fields[:10]
        ]
    if block_id:
        block["block_id"] = block_id
    return block


def fields_section(fields: list[str]) -> Block:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": truncate(field, FIELD_TEXT_MAX)} for field in fields[:10]
        ],
    }


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text) for text in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str, action_id: str, *, value: str | None = None, style: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: dict[str, Any]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str | None = "Submit",
    close: str = "Cancel",
    private_metadata: str = "",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_MAX),
        "close": plain(close, MODAL_TITLE_MAX),
        "blocks": blocks[:MODAL_BLOCKS_MAX],
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(submit, MODAL_TITLE_MAX)
    return view


def state_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The single element state of an input block (Slack keys it by block and action id)."""
    block_state: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {})
    return next(iter(block_state.values()), {}) if block_state else {}
