"""manifest.yml declares exactly what the code uses: commands, shortcuts, actions, scopes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.blocks.requests import INTAKE_ACTION_IDS
from handlers.oauth import BOT_SCOPES
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions, message_shortcut
from tests.support.manifest import MANIFEST, validation_errors

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "fixtures" / "slack" / "manifest-schema.json"  # copied, with its source

# Web API method (as slack_sdk names it) -> the bot scope Slack requires for it (None: no scope).
METHOD_SCOPES: dict[str, str | None] = {
    "auth_test": None,
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "chat_getPermalink": None,
    "conversations_join": "channels:join",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "users_list": "users:read",
    "usergroups_list": "usergroups:read",
    "usergroups_users_list": "usergroups:read",
    "views_open": None,
    "views_update": None,
    "views_push": None,
    "views_publish": None,
    "files_upload_v2": "files:write",
    # The bot's own DMs (survey deliveries, outbox DMs) and the intake channel (outbox posts,
    # looked up before a retry): im:history and channels:history are both declared.
    "conversations_history": "im:history",
    "conversations_replies": "channels:history",  # intake threads, before a retried line
    "auth_teams_list": None,  # an org-wide install's workspaces: no scope needed
}
# Scopes a feature needs without a Web API call of ours.
IMPLIED_SCOPES = {"commands", "files:read"}  # files:read: downloading files DMed to the bot
# Events the bot subscribes to -> the scope Slack requires to deliver them.
EVENT_SCOPES: dict[str, str | None] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
    "subteam_members_changed": "usergroups:read",
    "user_change": "users:read",
}


def manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(MANIFEST.read_text())


def web_api_methods_called() -> set[str]:
    pattern = re.compile(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\(")
    found: set[str] = set()
    for folder in ("bot", "handlers", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(pattern.findall(path.read_text()))
    return found


def test_manifest_is_valid_against_slacks_published_schema() -> None:
    assert validation_errors(SCHEMA) == []


def test_every_web_api_method_the_code_calls_is_covered_by_a_declared_scope() -> None:
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])

    called = web_api_methods_called()

    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    needed = {METHOD_SCOPES[method] for method in called} - {None}
    assert needed <= declared, f"scopes missing from manifest.yml: {needed - declared}"


def test_the_manifest_declares_no_scope_the_code_does_not_use() -> None:
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])

    events = manifest()["settings"].get("event_subscriptions", {}).get("bot_events", [])
    needed = (
        {METHOD_SCOPES.get(method) for method in web_api_methods_called()}
        | {EVENT_SCOPES[event] for event in events}
        | IMPLIED_SCOPES
    )

    assert declared - needed == set()


def test_installs_over_oauth_ask_for_exactly_the_manifests_scopes() -> None:
    declared = manifest()["oauth_config"]["scopes"]["bot"]

    assert sorted(BOT_SCOPES) == sorted(declared)


def test_uninstalls_and_revoked_tokens_are_subscribed() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]

    assert {"app_uninstalled", "tokens_revoked"} <= set(events)


def test_every_subscribed_event_is_known_and_its_scope_declared() -> None:
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])
    events = manifest()["settings"].get("event_subscriptions", {}).get("bot_events", [])

    assert set(events) <= EVENT_SCOPES.keys()
    assert {EVENT_SCOPES[event] for event in events} - {None} <= declared


async def test_every_declared_slash_command_has_a_handler(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    commands = [entry["command"] for entry in manifest()["features"]["slash_commands"]]

    statuses = {
        command: (
            await slack.command(command, "help", response_url=fake_slack.response_url())
        ).status
        for command in commands
    }

    assert statuses == dict.fromkeys(commands, 200)


async def test_every_declared_shortcut_has_a_handler(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    shortcuts = manifest()["features"].get("shortcuts") or []

    statuses = {
        entry["callback_id"]: (
            await slack.shortcut(
                message_shortcut(entry["callback_id"], message_text="hi", message_ts="1.000001")
            )
        ).status
        for entry in shortcuts
        if entry["type"] == "message"
    }

    assert set(statuses.values()) <= {200}


async def test_every_button_the_bot_posts_has_a_handler(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    statuses = {
        action_id: (
            await slack.action(
                block_actions(action_id, "1", response_url=fake_slack.response_url())
            )
        ).status
        for action_id in INTAKE_ACTION_IDS
    }

    assert statuses == dict.fromkeys(INTAKE_ACTION_IDS, 200)


def test_interactivity_is_enabled_for_buttons_and_modals() -> None:
    assert manifest()["settings"]["interactivity"]["is_enabled"] is True
