"""Slack's `<!date^…>` tokens, shown in the viewer's time zone."""

from __future__ import annotations

import re
from datetime import datetime

from sandbox.render.common import _attrs, _Ctx, _esc, _link, _unentity

# --------------------------------------------------------------------------------- dates

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _time(dt: datetime, secs: bool) -> str:
    hour = dt.hour % 12 or 12
    ampm = "AM" if dt.hour < 12 else "PM"
    return (
        f"{hour}:{dt.minute:02d}:{dt.second:02d} {ampm}"
        if secs
        else f"{hour}:{dt.minute:02d} {ampm}"
    )


def _ago(dt: datetime, now: datetime) -> str:
    seconds = int((now - dt).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            phrase = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {phrase}" if future else f"{phrase} ago"
    return "just now"


def _date_token(token: str, dt: datetime, now: datetime) -> str:
    month, day, year = _MONTHS[dt.month - 1], dt.day, dt.year
    plain = {
        "date_num": f"{year:04d}-{dt.month:02d}-{day:02d}",
        "date": f"{month} {_ordinal(day)}, {year}",
        "date_short": f"{month[:3]} {day}, {year}",
        "date_long": f"{_WEEKDAYS[dt.weekday()]}, {month} {_ordinal(day)}, {year}",
        "time": _time(dt, secs=False),
        "time_secs": _time(dt, secs=True),
        "ago": _ago(dt, now),
    }
    if token in plain:
        return plain[token]
    if token in ("date_pretty", "date_short_pretty", "date_long_pretty"):
        delta = (dt.date() - now.date()).days
        relative = {0: "today", -1: "yesterday", 1: "tomorrow"}.get(delta)
        return relative or plain[token.removesuffix("_pretty")]
    raise KeyError(token)


def _render_date(body: str, fallback: str, ctx: _Ctx) -> str:
    """`date^TS^FORMAT[^LINK]` (the part after `<!`), shown in the context's zone."""
    parts = body.split("^", 3)
    try:
        dt = datetime.fromtimestamp(int(parts[1]), tz=ctx.tz)
        now = datetime.now(tz=ctx.tz)
        pieces = re.split(r"\{(\w+)\}", parts[2])
        shown = "".join(
            _date_token(p, dt, now) if i % 2 else _unentity(p) for i, p in enumerate(pieces)
        )
        iso = dt.isoformat()
    except (IndexError, ValueError, OverflowError, OSError, KeyError):
        shown, iso = _unentity(fallback), ""
    inner = f'<time class="bk-date"{_attrs(("datetime", iso or None))}>{_esc(shown)}</time>'
    if len(parts) > 3 and parts[3]:
        return _link(_unentity(parts[3]), inner)
    return inner
