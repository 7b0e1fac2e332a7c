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
  that are shown on their own (`gate`): including a withheld week would let anyone subtract the
  shown weeks from it and recover the hidden week exactly. It says how many weeks it left out.

Everything is pure arithmetic on already-anonymous numbers; digests, commands and the export
call these functions and render only what they return. Programming mistakes (a score of 7, a
negative count) raise `ValueError`; a bad setting typed by an admin raises `UserError`.

Every function that takes `minimum` clamps it to `ABSOLUTE_MINIMUM` itself, so a caller that
forgets `effective_minimum` (or passes a stale setting) can never lower the bar below 3.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    "Answer",
    "Cell",
    "Gated",
    "GatedWeek",
    "WeekAnswers",
    "breakdown",
    "check_minimum_setting",
    "counts_can_be_shown",
    "distribution",
    "effective_minimum",
    "gate",
    "mean_score",
    "one_decimal",
    "response_rate",
    "safe_comments",
    "trend",
    "withheld_weeks_note",
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


def _minimum(minimum: int) -> int:
    return max(minimum, ABSOLUTE_MINIMUM)


def _checked_scores(scores: Sequence[int], scale: Sequence[int] = SCORE_SCALE) -> Sequence[int]:
    """Refuse scores outside the scale: a stray 0 or 10 would silently skew every mean."""
    allowed = set(scale)
    for score in scores:
        if score not in allowed:
            raise ValueError(f"score {score!r} is not on the scale {tuple(scale)}")
    return scores


def counts_can_be_shown(respondents: int, *, minimum: int) -> bool:
    """Whether a respondent count (or any figure over that many people) may be shown."""
    return respondents >= _minimum(minimum)


def mean_score(scores: Sequence[int], *, minimum: int) -> Aggregate:
    """The mean of 1–5 scores, withheld when fewer than `minimum` people answered.

    No answers at all is not withheld but shown as "no responses yet": there is no score to
    protect, and the response rate already says the same.
    """
    _checked_scores(scores)
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
    _checked_scores(scores, scale)
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
    floor = _minimum(minimum)
    sizes = {key: len(_checked_scores(scores)) for key, scores in groups.items()}
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


# --- the gate: enablement answers over several weeks -----------------------------------------


def withheld_weeks_note(weeks: int, *, minimum: int) -> str | None:
    """ "2 weeks withheld (fewer than 5 respondents)" for a figure that left weeks out, else
    `None`. Saying how many is safe: each of those weeks already reads "not enough responses"
    on its own."""
    if weeks <= 0:
        return None
    plural = "s" if weeks != 1 else ""
    return f"{weeks} week{plural} withheld (fewer than {_minimum(minimum)} respondents)"


@dataclass(frozen=True)
class Answer:
    """One person's enablement answer for one week, as `WeekAnswers.of` receives it.

    `respondent` (a user id, a hash of one, an index) is only ever counted, so that the minimum
    is judged on distinct people and not on rows; it never leaves this module.
    """

    respondent: str | int
    score: int | None = None
    help_with: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class WeekAnswers:
    """One week's enablement answers, tallied: what `gate` judges.

    People are counted once each, however many rows they have: `respondents` answered anything,
    `scorers` gave a score, `helpers` said what would help most. `scores` and `help` count the
    answers per score and per option. Build it with `WeekAnswers.of` from single answers, or
    from counts taken in SQL (`bot.surveys.satisfaction`).
    """

    key: str
    respondents: int = 0
    scorers: int = 0
    scores: Mapping[int, int] = field(default_factory=dict)
    helpers: int = 0
    help: Mapping[str, int] = field(default_factory=dict)
    comments: Sequence[str] = ()

    def __post_init__(self) -> None:
        tallies = (*self.scores.values(), *self.help.values())
        if min((self.respondents, self.scorers, self.helpers, *tallies)) < 0:
            raise ValueError(f"{self.key}: counts must not be negative")
        if max(self.scorers, self.helpers) > self.respondents:
            raise ValueError(f"{self.key}: more scorers or helpers than respondents")
        _checked_scores(list(self.scores))
        for people, answers in ((self.scorers, self.scores), (self.helpers, self.help)):
            given = sum(answers.values())
            if people > given or (given > 0) != (people > 0):
                raise ValueError(f"{self.key}: {people} people for {given} answers")

    @classmethod
    def of(cls, key: str, answers: Iterable[Answer]) -> WeekAnswers:
        """Tally single answers, counting each respondent once per question."""
        people: set[str | int] = set()
        scorers: set[str | int] = set()
        helpers: set[str | int] = set()
        scores: Counter[int] = Counter()
        wishes: Counter[str] = Counter()
        comments: list[str] = []
        for answer in answers:
            if answer.score is not None:
                scorers.add(answer.respondent)
                scores[answer.score] += 1
            if answer.help_with is not None:
                helpers.add(answer.respondent)
                wishes[answer.help_with] += 1
            if answer.comment is not None:
                comments.append(answer.comment)
            if (answer.score, answer.help_with, answer.comment) != (None, None, None):
                people.add(answer.respondent)
        return cls(
            key=key,
            respondents=len(people),
            scorers=len(scorers),
            scores=dict(scores),
            helpers=len(helpers),
            help=dict(wishes),
            comments=tuple(comments),
        )


