"""Enablement-satisfaction answers stay anonymous (bot/surveys/privacy.py, PRODUCT.md §2).

Every expected mean below is worked out by hand; the comments show the arithmetic.
"""

from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import UserError
from bot.surveys.gate import Answer, Gated, WeekAnswers, gate, withheld_weeks_note
from bot.surveys.privacy import (
    ABSOLUTE_MINIMUM,
    DEFAULT_MINIMUM,
    NO_RESPONSES_TEXT,
    WITHHELD_TEXT,
    Aggregate,
    Cell,
    breakdown,
    check_minimum_setting,
    counts_can_be_shown,
    distribution,
    effective_minimum,
    mean_score,
    response_rate,
    safe_comments,
    trend,
)


def gate_scores(
    weeks: Sequence[tuple[str, Sequence[tuple[str | int, int]]]], *, minimum: int
) -> Gated:
    """`gate` for scores alone: per week, (respondent, score) pairs."""
    return gate(
        [
            WeekAnswers.of(key, [Answer(respondent, score=score) for respondent, score in pairs])
            for key, pairs in weeks
        ],
        minimum=minimum,
    )


def groups_of_sizes(sizes: Sequence[int]) -> dict[str, list[int]]:
    """Groups "g0", "g1", … with the given numbers of respondents, all answering 4."""
    return {f"g{index}": [4] * size for index, size in enumerate(sizes)}


def withheld_keys(cells: Sequence[Cell]) -> set[str]:
    return {cell.key for cell in cells if cell.withheld}


def subtraction_leaks(
    cells: Sequence[Cell], groups: Mapping[str, Sequence[int]], *, minimum: int
) -> list[str]:
    """What an onlooker could work out from the digest by subtraction; [] when nothing.

    The onlooker sees the overall figure (when it is not itself withheld) and every shown cell
    with its respondent count and mean, so they know the total count and score sum of the
    withheld cells taken together. That remainder singles out a withheld cell when it is made of
    exactly one cell (its count and scores are then known), and it is itself an under-minimum
    figure when it covers fewer than `minimum` respondents.
    """
    total_respondents = sum(len(scores) for scores in groups.values())
    if total_respondents < minimum:
        return []
    shown_respondents = sum(cell.respondents for cell in cells if not cell.withheld)
    shown_score_sum = sum(cell.respondents * cell.value for cell in cells if cell.value is not None)
    remainder_respondents = total_respondents - shown_respondents
    remainder_score_sum = sum(sum(scores) for scores in groups.values()) - shown_score_sum
    hidden = [cell for cell in cells if cell.withheld]

    leaks = []
    for cell in hidden:
        if len(hidden) == 1 and remainder_respondents == cell.respondents:
            leaks.append(
                f"{cell.key}: {remainder_respondents} respondents, score sum "
                f"{remainder_score_sum:g}, derivable as total minus shown"
            )
    if hidden and remainder_respondents < minimum:
        leaks.append(f"withheld cells together have only {remainder_respondents} respondents")
    return leaks


# --- the minimum setting ---------------------------------------------------------------------


def test_an_unset_minimum_is_the_default_of_five() -> None:
    setting = None

    minimum = effective_minimum(setting)

    assert minimum == DEFAULT_MINIMUM == 5


@pytest.mark.parametrize(("setting", "expected"), [(-4, 3), (0, 3), (1, 3), (2, 3), (3, 3)])
def test_a_stored_minimum_below_three_is_raised_to_three(setting: int, expected: int) -> None:
    stored = setting

    minimum = effective_minimum(stored)

    assert minimum == expected == ABSOLUTE_MINIMUM


@pytest.mark.parametrize("setting", [4, 5, 12, 5000])
def test_a_stricter_minimum_is_honoured(setting: int) -> None:
    stored = setting

    minimum = effective_minimum(stored)

    assert minimum == setting


