"""Admins set the intake channel, digest channels and the three user groups."""

from __future__ import annotations

import pytest

from bot.core.deps import Deps
from bot.core.models import Role
from bot.workspace.roster import roles_of
from bot.workspace.settings import load_settings
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, view_submission
from tests.support.helpers import ack_text
from tests.support.workspace import (
    ADMIN,
    DEMANDGEN,
    DEMANDGEN_GROUP,
    GENERAL,
    INTAKE,
    MARKETER,
    REP,
    SALES_GROUP,
    SUPPORT_GROUP,
    TEAM_ID,
    configure,
)


def settings_values(**overrides: object) -> dict:  # type: ignore[type-arg]
    values: dict[str, object] = {
        "intake_channel": INTAKE,
        "support_digest_channel": GENERAL,
        "demandgen_digest_channel": None,
        "sales_usergroup": SALES_GROUP,
        "support_usergroup": SUPPORT_GROUP,
        "demandgen_usergroup": DEMANDGEN_GROUP,
        "admins": [],
        "timezone": "Europe/Berlin",
    }
    values.update(overrides)
    state: dict[str, dict] = {}  # type: ignore[type-arg]
    for key in ("intake_channel", "support_digest_channel", "demandgen_digest_channel"):
        state[key] = {
            "value": {"type": "conversations_select", "selected_conversation": values[key]}
        }
    for key in ("sales_usergroup", "support_usergroup", "demandgen_usergroup"):
        chosen = values[key]
        selected = (
            {"text": {"type": "plain_text", "text": "g"}, "value": chosen} if chosen else None
        )
        state[key] = {"value": {"type": "static_select", "selected_option": selected}}
    state["admins"] = {"value": {"type": "multi_users_select", "selected_users": values["admins"]}}
    state["timezone"] = {"value": {"type": "plain_text_input", "value": values["timezone"]}}
    return state


