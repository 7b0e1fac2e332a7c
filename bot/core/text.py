"""Reading what sales reps type, and writing user text back into Slack safely.

Two jobs live here because they are two sides of one boundary:

* `parse_mktg_command` turns `/mktg …` text into a command. Reps type fast and loosely,
  so the parser is forgiving about *form* (synonyms, case, punctuation, `$250k`, `fri`)
  but strict about *meaning*: when the text could mean two things (two amounts, no way to
  tell the account from the details) it opens the form prefilled instead of guessing, and
  when something is clearly wrong (`$abc`, 30 February) it says so in words a rep can act on.
* `escape_mrkdwn` / `escape_and_truncate` / `truncate` make stored user text safe to echo
  into mrkdwn and Block Kit, so a request titled `<!channel>` pings nobody.

Everything is pure: no I/O, no Slack client, no clock (`today` is an argument), so it is
cheap to test exhaustively and safe to call from any handler.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeAlias, TypeVar

from bot.core.errors import UserError
from bot.requests.types import RequestType

__all__ = [
    "HELP_EXAMPLES",
    "HELP_TEXT",
    "MAX_ACCOUNT_CHARS",
    "MAX_AMOUNT_CENTS",
    "MAX_DUE_YEARS",
    "TYPE_KEYWORDS",
    "CancelRequest",
    "FileRequest",
    "ListMine",
    "MktgCommand",
    "OpenForm",
    "RequestDraft",
    "ShowHelp",
    "ShowStatus",
    "check_due_date",
    "escape_and_truncate",
    "escape_mrkdwn",
    "format_money",
    "format_reference",
    "parse_amount",
    "parse_due_date",
    "parse_mktg_command",
    "parse_reference",
    "truncate",
    "unescape_slack",
]

# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestDraft:
    """What we know about a request before it is filed; every field may still be missing."""

    request_type: RequestType | None = None
    account: str | None = None
    amount_cents: int | None = None
    due_date: date | None = None
    details: str | None = None
    crm_link: str | None = None


@dataclass(frozen=True)
class ShowHelp:
    """`/mktg help`."""


@dataclass(frozen=True)
class ListMine:
    """`/mktg mine`: the rep's own requests."""


@dataclass(frozen=True)
class ShowStatus:
    """`/mktg status MS-12`."""

    number: int


@dataclass(frozen=True)
class CancelRequest:
    """`/mktg cancel MS-12`. Permission checks are the caller's job."""

    number: int


@dataclass(frozen=True)
class OpenForm:
    """Open the request modal prefilled with `draft`.

    `reason`, when set, is a short mrkdwn-safe sentence to show above the form saying why
    the one-line text was not filed directly (so the rep is not left wondering).
    """

    draft: RequestDraft
    reason: str | None = None


@dataclass(frozen=True)
class FileRequest:
    """File straight away; `draft.request_type` is always set."""

    draft: RequestDraft


MktgCommand: TypeAlias = ShowHelp | ListMine | ShowStatus | CancelRequest | OpenForm | FileRequest

# --------------------------------------------------------------------------------------
# Limits and vocabulary
# --------------------------------------------------------------------------------------

MAX_ACCOUNT_CHARS: Final = 150
# $100 billion. Far above any real deal, low enough to catch a stray extra "k" or a
# pasted phone number, and well inside a 64-bit integer column.
MAX_AMOUNT_CENTS: Final = 100_000_000_000 * 100
# A due date further out than this is almost always a typo (2062 for 2026).
MAX_DUE_YEARS: Final = 2

# The canonical keyword for each type, in the order users see them (help, errors).
TYPE_KEYWORDS: dict[str, RequestType] = {
    "deck": RequestType.DEAL_DECK,
    "objection": RequestType.OBJECTION_HELP,
    "casestudy": RequestType.CASE_STUDY,
    "roi": RequestType.ROI_CASE,
    "competitive": RequestType.COMPETITIVE_INTEL,
    "content": RequestType.CUSTOM_CONTENT,
    "event": RequestType.EVENT_SUPPORT,
    "other": RequestType.OTHER,
}

