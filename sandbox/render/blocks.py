"""Blocks and views: the public entry points `render_blocks` and `render_view`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sandbox.render.common import _attrs, _Ctx, _ctx, _d, _esc, _l, _plain, _s, _unsupported
from sandbox.render.elements import _element, _image_box, control_id
from sandbox.render.mrkdwn import _text
from sandbox.render.rich_text import _rt_part

# --------------------------------------------------------------------------------- blocks


def _block_body(block: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    kind = block.get("type")
    if kind == "header":
        return f'<h3 class="bk-header-text">{_plain(block.get("text"))}</h3>'
    if kind == "divider":
        return '<hr class="bk-divider-line">'
    if kind == "section":
        out = ""
        if block.get("text"):
            out += f'<div class="bk-section-text">{_text(block.get("text"), ctx)}</div>'
        fields = _l(block, "fields")
        if fields:
            cells = "".join(f'<div class="bk-field">{_text(f, ctx)}</div>' for f in fields)
            out += f'<div class="bk-section-fields">{cells}</div>'
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            out += f'<div class="bk-accessory">{_element(accessory, block_id, ctx)}</div>'
        return out
    if kind == "context":
        items = []
        for el in _l(block, "elements"):
            if isinstance(el, dict) and el.get("type") == "image":
                items.append(_image_box(el, "bk-context-image"))
            else:
                items.append(f'<span class="bk-context-text">{_text(el, ctx)}</span>')
        return "".join(items)
    if kind == "actions":
        return "".join(
            f'<span class="bk-action">{_element(el, block_id, ctx)}</span>'
            for el in _l(block, "elements")
        )
    if kind == "input":
        return _input_body(block, block_id, ctx)
    if kind == "image":
        title = block.get("title")
        caption = (
            f'<figcaption class="bk-image-title">{_plain(title)}</figcaption>' if title else ""
        )
        return f'<figure class="bk-figure">{_image_box(block, "bk-image-box")}{caption}</figure>'
    if kind == "rich_text":
        return "".join(_rt_part(part, ctx) for part in _l(block, "elements"))
    return _unsupported("block", kind)


def _input_body(block: dict[str, Any], block_id: str, ctx: _Ctx) -> str:
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    element = block.get("element")
    action_id = element.get("action_id") if isinstance(element, dict) else None
    label_for = _attrs(("class", "bk-input-label"), ("for", control_id(block_id, action_id)))
    label = f"<label{label_for}>{_plain(block.get('label'))}{optional}</label>"
    control = _element(element, block_id, ctx)
    hint = block.get("hint")
    hint_html = f'<div class="bk-input-hint">{_plain(hint)}</div>' if hint else ""
    error = ctx.errors.get(block_id)
    error_html = f'<div class="bk-input-error" role="alert">{_esc(error)}</div>' if error else ""
    return f'{label}<div class="bk-input-control">{control}</div>{error_html}{hint_html}'


_KNOWN_BLOCKS = frozenset(
    {"header", "divider", "section", "context", "actions", "input", "image", "rich_text"}
)


def _block(block: object, ctx: _Ctx) -> str:
    if not isinstance(block, dict):
        return _unsupported("block", None)
    kind = _s(block.get("type"))
    block_id = _s(block.get("block_id"))
    try:
        body = _block_body(block, block_id, ctx)
    except Exception:  # malformed input must never break the page
        body = _unsupported("block", f"{kind} (malformed)")
    classes = f"bk-block bk-{kind.replace('_', '-')}" if kind in _KNOWN_BLOCKS else "bk-block"
    if kind == "input" and block_id in ctx.errors:
        classes += " bk-input-has-error"
    attrs = _attrs(("class", classes), ("data-block-id", block_id), ("data-type", kind))
    return f"<div{attrs}>{body}</div>"


def _blocks(blocks: object, ctx: _Ctx) -> str:
    items = blocks if isinstance(blocks, list) else []
    return f'<div class="bk-blocks">{"".join(_block(b, ctx) for b in items)}</div>'


def render_blocks(
    blocks: list[dict[str, Any]],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    zone: str = "UTC",
    errors: Mapping[str, str] | None = None,
    interactive: bool = True,
) -> str:
    """A list of Block Kit blocks as an HTML fragment.

    `users` and `channels` map ids to names for mentions and conversation pickers; dates are
    shown in `zone`; `errors` maps an input's block_id to the message shown under it;
    `interactive=False` renders every control `disabled`.
    """
    return _blocks(blocks, _ctx(users, channels, zone, errors, interactive))


def render_view(
    view: dict[str, Any],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    zone: str = "UTC",
    errors: Mapping[str, str] | None = None,
    interactive: bool = True,
) -> str:
    """A modal or App Home view: title, blocks and (for modals) its close/submit buttons.

    What the user entered so far (the view's ``state.values``, as Slack sends it with
    view_submission) is shown in place of the inputs' initial values.
    """
    view = view if isinstance(view, dict) else {}
    ctx = replace(
        _ctx(users, channels, zone, errors, interactive),
        values=_d(_d(view, "state"), "values"),
    )
    kind = _s(view.get("type")) or "modal"
    attrs = _attrs(
        ("class", f"bk-view bk-view-{kind.replace('_', '-')}"),
        ("data-view-id", _s(view.get("id")) or None),
        ("data-callback-id", _s(view.get("callback_id")) or None),
        ("data-external-id", _s(view.get("external_id")) or None),
        ("data-view-type", kind),
    )
    title = view.get("title")
    header = (
        f'<div class="bk-view-header"><h2 class="bk-view-title">{_plain(title)}</h2></div>'
        if title
        else ""
    )
    footer = ""
    if kind == "modal":
        disabled = ("disabled", not interactive)
        close_label = _plain(view.get("close")) or "Cancel"
        buttons = (
            f"<button{_attrs(('type', 'button'), ('class', 'bk-button bk-view-close'), ('data-view-action', 'close'), disabled)}>"
            f"{close_label}</button>"
        )
        if isinstance(view.get("submit"), dict):
            submit_attrs = _attrs(
                ("type", "button"),
                ("class", "bk-button bk-button-primary bk-view-submit"),
                ("data-view-action", "submit"),
                disabled,
            )
            buttons += f"<button{submit_attrs}>{_plain(view.get('submit'))}</button>"
        footer = f'<div class="bk-view-footer">{buttons}</div>'
    body = f'<div class="bk-view-body">{_blocks(view.get("blocks"), ctx)}</div>'
    return f"<div{attrs}>{header}{body}{footer}</div>"
