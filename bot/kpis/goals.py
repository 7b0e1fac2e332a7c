"""Quarterly goals per marketing function, and the metric vocabulary the scorecard shares.

The playbook's rule lives here: a volume goal (pipeline, leads, delivered requests) is only
accepted together with its conversion-rate goal, because a volume number on its own is easy
to hit by lowering the bar (loosening lead scoring turns weak contacts into "leads").

Units, decided once so every module agrees:

* money targets are stored in **cents** (as a float in `Goal.target`), like the `*_cents`
  columns the metrics are computed from;
* percent targets are stored as **fractions** (25% is 0.25), so attainment is a plain
  division against a rate computed as `converted / total`;
* scores are on the 1–5 survey scale, ratios are multiples (3.0 for "3x"), counts are
  whole numbers.

`campaign_effectiveness` is an alias of `lead_to_opportunity_rate`: the playbook's
"campaign effectiveness" is measured as lead-to-opportunity conversion against its goal, so
there is one conversion goal per quarter, never two that could disagree. Setting a goal on
the alias stores it on the conversion rate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import parse_quarter_label, quarter_of
from bot.core.db import dialect_insert
from bot.core.errors import UserError
from bot.core.models import Function, Goal
from bot.core.text import escape_mrkdwn, format_money, parse_amount, truncate, unescape_slack

__all__ = [
    "FIELD_METRIC",
    "FIELD_PAIRED_TARGET",
    "FIELD_QUARTER",
    "FIELD_TARGET",
    "METRICS",
    "MetricDef",
    "Unit",
    "as_scored",
    "canonical_metric",
    "delete_goal",
    "format_quarter",
    "format_scored",
    "format_value",
    "goal_metrics",
    "goals_for",
    "metrics_of",
    "next_quarter",
    "parse_quarter",
    "parse_target",
    "previous_quarter",
    "quarter_bounds",
    "quarter_of",
    "quote_input",
    "set_goal",
    "targets_of",
]

# Modal block ids the UserErrors below name, so handlers can put the message on the field.
FIELD_METRIC: Final = "metric"
FIELD_TARGET: Final = "target"
FIELD_PAIRED_TARGET: Final = "paired_target"
FIELD_QUARTER: Final = "quarter"


class Unit(StrEnum):
    MONEY = "money"
    COUNT = "count"
    PERCENT = "percent"
    SCORE = "score"
    RATIO = "ratio"


@dataclass(frozen=True)
class MetricDef:
    """One measurable thing a goal can be set on and a scorecard can weigh."""

    key: str
    function: Function
    label: str
    unit: Unit
    # A volume metric: its goal must come with a paired conversion-rate goal.
    volume: bool
    # The rate metric a volume goal is paired with.
    paired: str | None
    # Largest sensible target (in stored units); above it is almost surely a typo.
    maximum: float | None = None
    # Goals and actuals of an alias are those of the metric it names (see module docstring).
    alias_of: str | None = None
    # What to type, for modal hints and error messages.
    example: str = ""


_CONVERSION = "lead_to_opportunity_rate"
_ON_TIME = "on_time_delivery_rate"
SCORE_MIN: Final = 1.0
SCORE_MAX: Final = 5.0
MAX_RATIO: Final = 20.0
MAX_COUNT: Final = 10_000_000.0

METRICS: dict[str, MetricDef] = {
    metric.key: metric
    for metric in (
        # Demand Gen
        MetricDef(
            "sourced_pipeline",
            Function.DEMAND_GEN,
            "Marketing-sourced pipeline",
            Unit.MONEY,
            volume=True,
            paired=_CONVERSION,
            example="$2m",
        ),
        MetricDef(
            "influenced_pipeline",
            Function.DEMAND_GEN,
            "Marketing-influenced pipeline",
            Unit.MONEY,
            volume=True,
            paired=_CONVERSION,
            example="$5m",
        ),
        MetricDef(
            "qualified_leads",
            Function.DEMAND_GEN,
            "Qualified leads",
            Unit.COUNT,
            volume=True,
            paired=_CONVERSION,
            maximum=MAX_COUNT,
            example="400",
        ),
        MetricDef(
            _CONVERSION,
            Function.DEMAND_GEN,
            "Lead-to-opportunity conversion",
            Unit.PERCENT,
            volume=False,
            paired=None,
            maximum=1.0,
            example="10%",
        ),
        MetricDef(
            "campaign_effectiveness",
            Function.DEMAND_GEN,
            "Campaign effectiveness",
            Unit.PERCENT,
            volume=False,
            paired=None,
            maximum=1.0,
            alias_of=_CONVERSION,
            example="10%",
        ),
        MetricDef(
            "pipeline_coverage",
            Function.DEMAND_GEN,
            "Pipeline coverage",
            Unit.RATIO,
            volume=False,
            paired=None,
            maximum=MAX_RATIO,
            example="3x",
        ),
        # Marketing Support
        MetricDef(
            "quota_attainment",
            Function.SUPPORT,
            "% of sales quota achieved",
            Unit.PERCENT,
            volume=False,
            paired=None,
            maximum=3.0,
            example="100%",
        ),
        MetricDef(
            "enablement_satisfaction",
            Function.SUPPORT,
            "Sales' satisfaction with enablement",
            Unit.SCORE,
            volume=False,
            paired=None,
            maximum=SCORE_MAX,
            example="4.2",
        ),
        MetricDef(
            "requests_delivered",
            Function.SUPPORT,
            "Requests delivered",
            Unit.COUNT,
            volume=True,
            paired=_ON_TIME,
            maximum=MAX_COUNT,
            example="120",
        ),
        MetricDef(
            _ON_TIME,
            Function.SUPPORT,
            "On-time delivery",
            Unit.PERCENT,
            volume=False,
            paired=None,
            maximum=1.0,
            example="90%",
        ),
    )
}


def quote_input(value: str, field: str | None, limit: int = 40) -> str:
    """Quote what someone typed inside an error message (the convention of bot.core.text).

    Modal errors (`field` set) are plain text, so curly quotes; command replies are mrkdwn,
    so an escaped code span, and `<!channel>` typed as a goal pings nobody when echoed.
    """
    shown = truncate(" ".join(unescape_slack(value).split()), limit)
    if field is not None:
        return f"\u201c{shown}\u201d"
    return "`" + escape_mrkdwn(shown.replace("`", "'")) + "`"


def canonical_metric(metric: str) -> str:
    """The metric a goal is stored under (an alias resolves to the metric it names)."""
    definition = METRICS[metric]
    return definition.alias_of or definition.key


def metrics_of(function: Function, *, include_aliases: bool = True) -> tuple[MetricDef, ...]:
    """A function's metrics in the order METRICS lists them (the order forms show them)."""
    return tuple(
        metric
        for metric in METRICS.values()
        if metric.function == function and (include_aliases or metric.alias_of is None)
    )


