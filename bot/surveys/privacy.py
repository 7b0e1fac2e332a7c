"""The anonymity rule for enablement-satisfaction survey answers (PRODUCT.md §2).

Sales reps answer "how satisfied were you with marketing's enablement support?" honestly only if
they trust that marketing cannot tell who said what. So outside the respondent's own view:

* no names are ever attached to scores or comments (the functions here never receive names, so
  they cannot leak one);
* a figure computed over fewer respondents than the workspace minimum (default 5, never below
  3) is withheld and shown as "not enough responses": with 1–2 respondents a mean *is* a
  person's answer, and on a small team anyone can guess who;
* a breakdown must not let a withheld cell be recovered by subtraction from the figures that
  are shown (complementary suppression, see `breakdown`);
* nobody can see who did *not* answer: a group with zero respondents is withheld like any other
  small group, because "team X: no responses" names team X's members as non-responders;
* a cumulative figure (a quarter's mean, a tally over several weeks) is made only of the groups
  that are shown on their own (`bot.surveys.gate`): including a withheld week would let anyone subtract the
  shown weeks from it and recover the hidden week exactly. It says how many weeks it left out.

Everything is pure arithmetic on already-anonymous numbers; digests, commands and the export
call these functions and render only what they return. Programming mistakes (a score of 7, a
negative count) raise `ValueError`; a bad setting typed by an admin raises `UserError`.

Every function that takes `minimum` clamps it to `ABSOLUTE_MINIMUM` itself, so a caller that
forgets `effective_minimum` (or passes a stale setting) can never lower the bar below 3.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from bot.core.errors import UserError

__all__ = [
    "ABSOLUTE_MINIMUM",
    "DEFAULT_MINIMUM",
    "MAXIMUM_MINIMUM_SETTING",
    "NO_RESPONSES_TEXT",
    "SCORE_SCALE",
    "WITHHELD_TEXT",
    "Aggregate",
    "Cell",
    "breakdown",
    "check_minimum_setting",
    "checked_scores",
    "clamped_minimum",
    "counts_can_be_shown",
    "distribution",
    "effective_minimum",
    "mean_score",
    "one_decimal",
    "response_rate",
    "safe_comments",
    "trend",
]

ABSOLUTE_MINIMUM: Final = 3
"""Below 3 respondents a figure is, in practice, one or two people's answers: never allowed."""

DEFAULT_MINIMUM: Final = 5
"""The product default for the workspace setting `survey_min_respondents`."""

MAXIMUM_MINIMUM_SETTING: Final = 1000
"""Refused above this in the settings UI: a larger value is almost certainly a typo."""

WITHHELD_TEXT: Final = "not enough responses"
NO_RESPONSES_TEXT: Final = "no responses yet"

SCORE_SCALE: Final = (1, 2, 3, 4, 5)
"""The enablement-satisfaction answer scale."""

SETTING_FIELD: Final = "survey_min_respondents"


def effective_minimum(setting: int | None) -> int:
    """The minimum to enforce for a workspace setting.

    `None` (never set) means the product default; anything below 3 is raised to 3 rather than
    refused, because a stored value predating the rule must still never weaken it. Large values
    are honoured: an admin may choose to be stricter.
    """
    if setting is None:
        return DEFAULT_MINIMUM
    return max(setting, ABSOLUTE_MINIMUM)


def check_minimum_setting(value: int) -> int:
    """Validate a minimum typed into the settings UI; return it unchanged when acceptable.

    Unlike `effective_minimum` this refuses bad values, so the admin learns why their number
    was not taken instead of seeing it silently changed.
    """
    if value < ABSOLUTE_MINIMUM:
        raise UserError(
            f"The minimum number of respondents can never be below {ABSOLUTE_MINIMUM}: "
            "with fewer, a score can be traced back to the person who gave it.",
            field=SETTING_FIELD,
        )
    if value > MAXIMUM_MINIMUM_SETTING:
        raise UserError(
            f"The minimum number of respondents can be at most {MAXIMUM_MINIMUM_SETTING}.",
            field=SETTING_FIELD,
        )
    return value


def one_decimal(value: float) -> str:
    """The default rendering of a mean score: "4.2"."""
    return f"{value:.1f}"


