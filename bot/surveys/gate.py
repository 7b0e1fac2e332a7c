"""The one privacy gate for enablement answers over several weeks (PRODUCT.md §2).

Every figure made of more than one week of anonymous answers — a quarter's mean, a trend, a
"what would help most" tally, the comments of a period — comes from `gate`: each week is
judged on its own by the rules of `bot.surveys.privacy`, and a week withheld on its own takes
no part in any figure over several weeks, which says how many weeks it left out. So nothing
shown can be subtracted from anything else to recover a withheld week.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.surveys.privacy import (
    SCORE_SCALE,
    Aggregate,
    checked_scores,
    clamped_minimum,
    safe_comments,
)

__all__ = ["Answer", "Gated", "GatedWeek", "WeekAnswers", "gate", "withheld_weeks_note"]


def withheld_weeks_note(weeks: int, *, minimum: int) -> str | None:
    """ "2 weeks withheld (fewer than 5 respondents)" for a figure that left weeks out, else
    `None`. Saying how many is safe: each of those weeks already reads "not enough responses"
    on its own."""
    if weeks <= 0:
        return None
    plural = "s" if weeks != 1 else ""
    return f"{weeks} week{plural} withheld (fewer than {clamped_minimum(minimum)} respondents)"


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
        checked_scores(list(self.scores))
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
    floor = clamped_minimum(minimum)
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
