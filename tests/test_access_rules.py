"""Every "who may" rule of a workspace, decided in one place (bot.workspace.access)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.errors import UserError
from bot.core.models import Role
from bot.requests.lifecycle import Actor
from bot.workspace import access
from bot.workspace.settings import WorkspaceSettings

Rule = Callable[[Actor, WorkspaceSettings], UserError | None]

LEADER = "ULEADER"
LEAD = "USUPPORTLEAD"
SETTINGS = WorkspaceSettings(leaders=(LEADER,), support_leads=(LEAD,), admins=("UEXTRA",))

ADMIN = Actor("UADMIN", frozenset(), is_admin=True)
LEADER_ACTOR = Actor(LEADER, frozenset())
SUPPORT_LEAD = Actor(LEAD, frozenset())
SUPPORT = Actor("USUPPORT", frozenset({Role.SUPPORT}))
DEMAND_GEN = Actor("UDG", frozenset({Role.DEMAND_GEN}))
SALES = Actor("USALES", frozenset({Role.SALES}))
STRANGER = Actor("USTRANGER", frozenset())

EVERYONE = {
    "admin": ADMIN,
    "leader": LEADER_ACTOR,
    "support lead": SUPPORT_LEAD,
    "support": SUPPORT,
    "demand gen": DEMAND_GEN,
    "sales": SALES,
    "stranger": STRANGER,
}

WHO_MAY: dict[str, tuple[Rule, set[str]]] = {
    "change settings": (access.may_change_settings, {"admin"}),
    "read digests": (
        access.may_read_digests,
        {"admin", "leader", "support", "demand gen", "sales"},
    ),
    "read scorecards": (access.may_read_scorecards, {"admin", "leader", "support", "demand gen"}),
    "set goals": (access.may_set_goals, {"admin", "leader"}),
    "export": (access.may_export, {"admin", "leader"}),
    "see survey status": (access.may_see_survey_status, {"admin", "leader", "support"}),
    "resend surveys": (access.may_resend_surveys, {"admin"}),
    "see the queue": (access.may_see_queue, {"admin", "leader", "support"}),
    "record feedback actions": (
        access.may_record_feedback_action,
        {"admin", "support", "support lead"},
    ),
    "import CRM data": (access.may_import_crm, {"admin"}),
}


@pytest.mark.parametrize("name", sorted(WHO_MAY))
def test_each_rule_allows_exactly_its_people(name: str) -> None:
    rule, allowed = WHO_MAY[name]

    decided = {who for who, actor in EVERYONE.items() if rule(actor, SETTINGS) is None}

    assert decided == allowed


@pytest.mark.parametrize("name", sorted(WHO_MAY))
def test_every_refusal_is_worded_the_same_way(name: str) -> None:
    rule, _allowed = WHO_MAY[name]

    refused = rule(STRANGER, SETTINGS)

    assert isinstance(refused, UserError)
    assert refused.message.startswith("Only ")
    assert " can " in refused.message
    assert refused.field is None


def test_a_demand_gen_member_is_not_marketing_support_for_the_queue() -> None:
    assert access.may_see_queue(DEMAND_GEN, SETTINGS) is not None


def test_refusals_that_leaders_could_lift_name_the_leaders() -> None:
    refused = access.may_export(SALES, SETTINGS)

    assert refused is not None
    assert refused.message.startswith("Only leaders and admins can export the workbook.")
    assert f"<@{LEADER}>" in refused.message


def test_the_settings_refusal_names_the_extra_admins() -> None:
    refused = access.may_change_settings(SUPPORT, SETTINGS)

    assert refused is not None
    assert refused.message.startswith("Only admins can change alignbot's settings.")
    assert "<@UEXTRA>" in refused.message


def test_the_queue_refusal_points_to_your_own_requests() -> None:
    refused = access.may_see_queue(SALES, SETTINGS)

    assert refused is not None
    assert "Only Marketing Support, leaders and admins can see the queue." in refused.message
    assert "/mktg mine" in refused.message


def test_without_leaders_the_refusal_says_where_they_are_set() -> None:
    refused = access.may_set_goals(SALES, WorkspaceSettings())

    assert refused is not None
    assert "/align settings" in refused.message
    assert "<@" not in refused.message
