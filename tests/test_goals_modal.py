"""The goals modal is built from the metric catalogue, and pairing is the domain's decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.blocks.goals import build_goals_modal, goal_error_field, parse_goals_modal
from bot.core.db import is_database_unavailable
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import Function
from bot.kpis.catalogue import goal_metrics
from bot.kpis.goals import set_goal
from tests.support.workspace import TEAM_ID


def _view(values: dict[str, str]) -> dict[str, object]:
    return {
        "private_metadata": "2026-Q4",
        "state": {
            "values": {
                key: {"value": {"type": "plain_text_input", "value": text}}
                for key, text in values.items()
            }
        },
    }


def test_the_modal_has_one_field_per_goal_metric_and_no_alias() -> None:
    view = build_goals_modal("2026-Q4", {})
    fields = {block["block_id"] for block in view["blocks"] if block["type"] == "input"}

    expected = {metric.key for f in Function for metric in goal_metrics(f)}
    assert fields == expected
    assert "campaign_effectiveness" not in fields


def test_a_volume_goal_without_its_rate_is_read_as_missing_its_pair() -> None:
    form = parse_goals_modal(_view({"requests_delivered": "40"}))

    [goal] = form.goals
    assert goal.metric == "requests_delivered"
    assert goal.missing_pair
    assert goal.paired == "on_time_delivery_rate"


async def test_the_domain_refuses_a_support_volume_goal_alone_with_supports_example(
    deps: Deps,
) -> None:
    form = parse_goals_modal(_view({"requests_delivered": "40"}))
    [goal] = form.goals

    async with deps.sessions() as session:
        with pytest.raises(UserError) as refused:
            await set_goal(
                session,
                team_id=TEAM_ID,
                quarter="2026-Q4",
                metric=goal.metric,
                target=goal.target,
                paired_target=None,
                set_by="U0ADMIN",
                now=datetime(2026, 11, 24, tzinfo=UTC),
            )

    assert "splitting work" in refused.value.message
    assert goal_error_field(goal, refused.value) == "on_time_delivery_rate"


def test_a_database_that_does_not_answer_is_recognised_and_a_bug_is_not() -> None:
    assert is_database_unavailable(sa.exc.OperationalError("SELECT 1", {}, Exception("gone")))
    assert not is_database_unavailable(ValueError("a bug"))