@pytest.mark.parametrize("value", [-1, 0, 1, 2])
def test_the_settings_ui_refuses_a_minimum_below_three(value: int) -> None:
    typed = value

    with pytest.raises(UserError) as refused:
        check_minimum_setting(typed)

    assert "never be below 3" in refused.value.message
    assert refused.value.field == "survey_min_respondents"


def test_the_settings_ui_refuses_an_absurdly_large_minimum() -> None:
    typed = 1001

    with pytest.raises(UserError) as refused:
        check_minimum_setting(typed)

    assert refused.value.field == "survey_min_respondents"


@pytest.mark.parametrize("value", [3, 5, 1000])
def test_the_settings_ui_accepts_a_minimum_from_three_to_a_thousand(value: int) -> None:
    typed = value

    accepted = check_minimum_setting(typed)

    assert accepted == value


def test_a_minimum_passed_below_three_is_still_enforced_as_three() -> None:
    two_scores = [5, 1]

    result = mean_score(two_scores, minimum=1)

    assert result.withheld


# --- means and counts ------------------------------------------------------------------------


def test_the_mean_is_shown_when_exactly_the_minimum_answered() -> None:
    scores = [5, 4, 4, 3, 5]  # 21 / 5 = 4.2

    result = mean_score(scores, minimum=5)

    assert result == Aggregate(respondents=5, value=21 / 5, withheld=False)
    assert result.display() == "4.2"


def test_the_mean_is_withheld_when_one_fewer_than_the_minimum_answered() -> None:
    scores = [5, 4, 4, 3]

    result = mean_score(scores, minimum=5)

    assert result == Aggregate(respondents=4, value=None, withheld=True)
    assert result.display() == WITHHELD_TEXT == "not enough responses"


def test_the_mean_uses_the_callers_format() -> None:
    scores = [2, 3, 3]  # 8 / 3 = 2.666…

    result = mean_score(scores, minimum=3)

    assert result.display(lambda value: f"{value:.2f} / 5") == "2.67 / 5"


def test_no_answers_at_all_reads_no_responses_yet_without_dividing_by_zero() -> None:
    scores: list[int] = []

    result = mean_score(scores, minimum=5)

    assert result == Aggregate(respondents=0, value=None, withheld=False)
    assert result.display() == NO_RESPONSES_TEXT == "no responses yet"


def test_a_score_off_the_scale_is_a_programming_error() -> None:
    scores = [4, 4, 4, 4, 0]

    with pytest.raises(ValueError, match="not on the scale"):
        mean_score(scores, minimum=5)


def test_a_withheld_figure_cannot_be_built_with_its_value() -> None:
    respondents = 2

    with pytest.raises(ValueError, match="withheld"):
        Aggregate(respondents=respondents, value=4.5, withheld=True)


@pytest.mark.parametrize(("respondents", "expected"), [(0, False), (4, False), (5, True)])
def test_counts_are_shown_only_from_the_minimum(respondents: int, expected: bool) -> None:
    count = respondents

    allowed = counts_can_be_shown(count, minimum=5)

    assert allowed is expected


def test_a_distribution_at_the_minimum_shows_every_count_even_a_single_answer() -> None:
    scores = [1, 4, 4, 5, 5]

    counts = distribution(scores, minimum=5)

    assert counts == {1: 1, 2: 0, 3: 0, 4: 2, 5: 2}


def test_a_distribution_below_the_minimum_is_withheld_entirely() -> None:
    scores = [1, 4, 4, 5]

    counts = distribution(scores, minimum=5)

    assert counts is None


def test_an_empty_distribution_is_withheld() -> None:
    scores: list[int] = []

    counts = distribution(scores, minimum=3)

    assert counts is None


def test_response_rate_is_answered_over_reached() -> None:
    answered, reached = 3, 12

    rate = response_rate(answered, reached)

    assert rate == pytest.approx(0.25)


def test_response_rate_with_nobody_reached_is_none() -> None:
    answered, reached = 0, 0

    rate = response_rate(answered, reached)

    assert rate is None


