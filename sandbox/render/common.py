"""What every part of the renderer shares: the rendering context, escaping, safe links."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_BROADCASTS = frozenset({"here", "channel", "everyone"})


@dataclass(frozen=True)
class _Ctx:
    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    tz: tzinfo = UTC
    errors: Mapping[str, str] = field(default_factory=dict)
    interactive: bool = True
    values: Mapping[str, Any] = field(default_factory=dict)


def _ctx(
    users: Mapping[str, str] | None,
    channels: Mapping[str, str] | None,
    zone: str,
    errors: Mapping[str, str] | None = None,
    interactive: bool = True,
) -> _Ctx:
    return _Ctx(
        users=users or {},
        channels=channels or {},
        tz=_zone(zone),
        errors=errors or {},
        interactive=interactive,
    )


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # unknown or malformed zone name
        return UTC


# --------------------------------------------------------------------------------- helpers


def _esc(value: object) -> str:
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def _s(value: object) -> str:
    """A string field, or "" when it is missing or not text (numbers are shown as text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def _d(obj: object, key: str) -> dict[str, Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def _l(obj: object, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def _attrs(*pairs: tuple[str, object]) -> str:
    """` name="value"` for each pair whose value is not None; True gives a bare attribute."""
    out = []
    for name, value in pairs:
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {name}")
        else:
            out.append(f' {name}="{_esc(value)}"')
    return "".join(out)


def _unentity(text: str) -> str:
    """Slack escapes exactly &, < and > in message text; show them as characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _safe_url(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(c) < 0x20 for c in url):
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in _SAFE_SCHEMES else None


def _link(url: str, label_html: str, cls: str = "bk-link") -> str:
    safe = _safe_url(url)
    if safe is None:
        return f'<span class="bk-link-unsafe"{_attrs(("title", url))}>{label_html}</span>'
    return (
        f'<a class="{cls}" href="{_esc(safe)}" target="_blank" rel="noopener noreferrer">'
        f"{label_html}</a>"
    )


def _plain(obj: object) -> str:
    """A text object's text, escaped, shown as plain text whatever its type."""
    if isinstance(obj, str):
        return _esc(obj)
    if not isinstance(obj, dict):
        return ""
    shown = _esc(_s(obj.get("text")))
    if obj.get("emoji", True) is False:
        return shown
    from sandbox.render.emoji import with_emoji  # emoji builds on this module

    return with_emoji(shown)


def _unsupported(kind: str, type_: object) -> str:
    return (
        f'<div class="bk-unsupported" data-type="{_esc(_s(type_))}">'
        f"unsupported {kind} {_esc(_s(type_) or '(no type)')}</div>"
    )