# Synonyms are what reps actually type; each maps to exactly one type so there is never a
# judgement call. The canonical keywords are included.
_TYPE_SYNONYMS: dict[str, RequestType] = {
    **TYPE_KEYWORDS,
    "deal-deck": RequestType.DEAL_DECK,
    "dealdeck": RequestType.DEAL_DECK,
    "decks": RequestType.DEAL_DECK,
    "slides": RequestType.DEAL_DECK,
    "pitch": RequestType.DEAL_DECK,
    "objections": RequestType.OBJECTION_HELP,
    "obj": RequestType.OBJECTION_HELP,
    "case-study": RequestType.CASE_STUDY,
    "case-studies": RequestType.CASE_STUDY,
    "casestudies": RequestType.CASE_STUDY,
    "case": RequestType.CASE_STUDY,
    "story": RequestType.CASE_STUDY,
    "reference": RequestType.CASE_STUDY,
    "business-case": RequestType.ROI_CASE,
    "businesscase": RequestType.ROI_CASE,
    "bizcase": RequestType.ROI_CASE,
    "tco": RequestType.ROI_CASE,
    "compete": RequestType.COMPETITIVE_INTEL,
    "competitor": RequestType.COMPETITIVE_INTEL,
    "competitors": RequestType.COMPETITIVE_INTEL,
    "battlecard": RequestType.COMPETITIVE_INTEL,
    "battlecards": RequestType.COMPETITIVE_INTEL,
    "intel": RequestType.COMPETITIVE_INTEL,
    "custom": RequestType.CUSTOM_CONTENT,
    "onepager": RequestType.CUSTOM_CONTENT,
    "one-pager": RequestType.CUSTOM_CONTENT,
    "collateral": RequestType.CUSTOM_CONTENT,
    "events": RequestType.EVENT_SUPPORT,
    "booth": RequestType.EVENT_SUPPORT,
    "webinar": RequestType.EVENT_SUPPORT,
    "misc": RequestType.OTHER,
}

# Two-word spellings. Checked before single words because "case" alone is also a keyword
# and would otherwise leave "study" at the start of the account.
_TWO_WORD_TYPES: dict[tuple[str, str], RequestType] = {
    ("case", "study"): RequestType.CASE_STUDY,
    ("case", "studies"): RequestType.CASE_STUDY,
    ("deal", "deck"): RequestType.DEAL_DECK,
    ("business", "case"): RequestType.ROI_CASE,
}

_HELP_WORDS: Final = frozenset({"help", "?"})
_LIST_WORDS: Final = frozenset({"mine", "list", "my"})
_DUE_WORDS: Final = frozenset({"due", "by"})
_ACCOUNT_PREFIXES: Final = ("account:", "acct:")

_MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS: dict[str, int] = {
    **{name.lower(): number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3].lower(): number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_WEEKDAYS: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
# Largest day number each month can ever have (29 for February: leap years exist).
_MAX_DAY: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_AMOUNT_EXAMPLES: Final = "Write amounts like $250k, $1.2m or $48,000."
_DATE_EXAMPLE: Final = "2026-12-04"

_REASON_UNSURE_ACCOUNT: Final = (
    "I wasn't sure which part is the account, so I put your text in the details."
)
_REASON_NEEDS_TEXT: Final = "Add the account and what you need, then send the form."

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


def _shown(value: str, field: str | None, limit: int = 40) -> str:
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
_MINUS_SIGNS: Final = ("-", "\u2212", "\u2013")


def parse_amount(text: str, *, field: str | None = None) -> int:
    """Read a money amount as integer cents: `$250k`, `1.2m`, `$48,000.50`.

    The `$` is optional so the modal's amount field can use the same rules. Integer
    arithmetic throughout: a float would turn $0.29 into 28 cents.
    """
    shown = text.strip()
    body = unescape_slack(shown).rstrip(".,;:!?)")
    negative = False
    if body.startswith(_MINUS_SIGNS):
        negative, body = True, body[1:].lstrip()
    if body.startswith("$"):
        body = body[1:].lstrip()
    if body.startswith(_MINUS_SIGNS):
        negative, body = True, body[1:].lstrip()
    if not body:
        raise UserError(
            f"I couldn't read the amount {_shown(shown, field)}. {_AMOUNT_EXAMPLES}", field
        )
    match = _AMOUNT_RE.fullmatch(body)
    if match is None or not (match.group("int") or match.group("frac")):
        raise UserError(
            f"I couldn't read the amount {_shown(shown, field)}. {_AMOUNT_EXAMPLES}", field
        )
    if negative:
        raise UserError(
            f"Amounts can't be negative ({_shown(shown, field)}). {_AMOUNT_EXAMPLES}", field
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
            f"I couldn't read the amount {_shown(shown, field)}: it has fractions of a cent. "
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
        f"That amount is too large ({_shown(shown, field)}). The most I can record is $100 billion."
    )


# --------------------------------------------------------------------------------------
# Due dates
# --------------------------------------------------------------------------------------

_ISO_RE: Final = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})", re.ASCII)
# Day-first or month-first? 12/04 is 12 April in London and 4 December in New York. We
# cannot know, and a wrong due date is worse than a question, so all of these are refused.
_NUMERIC_DATE_RE: Final = re.compile(
    r"[0-9]{1,2}[-/.][0-9]{1,2}(?:[-/.][0-9]{2}(?:[0-9]{2})?)?", re.ASCII
)
_DAY_RE: Final = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?", re.ASCII)
_YEAR_RE: Final = re.compile(r"[0-9]{4}", re.ASCII)
_COUNT_RE: Final = re.compile(r"[0-9]{1,6}", re.ASCII)
_TODAY_WORDS: Final = frozenset({"today", "eod"})
_TOMORROW_WORDS: Final = frozenset({"tomorrow", "tmrw", "tmr", "tmw"})
_DAY_UNITS: Final = {"day": 1, "days": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7}
_ONE_WORDS: Final = frozenset({"a", "an", "one"})


