"""Objection themes: which kinds of objection an objection-help request is about.

This module owns the theme list (`OBJECTION_THEMES`, `OTHER_THEME`), the words and phrases
that signal each theme, the phrases that look like a theme but are not one, and
`objection_themes`, the one function that reads a request's details into themes. The digests
and the export count requests per theme from it; nothing else decides what a theme is.

Only the details a rep wrote are read, never the account name: an account called "Costco" or
"Value Village" says nothing about the objection.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["OBJECTION_THEMES", "OTHER_THEME", "objection_themes"]

OTHER_THEME: Final = "other"

OBJECTION_THEMES: Final[dict[str, str]] = {
    "price/budget": (
        r"prices?|pricing|priced|pricey|overpriced|expensive|costs?|costly|"
        r"budgets?|budgeted|budgeting|discounts?|discounted|discounting|cheap|cheaper|cheapest|"
        r"afford|affordable|unaffordable|too much (?:money|for (?:what|a|the|us))|"
        r"(?:pay|paying|paid|charge|charging|spend|spending) too much|sticker shock|"
        r"licen[cs]e (?:fees?|costs?)|per[- ]seat|spend freeze|spending freeze"
    ),
    "competitor": (
        r"competitors?|competitor's|competition|competing|competitive|rivals?|incumbents?|"
        r"alternatives?|vs\.?|versus|(?:switch|switching|switched|move|moving) (?:away )?from|"
        r"(?:comparing|compared|compare) (?:us|our \w+) (?:with|to|against)|bake-?off|"
        r"head-to-head|already (?:use|uses|using|have|has) (?:a|an|another) (?:tool|vendor|solution)|"
        r"(?:build|built|building) (?:it|this|their own|one) (?:in-house|themselves|internally)|"
        r"in-house (?:tool|solution|build)|rip and replace"
    ),
    "security/compliance": (
        r"security|secure|securely|infosec|compliance|compliant|non-compliant|gdpr|ccpa|hipaa|"
        r"soc ?-?2|iso ?-?27001|fedramp|privacy|pen ?-?tests?|penetration tests?|"
        r"data residency|data retention|encryption|encrypted|legal|dpa|audit|audits|audit logs?|"
        r"auditors?|vendor (?:risk|assessment)|security questionnaire|breach(?:es)?"
    ),
    "integration/technical": (
        r"integrations?|integrate|integrates|integrating|apis?|webhooks?|connectors?|sdk|"
        r"technical|technically|implementation|implementations|implement|implementing|"
        r"migrations?|migrate|migrating|sso|saml|scim|architecture|scalability|scalable|"
        r"(?:won'?t|doesn'?t|does not|will not) scale|at scale|performance|latency|uptime|"
        r"downtime|on-?prem|on-?premises?|self-hosted|deploy|deployment|deploying|"
        r"onboarding|(?:their|the|our|an?) it (?:team|department|dept|org|people)|"
        r"data model|sandbox"
    ),
    "roi/value": (
        r"roi|payback|pay back|return on (?:investment|the investment|spend)|business case|"
        r"justify|justifying|justified|justification|tco|total cost of ownership|"
        r"(?:cost )?savings?|not worth (?:it|the)|worth the (?:money|price|cost|investment|spend)|"
        r"value for (?:money|the price)|business value|value proposition|"
        r"(?:see|seeing|show|showing|prove|proving|demonstrate|quantify) (?:the |any |enough |"
        r"real |clear )?value"
    ),
    "timing": (
        r"timing|timelines?|not now|not right now|next (?:year|quarter|month|fiscal year|fy)|"
        r"until (?:next|after|the new year|january|q[1-4])|later|not a (?:top )?priority|"
        r"other priorities|competing priorities|different priorities|lower priority|"
        r"deprioriti[sz]ed|deprioriti[sz]ing|freeze|frozen|bandwidth|too busy|delays?|"
        r"delayed|delaying|postpone|postponed|postponing|"
        r"push(?:ed|ing)? (?:it |this |the deal |the date |the start |signing )?out|"
        r"push(?:ed|ing)? (?:it|this|the deal|the date|the start|signing) back|"
        r"on hold|revisit|renewal date|reorg|re-org|wait(?:ing)? (?:until|for)"
    ),
    "features": (
        r"features?|functionality|capabilit(?:y|ies)|missing|roadmap|lacks?|lacking|lacked|"
        r"(?:doesn'?t|does not|don'?t|do not|can'?t|cannot) (?:support|do|have|handle)|"
        r"no support for|not supported|unsupported|limitations?|feature gaps?|gaps? in"
    ),
}
"""Theme -> the words and phrases that signal it: a regular-expression alternation matched as
whole words and phrases, ignoring case. Theme names and their order are what digests show."""

_NOT_THEMES: Final[dict[str, str]] = {
    # Effort, not money; and figures that are about return, not about the price itself.
    "price/budget": (
        r"too much (?:work|effort|time|hassle|change|overhead)|total cost of ownership|"
        r"cost savings?|costs? of (?:doing nothing|inaction|switching)|at all costs"
    ),
    # A scheduling clash or a year-on-year comparison is not a rival product.
    "competitor": (
        r"competing priorities|no alternative|(?:vs\.?|versus|compared (?:to|with)) "
        r"(?:last|this|previous|next) (?:year|quarter|month|renewal|contract)"
    ),
    # "Secure" as in getting hold of something, not as in security.
    "security/compliance": (
        r"secur(?:e|ed|ing) (?:a|the|their|budget|funding|sign-?off|approval|a meeting|time)"
    ),
    # Words that contain a keyword as a whole word but mean something else.
    "integration/technical": r"performance reviews?|sales performance|(?:quota|rep) performance",
    # Follow-ups scheduled later are logistics, not a timing objection.
    "timing": r"later (?:today|this (?:week|morning|afternoon|evening)|tonight)|code freeze date",
    # Lacking money, time or people is a budget or timing objection, not a missing feature.
    "features": (
        r"(?:lack\w*|missing|(?:doesn'?t|does not|don'?t|do not) have|no) (?:of )?"
        r"(?:the |any |enough )?(?:budget|funding|money|time|bandwidth|resources|headcount|"
        r"urgency|buy-?in|sign-?off|champion)|missing (?:the |a |our )?(?:deadline|call|meeting)"
    ),
}
"""Theme -> phrases that contain one of its keywords without being that theme; they are blanked
out before that theme's keywords are looked for (other themes still see them)."""


