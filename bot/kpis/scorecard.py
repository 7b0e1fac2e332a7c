"""Bonus attainment per marketing function: the arithmetic, with every input kept for display.

Bonus attainment = Σ weight × min(attainment, cap), where attainment = actual ÷ target.
The cap stops one runaway metric (a single huge deal) from paying for everything else, which
is how well-aligned companies keep a 75/25 revenue/qualitative split meaningful.

Pure: no session, no Slack, no clock. The caller gathers actuals (from bot.kpis.support, pipeline,
coverage and satisfaction, in the units of bot.kpis.catalogue: money in cents, rates as fractions) and targets (from
`bot.kpis.goals.targets_of(await goals_for(...))`), and says which actuals the anonymity rule
withheld. A line that cannot be computed is kept, with a note saying why, and the total then
counts only the lines that could be, flagged `complete=False`: a partial number shown as
partial is more useful to a leader mid-quarter than no number at all.

`campaign_effectiveness` is read from `lead_to_opportunity_rate` (its alias in bot.kpis.catalogue):
its attainment is conversion ÷ the conversion goal. An explicit `campaign_effectiveness`
entry in `actuals` or `targets` wins over the alias, should a caller ever measure it apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from bot.core.errors import UserError
from bot.core.models import Function
from bot.core.text import quote_input
from bot.kpis.catalogue import METRICS, as_scored, canonical_metric, format_scored

__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_WEIGHTS",
    "MAX_CAP",
    "MIN_CAP",
    "NOTE_NO_DATA",
    "NOTE_NO_GOAL",
    "NOTE_WITHHELD",
    "Scorecard",
    "ScorecardLine",
    "Weighting",
    "compute_scorecard",
    "describe_line",
    "format_attainment",
    "format_weights",
    "parse_cap",
    "parse_weights",
    "weights_field",
]


@dataclass(frozen=True)
class Weighting:
    """How much of a function's bonus rides on one metric; a function's weights sum to 1.0."""

    metric: str
    weight: float


DEFAULT_WEIGHTS: dict[Function, tuple[Weighting, ...]] = {
    Function.DEMAND_GEN: (
        Weighting("sourced_pipeline", 0.75),
        Weighting("campaign_effectiveness", 0.25),
    ),
    Function.SUPPORT: (
        Weighting("quota_attainment", 0.75),
        Weighting("enablement_satisfaction", 0.25),
    ),
}
DEFAULT_CAP: Final = 1.5
MIN_CAP: Final = 1.0
MAX_CAP: Final = 3.0
# Half a percentage point either way absorbs typed rounding (33.3, 33.3, 33.3).
WEIGHT_TOLERANCE: Final = 0.005

NOTE_NO_GOAL: Final = "no goal set for this quarter"
NOTE_WITHHELD: Final = "not enough responses"
NOTE_NO_DATA: Final = "no data yet"


def weights_field(function: Function) -> str:
    """The settings/modal field a function's weights live in, named by UserErrors."""
    return f"{function.value}_weights"


# --------------------------------------------------------------------------------------
# Parsing configuration
# --------------------------------------------------------------------------------------

_NUMBER: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)", re.ASCII)
_ENTRY: Final = re.compile(
    r"(?P<name>[^=:]+?)\s*[=:]\s*(?P<value>" + _NUMBER.pattern + r")\s*(?P<percent>%)?", re.ASCII
)