def _format_date(day: date) -> str:
    """`4 December 2026`: spelled out so it cannot be misread, and locale-independent."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February; or past year 9999
        if day.year + years > date.max.year:
            return date.max
        return day.replace(year=day.year + years, day=28)


def check_due_date(due: date, *, today: date, field: str | None = None) -> date:
    """Refuse due dates in the past or more than two years out; shared with the modal."""
    if due < today:
        raise UserError(
            f"That due date is in the past ({_format_date(due)}). Pick today or a later day.",
            field,
        )
    latest = _add_years(today, MAX_DUE_YEARS)
    if due > latest:
        raise UserError(_too_far(latest), field)
    return due


def _too_far(latest: date) -> str:
    return (
        f"That due date is more than {MAX_DUE_YEARS} years away. "
        f"Pick a day on or before {_format_date(latest)}."
    )


def _days_after(today: date, days: int, field: str | None) -> date:
    try:
        return today + timedelta(days=days)
    except OverflowError:
        raise UserError(_too_far(_add_years(today, MAX_DUE_YEARS)), field) from None


def _next_weekday(today: date, weekday: int, field: str | None) -> date:
    """The next such day strictly after today: on a Friday, "fri" means a week later,
    because nobody asks marketing for something due "Friday" meaning today."""
    return _days_after(today, (weekday - today.weekday() - 1) % 7 + 1, field)


def _exact_date(year: int, month: int, day: int, shown: str, field: str | None) -> date:
    if not 1 <= month <= 12:
        raise UserError(
            f"There is no month {month} in {_shown(shown, field)}. "
            f"Write dates as YYYY-MM-DD, like {_DATE_EXAMPLE}.",
            field,
        )
    try:
        return date(year, month, day)
    except ValueError:
        pass
    if year < date.min.year:
        raise UserError("That due date is in the past. Pick today or a later day.", field)
    raise UserError(
        f"There is no {day} {_MONTH_NAMES[month - 1]} {year}. Check the date and write it "
        f"like {_DATE_EXAMPLE}.",
        field,
    )


def _month_day(
    month: int, day: int, year: int | None, today: date, shown: str, field: str | None
) -> date:
    """`dec 4` / `4 dec 2026`. Without a year: the next 4 December on or after today, so
    "due jan 15" typed in December means next January, not eleven months ago."""
    if year is not None:
        return _exact_date(year, month, day, shown, field)
    if not 1 <= day <= _MAX_DAY[month - 1]:
        raise UserError(
            f"There is no {day} {_MONTH_NAMES[month - 1]}. Check the date and write it "
            f"like {_DATE_EXAMPLE}.",
            field,
        )
    # 29 February may be up to 8 years away (1896 → 1904); anything found is then held
    # to the two-year limit by check_due_date like every other date.
    for candidate_year in range(today.year, min(today.year + 9, date.max.year + 1)):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise UserError(_too_far(_add_years(today, MAX_DUE_YEARS)), field)


def _date_word(text: str) -> str:
    """Lower-case a word and drop punctuation that sits around dates in prose."""
    return unescape_slack(text).lower().strip("(").rstrip(".,;:!?)")


def _date_from_words(words: list[str], today: date, field: str | None) -> date | None:
    """Read 1–3 normalised words as a due date.

    Returns None when the words are not a date at all (so "due diligence" stays text), and
    raises UserError when they clearly are one but a wrong one (30 February, 12/04, past).
    """
    found = _read_date(words, today, field)
    return None if found is None else check_due_date(found, today=today, field=field)


def _read_date(words: list[str], today: date, field: str | None) -> date | None:
    shown = " ".join(words)
    if len(words) == 1:
        word = words[0]
        if word in _TODAY_WORDS:
            return today
        if word in _TOMORROW_WORDS:
            return _days_after(today, 1, field)
        if word in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[word], field)
        if iso := _ISO_RE.fullmatch(word):
            year, month, day = (int(part) for part in iso.groups())
            return _exact_date(year, month, day, shown, field)
        if _NUMERIC_DATE_RE.fullmatch(word):
            raise UserError(
                f"I can't tell which day {_shown(word, field)} is: day and month are written "
                f"in different orders in different countries. Write the due date as "
                f"YYYY-MM-DD, like {_DATE_EXAMPLE}.",
                field,
            )
        return None
    if len(words) == 2:
        first, second = words
        # "next fri" is read exactly like "fri" (the next Friday after today). People split
        # on whether "next Friday" said on a Monday means 4 or 11 days away; the earlier
        # reading is the one a rep can still correct before it is late, and the date is
        # shown back to them on the confirmation.
        if first in {"next", "this", "on"} and second in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[second], field)
        return _month_and_day(first, second, None, today, shown, field)
    if len(words) == 3:
        first, second, third = words
        if first == "in" and third in _DAY_UNITS:
            if second in _ONE_WORDS:
                count = 1
            elif _COUNT_RE.fullmatch(second):
                count = int(second)
            else:
                return None
            days = count * _DAY_UNITS[third]
            if days > 366 * (MAX_DUE_YEARS + 1):  # refuse before date arithmetic overflows
                raise UserError(_too_far(_add_years(today, MAX_DUE_YEARS)), field)
            return _days_after(today, days, field)
        if _YEAR_RE.fullmatch(third):
            return _month_and_day(first, second, int(third), today, shown, field)
    return None


def _month_and_day(
    first: str, second: str, year: int | None, today: date, shown: str, field: str | None
) -> date | None:
    """`dec 4` or `4 dec` (with ordinals: `dec 4th`)."""
    if first in _MONTHS and (day := _DAY_RE.fullmatch(second)):
        return _month_day(_MONTHS[first], int(day.group(1)), year, today, shown, field)
    if second in _MONTHS and (day := _DAY_RE.fullmatch(first)):
        return _month_day(_MONTHS[second], int(day.group(1)), year, today, shown, field)
    return None


def parse_due_date(text: str, *, today: date, field: str | None = None) -> date:
    """Read the forms that may follow "due": `2026-12-04`, `tomorrow`, `fri`, `next fri`,
    `in 3 days`, `in 2 weeks`, `dec 4`, `4 dec 2026`; then apply `check_due_date`."""
    words = [_date_word(word) for word in text.split()]
    if words and words[0] == "on":  # "on fri", "on dec 4"
        words = words[1:]
    found = _date_from_words(words, today, field) if 1 <= len(words) <= 3 else None
    if found is None:
        raise UserError(
            f"I couldn't read the due date {_shown(text, field)}. Write it like "
            f"{_DATE_EXAMPLE}, dec 4, fri, tomorrow or in 3 days.",
            field,
        )
    return found


# --------------------------------------------------------------------------------------
# /mktg
# --------------------------------------------------------------------------------------

# Tokens, left to right: Slack markup (`<@U1|bob>`, `<https://…|label>`) kept whole even
# with spaces inside; quoted strings (straight or curly quotes, since Slack clients turn
# " into “ ”) kept whole so a quoted account is one unit and anything inside quotes is
# never taken for an amount or date; `;` alone, because it ends an `account:` (but not
# the `;` of an entity like `&amp;`, which Slack puts in any text with an `&`); then words.
# Every alternative stops at the next delimiter of its own kind, so this is linear even on
# hostile input.
_TOKEN_RE: Final = re.compile(
    r'<[^<>\n]*>|"[^"\n]*"|\u201c[^\u201c\u201d\n]*\u201d|;|(?:&(?:amp|lt|gt);|[^\s<;])+|<'
)
_QUOTED_NAME_RE: Final = re.compile(r'[ \t]*("[^"\n]*"|\u201c[^\u201c\u201d\n]*\u201d)')
# A link a person typed with its scheme, as Slack delivers it: `<https://…>` or
# `<https://…|label>`. A label without a scheme means the rep typed a bare domain
# (`acme.com`) that Slack auto-linked; that is prose (often the account), not a CRM link.
_SLACK_URL_RE: Final = re.compile(r"<(https?://[^|<>\s]+)(?:\|([^<>]*))?>", re.IGNORECASE)
_BARE_URL_RE: Final = re.compile(r"https?://[^\s|<>/]+[^\s|<>]*", re.IGNORECASE)
# Any Slack link markup in free text, shown as what the person typed (label, else target).
_SLACK_LINK_RE: Final = re.compile(r"<((?:https?|mailto):[^|<>]*)(?:\|([^<>]*))?>", re.IGNORECASE)
_QUOTES: Final = {'"': '"', "\u201c": "\u201d"}


_T = TypeVar("_T")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str


def _tokenize(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]


def _keyword(word: str) -> str:
    """Compare words case-insensitively and ignore trailing punctuation (`deck:`, `Help?`)."""
    lowered = unescape_slack(word).lower()
    return lowered.rstrip(":;,.!?") or lowered


def _quoted_inner(token: str) -> str | None:
    closing = _QUOTES.get(token[:1])
    if closing is not None and len(token) >= 2 and token.endswith(closing):
        return token[1:-1]
    return None


def _crm_link(token: str) -> str | None:
    if match := _SLACK_URL_RE.fullmatch(token):
        label = match.group(2)
        if label is None or label.lower().startswith(("http://", "https://")):
            return unescape_slack(match.group(1))
        return None
    bare = unescape_slack(token).rstrip(".,;:!?)")
    return bare if _BARE_URL_RE.fullmatch(bare) else None


def _free_text(raw: str) -> str:
    """Turn a stretch of delivered command text back into what the rep typed.

    Links become their visible text and entities are unescaped; mention markup like
    `<@U123|bob>` is kept as literal text (it is text; escaping on output defuses it).
    Internal whitespace and newlines are kept; only separators at the edges are trimmed.
    """
    linked = _SLACK_LINK_RE.sub(
        lambda m: m.group(2) if m.group(2) is not None else m.group(1).removeprefix("mailto:"),
        raw,
    )
    return _trim_edges(unescape_slack(linked))


# Separators at the start of a piece: whitespace, `,;:`, and dash runs that stand alone.
# Each repetition must begin with a whole dash run, so there is only one way to match and
# the regex stays linear however many separators a hostile text stacks up.
_LEADING_SEPARATORS: Final = re.compile(r"[\s,;:]*(?:[-\u2013\u2014]+(?=\s|\Z)[\s,;:]*)*")


def _trim_edges(text: str) -> str:
    """Drop the commas, colons and standalone dashes left where markers were cut out
    (`Acme Corp, $250k, due fri - pitch`), but not a dash that belongs to a word (`-5%`)."""
    text = text[_separators_end(text) :]
    # The trailing edge is the leading edge of the reversed text; reversing avoids a
    # `$`-anchored search, which Python's regex engine retries from every position.
    backwards = text[::-1]
    return backwards[_separators_end(backwards) :][::-1]


def _separators_end(text: str) -> int:
    match = _LEADING_SEPARATORS.match(text)  # always matches, possibly the empty string
    return match.end() if match else 0


def _pick(values: list[_T]) -> tuple[_T | None, bool]:
    """The single value given (repeats are fine), or (None, True) when they disagree."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        return None, True
    return (distinct[0] if distinct else None), False