def _whole(alternation: str) -> re.Pattern[str]:
    # Lookarounds rather than \b: several keywords end in punctuation ("vs.", "competitor's").
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.IGNORECASE)


_THEME_PATTERNS: Final = {theme: _whole(words) for theme, words in OBJECTION_THEMES.items()}
_NOT_PATTERNS: Final = {theme: _whole(words) for theme, words in _NOT_THEMES.items()}
_NOTHING: Final = re.compile(r"(?!)")

# Slack and phones type curly apostrophes; the keywords use straight ones.
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _normalised(details: str) -> str:
    return " ".join(details.translate(_APOSTROPHES).split())


def objection_themes(details: str | None) -> list[str]:
    """The themes an objection-help request is about, read from its details only.

    A request counts once for every theme it mentions (a "too expensive compared to the
    competitor" request is both price/budget and competitor); one that mentions none, or has
    no details, is `OTHER_THEME`. Keywords match whole words and phrases only ("Costco" is not
    "cost"), and phrases that merely look like a theme ("too much work", "lack of budget" for
    features) don't count for it. Themes come back in `OBJECTION_THEMES` order.
    """
    text = _normalised(details or "")
    found = [
        theme
        for theme, pattern in _THEME_PATTERNS.items()
        if pattern.search(_NOT_PATTERNS.get(theme, _NOTHING).sub(" | ", text))
    ]
    return found or [OTHER_THEME]