def goal_metrics(function: Function) -> tuple[MetricDef, ...]:
    """The metrics a goal can be stored on for a function (no aliases)."""
    return metrics_of(function, include_aliases=False)


def _metric(metric: str, *, field: str | None) -> MetricDef:
    definition = METRICS.get(metric)
    if definition is None:
        known = ", ".join(METRICS)
        raise UserError(
            f"{quote_input(metric, field)} is not a metric I track. Known metrics: {known}.", field
        )
    return definition


# --------------------------------------------------------------------------------------
# Quarters
# --------------------------------------------------------------------------------------

_QUARTER_EXAMPLES: Final = "Write a quarter like Q4, Q4 2026 or 2026-Q4, or say this, last or next."
_CANONICAL_QUARTER: Final = re.compile(r"(?P<year>[0-9]{4})-Q(?P<q>[1-4])", re.ASCII)
_YEAR_FIRST: Final = re.compile(r"(?P<year>[0-9]{4})\s*[-/ ]?\s*q(?P<q>[1-4])", re.ASCII)
_QUARTER_FIRST: Final = re.compile(r"q(?P<q>[1-4])(?:\s*[-/ ]?\s*(?P<year>[0-9]{4}))?", re.ASCII)
_THIS: Final = frozenset({"", "this", "current", "this quarter", "current quarter", "now"})
_LAST: Final = frozenset({"last", "previous", "prev", "last quarter", "previous quarter"})
_NEXT: Final = frozenset({"next", "next quarter"})
# Goals are for the business's own quarters; a year outside this is a typo (2062 for 2026).
MIN_YEAR: Final = 2000
MAX_YEAR: Final = 2099