@dataclass
class _Markers:
    """What was recognised after the type, each with the token positions it used."""

    amounts: list[tuple[int, tuple[int, ...]]]
    dues: list[tuple[date, tuple[int, ...]]]
    links: list[tuple[str, tuple[int, ...]]]


_AMOUNT_START: Final = re.compile(r"[0-9.]", re.ASCII)
_NOT_DATE_WORD: Final = ('"', "\u201c", "<", ";")


def _scan_markers(rest: list[_Token], today: date) -> _Markers:
    """Find amounts, due dates and CRM links, left to right.

    A `$` token that is not a valid amount raises at once: the rep clearly meant an amount,
    and filing without it (or with the `$abc` left in the details) would lose that silently.
    """
    found = _Markers([], [], [])
    index = 0
    while index < len(rest):
        token = rest[index].text
        if (link := _crm_link(token)) is not None:
            found.links.append((link, (index,)))
            index += 1
            continue
        plain = unescape_slack(token)
        if plain.startswith("$") or plain.startswith(tuple(f"{sign}$" for sign in _MINUS_SIGNS)):
            # "$ 250k": a space after the dollar sign is a typo, not a new word.
            if plain == "$" and index + 1 < len(rest) and _AMOUNT_START.match(rest[index + 1].text):
                found.amounts.append((parse_amount("$" + rest[index + 1].text), (index, index + 1)))
                index += 2
            else:
                found.amounts.append((parse_amount(token), (index,)))
                index += 1
            continue
        if _keyword(token) in _DUE_WORDS and (hit := _due_after(rest, index + 1, today)):
            due, end = hit
            found.dues.append((due, tuple(range(index, end))))
            index = end
            continue
        index += 1
    return found


