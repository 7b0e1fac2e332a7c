"""Block elements: buttons, selects, overflow, choices, text inputs, images."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sandbox.render.common import (
    _attrs,
    _Ctx,
    _d,
    _esc,
    _l,
    _plain,
    _s,
    _safe_url,
    _unsupported,
)
from sandbox.render.mrkdwn import _text

# --------------------------------------------------------------------------------- elements


def _option_value(option: object) -> str:
    return _s(option.get("value")) if isinstance(option, dict) else ""


def _ids(el: dict[str, Any], block_id: str, value: object) -> tuple[tuple[str, object], ...]:
    return (
        ("data-action-id", _s(el.get("action_id"))),
        ("data-block-id", block_id),
        ("data-value", value),
        ("data-type", _s(el.get("type"))),
    )


def _select(el: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    kind = _s(el.get("type"))
    multi = kind.startswith("multi_")
    base = kind.removeprefix("multi_")
    chosen: list[str] = []
    groups: list[tuple[str | None, list[tuple[str, str]]]] = []
    if base in ("users_select", "conversations_select", "channels_select"):
        names = ctx.users if base == "users_select" else ctx.channels
        prefix = "@" if base == "users_select" else "#"
        key = {"users_select": "user", "conversations_select": "conversation"}.get(base, "channel")
        initial = el.get(f"initial_{key}s" if multi else f"initial_{key}")
        chosen = [_s(v) for v in initial] if isinstance(initial, list) else [_s(initial)]
        ids = list(names) + [c for c in chosen if c and c not in names]
        groups.append((None, [(i, prefix + (names.get(i) or i)) for i in ids]))
    else:
        initial_options = _l(el, "initial_options") if multi else [_d(el, "initial_option")]
        chosen = [_option_value(o) for o in initial_options]
        flat = [(_option_value(o), _s(_d(o, "text").get("text"))) for o in _l(el, "options")]
        if flat:
            groups.append((None, flat))
        for group in _l(el, "option_groups"):
            items = [
                (_option_value(o), _s(_d(o, "text").get("text"))) for o in _l(group, "options")
            ]
            groups.append((_s(_d(group, "label").get("text")), items))
    chosen = [c for c in chosen if c]
    value: str = json.dumps(chosen) if multi else (chosen[0] if chosen else "")
    placeholder = _s(_d(el, "placeholder").get("text")) or "Select an item"

    def options(items: list[tuple[str, str]]) -> str:
        return "".join(
            f"<option{_attrs(('value', v), ('selected', v in chosen))}>{_esc(t)}</option>"
            for v, t in items
        )

    body = (
        ""
        if multi
        else (f'<option value=""{_attrs(("selected", not chosen))}>{_esc(placeholder)}</option>')
    )
    for label, items in groups:
        body += (
            options(items)
            if label is None
            else (f"<optgroup{_attrs(('label', label))}>{options(items)}</optgroup>")
        )
    attrs = _attrs(
        ("id", control_id(block_id, el.get("action_id"))),
        ("class", f"bk-select bk-{kind.replace('_', '-')}"),
        *_ids(el, block_id, value),
        ("multiple", multi),
        ("disabled", not ctx.interactive),
    )
    return f"<select{attrs}>{body}</select>"


def _confirm_text(confirm: object) -> str | None:
    """A confirm dialog as the one sentence a browser's confirm() can show: title, then text."""
    if not isinstance(confirm, dict):
        return None
    parts = [_s(_d(confirm, key).get("text")) for key in ("title", "text")]
    return "\n\n".join(part for part in parts if part) or "Are you sure?"


def control_id(block_id: str, action_id: object) -> str:
    """The HTML id of an input's control, so its label can name it."""
    return f"bk-{block_id}-{_s(action_id)}"


