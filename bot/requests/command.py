"""The `/mktg` grammar: one line a rep typed, read into a command or a request draft.

Reps type fast and loosely, so the grammar is forgiving about *form* (synonyms, case,
punctuation, `$250k`, `fri`) but strict about *meaning*: when the text could mean two
things (two amounts, no way to tell the account from the details) it opens the form
prefilled instead of guessing, and when something is clearly wrong (`$abc`, 30 February)
it says so in words a rep can act on. The words themselves live in `bot.requests.keywords`,
due dates in `bot.requests.due_dates`, amounts and references in `bot.core.text`.

Pure: no I/O, no Slack client, no clock (`today` is an argument).
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeAlias, TypeVar

from bot.core.errors import UserError
from bot.core.text import MINUS_SIGNS, parse_amount, parse_reference, quote_input, unescape_slack
from bot.requests.due_dates import date_word, read_date_words
from bot.requests.keywords import TYPE_KEYWORDS, read_type
from bot.requests.types import RequestType

__all__ = [
    "MAX_ACCOUNT_CHARS",
    "CancelRequest",
    "FileRequest",
    "ListMine",
    "MktgCommand",
    "OpenForm",
    "RequestDraft",
    "ShowHelp",
    "ShowStatus",
    "parse_mktg_command",
]


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

MAX_ACCOUNT_CHARS: Final = 150

_HELP_WORDS: Final = frozenset({"help", "?"})
_LIST_WORDS: Final = frozenset({"mine", "list", "my"})
_DUE_WORDS: Final = frozenset({"due", "by"})
_ACCOUNT_PREFIXES: Final = ("account:", "acct:")

_REASON_UNSURE_ACCOUNT: Final = (
    "I wasn't sure which part is the account, so I put your text in the details."
)
_REASON_NEEDS_TEXT: Final = "Add the account and what you need, then send the form."

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
        if plain.startswith("$") or plain.startswith(tuple(f"{sign}$" for sign in MINUS_SIGNS)):
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
    if start < len(rest) and date_word(rest[start].text) == "on":
        start += 1
    for size in (3, 2, 1):
        window = rest[start : start + size]
        if len(window) < size or any(t.text.startswith(_NOT_DATE_WORD) for t in window):
            continue
        found = read_date_words([date_word(t.text) for t in window], today, None)
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
        f"I don't know the request type {quote_input(word, None)}. Start with one of: {keywords} "
        "\u2014 or type `/mktg` alone to open the form."
    )


def _match_type(tokens: list[_Token]) -> tuple[RequestType, int]:
    second = _keyword(tokens[1].text) if len(tokens) > 1 else None
    found = read_type(_keyword(tokens[0].text), second)
    if found is None:
        raise _unknown_type(tokens[0].text)
    return found


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