def _due_after(rest: list[_Token], start: int, today: date) -> tuple[date, int] | None:
    """The date right after a `due`/`by` word and the index just past it, or None.

    The longest reading wins ("dec 4 2026" before "dec 4"), so a year is not left behind in
    the details. None means "not a date": the word `due` is then ordinary text.
    """
    if start < len(rest) and _date_word(rest[start].text) == "on":
        start += 1
    for size in (3, 2, 1):
        window = rest[start : start + size]
        if len(window) < size or any(t.text.startswith(_NOT_DATE_WORD) for t in window):
            continue
        found = _date_from_words([_date_word(t.text) for t in window], today, None)
        if found is not None:
            return found, start + size
    return None


def _explicit_account(
    text: str, rest: list[_Token], consumed: set[int]
) -> tuple[str | None, set[int]] | None:
    """`account: Acme Corp;` anywhere, or a quoted account as the first free words.

    Returns (account, token positions used), or None when the rep did not mark one.
    `account:` runs to a `;`, the end of the line, or the next amount/date/link.
    """
    for index in sorted(set(range(len(rest))) - consumed):
        lowered = unescape_slack(rest[index].text).lower()
        prefix = next((p for p in _ACCOUNT_PREFIXES if lowered.startswith(p)), None)
        if prefix is None:
            continue
        name_start = rest[index].start + len(prefix)
        if quoted := _QUOTED_NAME_RE.match(text, name_start):
            # `account: "Acme Corp"` (or `account:"Acme Corp"`, which splits into odd
            # tokens): the quotes say exactly where the name ends.
            used = {i for i in range(index, len(rest)) if rest[i].start < quoted.end()}
            return _free_text(quoted.group(1)[1:-1]) or None, used - consumed
        used = {index}
        name_end = rest[index].end if len(rest[index].text) > len(prefix) else name_start
        previous_end = rest[index].end
        for following in range(index + 1, len(rest)):
            token = rest[following]
            if following in consumed or "\n" in text[previous_end : token.start]:
                break
            used.add(following)
            if token.text == ";":
                break
            name_end = previous_end = token.end
        return _free_text(text[name_start:name_end]) or None, used
    first_free = next((i for i in range(len(rest)) if i not in consumed), None)
    if first_free is not None and (inner := _quoted_inner(rest[first_free].text)) is not None:
        return _free_text(inner) or None, {first_free}
    return None


