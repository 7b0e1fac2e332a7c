"""User text at the Slack boundary: making it safe to show, and reading the small values
every feature shares.

* `escape_mrkdwn` / `escape_and_truncate` / `truncate` / `slack_link` make stored user text
  safe to echo into mrkdwn and Block Kit, so a request titled `<!channel>` pings nobody;
  `unescape_slack` undoes Slack's escaping of what it delivers; `storable` drops what a
  database refuses.
* `quote_input` quotes what someone typed inside an error message, the same way everywhere.
* Request references (`MS-12`) and money (`$250k` in, `$250,000` out), read and written
  by requests, surveys, goals and the CLI alike.

The `/mktg` grammar itself lives in `bot.requests.command`. Everything here is pure: no
I/O, no Slack client, no clock, so it is cheap to test exhaustively and safe to call from
any handler.
"""

import re
from typing import Final

from bot.core.errors import UserError

__all__ = [
    "LINK_URL_MAX",
    "MAX_AMOUNT_CENTS",
    "MINUS_SIGNS",
    "escape_and_truncate",
    "escape_mrkdwn",
    "format_money",
    "format_reference",
    "parse_amount",
    "parse_reference",
    "quote_input",
    "slack_link",
    "storable",
    "truncate",
    "unescape_slack",
]

# $100 billion. Far above any real deal, low enough to catch a stray extra "k" or a
# pasted phone number, and well inside a 64-bit integer column.
MAX_AMOUNT_CENTS: Final = 100_000_000_000 * 100
_AMOUNT_EXAMPLES: Final = "Write amounts like $250k, $1.2m or $48,000."


# --------------------------------------------------------------------------------------
# Escaping and truncation (output side)
# --------------------------------------------------------------------------------------

_ENTITY_RE: Final = re.compile(r"&(amp|lt|gt);")
_UNESCAPES: Final = {"amp": "&", "lt": "<", "gt": ">"}


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn.

    `&` goes first so the entities produced for `<` and `>` are not escaped twice. After
    this, `<!channel>`, `<@U123>` and `<https://x|y>` are shown as typed and do nothing.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of `&`, `<` and `>` in text it delivers to us.

    One pass with a regex (rather than three `replace` calls) so it is the exact inverse of
    `escape_mrkdwn`: a rep who literally typed `&lt;` gets `&lt;` back, not `<`.
    """
    return _ENTITY_RE.sub(lambda match: _UNESCAPES[match.group(1)], text)


# Characters a URL someone typed must not carry into `<url|label>`: `|` would let the URL
# supply the visible label, whitespace and controls end or break the link, and invisible
# bidi/zero-width marks make the target lie about itself when Slack shows it on hover.
_LINK_UNSAFE_RE: Final = re.compile(r"[|\s\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
LINK_URL_MAX: Final = 2000
"""Longer URLs are not linked: cut, they would be broken links (and break the section)."""


def slack_link(url: str, label: str) -> str:
    """`<url|label>` mrkdwn for a URL people typed (a CRM or deliverable link).

    The URL is mrkdwn-escaped and its `|`, whitespace and invisible characters are
    percent-encoded, so it can neither pick the visible label (`https://evil|Open in CRM`)
    nor end the link early. A URL too long to link is left out and the label shown plainly.
    """
    target = _LINK_UNSAFE_RE.sub(
        lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()),
        escape_mrkdwn(url),
    )
    shown = escape_mrkdwn(label)
    if len(target) > LINK_URL_MAX:
        return f"{shown} (the link is too long to show)"
    return f"<{target}|{shown}>"


def truncate(text: str, limit: int, *, marker: str = "…") -> str:
    """Shorten `text` to at most `limit` characters, ending with `marker` when cut.

    Block Kit rejects a whole message when one text is over its limit, so the result never
    exceeds `limit`, counting the marker. If even the marker does not fit, it is cut too.
    Do not use this on escaped mrkdwn: it may split an entity; see `escape_and_truncate`.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    if len(text) <= limit:
        return text
    if len(marker) >= limit:
        return marker[:limit]
    return text[: limit - len(marker)].rstrip() + marker


