"""A view's `state.values` as Slack reports them, built from what the page's form holds.

The page sends plain strings (or lists of strings for multi-selects and checkboxes) keyed by
block and action id; Slack sends typed entries (`value`, `selected_option` with the whole
option, `selected_date`…). The view's own elements say which is which.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

JSON = dict[str, Any]

_TEXT_INPUTS = {"plain_text_input", "number_input", "email_text_input", "url_text_input"}
_SINGLE_IDS = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}
_MULTI_IDS = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


def _options(element: JSON) -> list[JSON]:
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return options


def _as_list(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(item) for item in raw if item not in (None, "")]
    return [str(raw)] if raw not in (None, "") else []


def entry_for(element: JSON, raw: Any) -> JSON | None:
    """One element's state entry, or None for elements that carry no state (buttons…)."""
    kind = str(element.get("type", ""))
    entry: JSON = {"type": kind}
    if kind in _TEXT_INPUTS:
        entry["value"] = str(raw) if raw not in (None, "") else None
    elif kind in ("static_select", "radio_buttons", "external_select"):
        chosen = _as_list(raw)
        entry["selected_option"] = next(
            (copy.deepcopy(o) for o in _options(element) if chosen and o.get("value") == chosen[0]),
            None,
        )
    elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        chosen = _as_list(raw)
        entry["selected_options"] = [
            copy.deepcopy(o) for o in _options(element) if o.get("value") in chosen
        ]
    elif kind in _SINGLE_IDS:
        chosen = _as_list(raw)
        entry[_SINGLE_IDS[kind]] = chosen[0] if chosen else None
    elif kind in _MULTI_IDS:
        entry[_MULTI_IDS[kind]] = _as_list(raw)
    elif kind == "datetimepicker":
        chosen = _as_list(raw)
        entry["selected_date_time"] = (
            int(datetime.fromisoformat(chosen[0]).timestamp()) if chosen else None
        )
    else:
        return None
    return entry


def state_values(view: JSON, raw_values: JSON) -> JSON:
    """`view.state.values` for every stateful element of `view`'s input and actions blocks.

    An element the page did not send keeps what the view already held (a select changed
    earlier in a modal that was then updated)."""
    previous: JSON = (view.get("state") or {}).get("values") or {}
    values: JSON = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") not in ("input", "actions", "section"):
            continue
        block_id = str(block.get("block_id", ""))
        elements = [block.get("element"), block.get("accessory"), *(block.get("elements") or [])]
        for element in elements:
            if not isinstance(element, dict) or not element.get("action_id"):
                continue
            action_id = str(element["action_id"])
            sent = raw_values.get(block_id, {})
            if isinstance(sent, dict) and action_id in sent:
                entry = entry_for(element, sent[action_id])
            else:
                entry = previous.get(block_id, {}).get(action_id) or entry_for(
                    element, _initial(element)
                )
            if entry is not None:
                values.setdefault(block_id, {})[action_id] = entry
    return values


def _initial(element: JSON) -> Any:
    for key in ("initial_value", "initial_date", "initial_time", "initial_user"):
        if key in element:
            return element[key]
    for key in ("initial_conversation", "initial_channel"):
        if key in element:
            return element[key]
    if isinstance(element.get("initial_option"), dict):
        return element["initial_option"].get("value")
    if isinstance(element.get("initial_options"), list):
        return [o.get("value") for o in element["initial_options"] if isinstance(o, dict)]
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if key in element:
            return element[key]
    return None