def _normalised(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _same(first: str, second: str) -> bool:
    return canonical_metric(first) == canonical_metric(second)


def parse_weights(text: str, function: Function) -> tuple[Weighting, ...]:
    """Read `sourced_pipeline=75, campaign_effectiveness=25` into weights summing to 1.0.

    Values are percents ("75" or "75%") or, when every value is a bare number of at most 1,
    fractions ("0.75, 0.25"). Only the function's own metrics are accepted: Demand Gen's
    bonus never rides on Marketing Support's numbers and vice versa.
    """
    field = weights_field(function)
    allowed = [metric.key for metric in METRICS.values() if metric.function == function]
    example = format_weights(DEFAULT_WEIGHTS[function])
    entries: list[tuple[str, str, float, bool]] = []
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        match = _ENTRY.fullmatch(part.strip())
        if match is None:
            raise UserError(
                f"Couldn't read {quote_input(part, field)}: write metric=percent, like {example}.",
                field,
            )
        value = match.group("value")
        entries.append(
            (_normalised(match.group("name")), part.strip(), float(value), bool(match["percent"]))
        )
    if not entries:
        raise UserError(f"Write the weights as metric=percent, like {example}.", field)

    as_fractions = not any(percent or number > 1 for _, _, number, percent in entries)
    weights: list[Weighting] = []
    for metric, shown, number, _ in entries:
        if metric not in allowed:
            other = METRICS.get(metric)
            why = (
                f"{metric} is a {other.function.label} metric"
                if other is not None
                else f"{quote_input(metric, field)} is not a metric"
            )
            raise UserError(
                f"{why}; {function.label}'s bonus can weigh {', '.join(allowed)}.", field
            )
        twin = next((w.metric for w in weights if _same(w.metric, metric)), None)
        if twin == metric:
            raise UserError(f"{metric} is weighted twice; give each metric one weight.", field)
        if twin is not None:
            raise UserError(
                f"{metric} and {twin} are the same number (campaign effectiveness is measured "
                "as lead-to-opportunity conversion); weigh only one of them.",
                field,
            )
        weight = number if as_fractions else number / 100
        if weight <= 0:
            raise UserError(
                f"{quote_input(shown, field)}: a weight must be above zero "
                "(leave the metric out instead).",
                field,
            )
        weights.append(Weighting(metric, weight))
    total = sum(weighting.weight for weighting in weights)
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise UserError(
            f"The weights add up to {format_attainment(total)}; they must add up to 100%, "
            f"like {example}.",
            field,
        )
    # Rounding slack is spread so the stored weights sum to exactly 1.0.
    return tuple(Weighting(w.metric, w.weight / total) for w in weights)


def format_weights(weights: Sequence[Weighting]) -> str:
    """Weights as `parse_weights` reads them, for prefilling a form or showing a setting."""
    return ", ".join(
        f"{weighting.metric}={format_attainment(weighting.weight).removesuffix('%')}"
        for weighting in weights
    )


def parse_cap(text: str, *, field: str | None = "cap") -> float:
    """Read the attainment cap: "150%", "150", "1.5" or "1.5x", between 100% and 300%.

    A bare number up to 3 is a multiple (1.5), from 100 up a percent (150); nothing between
    makes sense for a cap, so it is refused rather than guessed.
    """
    cleaned = text.strip().lower()
    percent = cleaned.endswith("%")
    number_text = cleaned.removesuffix("%").removesuffix("x").strip()
    if not _NUMBER.fullmatch(number_text):
        raise UserError(
            f"Couldn't read {quote_input(text, field)} as a cap: write a percent like 150%.", field
        )
    number = float(number_text)
    cap = number / 100 if percent or number >= 100 else number
    if not MIN_CAP <= cap <= MAX_CAP:
        raise UserError(
            f"The cap must be between {format_attainment(MIN_CAP)} and "
            f"{format_attainment(MAX_CAP)} (150% is usual), not {quote_input(text, field)}.",
            field,
        )
    return cap


# --------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardLine:
    """One weighted metric with every input, so the bonus number can be checked by hand."""

    metric: str
    label: str
    weight: float
    actual: float | None
    target: float | None
    # actual / target (uncapped); None when either is missing or withheld.
    attainment: float | None
    # min(attainment, cap), never below 0.
    capped: float | None
    # weight × capped.
    contribution: float | None
    # Why the line is not computed: NOTE_NO_GOAL, NOTE_WITHHELD or NOTE_NO_DATA.
    note: str | None
    # A caveat on the figure itself, shown with it: e.g. the weeks of anonymous answers the
    # anonymity minimum left out of a quarter's satisfaction.
    remark: str | None = None


@dataclass(frozen=True)
class Scorecard:
    function: Function
    quarter: str
    cap: float
    lines: tuple[ScorecardLine, ...]
    # Σ contributions of the computable lines; None when none is.
    total: float | None
    # Every line computed: otherwise `total` is partial.
    complete: bool

    @property
    def covered_weight(self) -> float:
        """The share of the bonus the total accounts for (1.0 when complete)."""
        return sum(line.weight for line in self.lines if line.contribution is not None)


def _lookup(values: Mapping[str, float | None], metric: str) -> float | None:
    if metric in values:
        return values[metric]
    alias = METRICS[metric].alias_of
    return values.get(alias) if alias else None


def _line(
    weighting: Weighting,
    *,
    actuals: Mapping[str, float | None],
    targets: Mapping[str, float],
    cap: float,
    withheld: Collection[str],
    remark: str | None = None,
) -> ScorecardLine:
    metric = weighting.metric
    definition = METRICS[metric]
    hidden = metric in withheld or (
        definition.alias_of is not None and definition.alias_of in withheld
    )
    actual = None if hidden else _lookup(actuals, metric)
    target = _lookup(targets, metric)
    if target is not None and not (math.isfinite(target) and target > 0):
        target = None  # bot.kpis.goals never stores one; a zero goal cannot be divided by
    if actual is not None and not math.isfinite(actual):
        actual = None
    if actual is not None:
        actual = as_scored(metric, actual)  # computed from exactly what the line shows
    note = (
        NOTE_NO_GOAL
        if target is None
        else NOTE_WITHHELD
        if hidden
        else NOTE_NO_DATA
        if actual is None
        else None
    )
    attainment = capped = contribution = None
    if actual is not None and target is not None:
        attainment = actual / target
        capped = min(max(attainment, 0.0), cap)
        contribution = weighting.weight * capped
    return ScorecardLine(
        metric=metric,
        label=definition.label,
        weight=weighting.weight,
        actual=actual,
        target=target,
        attainment=attainment,
        capped=capped,
        contribution=contribution,
        note=note,
        remark=remark,
    )


def compute_scorecard(
    function: Function,
    quarter: str,
    *,
    actuals: Mapping[str, float | None],
    targets: Mapping[str, float],
    weights: Sequence[Weighting],
    cap: float = DEFAULT_CAP,
    withheld: Collection[str] = (),
    remarks: Mapping[str, str] | None = None,
) -> Scorecard:
    """Score one function for one quarter. Lines follow `weights`' order.

    `withheld` names metrics whose actual the anonymity minimum hides (enablement
    satisfaction with too few responses): the line shows neither the number nor an
    attainment derived from it, since a 100% attainment would reveal the score.
    `remarks` adds a caveat to a metric's line (`ScorecardLine.remark`).
    Weights naming another function's metric are a programming error (parse_weights
    refuses them), so they raise ValueError rather than a UserError.
    """
    for weighting in weights:
        definition = METRICS.get(weighting.metric)
        if definition is None or definition.function != function:
            raise ValueError(f"{weighting.metric!r} is not a {function.label} metric")
    if cap <= 0:
        raise ValueError(f"cap must be positive, not {cap}")
    lines = tuple(
        _line(
            weighting,
            actuals=actuals,
            targets=targets,
            cap=cap,
            withheld=withheld,
            remark=(remarks or {}).get(weighting.metric),
        )
        for weighting in weights
    )
    contributions = [line.contribution for line in lines if line.contribution is not None]
    return Scorecard(
        function=function,
        quarter=quarter,
        cap=cap,
        lines=lines,
        total=sum(contributions) if contributions else None,
        complete=bool(lines) and len(contributions) == len(lines),
    )


# --------------------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------------------


def format_attainment(value: float | None) -> str:
    """0.875 → `87.5%`, 0.8625 → `86.25%`, 1.0 → `100%`; None → `—`."""
    if value is None:
        return "—"
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}%"


