"""The metric catalogue: every figure a goal can be set on and a scorecard can weigh
(`METRICS`), its unit, and how a value of it is shown.

Units, decided once so every module agrees:

* money is stored in **cents** (as a float in `Goal.target`), like the `*_cents` columns the
  metrics are computed from;
* percents are stored as **fractions** (25% is 0.25), so attainment is a plain division
  against a rate computed as `converted / total`;
* scores are on the 1–5 survey scale, ratios are multiples (3.0 for "3x"), counts are
  whole numbers.

`campaign_effectiveness` is an alias of `lead_to_opportunity_rate`: the playbook's
"campaign effectiveness" is measured as lead-to-opportunity conversion against its goal, so
there is one conversion goal per quarter, never two that could disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.core.errors import UserError
from bot.core.models import Function
from bot.core.text import format_money, quote_input

__all__ = [
    "MAX_COUNT",
    "MAX_RATIO",
    "METRICS",
    "SCORE_MAX",
    "SCORE_MIN",
    "MetricDef",
    "Unit",
    "as_scored",
    "canonical_metric",
    "format_scored",
    "format_value",
    "goal_metrics",
    "metric_def",
    "metrics_of",
]


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


def metric_def(metric: str, *, field: str | None) -> MetricDef:
    """The definition of `metric`, or a UserError (on `field`) listing the known metrics."""
    definition = METRICS.get(metric)
    if definition is None:
        known = ", ".join(METRICS)
        raise UserError(
            f"{quote_input(metric, field)} is not a metric I track. Known metrics: {known}.", field
        )
    return definition


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