def _button(el: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    style = _s(el.get("style"))
    cls = "bk-button" + (f" bk-button-{style}" if style in ("primary", "danger") else "")
    url = _safe_url(el.get("url"))
    attrs = _attrs(
        ("type", "button"),
        ("class", cls),
        *_ids(el, block_id, _s(el.get("value"))),
        ("data-url", url),
        ("data-confirm", _confirm_text(el.get("confirm"))),
        ("disabled", not ctx.interactive),
    )
    return f"<button{attrs}>{_plain(el.get('text'))}</button>"


def _overflow(el: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    items = []
    for option in _l(el, "options"):
        url = _safe_url(option.get("url")) if isinstance(option, dict) else None
        attrs = _attrs(
            ("type", "button"),
            ("class", "bk-overflow-option"),
            *_ids(el, block_id, _option_value(option)),
            ("data-url", url),
            ("disabled", not ctx.interactive),
        )
        items.append(f"<li><button{attrs}>{_plain(_d(option, 'text'))}</button></li>")
    attrs = _attrs(("class", "bk-overflow"), *_ids(el, block_id, ""))
    return (
        f'<details{attrs}><summary class="bk-overflow-toggle" title="More actions">⋯</summary>'
        f'<ul class="bk-overflow-menu">{"".join(items)}</ul></details>'
    )


def _choices(el: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    kind = _s(el.get("type"))
    radio = kind == "radio_buttons"
    chosen = (
        [_option_value(_d(el, "initial_option"))]
        if radio
        else [_option_value(o) for o in _l(el, "initial_options")]
    )
    chosen = [c for c in chosen if c]
    name = f"{block_id}/{_s(el.get('action_id'))}"
    items = []
    for option in _l(el, "options"):
        value = _option_value(option)
        attrs = _attrs(
            ("type", "radio" if radio else "checkbox"),
            ("class", "bk-choice-input"),
            ("name", name),
            ("value", value),
            *_ids(el, block_id, value),
            ("checked", value in chosen),
            ("disabled", not ctx.interactive),
        )
        description = _d(option, "description")
        desc = (
            f'<span class="bk-choice-description">{_text(description, ctx)}</span>'
            if description
            else ""
        )
        items.append(
            f'<label class="bk-choice"><input{attrs}>'
            f'<span class="bk-choice-text">{_text(_d(option, "text"), ctx)}</span>{desc}</label>'
        )
    value = (chosen[0] if chosen else "") if radio else json.dumps(chosen)
    attrs = _attrs(("class", f"bk-choices bk-{kind.replace('_', '-')}"), *_ids(el, block_id, value))
    return f'<div{attrs} role="{"radiogroup" if radio else "group"}">{"".join(items)}</div>'


_INPUT_TYPES = {
    "plain_text_input": "text",
    "url_text_input": "url",
    "email_text_input": "email",
    "number_input": "number",
    "datepicker": "date",
    "timepicker": "time",
    "datetimepicker": "datetime-local",
}


def _field_value(el: dict[str, Any], kind: str, ctx: _Ctx) -> str:
    if kind == "datepicker":
        return _s(el.get("initial_date"))
    if kind == "timepicker":
        return _s(el.get("initial_time"))
    if kind == "datetimepicker":
        ts = el.get("initial_date_time")
        if isinstance(ts, int):
            try:
                return datetime.fromtimestamp(ts, tz=ctx.tz).strftime("%Y-%m-%dT%H:%M")
            except (ValueError, OverflowError, OSError):
                return ""
        return ""
    return _s(el.get("initial_value"))


def _text_field(el: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    kind = _s(el.get("type"))
    value = _field_value(el, kind, ctx)
    placeholder = _s(_d(el, "placeholder").get("text")) or None
    common = (
        ("id", control_id(block_id, el.get("action_id"))),
        ("class", f"bk-control bk-{kind.replace('_', '-')}"),
        ("name", f"{block_id}/{_s(el.get('action_id'))}"),
        *_ids(el, block_id, value),
        ("placeholder", placeholder),
        ("disabled", not ctx.interactive),
    )
    if kind == "plain_text_input":
        lengths = (
            ("minlength", el.get("min_length") if isinstance(el.get("min_length"), int) else None),
            ("maxlength", el.get("max_length") if isinstance(el.get("max_length"), int) else None),
        )
        if el.get("multiline"):
            return f"<textarea{_attrs(*common, *lengths, ('rows', 4))}>{_esc(value)}</textarea>"
        return f"<input{_attrs(('type', 'text'), *common, *lengths, ('value', value))}>"
    extra: tuple[tuple[str, object], ...] = ()
    if kind == "number_input":
        extra = (
            ("step", "any" if el.get("is_decimal_allowed") else "1"),
            ("min", _s(el.get("min_value")) or None),
            ("max", _s(el.get("max_value")) or None),
        )
    return f"<input{_attrs(('type', _INPUT_TYPES[kind]), *common, *extra, ('value', value))}>"


# A view's state.values entry -> the element field that shows the same choice.
_STATE_TO_INITIAL = {
    "value": "initial_value",
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}


def _with_state(el: dict[str, Any], block_id: str, ctx: _Ctx) -> dict[str, Any]:
    """The element as the user left it: the view's state.values override its initial_* fields."""
    state = _d(_d(ctx.values, block_id), _s(el.get("action_id")))
    if not state:
        return el
    merged = dict(el)
    for key, initial in _STATE_TO_INITIAL.items():
        if key in state:
            merged[initial] = state[key]
    return merged


def _element(el: object, block_id: str, ctx: _Ctx) -> str:
    """An interactive element (or an image), as found in actions, accessories and inputs."""
    if not isinstance(el, dict):
        return _unsupported("element", None)
    el = _with_state(el, block_id, ctx)
    kind = _s(el.get("type"))
    if kind == "button":
        return _button(el, block_id, ctx)
    if kind == "image":
        return _image_box(el, "bk-accessory-image")
    if kind == "overflow":
        return _overflow(el, block_id, ctx)
    if kind.endswith("_select"):
        return _select(el, block_id, ctx)
    if kind in ("radio_buttons", "checkboxes"):
        return _choices(el, block_id, ctx)
    if kind in _INPUT_TYPES:
        return _text_field(el, block_id, ctx)
    return _unsupported("element", kind)


def _image_box(el: dict[str, Any], cls: str) -> str:
    alt = _s(el.get("alt_text"))
    url = _safe_url(el.get("image_url"))
    attrs = _attrs(
        ("class", f"bk-image-placeholder {cls}"), ("data-image-url", url), ("title", alt)
    )
    return f'<span{attrs} role="img"{_attrs(("aria-label", alt))}>{_esc(alt) or "image"}</span>'