def _split(quarter: str) -> tuple[int, int]:
    match = _CANONICAL_QUARTER.fullmatch(quarter)
    if match is None:
        raise UserError(
            f"{quote_input(quarter, FIELD_QUARTER)} is not a quarter. {_QUARTER_EXAMPLES}",
            FIELD_QUARTER,
        )
    return int(match.group("year")), int(match.group("q"))


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a stored quarter (`2026-Q4` → 1 Oct, 31 Dec 2026)."""
    _split(quarter)  # the goals' own wording for a malformed quarter
    first, after, _label = parse_quarter_label(quarter)
    return first, after - timedelta(days=1)


def previous_quarter(quarter: str) -> str:
    """`2026-Q1` → `2025-Q4`: the year turns over with the quarter."""
    year, number = _split(quarter)
    return f"{year - 1}-Q4" if number == 1 else f"{year}-Q{number - 1}"


def next_quarter(quarter: str) -> str:
    year, number = _split(quarter)
    return f"{year + 1}-Q1" if number == 4 else f"{year}-Q{number + 1}"


def format_quarter(quarter: str) -> str:
    """`2026-Q4` → `Q4 2026`, the way people say it."""
    year, number = _split(quarter)
    return f"Q{number} {year}"


def parse_quarter(text: str | None, *, today: date, field: str | None = None) -> str:
    """Read the quarter people type into the stored form `2026-Q4`.

    Empty or "this" is the current quarter, "last"/"previous" the one before (in January that
    is the previous year's Q4), "next" the one after. A bare "Q4" is that quarter of today's
    year: goals are set for the year in progress, not guessed forwards or backwards.
    """
    cleaned = " ".join((text or "").strip().lower().split())
    current = quarter_of(today)
    if cleaned in _THIS:
        return current
    if cleaned in _LAST:
        return previous_quarter(current)
    if cleaned in _NEXT:
        return next_quarter(current)
    match = _YEAR_FIRST.fullmatch(cleaned) or _QUARTER_FIRST.fullmatch(cleaned)
    if match is None:
        raise UserError(
            f"I couldn't read {quote_input(text or '', field)} as a quarter. {_QUARTER_EXAMPLES}",
            field,
        )
    year = int(match.group("year") or today.year)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise UserError(
            f"{quote_input(text or '', field)} is too far from today to be a goal quarter. "
            f"{_QUARTER_EXAMPLES}",
            field,
        )
    return f"{year}-Q{match.group('q')}"


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------

# Plain digits or correctly comma-grouped, an optional fraction; no exponent, inf or nan.
_NUMBER: Final = re.compile(
    r"(?P<sign>[-\u2212\u2013+])?\s*"
    r"(?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)",
    re.ASCII,
)
_PERCENT_SUFFIX: Final = re.compile(r"\s*(?:%|percent|pct)$", re.IGNORECASE)
_RATIO_SUFFIX: Final = re.compile(r"\s*(?:x|×|:1)$", re.IGNORECASE)
_SCORE_SUFFIX: Final = re.compile(r"\s*(?:/|out of)\s*5$", re.IGNORECASE)


def _number(text: str, definition: MetricDef, *, field: str) -> float:
    """A positive number, or a UserError saying what was wrong and what to write instead."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise UserError(
            f"I couldn't read {quote_input(text, field)} as a goal for {definition.label}. "
            f"Write it like {definition.example}.",
            field,
        )
    value = float(match.group("number").replace(",", ""))
    if match.group("sign") and match.group("sign") != "+" and value != 0:
        raise UserError(
            f"A goal can't be negative ({quote_input(text, field)} for {definition.label}).", field
        )
    return value


