"""Slack mrkdwn to HTML: formatting, links, mentions, dates, quotes and code."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from sandbox.render.common import _BROADCASTS, _attrs, _Ctx, _ctx, _esc, _link, _s, _unentity
from sandbox.render.dates import _render_date
from sandbox.render.emoji import emoji_html

# --------------------------------------------------------------------------------- mrkdwn

_TOKEN_RE = re.compile(r"<([^<>\n]+)>")
_CODE_RE = re.compile(r"`([^`\n]+)`")
_EMOJI_NAME_RE = re.compile(r":([a-z0-9_+\-]+):")
_PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x00")
_FORMATS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong", "bk-bold"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em", "bk-italic"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s", "bk-strike"),
)


def _mention(cls: str, attr: str, ident: str, shown: str) -> str:
    return f'<span class="bk-mention {cls}"{_attrs((attr, ident))}>{_esc(shown)}</span>'


def _render_token(inner: str, ctx: _Ctx) -> str:
    """One `<...>` token of Slack's mrkdwn: a mention, a special command or a link."""
    if inner.startswith("@"):
        ident, _, label = inner[1:].partition("|")
        name = ctx.users.get(ident) or _unentity(label) or ident
        return _mention("bk-mention-user", "data-user-id", ident, f"@{name}")
    if inner.startswith("#"):
        ident, _, label = inner[1:].partition("|")
        name = ctx.channels.get(ident) or _unentity(label) or ident
        return _mention("bk-mention-channel", "data-channel-id", ident, f"#{name}")
    if inner.startswith("!"):
        body, _, label = inner[1:].partition("|")
        if body.startswith("date^"):
            return _render_date(body, label, ctx)
        if body in _BROADCASTS:
            return _mention("bk-mention-broadcast", "data-broadcast", body, f"@{body}")
        if body.startswith("subteam^"):
            ident = body.removeprefix("subteam^")
            shown = _unentity(label) or f"@{ident}"
            return _mention("bk-mention-usergroup", "data-usergroup-id", ident, shown)
        return f'<span class="bk-special">{_esc(_unentity(label or body))}</span>'
    url, _, label = inner.partition("|")
    url = _unentity(url)
    return _link(url, _esc(_unentity(label) or url))


def _inline(text: str, ctx: _Ctx, *, formatting: bool = True) -> str:
    """One run of mrkdwn without block structure (no ``` or > handling)."""
    held: list[str] = []

    def hold(rendered: str) -> str:
        held.append(rendered)
        return f"\x00{len(held) - 1}\x00"

    if formatting:
        text = _CODE_RE.sub(
            lambda m: hold(
                f'<code class="bk-code">{_inline(m.group(1), ctx, formatting=False)}</code>'
            ),
            text,
        )
    text = _TOKEN_RE.sub(lambda m: hold(_render_token(m.group(1), ctx)), text)
    out = html.escape(_unentity(text), quote=False)
    if formatting:
        out = _EMOJI_NAME_RE.sub(lambda m: hold(emoji_html(m.group(1)) or m.group(0)), out)
        for pattern, tag, cls in _FORMATS:
            out = pattern.sub(rf'<{tag} class="{cls}">\1</{tag}>', out)
    # Placeholders may nest (a code span holding a link), so resolve until none is left.
    while _PLACEHOLDER_RE.search(out):
        out = _PLACEHOLDER_RE.sub(lambda m: held[int(m.group(1))], out)
    return out.replace("\n", "<br>")


def _quote_line(line: str) -> str | None:
    for marker in ("&gt;", ">"):
        if line.startswith(marker):
            rest = line[len(marker) :]
            return rest[1:] if rest.startswith(" ") else rest
    return None


def _lines(text: str, ctx: _Ctx) -> str:
    """Text outside ``` blocks: lines, with runs of `>` lines as block quotes."""
    if not text:
        return ""
    out: list[str] = []
    plain: list[str] = []
    quoted: list[str] = []

    def flush() -> None:
        if plain:
            out.append(_inline("\n".join(plain), ctx))
            plain.clear()
        if quoted:
            out.append(
                f'<blockquote class="bk-quote">{_inline(chr(10).join(quoted), ctx)}</blockquote>'
            )
            quoted.clear()

    for line in text.split("\n"):
        q = _quote_line(line)
        if (q is None and quoted) or (q is not None and plain):
            flush()
        (plain if q is None else quoted).append(line if q is None else q)
    flush()
    return "".join(out)


def _mrkdwn(text: str, ctx: _Ctx) -> str:
    text = text.replace("\x00", "")
    parts = re.split(r"```(.*?)```", text, flags=re.DOTALL)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            body = part.removeprefix("\n").removesuffix("\n")
            out.append(f'<pre class="bk-pre">{_inline(body, ctx, formatting=False)}</pre>')
        else:
            # the newline right around a ``` block is part of the block's own line
            if i > 0:
                part = part.removeprefix("\n")
            if i < len(parts) - 1:
                part = part.removesuffix("\n")
            out.append(_lines(part, ctx))
    return "".join(out)


def render_mrkdwn(
    text: str,
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    zone: str = "UTC",
) -> str:
    """Slack mrkdwn text as an HTML fragment."""
    return _mrkdwn(text if isinstance(text, str) else "", _ctx(users, channels, zone))


def _text(obj: object, ctx: _Ctx) -> str:
    """A text object (plain_text or mrkdwn) as HTML."""
    if not isinstance(obj, dict):
        return _esc(obj) if isinstance(obj, str) else ""
    text = _s(obj.get("text"))
    if obj.get("type") == "mrkdwn":
        return f'<span class="bk-mrkdwn">{_mrkdwn(text, ctx)}</span>'
    return f'<span class="bk-plain">{_esc(text).replace(chr(10), "<br>")}</span>'
