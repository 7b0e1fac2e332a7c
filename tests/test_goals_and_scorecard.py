"""Quarterly goals (paired volume and rate goals) and the bonus scorecard (PRODUCT.md §4).

Every expected scorecard number is worked out by hand; the comments show the arithmetic.
Money is in cents and rates are fractions, as bot.kpis.catalogue defines them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlmodel import func, select

from bot.calendar.windows import quarter_of
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import Function, Goal
from bot.kpis.catalogue import METRICS, Unit, format_value
from bot.kpis.goals import (
    FIELD_PAIRED_TARGET,
    delete_goal,
    format_quarter,
    goals_for,
    parse_quarter,
    parse_target,
    quarter_bounds,
    set_goal,
    targets_of,
)
from bot.kpis.scorecard import (
    DEFAULT_CAP,
    DEFAULT_WEIGHTS,
    NOTE_NO_DATA,
    NOTE_NO_GOAL,
    NOTE_WITHHELD,
    Weighting,
    compute_scorecard,
    describe_line,
    format_attainment,
    format_weights,
    parse_cap,
    parse_weights,
)
from tests.support.workspace import ADMIN, TEAM_ID

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
Q4 = "2026-Q4"
MILLION = 1_000_000 * 100  # cents

# --------------------------------------------------------------------------------------
# Quarters
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "2026-Q4"),
        ("", "2026-Q4"),
        ("this", "2026-Q4"),
        ("last", "2026-Q3"),
        ("previous", "2026-Q3"),
        ("next", "2027-Q1"),
        ("q4", "2026-Q4"),
        ("Q1", "2026-Q1"),
        ("Q4 2026", "2026-Q4"),
        ("q3-2025", "2025-Q3"),
        ("2026-Q4", "2026-Q4"),
        ("2026q4", "2026-Q4"),
        ("2026 Q2", "2026-Q2"),
        ("  Q4   2026 ", "2026-Q4"),
    ],
)
def test_quarters_are_read_in_the_forms_people_type(text: str | None, expected: str) -> None:
    assert parse_quarter(text, today=TODAY) == expected


def test_last_quarter_in_january_is_the_previous_years_q4() -> None:
    january = date(2027, 1, 15)

    assert parse_quarter("last", today=january) == "2026-Q4"
    assert parse_quarter("this", today=january) == "2027-Q1"


@pytest.mark.parametrize("text", ["Q5", "2026-Q0", "fourth", "Q4 26", "1999-Q4", "q4 2026 extra"])
def test_an_unreadable_quarter_is_refused_with_the_forms_expected(text: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_quarter(text, today=TODAY, field="quarter")

    assert "Q4 2026" in raised.value.message
    assert "2026-Q4" in raised.value.message
    assert raised.value.field == "quarter"


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 1, 1), "2026-Q1"),
        (date(2026, 3, 31), "2026-Q1"),
        (date(2026, 4, 1), "2026-Q2"),
        (date(2026, 9, 30), "2026-Q3"),
        (date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_a_day_belongs_to_its_calendar_quarter(day: date, quarter: str) -> None:
    assert quarter_of(day) == quarter


def test_quarter_bounds_are_its_first_and_last_day() -> None:
    assert quarter_bounds("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_bounds("2028-Q1") == (date(2028, 1, 1), date(2028, 3, 31))
    assert quarter_bounds("2026-Q2") == (date(2026, 4, 1), date(2026, 6, 30))
    assert format_quarter("2026-Q4") == "Q4 2026"


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "text", "expected"),
    [
        ("sourced_pipeline", "$2m", 2 * MILLION),
        ("sourced_pipeline", "$250k", 250_000 * 100),
        ("sourced_pipeline", "2000000", 2 * MILLION),
        ("lead_to_opportunity_rate", "25%", 0.25),
        ("lead_to_opportunity_rate", "25", 0.25),
        ("lead_to_opportunity_rate", "12.5%", 0.125),
        ("lead_to_opportunity_rate", "0.25", 0.25),
        ("lead_to_opportunity_rate", "0.5%", 0.005),
        ("campaign_effectiveness", "10%", 0.10),
        ("quota_attainment", "110%", 1.10),
        ("enablement_satisfaction", "4.2", 4.2),
        ("enablement_satisfaction", "4.2 / 5", 4.2),
        ("pipeline_coverage", "3x", 3.0),
        ("pipeline_coverage", "2.5", 2.5),
        ("qualified_leads", "1,200", 1200.0),
        ("requests_delivered", "120", 120.0),
    ],
)
def test_targets_are_read_in_each_metrics_unit(metric: str, text: str, expected: float) -> None:
    assert parse_target(metric, text, field="target") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("metric", "text"),
    [
        ("sourced_pipeline", "0"),
        ("sourced_pipeline", "$0"),
        ("lead_to_opportunity_rate", "0%"),
        ("enablement_satisfaction", "0"),
        ("pipeline_coverage", "0x"),
        ("qualified_leads", "0"),
    ],
)
def test_a_zero_goal_is_refused_because_nothing_can_be_measured_against_it(
    metric: str, text: str
) -> None:
    with pytest.raises(UserError) as raised:
        parse_target(metric, text, field="target")

    assert "A goal of 0 can't be measured against" in raised.value.message
    assert raised.value.field == "target"


@pytest.mark.parametrize(
    ("metric", "text"),
    [
        ("sourced_pipeline", "-$2m"),
        ("sourced_pipeline", "lots"),
        ("lead_to_opportunity_rate", "-10%"),
        ("lead_to_opportunity_rate", "ten"),
        ("lead_to_opportunity_rate", "150%"),
        ("enablement_satisfaction", "-4"),
        ("enablement_satisfaction", "6"),
        ("enablement_satisfaction", "0.5"),
        ("pipeline_coverage", "-3x"),
        ("pipeline_coverage", "1e3"),
        ("qualified_leads", "12.5"),
        ("qualified_leads", "nan"),
        ("requests_delivered", ""),
    ],
)
def test_a_negative_or_unreadable_target_is_refused_on_its_field(metric: str, text: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_target(metric, text, field="paired_target")

    assert raised.value.field == "paired_target"


def test_a_negative_goal_says_it_cannot_be_negative() -> None:
    with pytest.raises(UserError, match="can't be negative"):
        parse_target("lead_to_opportunity_rate", "-10%", field="target")


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        ("sourced_pipeline", 2 * MILLION, "$2,000,000"),
        ("lead_to_opportunity_rate", 0.25, "25%"),
        ("lead_to_opportunity_rate", 0.125, "12.5%"),
        ("enablement_satisfaction", 4.2, "4.2 / 5"),
        ("pipeline_coverage", 2.5, "2.5x"),
        ("pipeline_coverage", 3.0, "3x"),
        ("requests_delivered", 120.0, "120"),
        ("qualified_leads", 1200.0, "1,200"),
        ("sourced_pipeline", None, "—"),
    ],
)
def test_values_are_shown_in_their_unit(metric: str, value: float | None, shown: str) -> None:
    assert format_value(metric, value) == shown


def test_every_volume_metric_is_paired_with_a_rate_of_its_own_function() -> None:
    for metric in METRICS.values():
        if metric.volume:
            assert metric.paired is not None
            paired = METRICS[metric.paired]
            assert paired.unit is Unit.PERCENT
            assert not paired.volume
            assert paired.function == metric.function
        else:
            assert metric.paired is None


# --------------------------------------------------------------------------------------
# Storing goals
# --------------------------------------------------------------------------------------


async def count_goals(deps: Deps) -> int:
    async with deps.sessions() as session:
        return (await session.exec(select(func.count()).select_from(Goal))).one()


async def test_a_volume_goal_without_its_conversion_goal_is_refused_and_says_why(
    deps: Deps,
) -> None:
    async with deps.sessions() as session:
        with pytest.raises(UserError) as raised:
            await set_goal(
                session,
                team_id=TEAM_ID,
                quarter=Q4,
                metric="sourced_pipeline",
                target=2 * MILLION,
                paired_target=None,
                set_by=ADMIN,
                now=NOW,
            )

    assert raised.value.field == FIELD_PAIRED_TARGET
    assert "invites gaming" in raised.value.message
    assert "loosening lead scoring" in raised.value.message
    assert "Lead-to-opportunity conversion" in raised.value.message
    assert await count_goals(deps) == 0


async def test_a_volume_goal_is_stored_with_its_rate_goal_which_gets_its_own_row(
    deps: Deps,
) -> None:
    async with deps.sessions() as session:
        saved = await set_goal(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            metric="sourced_pipeline",
            target=2 * MILLION,
            paired_target=0.10,
            set_by=ADMIN,
            now=NOW,
        )
        goals = await goals_for(session, team_id=TEAM_ID, quarter=Q4)

    assert (saved.metric, saved.function, saved.target) == (
        "sourced_pipeline",
        Function.DEMAND_GEN,
        2 * MILLION,
    )
    assert (saved.paired_metric, saved.paired_target) == ("lead_to_opportunity_rate", 0.10)
    assert set(goals) == {"sourced_pipeline", "lead_to_opportunity_rate"}
    rate = goals["lead_to_opportunity_rate"]
    assert (rate.target, rate.paired_metric, rate.set_by) == (0.10, None, ADMIN)
    assert targets_of(goals) == {"sourced_pipeline": 2 * MILLION, "lead_to_opportunity_rate": 0.10}


async def test_saving_a_goal_again_updates_it_without_a_duplicate_row(deps: Deps) -> None:
    async with deps.sessions() as session:
        for target, rate in [(2 * MILLION, 0.10), (3 * MILLION, 0.12)]:
            await set_goal(
                session,
                team_id=TEAM_ID,
                quarter=Q4,
                metric="sourced_pipeline",
                target=target,
                paired_target=rate,
                set_by=ADMIN,
                now=NOW,
            )
        goals = await goals_for(session, team_id=TEAM_ID, quarter=Q4)

    assert await count_goals(deps) == 2
    assert goals["sourced_pipeline"].target == 3 * MILLION
    assert goals["sourced_pipeline"].paired_target == 0.12
    assert goals["lead_to_opportunity_rate"].target == 0.12


async def test_one_conversion_goal_per_quarter_is_shared_by_every_volume_goal(deps: Deps) -> None:
    async with deps.sessions() as session:
        await set_goal(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            metric="sourced_pipeline",
            target=2 * MILLION,
            paired_target=0.10,
            set_by=ADMIN,
            now=NOW,
        )
        await set_goal(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            metric="qualified_leads",
            target=400,
            paired_target=0.12,
            set_by=ADMIN,
            now=NOW,
        )
        await set_goal(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            metric="campaign_effectiveness",  # an alias: stored on the conversion rate
            target=0.15,
            paired_target=None,
            set_by=ADMIN,
            now=NOW,
        )
        goals = await goals_for(session, team_id=TEAM_ID, quarter=Q4)

    assert set(goals) == {"sourced_pipeline", "qualified_leads", "lead_to_opportunity_rate"}
    assert goals["lead_to_opportunity_rate"].target == 0.15
    assert goals["sourced_pipeline"].paired_target == 0.15
    assert goals["qualified_leads"].paired_target == 0.15


async def test_goals_are_kept_apart_by_workspace_and_quarter(deps: Deps) -> None:
    async with deps.sessions() as session:
        await set_goal(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            metric="enablement_satisfaction",
            target=4.2,
            paired_target=None,
            set_by=ADMIN,
            now=NOW,
        )
        other_team = await goals_for(session, team_id="T0OTHER", quarter=Q4)
        other_quarter = await goals_for(session, team_id=TEAM_ID, quarter="2026-Q3")
        this_one = await goals_for(session, team_id=TEAM_ID, quarter=Q4)

    assert other_team == {}
    assert other_quarter == {}
    assert this_one["enablement_satisfaction"].function == Function.SUPPORT


async def test_a_rate_goal_cannot_be_removed_while_a_volume_goal_depends_on_it(
    deps: Deps,
) -> None:
    async with deps.sessions() as session:
        await set_goal(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            metric="requests_delivered",
            target=120,
            paired_target=0.9,
            set_by=ADMIN,
            now=NOW,
        )
        with pytest.raises(UserError, match="Remove those volume goals first"):
            await delete_goal(session, team_id=TEAM_ID, quarter=Q4, metric="on_time_delivery_rate")
        removed_volume = await delete_goal(
            session, team_id=TEAM_ID, quarter=Q4, metric="requests_delivered"
        )
        removed_rate = await delete_goal(
            session, team_id=TEAM_ID, quarter=Q4, metric="on_time_delivery_rate"
        )
        removed_again = await delete_goal(
            session, team_id=TEAM_ID, quarter=Q4, metric="on_time_delivery_rate"
        )

    assert (removed_volume, removed_rate, removed_again) == (True, True, False)
    assert await count_goals(deps) == 0


async def test_a_goal_set_directly_is_checked_like_a_typed_one(deps: Deps) -> None:
    async with deps.sessions() as session:
        with pytest.raises(UserError) as zero:
            await set_goal(
                session,
                team_id=TEAM_ID,
                quarter=Q4,
                metric="sourced_pipeline",
                target=0,
                paired_target=0.1,
                set_by=ADMIN,
                now=NOW,
            )
        with pytest.raises(UserError) as rate_above_100:
            await set_goal(
                session,
                team_id=TEAM_ID,
                quarter=Q4,
                metric="sourced_pipeline",
                target=MILLION,
                paired_target=1.5,
                set_by=ADMIN,
                now=NOW,
            )

    assert zero.value.field == "target"
    assert rate_above_100.value.field == FIELD_PAIRED_TARGET
    assert await count_goals(deps) == 0


async def test_two_people_saving_the_same_goal_at_once_leave_one_row(deps: Deps) -> None:
    async def save(target: float, rate: float) -> Goal:
        async with deps.sessions() as session:
            return await set_goal(
                session,
                team_id=TEAM_ID,
                quarter=Q4,
                metric="sourced_pipeline",
                target=target,
                paired_target=rate,
                set_by=ADMIN,
                now=NOW,
            )

    first, second = await asyncio.gather(save(2 * MILLION, 0.10), save(3 * MILLION, 0.12))

    async with deps.sessions() as session:
        goals = await goals_for(session, team_id=TEAM_ID, quarter=Q4)
    assert {first.target, second.target} == {2 * MILLION, 3 * MILLION}
    assert await count_goals(deps) == 2
    stored = goals["sourced_pipeline"]
    # Whichever save came last wins, volume and rate together.
    assert (stored.target, stored.paired_target) in {(2 * MILLION, 0.10), (3 * MILLION, 0.12)}
    assert goals["lead_to_opportunity_rate"].target == stored.paired_target


# --------------------------------------------------------------------------------------
# Scorecard arithmetic
# --------------------------------------------------------------------------------------


def test_demand_gen_attainment_weighs_pipeline_75_and_campaign_effectiveness_25() -> None:
    card = compute_scorecard(
        Function.DEMAND_GEN,
        Q4,
        actuals={"sourced_pipeline": 1.5 * MILLION, "lead_to_opportunity_rate": 0.12},
        targets={"sourced_pipeline": 2 * MILLION, "lead_to_opportunity_rate": 0.10},
        weights=DEFAULT_WEIGHTS[Function.DEMAND_GEN],
    )

    pipeline, campaigns = card.lines
    # $1.5m / $2m = 75%; × 0.75 = 56.25%
    assert pipeline.attainment == pytest.approx(0.75)
    assert pipeline.contribution == pytest.approx(0.5625)
    # campaign effectiveness is conversion against its goal: 12% / 10% = 120%; × 0.25 = 30%
    assert (campaigns.actual, campaigns.target) == (0.12, 0.10)
    assert campaigns.attainment == pytest.approx(1.2)
    assert campaigns.contribution == pytest.approx(0.30)
    # 56.25% + 30% = 86.25%
    assert card.total == pytest.approx(0.8625)
    assert card.complete
    assert format_attainment(card.total) == "86.25%"
    assert describe_line(pipeline, cap=card.cap) == (
        "Marketing-sourced pipeline (75%): $1,500,000 of $2,000,000 = 75% → 56.25%"
    )


def test_a_runaway_metric_is_capped() -> None:
    card = compute_scorecard(
        Function.SUPPORT,
        Q4,
        actuals={"quota_attainment": 2.5, "enablement_satisfaction": 4.0},
        targets={"quota_attainment": 1.0, "enablement_satisfaction": 4.0},
        weights=DEFAULT_WEIGHTS[Function.SUPPORT],
    )

    quota, satisfaction = card.lines
    # 250% / 100% = 250%, capped at 150%; × 0.75 = 112.5%
    assert quota.attainment == pytest.approx(2.5)
    assert quota.capped == pytest.approx(DEFAULT_CAP)
    assert quota.contribution == pytest.approx(1.125)
    # 4.0 / 4.0 = 100%; × 0.25 = 25%  → total 137.5%
    assert satisfaction.contribution == pytest.approx(0.25)
    assert card.total == pytest.approx(1.375)
    assert "capped at 150%" in describe_line(quota, cap=card.cap)


def test_a_missing_goal_leaves_a_partial_total_with_its_reason() -> None:
    card = compute_scorecard(
        Function.DEMAND_GEN,
        Q4,
        actuals={"sourced_pipeline": 1.5 * MILLION, "lead_to_opportunity_rate": 0.12},
        targets={"sourced_pipeline": 2 * MILLION},
        weights=DEFAULT_WEIGHTS[Function.DEMAND_GEN],
    )

    pipeline, campaigns = card.lines
    assert pipeline.note is None
    assert campaigns.note == NOTE_NO_GOAL
    assert campaigns.actual == 0.12  # still shown: only the goal is missing
    assert campaigns.attainment is None
    assert campaigns.contribution is None
    # only the pipeline line counts: 75% × 0.75 = 56.25%
    assert card.total == pytest.approx(0.5625)
    assert not card.complete
    assert card.covered_weight == pytest.approx(0.75)


def test_withheld_satisfaction_is_neither_shown_nor_scored() -> None:
    card = compute_scorecard(
        Function.SUPPORT,
        Q4,
        actuals={"quota_attainment": 0.9, "enablement_satisfaction": 4.6},
        targets={"quota_attainment": 1.0, "enablement_satisfaction": 4.0},
        weights=DEFAULT_WEIGHTS[Function.SUPPORT],
        withheld={"enablement_satisfaction"},
    )

    quota, satisfaction = card.lines
    assert satisfaction.note == NOTE_WITHHELD
    assert (satisfaction.actual, satisfaction.attainment) == (None, None)
    # 90% / 100% × 0.75 = 67.5%
    assert quota.contribution == pytest.approx(0.675)
    assert card.total == pytest.approx(0.675)
    assert not card.complete
    assert "4.6" not in describe_line(satisfaction, cap=card.cap)


def test_a_quarter_without_data_or_goals_has_no_total() -> None:
    card = compute_scorecard(
        Function.SUPPORT,
        Q4,
        actuals={"quota_attainment": None},
        targets={"quota_attainment": 1.0},
        weights=DEFAULT_WEIGHTS[Function.SUPPORT],
    )

    assert [line.note for line in card.lines] == [NOTE_NO_DATA, NOTE_NO_GOAL]
    assert card.total is None
    assert not card.complete
    assert format_attainment(card.total) == "—"


def test_custom_weights_and_cap_change_the_arithmetic() -> None:
    weights = parse_weights("sourced_pipeline=50, influenced_pipeline=50", Function.DEMAND_GEN)

    card = compute_scorecard(
        Function.DEMAND_GEN,
        Q4,
        actuals={"sourced_pipeline": 4 * MILLION, "influenced_pipeline": 1 * MILLION},
        targets={"sourced_pipeline": 2 * MILLION, "influenced_pipeline": 4 * MILLION},
        weights=weights,
        cap=parse_cap("120%"),
    )

    assert weights == (
        Weighting("sourced_pipeline", 0.5),
        Weighting("influenced_pipeline", 0.5),
    )
    # sourced 200% capped at 120% × 0.5 = 60%; influenced 25% × 0.5 = 12.5% → 72.5%
    assert card.total == pytest.approx(0.725)


def test_weights_naming_another_functions_metric_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a Marketing Support metric"):
        compute_scorecard(
            Function.SUPPORT,
            Q4,
            actuals={},
            targets={},
            weights=DEFAULT_WEIGHTS[Function.DEMAND_GEN],
        )


# --------------------------------------------------------------------------------------
# Weights and cap
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sourced_pipeline=75, campaign_effectiveness=25",
        "sourced_pipeline=75%, campaign_effectiveness=25%",
        "sourced_pipeline: 0.75; campaign_effectiveness: 0.25",
        "Sourced-Pipeline = 75\ncampaign effectiveness = 25",
    ],
)
def test_weights_are_read_as_percents_or_fractions(text: str) -> None:
    assert parse_weights(text, Function.DEMAND_GEN) == DEFAULT_WEIGHTS[Function.DEMAND_GEN]


def test_written_weights_read_back_the_same() -> None:
    for function, weights in DEFAULT_WEIGHTS.items():
        assert parse_weights(format_weights(weights), function) == weights


def test_weights_not_adding_up_to_100_are_refused() -> None:
    with pytest.raises(UserError) as raised:
        parse_weights("sourced_pipeline=75, campaign_effectiveness=20", Function.DEMAND_GEN)

    assert "add up to 95%" in raised.value.message
    assert raised.value.field == "demandgen_weights"


def test_another_functions_metric_is_refused_in_weights() -> None:
    with pytest.raises(UserError) as raised:
        parse_weights("quota_attainment=75, campaign_effectiveness=25", Function.DEMAND_GEN)

    assert "Marketing Support metric" in raised.value.message
    assert raised.value.field == "demandgen_weights"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "quota_attainment",
        "nonsense=100",
        "quota_attainment=100, enablement_satisfaction=0",
        "quota_attainment=50, quota_attainment=50",
        "quota_attainment=-25, enablement_satisfaction=125",
    ],
)
def test_unusable_weights_are_refused_on_the_functions_field(text: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_weights(text, Function.SUPPORT)

    assert raised.value.field == "support_weights"


def test_campaign_effectiveness_and_conversion_cannot_both_be_weighted() -> None:
    with pytest.raises(UserError, match="same number"):
        parse_weights("campaign_effectiveness=50, lead_to_opportunity_rate=50", Function.DEMAND_GEN)


@pytest.mark.parametrize(
    ("text", "cap"), [("150%", 1.5), ("1.5", 1.5), ("1.5x", 1.5), ("200", 2.0), ("100%", 1.0)]
)
def test_the_cap_is_read_as_a_percent_or_a_multiple(text: str, cap: float) -> None:
    assert parse_cap(text) == pytest.approx(cap)


@pytest.mark.parametrize("text", ["90%", "0.5", "350%", "50", "lots", ""])
def test_a_cap_outside_100_to_300_percent_is_refused(text: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_cap(text)

    assert raised.value.field == "cap"


async def test_concurrent_saves_of_two_volume_goals_agree_on_one_conversion_goal(
    deps: Deps,
) -> None:
    async def save(metric: str, target: float, rate: float) -> Goal:
        async with deps.sessions() as session:
            return await set_goal(
                session,
                team_id=TEAM_ID,
                quarter=Q4,
                metric=metric,
                target=target,
                paired_target=rate,
                set_by=ADMIN,
                now=NOW,
            )

    await asyncio.gather(
        save("sourced_pipeline", 2 * MILLION, 0.10),
        save("qualified_leads", 400, 0.12),
        save("influenced_pipeline", 5 * MILLION, 0.14),
    )

    async with deps.sessions() as session:
        goals = await goals_for(session, team_id=TEAM_ID, quarter=Q4)
    rate = goals["lead_to_opportunity_rate"].target
    assert rate in {0.10, 0.12, 0.14}
    assert {
        goals[metric].paired_target
        for metric in ("sourced_pipeline", "qualified_leads", "influenced_pipeline")
    } == {rate}


def test_text_typed_into_a_command_is_echoed_escaped() -> None:
    with pytest.raises(UserError) as raised:
        parse_quarter("<!channel>", today=TODAY)

    assert "`&lt;!channel&gt;`" in raised.value.message
    assert "<!channel>" not in raised.value.message
