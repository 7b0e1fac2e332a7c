"""Quarterly goals per marketing function: reading what people type (quarters, targets) and
storing goals. What a metric is, its unit and how it is shown live in `bot.kpis.catalogue`.

The playbook's rule lives here: a volume goal (pipeline, leads, delivered requests) is only
accepted together with its conversion-rate goal, because a volume number on its own is easy
to hit by lowering the bar (loosening lead scoring turns weak contacts into "leads"). Setting a
goal on an alias (`campaign_effectiveness`) stores it on the metric it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import parse_quarter_label, quarter_of
from bot.core.db import dialect_insert
from bot.core.errors import UserError
from bot.core.models import Function, Goal
from bot.core.text import parse_amount, quote_input
from bot.kpis.catalogue import (
    METRICS,
    SCORE_MAX,
    SCORE_MIN,
    MetricDef,
    Unit,
    canonical_metric,
    format_value,
    metric_def,
)

__all__ = [
    "FIELD_METRIC",
    "FIELD_PAIRED_TARGET",
    "FIELD_QUARTER",
    "FIELD_TARGET",
    "delete_goal",
    "format_quarter",
    "goals_for",
    "next_quarter",
    "parse_quarter",
    "parse_target",
    "previous_quarter",
    "quarter_bounds",
    "set_goal",
    "targets_of",
]

# Modal block ids the UserErrors below name, so handlers can put the message on the field.
FIELD_METRIC: Final = "metric"
FIELD_TARGET: Final = "target"
FIELD_PAIRED_TARGET: Final = "paired_target"
FIELD_QUARTER: Final = "quarter"

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
    definition = metric_def(metric, field=field)
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
    definition = metric_def(metric, field=FIELD_METRIC)
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
    key = canonical_metric(metric_def(metric, field=FIELD_METRIC).key)
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
