"""The words `/mktg` knows: a keyword and its synonyms for each request type, and the help.

The help text is built from these tables, so it can never list a word the grammar
(`bot.requests.command`) does not understand, nor miss one it does.
"""

from typing import Final

from bot.requests.types import RequestType

__all__ = ["HELP_EXAMPLES", "HELP_TEXT", "TYPE_KEYWORDS", "read_type"]

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


def read_type(first: str, second: str | None) -> tuple[RequestType, int] | None:
    """The request type the first words name, and how many words it took (1 or 2).

    Both words are already lower-cased and stripped of punctuation. None when the first
    word is not a type at all.
    """
    if second is not None:
        two_words = _TWO_WORD_TYPES.get((first, second))
        if two_words is not None:
            return two_words, 2
    if first in _TYPE_SYNONYMS:
        return _TYPE_SYNONYMS[first], 1
    return None


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