def _refuse_zero(value: float, definition: MetricDef, *, field: str) -> None:
    if value <= 0:
        raise UserError(
            "A goal of 0 can't be measured against: attainment is the actual divided by the "
            f"goal. Enter a goal above zero for {definition.label}, like {definition.example}.",
            field,
        )


def parse_target(metric: str, text: str, *, field: str) -> float:
    """Read a goal typed into a modal or the CLI, in the metric's stored unit.

    Percent: "25%" and "25" both mean 25% (stored 0.25). A bare number of at most 1 written
    with a decimal point ("0.25", "1.0") is read as a fraction, since nobody sets a 0.25%
    conversion goal by typing "0.25"; write "0.25%" for that. Money: "$2m", "$250k",
    "2000000", stored in cents. Score: 1–5 ("4.2" or "4.2/5"). Ratio: "3x" or "3".
    Count: a whole number ("1,200").
    """
    definition = _metric(metric, field=field)
    cleaned = text.strip()
    if not cleaned:
        raise UserError(f"Enter a goal for {definition.label}, like {definition.example}.", field)
    value: float
    if definition.unit is Unit.MONEY:
        value = float(parse_amount(cleaned, field=field))
        _refuse_zero(value, definition, field=field)
        return value
    if definition.unit is Unit.PERCENT:
        without = _PERCENT_SUFFIX.sub("", cleaned)
        number = _number(without, definition, field=field)
        _refuse_zero(number, definition, field=field)
        fraction = without == cleaned and "." in without and number <= 1
        value = number if fraction else number / 100
    elif definition.unit is Unit.SCORE:
        value = _number(_SCORE_SUFFIX.sub("", cleaned), definition, field=field)
        _refuse_zero(value, definition, field=field)
        if not SCORE_MIN <= value <= SCORE_MAX:
            raise UserError(
                f"{definition.label} is scored from 1 to 5, so its goal is between 1 and 5 "
                f"(like {definition.example}), not {quote_input(cleaned, field)}.",
                field,
            )
        return value
    elif definition.unit is Unit.RATIO:
        value = _number(_RATIO_SUFFIX.sub("", cleaned), definition, field=field)
        _refuse_zero(value, definition, field=field)
    else:
        value = _number(cleaned, definition, field=field)
        _refuse_zero(value, definition, field=field)
        if not value.is_integer():
            raise UserError(
                f"{definition.label} is counted in whole numbers, like {definition.example}, "
                f"not {quote_input(cleaned, field)}.",
                field,
            )
    if definition.maximum is not None and value > definition.maximum:
        raise UserError(
            f"{quote_input(cleaned, field)} is more than {definition.label} can sensibly be "
            f"(at most {format_value(metric, definition.maximum)}). Is there a typo?",
            field,
        )
    return value


# --------------------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------------------


def _trimmed(value: float, decimals: int) -> str:
    """`12.50` → `12.5`, `25.0` → `25`: no trailing zeros, thousands grouped."""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_value(metric: str, value: float | None) -> str:
    """A stored value the way a person reads it: `$2,000,000`, `25%`, `4.2 / 5`, `2.5x`, `120`.

    Unknown metrics fall back to a plain number so a renamed metric never breaks a digest.
    """
    if value is None:
        return "—"
    definition = METRICS.get(metric)
    unit = definition.unit if definition else None
    if unit is Unit.MONEY:
        return format_money(round(value))
    if unit is Unit.PERCENT:
        return f"{_trimmed(value * 100, 1)}%"
    if unit is Unit.SCORE:
        return f"{value:.1f} / 5"
    if unit is Unit.RATIO:
        return f"{_trimmed(value, 1)}x"
    if unit is Unit.COUNT:
        return f"{round(value):,}"
    return _trimmed(value, 2)