async def test_an_admin_opens_the_settings_modal_with_the_workspaces_user_groups(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await slack.command("/align", "settings", user_id=ADMIN, response_url=fake_slack.response_url())

    [opened] = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "align_settings"
    sales = next(block for block in view["blocks"] if block.get("block_id") == "sales_usergroup")
    assert SALES_GROUP in [option["value"] for option in sales["element"]["options"]]


async def test_a_non_admin_is_told_who_can_change_settings(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await slack.command("/align", "settings", user_id=REP, response_url=fake_slack.response_url())

    [answer] = await fake_slack.wait_for("response_url")
    assert "admins" in answer.params["text"]
    await fake_slack.assert_no_call("views.open")


async def test_someone_listed_as_extra_admin_may_open_settings(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await configure(deps, admins=(MARKETER,))

    await slack.command(
        "/align", "settings", user_id=MARKETER, response_url=fake_slack.response_url()
    )

    await fake_slack.wait_for("views.open")


async def test_saving_settings_stores_them_and_syncs_the_roster(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    response = await slack.submit(
        view_submission("align_settings", settings_values(), user_id=ADMIN)
    )

    assert response.status == 200
    [dm] = await fake_slack.wait_for(
        "chat.postMessage", lambda call: call.params["channel"] == ADMIN
    )
    assert "saved" in dm.params["text"]
    async with deps.sessions() as session:
        saved = await load_settings(session, TEAM_ID)
        assert saved.intake_channel == INTAKE
        assert saved.timezone == "Europe/Berlin"
        assert await roles_of(session, team_id=TEAM_ID, user_id=REP) == {Role.SALES}
        assert await roles_of(session, team_id=TEAM_ID, user_id=MARKETER) == {Role.SUPPORT}
        assert await roles_of(session, team_id=TEAM_ID, user_id=DEMANDGEN) == {Role.DEMAND_GEN}


async def test_demand_gen_and_marketing_support_cannot_share_a_group(
    slack: SlackSender, deps: Deps
) -> None:
    values = settings_values(demandgen_usergroup=SUPPORT_GROUP)

    response = await slack.submit(view_submission("align_settings", values, user_id=ADMIN))

    assert response.json["response_action"] == "errors"
    assert "Demand Gen never receives" in str(response.json["errors"])
    async with deps.sessions() as session:
        assert (await load_settings(session, TEAM_ID)).intake_channel is None


async def test_an_invalid_time_zone_is_refused_on_the_field(slack: SlackSender, deps: Deps) -> None:
    response = await slack.submit(
        view_submission("align_settings", settings_values(timezone="Mars/Olympus"), user_id=ADMIN)
    )

    assert response.json["response_action"] == "errors"
    assert "time zone" in response.json["errors"]["timezone"]


async def test_a_user_group_slack_cannot_read_keeps_its_last_members(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    fake_slack.fail_next("usergroups.users.list", "no_such_subteam")

    await slack.submit(view_submission("align_settings", settings_values(), user_id=ADMIN))

    await fake_slack.wait_for("chat.postMessage", lambda call: call.params["channel"] == ADMIN)
    async with configured.sessions() as session:
        assert await roles_of(session, team_id=TEAM_ID, user_id=REP) == {Role.SALES}


@pytest.mark.parametrize("text", ["", "help"])
async def test_align_help_lists_what_it_does(slack: SlackSender, deps: Deps, text: str) -> None:
    response = await slack.command("/align", text)

    assert "/align settings" in ack_text(response)


def sla_fields(**texts: str) -> dict:  # type: ignore[type-arg]
    return {
        key: {"value": {"type": "plain_text_input", "value": text}} for key, text in texts.items()
    }


async def test_sla_hours_holidays_and_leads_are_saved_from_the_modal(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    values = settings_values() | sla_fields(
        business_hours="8:30-16:30",
        workdays="sun-thu",
        holidays="2026-12-24, 2026-12-25",
        sla_days="deck=4, objection=1",
    )
    values["support_leads"] = {"value": {"type": "multi_users_select", "selected_users": [ADMIN]}}

    response = await slack.submit(view_submission("align_settings", values, user_id=ADMIN))

    assert response.status == 200
    async with deps.sessions() as session:
        saved = await load_settings(session, TEAM_ID)
    assert saved.business_hours == "08:30-16:30"
    assert saved.holidays == ("2026-12-24", "2026-12-25")
    assert saved.sla_days == {"deal_deck": 4, "objection_help": 1}
    assert saved.support_leads == (ADMIN,)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("sla_days", "deck=soon"),
        ("business_hours", "17-9"),
        ("holidays", "next tuesday"),
        ("workdays", "funday"),
    ],
)
async def test_unreadable_sla_settings_are_refused_on_their_field(
    slack: SlackSender, deps: Deps, field: str, text: str
) -> None:
    values = settings_values() | sla_fields(**{field: text})

    response = await slack.submit(view_submission("align_settings", values, user_id=ADMIN))

    assert response.json["response_action"] == "errors"
    assert field in response.json["errors"]


async def test_survey_settings_are_changed_from_the_modal(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    values = settings_values() | sla_fields(
        enablement_survey_schedule="fri 16:00",
        pipeline_survey_schedule="Monday 9:30",
        survey_reminder_days="3",
        survey_min_respondents="7",
        retention_days="180",
    )
    values["survey_switches"] = {
        "value": {"type": "checkboxes", "selected_options": [{"value": "surveys_enabled"}]}
    }

    response = await slack.submit(view_submission("align_settings", values, user_id=ADMIN))

    assert response.status == 200
    async with deps.sessions() as session:
        saved = await load_settings(session, TEAM_ID)
    assert (saved.enablement_survey_schedule, saved.pipeline_survey_schedule) == (
        "fri 16:00",
        "mon 09:30",
    )
    assert (saved.survey_reminder_days, saved.survey_min_respondents) == (3, 7)
    assert saved.retention_days == 180
    assert (saved.surveys_enabled, saved.survey_local_time) == (True, False)


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("survey_min_respondents", "2", "never below 3"),
        ("survey_min_respondents", "many", "whole number"),
        ("enablement_survey_schedule", "whenever", "mon 10:00"),
        ("retention_days", "7", "between 30 and 3650"),
    ],
)
async def test_bad_survey_settings_are_refused_on_the_field(
    slack: SlackSender, deps: Deps, field: str, text: str, expected: str
) -> None:
    values = settings_values() | sla_fields(**{field: text})

    response = await slack.submit(view_submission("align_settings", values, user_id=ADMIN))

    assert expected in response.json["errors"][field]


async def test_the_settings_modal_fits_slacks_limits(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await slack.command("/align", "settings", user_id=ADMIN, response_url=fake_slack.response_url())

    [opened] = await fake_slack.wait_for("views.open")

    assert opened.ok
    assert len(opened.params["view"]["blocks"]) <= 100