def escape_and_truncate(text: str, limit: int, *, marker: str = "…") -> str:
    """Escape user text for mrkdwn, then shorten it to at most `limit` characters.

    Escaping first makes the limit apply to what Slack receives. The cut never lands inside
    an entity: a dangling `&am` would make Slack show garbage or reject the text.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    shown_marker = escape_mrkdwn(marker)
    if len(shown_marker) > limit:
        shown_marker = ""
    head = escaped[: limit - len(shown_marker)]
    # Entities are at most 5 characters (`&amp;`), so only an `&` among the last 4 can
    # start one that the cut left incomplete; the last `&` is the only candidate.
    amp = head.rfind("&", max(0, len(head) - 4))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head.rstrip() + shown_marker


def quote_input(value: str, field: str | None, limit: int = 40) -> str:
    """Quote something the rep typed inside an error message.

    Command errors are mrkdwn (escaped, in a code span without stray backticks); modal
    errors (`field` set) are plain text, where entities and backticks would show literally.
    Long values are shortened so a pasted essay does not become the error.
    """
    value = truncate(" ".join(unescape_slack(value).split()), limit)
    if field is not None:
        return f"\u201c{value}\u201d"
    return "`" + escape_mrkdwn(value.replace("`", "'")) + "`"


# --------------------------------------------------------------------------------------
# References and money
# --------------------------------------------------------------------------------------

# `MS-12`, `ms12`, `MS 12`, `#12`, `12`. ASCII digits only: `int()` would happily read
# Arabic-Indic digits, which nobody means as a request number. Nine digits keeps the
# number inside a 32-bit database integer.
_REFERENCE_RE: Final = re.compile(
    r"(?:ms\s*[-\u2010-\u2015]?\s*|#)?0*([0-9]{1,9})", re.IGNORECASE | re.ASCII
)


def parse_reference(text: str) -> int | None:
    """`"MS-12"` → 12; None when the text is not a request reference."""
    match = _REFERENCE_RE.fullmatch(text.strip().rstrip(".,;:!?)"))
    if match is None:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


def format_reference(number: int) -> str:
    """12 → `"MS-12"`, the form shown everywhere (MS = Marketing Support)."""
    return f"MS-{number}"


def format_money(cents: int) -> str:
    """25_000_000 → `"$250,000"`; 4_800_050 → `"$48,000.50"`.

    Whole dollars drop the `.00` because deal sizes are nearly always round; the output is
    accepted back by `parse_amount`, which is how the modal is prefilled.
    """
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}" + (f".{rest:02d}" if rest else "")


# Integer part: plain digits, or digits grouped by commas in the only valid positions
# (`250,000`, not `25,0000`). A fraction and a k/m/b suffix are optional. No exponent, inf
# or nan: `float()` would accept those and we must not.
_AMOUNT_RE: Final = re.compile(
    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)"
    r"(?:\.(?P<frac>[0-9]*))?"
    r"(?P<suffix>k|mm|m|bn|b)?",
    re.IGNORECASE | re.ASCII,
)
# `mm` is finance shorthand for million; `bn` is common outside the US.
_SUFFIX_DIGITS: Final = {"": 0, "k": 3, "m": 6, "mm": 6, "b": 9, "bn": 9}
# Hyphen, minus sign and en dash: phones and word processors turn "-" into the others.
MINUS_SIGNS: Final = ("-", "\u2212", "\u2013")


def parse_amount(text: str, *, field: str | None = None) -> int:
    """Read a money amount as integer cents: `$250k`, `1.2m`, `$48,000.50`.

    The `$` is optional so the modal's amount field can use the same rules. Integer
    arithmetic throughout: a float would turn $0.29 into 28 cents.
    """
    shown = text.strip()
    body = unescape_slack(shown).rstrip(".,;:!?)")
    negative = False
    if body.startswith(MINUS_SIGNS):
        negative, body = True, body[1:].lstrip()
    if body.startswith("$"):
        body = body[1:].lstrip()
    if body.startswith(MINUS_SIGNS):
        negative, body = True, body[1:].lstrip()
    if not body:
        raise UserError(
            f"I couldn't read the amount {quote_input(shown, field)}. {_AMOUNT_EXAMPLES}", field
        )
    match = _AMOUNT_RE.fullmatch(body)
    if match is None or not (match.group("int") or match.group("frac")):
        raise UserError(
            f"I couldn't read the amount {quote_input(shown, field)}. {_AMOUNT_EXAMPLES}", field
        )
    if negative:
        raise UserError(
            f"Amounts can't be negative ({quote_input(shown, field)}). {_AMOUNT_EXAMPLES}", field
        )
    whole = match.group("int").replace(",", "").lstrip("0")
    fraction = (match.group("frac") or "").rstrip("0")
    shift = 2 + _SUFFIX_DIGITS[(match.group("suffix") or "").lower()]
    # Checked on digit counts before any int() so a thousand-digit "amount" cannot trip
    # Python's int-size guard or waste time; 15 whole digits is already far over the cap.
    if len(whole) > 15:
        raise UserError(_too_large(shown, field), field)
    if len(fraction) > shift:
        raise UserError(
            f"I couldn't read the amount {quote_input(shown, field)}: it has fractions of a cent. "
            "Write amounts like $250k, $1.2m or $48,000.50.",
            field,
        )
    scale = _pow10(shift - len(fraction))
    cents = int(whole or "0") * _pow10(shift) + int(fraction or "0") * scale
    if cents > MAX_AMOUNT_CENTS:
        raise UserError(_too_large(shown, field), field)
    return cents


def _pow10(exponent: int) -> int:
    # `int ** int` is typed as Any (a negative exponent gives a float); ours never is.
    return int(10**exponent)


def _too_large(shown: str, field: str | None) -> str:
    return (
        f"That amount is too large ({quote_input(shown, field)}). "
        "The most I can record is $100 billion."
    )


def storable(text: str) -> str:
    """Text a database can keep: PostgreSQL refuses NUL characters in text columns, and they
    carry no meaning in Slack, so they are dropped wherever user text is stored."""
    return text.replace("\x00", "")
