"""Slack's standard emoji names shown as the characters Slack shows: the ones the bot uses and
the everyday ones people type. A name not listed stays `:name:`, as Slack shows a custom emoji
it cannot find."""

from __future__ import annotations

import re

from sandbox.render.common import _attrs, _esc

EMOJI: dict[str, str] = {
    "warning": "⚠️",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "rotating_light": "🚨",
    "tada": "🎉",
    "package": "📦",
    "no_entry_sign": "🚫",
    "no_entry": "⛔",
    "lock": "🔒",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "hourglass_flowing_sand": "⏳",
    "hourglass": "⌛",
    "floppy_disk": "💾",
    "speech_balloon": "💬",
    "raising_hand": "🙋",
    "question": "❓",
    "exclamation": "❗",
    "page_facing_up": "📄",
    "large_yellow_circle": "🟡",
    "large_blue_circle": "🔵",
    "large_green_circle": "🟢",
    "red_circle": "🔴",
    "white_circle": "⚪",
    "black_circle": "⚫",
    "heavy_multiplication_x": "✖️",
    "x": "❌",
    "hammer_and_wrench": "🛠️",
    "dart": "🎯",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "arrows_counterclockwise": "🔄",
    "alarm_clock": "⏰",
    "calendar": "📆",
    "date": "📅",
    "chart_with_upwards_trend": "📈",
    "chart_with_downwards_trend": "📉",
    "bar_chart": "📊",
    "memo": "📝",
    "pencil2": "✏️",
    "link": "🔗",
    "bell": "🔔",
    "mag": "🔍",
    "star": "⭐",
    "fire": "🔥",
    "rocket": "🚀",
    "eyes": "👀",
    "wave": "👋",
    "pray": "🙏",
    "muscle": "💪",
    "clap": "👏",
    "thumbsup": "👍",
    "+1": "👍",
    "thumbsdown": "👎",
    "-1": "👎",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "thinking_face": "🤔",
    "heart": "❤️",
    "moneybag": "💰",
    "money_with_wings": "💸",
    "handshake": "🤝",
    "briefcase": "💼",
    "trophy": "🏆",
    "sparkles": "✨",
    "bulb": "💡",
    "construction": "🚧",
    "information_source": "ℹ️",
}

_NAME_RE = re.compile(r":([a-z0-9_+\-]+):")


def emoji_html(name: str) -> str | None:
    """The emoji `name` as a titled span, or None when it is not a standard one listed here."""
    shown = EMOJI.get(name)
    if shown is None:
        return None
    attrs = _attrs(("class", "bk-emoji"), ("data-name", name), ("title", f":{name}:"))
    return f"<span{attrs}>{shown}</span>"


def with_emoji(escaped: str) -> str:
    """Already escaped text with every known `:name:` replaced by its emoji."""
    return _NAME_RE.sub(lambda match: emoji_html(match.group(1)) or match.group(0), escaped)


def emoji_or_name(name: str, unicode: str = "") -> str:
    """A rich_text emoji element: its `unicode` code points when given (Slack sends them, as
    `1f44b` or `1f469-200d-1f4bb`), else the listed character, else `:name:`."""
    try:
        shown = "".join(chr(int(point, 16)) for point in unicode.split("-")) if unicode else ""
    except (ValueError, OverflowError):
        shown = ""
    if shown:
        attrs = _attrs(("class", "bk-emoji"), ("data-name", name), ("title", f":{name}:"))
        return f"<span{attrs}>{_esc(shown)}</span>"
    return emoji_html(name) or (
        f'<span class="bk-emoji"{_attrs(("data-name", name))}>:{_esc(name)}:</span>'
    )