def test_response_rate_refuses_more_answers_than_people_reached() -> None:
    answered, reached = 5, 4

    with pytest.raises(ValueError, match="more answers"):
        response_rate(answered, reached)


# --- breakdowns ------------------------------------------------------------------------------


def test_breakdown_with_one_small_group_also_withholds_a_second_group() -> None:
    groups = {"emea": [5, 4, 4, 3, 5], "amer": [2, 3, 3, 4, 3], "apac": [1, 2]}

    cells = breakdown(groups, minimum=5)

    # apac (2) is below 5; total 12 − shown would reveal it, so the next smallest goes too:
    # amer and emea tie at 5, and "amer" < "emea" by key. Withheld union 2 + 5 = 7 ≥ 5.
    assert cells == [
        Cell(key="amer", respondents=5, value=None, withheld=True),
        Cell(key="apac", respondents=2, value=None, withheld=True),
        Cell(key="emea", respondents=5, value=21 / 5, withheld=False),
    ]
    assert subtraction_leaks(cells, groups, minimum=5) == []


def test_breakdown_of_three_small_groups_withholds_only_them_when_together_they_suffice() -> None:
    groups = groups_of_sizes([2, 2, 2, 10])

    cells = breakdown(groups, minimum=5)

    # 2 + 2 + 2 = 6 ≥ 5 withheld together, so the group of 10 stays visible.
    assert withheld_keys(cells) == {"g0", "g1", "g2"}
    assert [cell.display() for cell in cells] == [WITHHELD_TEXT] * 3 + ["4.0"]
    assert subtraction_leaks(cells, groups, minimum=5) == []


def test_breakdown_of_groups_all_at_or_above_the_minimum_withholds_nothing() -> None:
    groups = {"east": [5, 5, 4, 4, 3, 3], "west": [1, 2, 3, 4, 5, 5]}

    cells = breakdown(groups, minimum=5)

    # east 24 / 6 = 4.0; west 20 / 6 = 3.333…
    assert cells == [
        Cell(key="east", respondents=6, value=24 / 6, withheld=False),
        Cell(key="west", respondents=6, value=20 / 6, withheld=False),
    ]


def test_breakdown_keeps_withholding_until_the_withheld_groups_reach_the_minimum() -> None:
    groups = groups_of_sizes([1, 1, 6, 7, 9])

    cells = breakdown(groups, minimum=5)

    # 1 + 1 = 2 < 5, so the smallest shown group (6) joins: 8 ≥ 5.
    assert withheld_keys(cells) == {"g0", "g1", "g2"}
    assert subtraction_leaks(cells, groups, minimum=5) == []


def test_a_group_nobody_in_answered_is_withheld_and_protected() -> None:
    groups = groups_of_sizes([0, 8, 9])

    cells = breakdown(groups, minimum=5)

    # Showing "g0: 0" (or leaving it derivable as 17 − 8 − 9) names its members as
    # non-responders, so g0 is withheld and the smallest other group with it.
    assert withheld_keys(cells) == {"g0", "g1"}


def test_breakdown_when_everything_is_small_withholds_everything() -> None:
    groups = groups_of_sizes([2, 3])

    cells = breakdown(groups, minimum=5)

    assert withheld_keys(cells) == {"g0", "g1"}


def test_breakdown_without_a_total_only_withholds_the_small_groups() -> None:
    groups = groups_of_sizes([5, 5, 2])

    cells = breakdown(groups, minimum=5, total_shown=False)

    assert withheld_keys(cells) == {"g2"}


def test_breakdown_cells_are_ordered_by_key() -> None:
    groups = {"zeta": [4] * 5, "alpha": [3] * 5, "mid": [2] * 5}

    cells = breakdown(groups, minimum=5)

    assert [cell.key for cell in cells] == ["alpha", "mid", "zeta"]


