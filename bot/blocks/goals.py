"""Block Kit for `/align goals`: the quarter's goals modal, what its fields say, its summary.

The modal has one optional field per goal metric of each function (`goals.goal_metrics`),
block id = metric key. Whether a volume goal has its paired rate goal is the domain's
decision (`goals.set_goal`); this module only reads and writes the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.blocks.common import Block, context, input_block, modal, section, state_value
from bot.core.errors import UserError
from bot.core.models import Function
from bot.kpis.catalogue import METRICS, format_value, goal_metrics
from bot.kpis.goals import FIELD_PAIRED_TARGET, parse_target

GOALS_MODAL = "align_goals"
FUNCTIONS = (Function.DEMAND_GEN, Function.SUPPORT)


@dataclass(frozen=True)
class GoalInput:
    """One goal typed into the modal, with the target of its paired rate goal if typed too."""

    metric: str
    target: float
    paired: str | None
    paired_target: float | None

    @property
    def missing_pair(self) -> bool:
        return self.paired is not None and self.paired_target is None


@dataclass(frozen=True)
class GoalsForm:
    quarter: str
    goals: list[GoalInput]
    errors: dict[str, str]  # block id -> message, for `response_action: errors`


def build_goals_modal(quarter: str, current: dict[str, float]) -> dict[str, Any]:
    blocks: list[Block] = [
        context(
            "Every volume goal needs its conversion-rate goal: a volume target alone invites "
            "gaming (for example loosening lead scoring). Leave a field empty to keep it unset."
        )
    ]
    for function in FUNCTIONS:
        blocks.append(section(f"*{function.label}*"))
        for metric in goal_metrics(function):
            element: dict[str, Any] = {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": 30,
            }
            if metric.key in current:
                element["initial_value"] = format_value(metric.key, current[metric.key])
            hint = f"Paired with {METRICS[metric.paired].label}." if metric.paired else None
            blocks.append(input_block(metric.key, metric.label, element, optional=True, hint=hint))
    return modal(GOALS_MODAL, f"Goals {quarter}", blocks, submit="Save", private_metadata=quarter)


def parse_goals_modal(view: dict[str, Any]) -> GoalsForm:
    """The typed targets, each read in its metric's unit; unreadable ones as field errors."""
    texts = {
        metric.key: str(state_value(view, metric.key).get("value") or "").strip()
        for function in FUNCTIONS
        for metric in goal_metrics(function)
    }
    targets: dict[str, float] = {}
    errors: dict[str, str] = {}
    for key, text in texts.items():
        if text:
            try:
                targets[key] = parse_target(key, text, field=key)
            except UserError as error:
                errors[key] = error.message
    goals = []
    for key, target in targets.items():
        paired = METRICS[key].paired
        goals.append(
            GoalInput(
                metric=key,
                target=target,
                paired=paired,
                paired_target=targets.get(paired) if paired else None,
            )
        )
    return GoalsForm(
        quarter=str(view.get("private_metadata") or ""),
        goals=goals,
        errors=errors,
    )


def goal_error_field(goal: GoalInput, error: UserError) -> str:
    """The modal field a refusal of `goal` belongs on: its pair's field for a pairing problem."""
    if error.field == FIELD_PAIRED_TARGET and goal.paired:
        return goal.paired
    return goal.metric


def build_goals_saved(quarter: str, goals: list[GoalInput]) -> str:
    summary = ", ".join(
        f"{METRICS[goal.metric].label} {format_value(goal.metric, goal.target)}" for goal in goals
    )
    return f":dart: Goals for {quarter} saved: {summary or 'nothing changed'}."