@dataclass(frozen=True)
class GatedWeek:
    """What may be shown of one week's answers, each part judged on the people who gave it."""

    key: str
    # Enough people answered anything: the week may appear at all, with its comments.
    shown: bool
    mean: Aggregate
    distribution: dict[int, int] | None
    # Options most first (ties by key), only those picked; None when withheld or unanswered.
    help_most: list[tuple[str, int]] | None
    # Said what would help by too few to show, or the week is withheld whole.
    help_withheld: bool
    comments: list[str]

    @property
    def scores_shown(self) -> bool:
        return self.mean.value is not None


@dataclass(frozen=True)
class Gated:
    """Every week's shown figures, and figures over all the weeks made of shown weeks only."""

    weeks: list[GatedWeek]
    # Mean over the weeks whose own mean is shown; `withheld_weeks` says how many were left out.
    mean: Aggregate
    # Summed over the weeks whose own tally is shown; None when there is none.
    help_most: list[tuple[str, int]] | None
    help_withheld_weeks: int
    # From the weeks that are shown (`GatedWeek.shown`) only.
    comments: list[str]
    comments_withheld_weeks: int

    @property
    def trend(self) -> list[tuple[str, Aggregate]]:
        return [(week.key, week.mean) for week in self.weeks]


def _ranked(tally: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(
        ((key, count) for key, count in tally.items() if count > 0),
        key=lambda item: (-item[1], item[0]),
    )


def gate(weeks: Sequence[WeekAnswers], *, minimum: int) -> Gated:
    """The one privacy gate for enablement answers: per-week figures, and figures over all the
    weeks in which a withheld week's answers take no part.

    A week whose `respondents` fall below the minimum is withheld whole: every figure of it,
    whoever answered which question. In a week that is shown, each figure is judged on the
    people who gave it, like `mean_score`, `distribution` and `safe_comments`: the mean and
    distribution on `scorers`, "what would help most" on `helpers`, the comments on
    `respondents`. A week (or question) with no answers at all is not withheld: it reads "no
    responses yet".

    Over all the weeks, only weeks shown on their own count: the overall mean is the mean of the
    shown weeks' answers, with `withheld_weeks` the number of weeks left out (withheld itself,
    with no value, when every week that had answers was left out); the help tally and the
    comments likewise. So changing any answer of a withheld week changes nothing returned here
    except through what was already public (that the week was withheld).
    """
    floor = _minimum(minimum)
    gated: list[GatedWeek] = []
    score_sum = answers = scorers = mean_withheld = 0
    wishes: Counter[str] = Counter()
    help_shown = help_withheld = 0
    comments: list[str] = []
    commenters = comments_withheld = 0
    for week in weeks:
        shown = week.respondents >= floor
        # A week below the minimum is withheld whole, even in a question nobody of it answered:
        # "no responses yet" there would tell who among a handful skipped the question.
        small = week.respondents > 0 and not shown
        if small or 0 < week.scorers < floor:
            mean = Aggregate(respondents=week.scorers, value=None, withheld=True)
            mean_withheld += 1
        elif week.scorers == 0:
            mean = Aggregate(respondents=0, value=None, withheld=False)
        else:
            week_sum = sum(score * count for score, count in week.scores.items())
            week_answers = sum(week.scores.values())
            mean = Aggregate(
                respondents=week.scorers, value=week_sum / week_answers, withheld=False
            )
            score_sum += week_sum
            answers += week_answers
            scorers += week.scorers
        counts = None
        if mean.value is not None:
            counts = {score: week.scores.get(score, 0) for score in SCORE_SCALE}

        help_most = None
        if week.helpers >= floor:
            help_most = _ranked(week.help)
            wishes.update(week.help)
            help_shown += 1
        help_hidden = small or 0 < week.helpers < floor
        help_withheld += help_hidden

        week_comments = safe_comments(week.comments, respondents=week.respondents, minimum=floor)
        if shown:
            comments.extend(week.comments)
            commenters += week.respondents
        comments_withheld += small

        gated.append(
            GatedWeek(
                key=week.key,
                shown=shown,
                mean=mean,
                distribution=counts,
                help_most=help_most,
                help_withheld=help_hidden,
                comments=week_comments,
            )
        )

    if answers:
        overall = Aggregate(scorers, score_sum / answers, False, withheld_weeks=mean_withheld)
    else:
        overall = Aggregate(0, None, mean_withheld > 0, withheld_weeks=mean_withheld)
    return Gated(
        weeks=gated,
        mean=overall,
        help_most=_ranked(wishes) if help_shown else None,
        help_withheld_weeks=help_withheld,
        comments=safe_comments(comments, respondents=commenters, minimum=floor),
        comments_withheld_weeks=comments_withheld,
    )