# Scorecard inputs are computed with exactly the precision they are shown with, so every line
# can be recomputed by hand from what it prints ("11.86% of 12% = 98.83%").
_SCORED_DECIMALS: Final = {
    Unit.MONEY: 0,  # cents
    Unit.COUNT: 0,
    Unit.PERCENT: 4,  # 0.01 percentage points
    Unit.SCORE: 2,
    Unit.RATIO: 2,
}


def as_scored(metric: str, value: float) -> float:
    """A scorecard input rounded to the precision scorecards show and compute with."""
    definition = METRICS.get(metric)
    decimals = _SCORED_DECIMALS[definition.unit] if definition else 4
    return round(value, decimals)


def format_scored(metric: str, value: float | None) -> str:
    """A scorecard input (`as_scored`) with all of its precision: `11.86%`, `3.69 / 5`,
    `2.35x`, `$1,231,000`; trailing zeros dropped, so a round goal still reads `12%`."""
    if value is None:
        return "—"
    definition = METRICS.get(metric)
    unit = definition.unit if definition else None
    scored = as_scored(metric, value)
    if unit is Unit.PERCENT:
        return f"{_trimmed(scored * 100, 2)}%"
    if unit is Unit.SCORE:
        return f"{_trimmed(scored, 2)} / 5"
    if unit is Unit.RATIO:
        return f"{_trimmed(scored, 2)}x"
    return format_value(metric, scored)


# --------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------


async def _upsert(
    session: AsyncSession,
    *,
    team_id: str,
    quarter: str,
    definition: MetricDef,
    target: float,
    paired_target: float | None,
    set_by: str | None,
    now: datetime,
) -> Goal:
    """Insert or update one goal row in one statement, so a concurrent save cannot collide.

    Returns the row as this statement left it (RETURNING), not as a later read would find
    it: a concurrent save committing in between must not change what this caller saved.
    """
    statement = dialect_insert(session)(Goal).values(
        team_id=team_id,
        quarter=quarter,
        function=definition.function.value,
        metric=definition.key,
        target=target,
        paired_metric=definition.paired,
        paired_target=paired_target,
        set_by=set_by,
        updated_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["team_id", "quarter", "function", "metric"],
        set_={
            "target": statement.excluded.target,
            "paired_metric": statement.excluded.paired_metric,
            "paired_target": statement.excluded.paired_target,
            "set_by": statement.excluded.set_by,
            "updated_at": statement.excluded.updated_at,
        },
    )
    rows = await session.scalars(
        statement.returning(Goal), execution_options={"populate_existing": True}
    )
    saved: Goal = rows.one()
    return saved


def _check_target(definition: MetricDef, value: float, *, field: str) -> None:
    """The same limits parse_target applies, for callers that pass numbers directly."""
    _refuse_zero(value, definition, field=field)
    if definition.maximum is not None and value > definition.maximum:
        raise UserError(
            f"A goal of {format_value(definition.key, value)} is more than "
            f"{definition.label} can be.",
            field,
        )
    if definition.unit is Unit.SCORE and value < SCORE_MIN:
        raise UserError(f"{definition.label} is scored from 1 to 5.", field)


# How a volume goal on its own gets gamed, in each function's terms.
_GAMING: Final = {
    Function.DEMAND_GEN: "e.g. loosening lead scoring",
    Function.SUPPORT: "e.g. splitting work into many small requests, delivered late",
}