def test_the_leak_checker_catches_primary_suppression_alone() -> None:
    groups = groups_of_sizes([5, 5, 2])
    naive = [
        Cell(key="g0", respondents=5, value=4.0, withheld=False),
        Cell(key="g1", respondents=5, value=4.0, withheld=False),
        Cell(key="g2", respondents=2, value=None, withheld=True),
    ]

    leaks = subtraction_leaks(naive, groups, minimum=5)

    # total 12 − 5 − 5 = 2 respondents with score sum 48 − 40 = 8: the hidden group's answers.
    assert leaks == [
        "g2: 2 respondents, score sum 8, derivable as total minus shown",
        "withheld cells together have only 2 respondents",
    ]


@pytest.mark.parametrize(
    "sizes",
    [[5, 5, 2], [2, 2, 2, 10], [6, 6], [4, 100], [1, 1, 1, 1, 1, 20], [3, 5, 5, 5], [0, 0, 5]],
)
def test_no_withheld_cell_can_be_derived_by_subtraction(sizes: list[int]) -> None:
    groups = groups_of_sizes(sizes)

    cells = breakdown(groups, minimum=5)

    assert subtraction_leaks(cells, groups, minimum=5) == []


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=7),
    minimum=st.integers(min_value=3, max_value=7),
)
def test_breakdown_never_shows_a_small_cell_nor_leaves_a_derivable_one(
    sizes: list[int], minimum: int
) -> None:
    groups = {
        f"g{index}": [1 + (index + n) % 5 for n in range(size)] for index, size in enumerate(sizes)
    }

    cells = breakdown(groups, minimum=minimum)

    shown = [cell for cell in cells if not cell.withheld]
    hidden = [cell for cell in cells if cell.withheld]
    assert all(cell.respondents >= minimum for cell in shown)
    assert all(cell.value is None for cell in hidden)
    assert (
        not hidden
        or len(hidden) == len(cells)
        or (len(hidden) >= 2 and sum(cell.respondents for cell in hidden) >= minimum)
    )
    assert subtraction_leaks(cells, groups, minimum=minimum) == []


# --- trend -----------------------------------------------------------------------------------


def test_each_week_of_the_trend_is_judged_on_its_own() -> None:
    weekly = [
        ("2024-W01", [5, 5, 4, 4, 2]),  # 20 / 5 = 4.0
        ("2024-W02", [3, 3, 4]),  # only 3 < 5
        ("2024-W03", []),
        ("2024-W04", [1, 2, 3, 4, 5, 5]),  # 20 / 6 = 3.333…
    ]

    points = trend(weekly, minimum=5)

    assert [(label, aggregate.display()) for label, aggregate in points] == [
        ("2024-W01", "4.0"),
        ("2024-W02", WITHHELD_TEXT),
        ("2024-W03", NO_RESPONSES_TEXT),
        ("2024-W04", "3.3"),
    ]


# --- comments --------------------------------------------------------------------------------


def test_comments_come_out_in_the_same_order_whatever_order_they_were_submitted_in() -> None:
    submitted = ["more ROI material please", "  Battlecards were great ", "", "   ", "ok"]
    reversed_submission = list(reversed(submitted))

    first = safe_comments(submitted, respondents=5, minimum=5)
    second = safe_comments(reversed_submission, respondents=5, minimum=5)

    assert first == second == ["Battlecards were great", "more ROI material please", "ok"]


def test_shuffled_comments_are_still_independent_of_submission_order() -> None:
    submitted = ["alpha", "Bravo", "charlie", "delta", "Echo", "foxtrot"]
    reversed_submission = list(reversed(submitted))

    first = safe_comments(submitted, respondents=6, minimum=5, shuffle_seed=7)
    second = safe_comments(reversed_submission, respondents=6, minimum=5, shuffle_seed=7)

    assert first == second
    assert sorted(first) == sorted(submitted)


def test_comments_are_withheld_below_the_minimum() -> None:
    submitted = ["the new deck helped", "need objection handling"]

    shown = safe_comments(submitted, respondents=4, minimum=5)

    assert shown == []


# --- the gate: figures over several weeks ------------------------------------------------------