def describe_line(line: ScorecardLine, *, cap: float) -> str:
    """One line of arithmetic in words, e.g.
    `Marketing-sourced pipeline (75%): $1,500,000 of $2,000,000 = 75% → 56.25%`.

    Plain text made only of our own labels and numbers, so it is safe in mrkdwn as is.
    A line's remark follows after a semicolon.
    """
    if line.remark:
        return f"{describe_line(replace(line, remark=None), cap=cap)}; {line.remark}"
    head = f"{line.label} ({format_attainment(line.weight)})"
    if line.contribution is None or line.attainment is None:
        shown = []
        if line.note != NOTE_WITHHELD and line.actual is not None:
            shown.append(f"actual {format_scored(line.metric, line.actual)}")
        if line.target is not None:
            shown.append(f"goal {format_scored(line.metric, line.target)}")
        facts = f" ({', '.join(shown)})" if shown else ""
        return f"{head}: {line.note or 'not computed'}{facts}"
    capped = f", capped at {format_attainment(cap)}" if line.attainment > cap else ""
    return (
        f"{head}: {format_scored(line.metric, line.actual)} of "
        f"{format_scored(line.metric, line.target)} = {format_attainment(line.attainment)}"
        f"{capped} → {format_attainment(line.contribution)}"
    )