def _pieces(text: str, rest: list[_Token], consumed: set[int]) -> list[tuple[int, str]]:
    """The stretches of free text between recognised markers: (first token index, text)."""
    pieces: list[tuple[int, str]] = []
    index = 0
    while index < len(rest):
        if index in consumed:
            index += 1
            continue
        first = index
        while index + 1 < len(rest) and index + 1 not in consumed:
            index += 1
        piece = _free_text(text[rest[first].start : rest[index].end])
        if piece:
            pieces.append((first, piece))
        index += 1
    return pieces


def _account(text: str | None) -> str | None:
    """Collapse whitespace (a pasted name may carry tabs or double spaces) and cap length."""
    if not text:
        return None
    account = " ".join(text.split())
    if len(account) > MAX_ACCOUNT_CHARS:
        raise UserError(
            f"The account name is too long ({len(account):,} characters; at most "
            f"{MAX_ACCOUNT_CHARS}). Write the account first, then the amount or due date, "
            "then the details \u2014 or type `/mktg` alone to open the form."
        )
    return account or None


def _unknown_type(word: str) -> UserError:
    keywords = ", ".join(TYPE_KEYWORDS)
    return UserError(
        f"I don't know the request type {_shown(word, None)}. Start with one of: {keywords} "
        "\u2014 or type `/mktg` alone to open the form."
    )


