"""rich_text blocks: sections, lists, quotes, preformatted, with their styles."""

from __future__ import annotations

from sandbox.render.common import _attrs, _Ctx, _esc, _l, _link, _s, _unsupported
from sandbox.render.dates import _render_date
from sandbox.render.emoji import emoji_or_name
from sandbox.render.mrkdwn import _mention

# --------------------------------------------------------------------------------- rich text


def _rt_style(html_text: str, style: object) -> str:
    if not isinstance(style, dict):
        return html_text
    for key, tag in (("code", "code"), ("bold", "strong"), ("italic", "em"), ("strike", "s")):
        if style.get(key):
            html_text = f'<{tag} class="bk-{key}">{html_text}</{tag}>'
    if style.get("underline"):
        html_text = f'<u class="bk-underline">{html_text}</u>'
    return html_text


def _rt_inline(el: object, ctx: _Ctx) -> str:
    if not isinstance(el, dict):
        return ""
    kind = el.get("type")
    style = el.get("style")
    if kind == "text":
        shown = _esc(_s(el.get("text"))).replace("\n", "<br>")
    elif kind == "link":
        url = _s(el.get("url"))
        shown = _link(url, _esc(_s(el.get("text")) or url))
    elif kind == "user":
        ident = _s(el.get("user_id"))
        shown = _mention(
            "bk-mention-user", "data-user-id", ident, f"@{ctx.users.get(ident) or ident}"
        )
    elif kind == "channel":
        ident = _s(el.get("channel_id"))
        name = ctx.channels.get(ident) or ident
        shown = _mention("bk-mention-channel", "data-channel-id", ident, f"#{name}")
    elif kind == "usergroup":
        ident = _s(el.get("usergroup_id"))
        shown = _mention("bk-mention-usergroup", "data-usergroup-id", ident, f"@{ident}")
    elif kind == "broadcast":
        rng = _s(el.get("range"))
        shown = _mention("bk-mention-broadcast", "data-broadcast", rng, f"@{rng}")
    elif kind == "emoji":
        name = _s(el.get("name"))
        shown = emoji_or_name(name, _s(el.get("unicode")))
    elif kind == "date":
        body = f"date^{_s(el.get('timestamp'))}^{_s(el.get('format'))}"
        if el.get("url"):
            body += f"^{_s(el.get('url'))}"
        shown = _render_date(body, _s(el.get("fallback")), ctx)
    elif kind == "color":
        value = _s(el.get("value"))
        shown = f'<span class="bk-color"{_attrs(("data-color", value))}>{_esc(value)}</span>'
    else:
        return _unsupported("element", kind).replace("<div", "<span").replace("</div>", "</span>")
    return _rt_style(shown, style)


def _rt_inlines(container: object, ctx: _Ctx) -> str:
    return "".join(_rt_inline(el, ctx) for el in _l(container, "elements"))


def _rt_part(part: object, ctx: _Ctx) -> str:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "rich_text_section":
        return f'<div class="bk-rt-section">{_rt_inlines(part, ctx)}</div>'
    if kind == "rich_text_quote":
        return f'<blockquote class="bk-rt-quote">{_rt_inlines(part, ctx)}</blockquote>'
    if kind == "rich_text_preformatted":
        return f'<pre class="bk-rt-pre">{_rt_inlines(part, ctx)}</pre>'
    if kind == "rich_text_list":
        assert isinstance(part, dict)
        ordered = part.get("style") == "ordered"
        tag = "ol" if ordered else "ul"
        indent = part.get("indent") if isinstance(part.get("indent"), int) else 0
        offset = part.get("offset") if isinstance(part.get("offset"), int) else 0
        start = ("start", offset + 1) if ordered and offset else ("start", None)
        items = "".join(
            f'<li class="bk-rt-item">{_rt_inlines(item, ctx)}</li>' for item in _l(part, "elements")
        )
        cls = f"bk-rt-list bk-rt-list-{'ordered' if ordered else 'bullet'} bk-rt-indent-{indent}"
        return f'<{tag} class="{cls}"{_attrs(start)}>{items}</{tag}>'
    return _unsupported("rich text element", kind)