@dataclass(frozen=True)
class Aggregate:
    """A figure over anonymous answers that may be shown or withheld.

    The invariants are checked on construction so no code path can build a withheld figure
    that still carries its value. `respondents` is kept for arithmetic (complementary
    suppression, response rates); render the figure with `display`, and show the count only
    when `counts_can_be_shown` says so.
    """

    respondents: int
    value: float | None
    withheld: bool
    # For a figure over several weeks (`gate`): the weeks left out of it because they were
    # withheld on their own. Always 0 for one week's figure.
    withheld_weeks: int = 0

    def __post_init__(self) -> None:
        _check_invariants(self.respondents, self.value, self.withheld)
        if self.withheld_weeks < 0:
            raise ValueError(f"withheld_weeks must not be negative, got {self.withheld_weeks}")

    def display(self, fmt: Callable[[float], str] = one_decimal) -> str:
        """ "4.2", "not enough responses" or "no responses yet"."""
        return _display(self.value, self.withheld, fmt)


@dataclass(frozen=True)
class Cell:
    """One group of a breakdown (a team, a region, a "what would help most" choice).

    Same invariants and rendering as `Aggregate`; `key` is the group's label.
    """

    key: str
    respondents: int
    value: float | None
    withheld: bool

    def __post_init__(self) -> None:
        _check_invariants(self.respondents, self.value, self.withheld)

    def display(self, fmt: Callable[[float], str] = one_decimal) -> str:
        """ "4.2" or "not enough responses" (a zero-respondent cell is always withheld)."""
        return _display(self.value, self.withheld, fmt)


def _check_invariants(respondents: int, value: float | None, withheld: bool) -> None:
    if respondents < 0:
        raise ValueError(f"respondents must not be negative, got {respondents}")
    if withheld and value is not None:
        raise ValueError("a withheld figure must not carry its value")
    if not withheld and respondents > 0 and value is None:
        raise ValueError("a shown figure over respondents needs a value")
    if respondents == 0 and value is not None:
        raise ValueError("a figure over no respondents has no value")


def _display(value: float | None, withheld: bool, fmt: Callable[[float], str]) -> str:
    if withheld:
        return WITHHELD_TEXT
    if value is None:
        return NO_RESPONSES_TEXT
    return fmt(value)


def clamped_minimum(minimum: int) -> int:
    """A minimum never below `ABSOLUTE_MINIMUM`, whatever a caller passes."""
    return max(minimum, ABSOLUTE_MINIMUM)


def checked_scores(scores: Sequence[int], scale: Sequence[int] = SCORE_SCALE) -> Sequence[int]:
    """Refuse scores outside the scale: a stray 0 or 10 would silently skew every mean."""
    allowed = set(scale)
    for score in scores:
        if score not in allowed:
            raise ValueError(f"score {score!r} is not on the scale {tuple(scale)}")
    return scores


def counts_can_be_shown(respondents: int, *, minimum: int) -> bool:
    """Whether a respondent count (or any figure over that many people) may be shown."""
    return respondents >= clamped_minimum(minimum)


def mean_score(scores: Sequence[int], *, minimum: int) -> Aggregate:
    """The mean of 1–5 scores, withheld when fewer than `minimum` people answered.

    No answers at all is not withheld but shown as "no responses yet": there is no score to
    protect, and the response rate already says the same.
    """
    checked_scores(scores)
    respondents = len(scores)
    if respondents == 0:
        return Aggregate(respondents=0, value=None, withheld=False)
    if not counts_can_be_shown(respondents, minimum=minimum):
        return Aggregate(respondents=respondents, value=None, withheld=True)
    return Aggregate(respondents=respondents, value=sum(scores) / respondents, withheld=False)


def distribution(
    scores: Sequence[int], *, minimum: int, scale: Sequence[int] = SCORE_SCALE
) -> dict[int, int] | None:
    """How many respondents gave each score, or `None` to withhold the whole distribution.

    Deliberate choice: once the *total* meets the minimum, the per-score counts are shown even
    when a count is 1 or 2. A cell of a distribution groups people by the answer they gave, not
    by who they are, so "one person gave a 1" says nothing about which of the (at least
    `minimum`) respondents it was; withholding small cells would also hide exactly the
    unhappy minority the survey exists to surface. Below the minimum the distribution is as
    identifying as the individual answers, so it is withheld entirely.
    """
    checked_scores(scores, scale)
    if not counts_can_be_shown(len(scores), minimum=minimum):
        return None
    counts = dict.fromkeys(scale, 0)
    for score in scores:
        counts[score] += 1
    return counts