async def set_goal(
    session: AsyncSession,
    *,
    team_id: str,
    quarter: str,
    metric: str,
    target: float,
    paired_target: float | None,
    set_by: str | None,
    now: datetime,
) -> Goal:
    """Save a goal for a quarter (replacing any earlier one) and commit.

    A volume goal must bring its conversion-rate goal: that rate is also saved as its own
    goal row, and every volume goal of the quarter paired with that rate is updated to the
    new rate goal, so the quarter has one conversion goal, not several that disagree.
    The rate row is written first in every save, so concurrent saves of one quarter's goals
    queue on that row instead of deadlocking. Returns the goal as this call saved it (the
    volume goal when it was one; its paired rate goal is in `goals_for`).
    """
    _split(quarter)
    definition = _metric(metric, field=FIELD_METRIC)
    if definition.alias_of is not None:
        definition = METRICS[definition.alias_of]
    _check_target(definition, target, field=FIELD_TARGET)
    rate = METRICS[definition.paired] if definition.paired else None
    if rate is None:
        if paired_target is not None:
            raise UserError(
                f"{definition.label} is not a volume goal, so it has no paired rate goal.",
                FIELD_PAIRED_TARGET,
            )
    elif paired_target is None:
        raise UserError(
            "A volume goal needs its conversion-rate goal too: a "
            f"{definition.label.lower()} target on its own invites gaming "
            f"({_GAMING[definition.function]}). Add a target for {rate.label}.",
            FIELD_PAIRED_TARGET,
        )
    else:
        _check_target(rate, paired_target, field=FIELD_PAIRED_TARGET)

    # The rate goal first (see docstring): either the paired goal, or this goal itself.
    rate_definition, rate_target = (
        (rate, paired_target)
        if rate is not None and paired_target is not None
        else (definition, target)
    )
    saved = await _upsert(
        session,
        team_id=team_id,
        quarter=quarter,
        definition=rate_definition,
        target=rate_target,
        paired_target=None,
        set_by=set_by,
        now=now,
    )
    if rate is not None:
        saved = await _upsert(
            session,
            team_id=team_id,
            quarter=quarter,
            definition=definition,
            target=target,
            paired_target=paired_target,
            set_by=set_by,
            now=now,
        )
    # Volume goals paired with this rate now carry the rate goal just saved.
    await (await session.connection()).execute(
        sa.update(Goal)
        .where(
            col(Goal.team_id) == team_id,
            col(Goal.quarter) == quarter,
            col(Goal.paired_metric) == rate_definition.key,
        )
        .values(paired_target=rate_target)
    )
    await session.commit()
    return saved


async def goals_for(session: AsyncSession, *, team_id: str, quarter: str) -> dict[str, Goal]:
    """Every goal of a quarter for both functions, keyed by metric (metrics are unique)."""
    result = await session.exec(
        select(Goal)
        .where(Goal.team_id == team_id, Goal.quarter == quarter)
        .order_by(col(Goal.metric))
        .execution_options(populate_existing=True)
    )
    return {goal.metric: goal for goal in result.all()}


def targets_of(goals: Mapping[str, Goal]) -> dict[str, float]:
    """`goals_for`'s result as the `targets` mapping `compute_scorecard` takes."""
    return {metric: goal.target for metric, goal in goals.items()}


async def delete_goal(session: AsyncSession, *, team_id: str, quarter: str, metric: str) -> bool:
    """Remove a goal and commit; False when there was none.

    A rate goal that volume goals are paired with is refused: removing it would leave those
    volume goals unpaired, which is exactly what the pairing rule forbids.
    """
    _split(quarter)
    key = canonical_metric(_metric(metric, field=FIELD_METRIC).key)
    dependants = (
        await session.exec(
            select(Goal.metric).where(
                Goal.team_id == team_id, Goal.quarter == quarter, Goal.paired_metric == key
            )
        )
    ).all()
    if dependants:
        labels = ", ".join(METRICS[name].label if name in METRICS else name for name in dependants)
        raise UserError(
            f"{METRICS[key].label} is the conversion goal paired with {labels}. "
            "Remove those volume goals first, or change this goal instead.",
            FIELD_METRIC,
        )
    result = await (await session.connection()).execute(
        sa.delete(Goal).where(
            col(Goal.team_id) == team_id, col(Goal.quarter) == quarter, col(Goal.metric) == key
        )
    )
    await session.commit()
    return bool(result.rowcount)