def _match_type(tokens: list[_Token]) -> tuple[RequestType, int]:
    first = _keyword(tokens[0].text)
    if len(tokens) > 1:
        two_words = _TWO_WORD_TYPES.get((first, _keyword(tokens[1].text)))
        if two_words is not None:
            return two_words, 2
    if first in _TYPE_SYNONYMS:
        return _TYPE_SYNONYMS[first], 1
    raise _unknown_type(tokens[0].text)


def _reference_argument(verb: str, arguments: list[_Token]) -> int:
    if arguments:
        candidate = unescape_slack(arguments[0].text)
        if candidate.lower() == "ms" and len(arguments) > 1:  # "MS 12"
            candidate = f"ms-{arguments[1].text}"
        number = parse_reference(candidate)
        if number is not None:
            return number
    raise UserError(f"Which request? Write it like `/mktg {verb} MS-12`.")


def parse_mktg_command(text: str, *, today: date) -> MktgCommand:
    """Understand `/mktg …` text. Raises UserError with a message for the rep.

    Shape: a subcommand (help, mine, status MS-12, cancel MS-12) or a type keyword followed
    by, in any order, an amount (`$250k`), a due date (`due fri`), a CRM link, and free text.
    The free text before the first amount or due date is the account; the rest is details.
    Anything that could be read two ways opens the prefilled form instead of guessing.
    """
    tokens = _tokenize(text)
    if not tokens:
        return OpenForm(RequestDraft())
    first = _keyword(tokens[0].text)
    if first in _HELP_WORDS:
        return ShowHelp()
    if first in _LIST_WORDS:
        return ListMine()
    if first == "status":
        return ShowStatus(_reference_argument("status", tokens[1:]))
    if first == "cancel":
        return CancelRequest(_reference_argument("cancel", tokens[1:]))
    request_type, used = _match_type(tokens)
    return _parse_request(text, request_type, tokens[used:], today)