def breakdown(
    groups: Mapping[str, Sequence[int]], *, minimum: int, total_shown: bool = True
) -> list[Cell]:
    """The mean score per group, with small groups withheld so no answer can be singled out.

    Groups must be disjoint (each respondent in exactly one), e.g. by team, by region, or by the
    single "what would help most" choice.

    1. Primary suppression: every group with fewer than `minimum` respondents is withheld,
       including a group with none (showing it would name its members as non-responders).
    2. Complementary suppression, when the overall figure is shown next to the breakdown
       (`total_shown`): overall total − the shown groups = the withheld groups taken together.
       That remainder is itself a figure, so it must cover at least `minimum` respondents and
       at least two groups. While it does not, the smallest shown group (ties by key) is
       withheld too, until it does or everything is withheld. A lone withheld group always
       has fewer than `minimum` respondents, so this also covers "never exactly one withheld".

    Without `total_shown` there is nothing to subtract from, so only rule 1 applies. Limits
    (documented, not solved here): two breakdowns of the same answers along different
    dimensions, or a remainder whose mean is exactly 1.0 or 5.0, can still narrow things down;
    callers show one breakdown per survey figure.

    Cells are ordered by key, for stable output.
    """
    floor = clamped_minimum(minimum)
    sizes = {key: len(checked_scores(scores)) for key, scores in groups.items()}
    withheld = {key for key, size in sizes.items() if size < floor}

    if total_shown and withheld:
        shown_smallest_first = sorted(
            (key for key in sizes if key not in withheld), key=lambda key: (sizes[key], key)
        )
        for key in shown_smallest_first:
            remainder = sum(sizes[hidden] for hidden in withheld)
            if remainder >= floor and len(withheld) >= 2:
                break
            withheld.add(key)

    cells = []
    for key in sorted(groups):
        scores = groups[key]
        if key in withheld:
            cells.append(Cell(key=key, respondents=len(scores), value=None, withheld=True))
        else:
            mean = sum(scores) / len(scores)
            cells.append(Cell(key=key, respondents=len(scores), value=mean, withheld=False))
    return cells


def trend(
    weekly: Sequence[tuple[str, Sequence[int]]], *, minimum: int
) -> list[tuple[str, Aggregate]]:
    """One mean per week label (the digest's 8-week trend), in the order given.

    Each week is judged on its own: weeks are disjoint sets of answers, so one quiet week is
    withheld without hiding the others. A figure over all the weeks shown alongside must leave
    the withheld ones out (`gate` does both).
    """
    return [(label, mean_score(scores, minimum=minimum)) for label, scores in weekly]


def response_rate(answered: int, reached: int) -> float | None:
    """The share of people reached who answered, or `None` when nobody was reached.

    Rates are never withheld: they say how many answered, not who, and a survey owner needs
    them to judge whether the scores mean anything.
    """
    if answered < 0 or reached < 0:
        raise ValueError(f"counts must not be negative, got {answered}/{reached}")
    if answered > reached:
        raise ValueError(f"more answers ({answered}) than people reached ({reached})")
    if reached == 0:
        return None
    return answered / reached


def safe_comments(
    comments: Sequence[str],
    *,
    respondents: int,
    minimum: int,
    shuffle_seed: int | None = None,
) -> list[str]:
    """The comments of an anonymous survey in a form that cannot be matched to their authors.

    * Nothing below the minimum number of respondents: with two respondents, a comment is one
      of two known people's.
    * Whitespace stripped and blank comments dropped (an empty answer is no comment).
    * Never in submission order, which could be matched against who answered when: sorted
      case-insensitively (ties by exact text), so the result depends only on the set of
      comments. With `shuffle_seed` the sorted list is then shuffled by a private
      `random.Random(seed)`: still deterministic and still independent of submission order,
      for callers who would rather not present comments alphabetically.
    """
    if not counts_can_be_shown(respondents, minimum=minimum):
        return []
    kept = sorted(
        (stripped for stripped in (comment.strip() for comment in comments) if stripped),
        key=lambda text: (text.casefold(), text),
    )
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(kept)
    return kept