def test_a_figure_over_several_weeks_is_made_of_the_shown_weeks_only() -> None:
    weeks = [
        ("W45", [("a", 5), ("b", 4), ("c", 4), ("d", 3), ("e", 4)]),  # 20 / 5 = 4.0
        ("W46", [("a", 1), ("b", 1)]),  # 2 < 5: withheld
        ("W47", [("a", 3), ("b", 3), ("c", 4), ("d", 4), ("e", 2), ("f", 2)]),  # 18 / 6 = 3.0
    ]

    gated = gate_scores(weeks, minimum=5)

    # (20 + 18) / 11, not (20 + 2 + 18) / 13: that would give W46's 1 + 1 by subtraction.
    assert gated.mean == Aggregate(respondents=11, value=38 / 11, withheld=False, withheld_weeks=1)
    assert [(key, mean.display()) for key, mean in gated.trend] == [
        ("W45", "4.0"),
        ("W46", WITHHELD_TEXT),
        ("W47", "3.0"),
    ]
    assert withheld_weeks_note(gated.mean.withheld_weeks, minimum=5) == (
        "1 week withheld (fewer than 5 respondents)"
    )


def test_a_figure_over_weeks_that_are_all_withheld_is_withheld_itself() -> None:
    weeks = [("W45", [("a", 5), ("b", 4)]), ("W46", []), ("W47", [("a", 1)])]

    gated = gate_scores(weeks, minimum=3)

    assert gated.mean == Aggregate(respondents=0, value=None, withheld=True, withheld_weeks=2)
    assert withheld_weeks_note(2, minimum=3) == "2 weeks withheld (fewer than 3 respondents)"
    assert withheld_weeks_note(0, minimum=3) is None


def test_the_minimum_counts_distinct_people_not_answers() -> None:
    # Six answers, but from three people: below a minimum of five.
    pairs = [("a", 5), ("a", 4), ("b", 4), ("b", 3), ("c", 4), ("c", 5)]

    gated = gate_scores([("W45", pairs)], minimum=5)

    assert gated.weeks[0].mean == Aggregate(respondents=3, value=None, withheld=True)
    assert gated.mean.value is None


def test_help_tallies_and_comments_over_several_weeks_leave_withheld_weeks_out() -> None:
    shown = WeekAnswers.of(
        "W45",
        [
            Answer(person, score=4, help_with=wish, comment=note)
            for person, wish, note in [
                ("a", "roi", "More ROI decks"),
                ("b", "roi", None),
                ("c", "competitive", None),
                ("d", "competitive", "  "),
                ("e", "case_studies", None),
            ]
        ],
    )
    thin = WeekAnswers.of(
        "W46", [Answer("a", help_with="objections", comment="It was me, Bob"), Answer("b", 2)]
    )

    gated = gate([shown, thin], minimum=5)

    assert gated.help_most == [("competitive", 2), ("roi", 2), ("case_studies", 1)]
    assert gated.help_withheld_weeks == 1
    assert gated.comments == ["More ROI decks"]
    assert gated.comments_withheld_weeks == 1
    assert (gated.weeks[1].help_most, gated.weeks[1].comments) == (None, [])


def test_a_week_below_the_minimum_is_withheld_whole_even_where_nobody_gave_a_score() -> None:
    # Two people wrote a comment and gave no score: "no responses yet" would say so.
    words_only = WeekAnswers.of("W46", [Answer("a", comment="slow"), Answer("b", comment="ok")])

    gated = gate([words_only], minimum=5)

    week = gated.weeks[0]
    assert week.mean == Aggregate(respondents=0, value=None, withheld=True)
    assert week.mean.display() == WITHHELD_TEXT
    assert (week.shown, week.help_withheld) == (False, True)
    assert gated.mean.withheld_weeks == 1


def test_a_tally_that_does_not_add_up_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="more scorers"):
        WeekAnswers("W45", respondents=2, scorers=3, scores={4: 3})
    with pytest.raises(ValueError, match="people for"):
        WeekAnswers("W45", respondents=5, scorers=5, scores={4: 2})