def _parse_request(
    text: str, request_type: RequestType, rest: list[_Token], today: date
) -> OpenForm | FileRequest:
    markers = _scan_markers(rest, today)
    amount, amounts_differ = _pick([value for value, _ in markers.amounts])
    due, dues_differ = _pick([value for value, _ in markers.dues])
    link, links_differ = _pick([value for value, _ in markers.links])

    # Only markers we are sure about are taken out of the text; conflicting ones stay in
    # the details so the rep sees exactly what they wrote when the form opens.
    consumed: set[int] = set()
    split_at: int | None = None
    for differ, positions in (
        (amounts_differ, [p for _, p in markers.amounts]),
        (dues_differ, [p for _, p in markers.dues]),
        (links_differ, [p for _, p in markers.links]),
    ):
        if not differ:
            for used in positions:
                consumed.update(used)
    for positions, differ in (
        ([p for _, p in markers.amounts], amounts_differ),
        ([p for _, p in markers.dues], dues_differ),
    ):
        if positions and not differ:
            first_used = min(min(p) for p in positions)
            split_at = first_used if split_at is None else min(split_at, first_used)

    reasons = [
        f"I found more than one {what}, so I left it for you to fill in."
        for what, differ in (
            ("amount", amounts_differ),
            ("due date", dues_differ),
            ("link", links_differ),
        )
        if differ
    ]
    explicit = _explicit_account(text, rest, consumed)
    explicit_account: str | None = None
    if explicit is not None:
        explicit_account, used_by_account = explicit
        consumed |= used_by_account
    pieces = _pieces(text, rest, consumed)

    def draft(account: str | None, details: list[str]) -> RequestDraft:
        return RequestDraft(
            request_type=request_type,
            account=_account(account),
            amount_cents=amount,
            due_date=due,
            details=" ".join(details) or None,
            crm_link=link,
        )

    everything = [piece for _, piece in pieces]
    if reasons:
        return OpenForm(draft(explicit_account, everything), " ".join(reasons))
    if explicit is not None:
        filed = draft(explicit_account, everything)
    elif not pieces:
        filed = draft(None, [])
    elif split_at is None:
        # "/mktg deck Renewal pitch for the CFO": is "Renewal" the account? Can't tell.
        return OpenForm(draft(None, everything), _REASON_UNSURE_ACCOUNT)
    else:
        before = [piece for index, piece in pieces if index < split_at]
        after = [piece for index, piece in pieces if index > split_at]
        if any("\n" in piece for piece in before):
            # A line break before the first marker usually means the first line was the
            # account and the next ones were details; that is a guess, so ask.
            return OpenForm(draft(None, everything), _REASON_UNSURE_ACCOUNT)
        filed = draft(" ".join(before), after)
    if filed.account is None and filed.details is None:
        # Nothing to tell Marketing Support what the request is about. With no markers
        # either it was just `/mktg deck`: open the form with the type chosen, no scolding.
        if not (markers.amounts or markers.dues or markers.links):
            return OpenForm(filed)
        return OpenForm(filed, _REASON_NEEDS_TEXT)
    return FileRequest(filed)


# --------------------------------------------------------------------------------------
# Help
# --------------------------------------------------------------------------------------


def _help_text() -> str:
    """Built from the keyword tables so the help can never drift from what is parsed."""
    type_lines = []
    for keyword, request_type in TYPE_KEYWORDS.items():
        synonyms = [
            word
            for word, other in _TYPE_SYNONYMS.items()
            if other is request_type and word != keyword and not word.endswith("s")
        ][:3]
        also = f" (also {', '.join(synonyms)})" if synonyms else ""
        type_lines.append(f"\u2022 `{keyword}`{also} \u2014 {request_type.label}")
    return "\n".join(
        [
            "*Ask Marketing Support for help with a deal*",
            "Type `/mktg` alone to open the form, or file in one line:",
            "`/mktg type account $amount due date details`",
            "Start with the type; the rest is optional. The text before the amount or "
            "due date is the account; the text after them is the details. To put the "
            'account anywhere, quote it (`"Acme Corp"`) or write `account: Acme Corp;`. '
            "Paste a CRM link anywhere to attach it.",
            "",
            "*Types*",
            *type_lines,
            "",
            "*Amounts* start with `$`: `$250k`, `$1.2m`, `$48,000`, `$48,000.50`.",
            "*Due dates* follow `due` or `by`: `2026-12-04`, `today`, `tomorrow`, `fri`, "
            "`next fri`, `in 3 days`, `in 2 weeks`, `dec 4`, `4 dec 2026`. A weekday means "
            "the next one after today. Write other dates as YYYY-MM-DD.",
            "",
            "*Your requests*",
            "\u2022 `/mktg mine` \u2014 list your requests",
            "\u2022 `/mktg status MS-12` \u2014 see where a request is",
            "\u2022 `/mktg cancel MS-12` \u2014 cancel a request you filed",
            "\u2022 `/mktg help` \u2014 this message",
            "",
            "*Examples*",
            *(f"\u2022 `/mktg {example}`" for example in HELP_EXAMPLES),
        ]
    )


# Kept separate so tests can check that every example really files a request.
HELP_EXAMPLES: Final = (
    "deck Acme Corp $250k due dec 4 Renewal pitch for the CFO",
    "objection Globex $80k by fri They say we're too expensive next to Initech",
    'casestudy "Umbrella Health" due in 2 weeks A hospital like theirs that rolled us out fast',
    "roi Initech $1.2m due tomorrow 3-year TCO against their current vendor",
)
HELP_TEXT: Final = _help_text()


def storable(text: str) -> str:
    """Text a database can keep: PostgreSQL refuses NUL characters in text columns, and they
    carry no meaning in Slack, so they are dropped wherever user text is stored."""
    return text.replace("\x00", "")
