"""What Slack POSTs to the app, built as Slack builds it: commands, actions, views, events."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from sandbox.slack_payloads.wire import (
    API_APP_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    VERIFICATION_TOKEN,
    dm_channel_id,
    new_trigger_id,
    next_number,
    now_ts,
    unset_response_url,
)


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = "U0REP",
    team_id: str = "T0TEAM",
    channel_id: str = "C0GENERAL",
    trigger_id: str | None = None,
    response_url: str | None = None,
    user_name: str = "rep",
    enterprise_id: str | None = None,
    channel_name: str | None = None,
    enterprise_name: str = "Alignbot Test Org",
    is_enterprise_install: bool = False,
) -> bytes:
    """A slash-command body (application/x-www-form-urlencoded), as Slack posts it.

    Field order follows request.slash_command.form.txt, with the fields current Slack adds
    (``api_app_id``, ``is_enterprise_install``) before ``response_url``; on Enterprise Grid
    ``enterprise_id``/``enterprise_name`` follow ``text`` as in
    request.slash_command.enterprise.form.txt. Encoding is ``urlencode`` (``+`` for spaces,
    ``%2F`` for ``/``), which reproduces both samples exactly.

    `trigger_id` is fresh per call by default because Slack never reuses one. When
    `response_url` is None a dead localhost URL is used (see UNSET_RESPONSE_URL); tests that
    exercise ``respond()`` pass ``fake.response_url(...)``.
    """
    if channel_name is None:
        channel_name = "directmessage" if channel_id.startswith("D") else channel_id.lower()
    fields: list[tuple[str, str]] = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", TEAM_DOMAIN),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
    ]
    if enterprise_id is not None:
        fields += [("enterprise_id", enterprise_id), ("enterprise_name", enterprise_name)]
    fields += [
        ("api_app_id", API_APP_ID),
        ("is_enterprise_install", "true" if is_enterprise_install else "false"),
        ("response_url", response_url or unset_response_url()),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return urllib.parse.urlencode(fields).encode()


def _user(user_id: str, team_id: str, user_name: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _team(team_id: str) -> dict[str, Any]:
    return {"id": team_id, "domain": TEAM_DOMAIN}


_SELECT_LIKE = {"static_select", "external_select", "radio_buttons", "overflow"}


def block_actions(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str = "U0REP",
    team_id: str = "T0TEAM",
    channel_id: str = "C0GENERAL",
    message_ts: str | None = None,
    block_id: str = "b",
    action_type: str = "button",
    selected: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    message: dict[str, Any] | None = None,
    user_name: str = "rep",
) -> dict[str, Any]:
    """A decoded ``block_actions`` payload (request.block_actions.json); send with form_body.

    Without `view` the action comes from a message in `channel_id`: ``container`` is the
    message, ``message`` is `message` if given (e.g. taken from ``fake.messages``) or a bot
    message at `message_ts`, and a ``response_url`` is present. With `view` (App Home or modal)
    the container is the view, ``view`` is included and there is no channel/response_url,
    as Slack does.

    `selected`: for ``static_select``/``external_select``/``radio_buttons``/``overflow`` it is
    the chosen option object (becomes ``selected_option``); for any other type it is merged
    into the action as is, e.g. ``{"selected_user": "U1"}`` or ``{"selected_date": "..."}``.
    The same state shows up in ``state.values`` like Slack reports it.
    """
    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id}
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": "Button", "emoji": True}
    if value is not None:
        action["value"] = value
    action["type"] = action_type
    state_entry: dict[str, Any] = {"type": action_type}
    if selected is not None:
        extra = {"selected_option": selected} if action_type in _SELECT_LIKE else dict(selected)
        action.update(extra)
        state_entry.update(extra)
    elif action_type == "plain_text_input" and value is not None:
        state_entry["value"] = value
    action["action_ts"] = now_ts()

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id, user_name),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
    }
    state_values: dict[str, Any] = {}
    if action_type != "button":
        state_values = {block_id: {action_id: state_entry}}
    if view is not None:
        payload["container"] = {
            "type": "view",
            "view_id": view.get("id", "V0000000000"),
        }
        payload["trigger_id"] = trigger_id or new_trigger_id()
        payload["team"] = _team(team_id)
        payload["enterprise"] = None
        payload["is_enterprise_install"] = False
        view_copy = dict(view)
        old_state = view_copy.get("state") or {}
        merged_values = {**dict(old_state.get("values") or {}), **state_values}
        view_copy["state"] = {"values": merged_values}
        payload["view"] = view_copy
    else:
        if message is None:
            ts = message_ts or now_ts()
            message = {
                "user": BOT_USER_ID,
                "type": "message",
                "ts": ts,
                "bot_id": "BBOT",
                "app_id": API_APP_ID,
                "text": "",
                "team": team_id,
                "blocks": [],
            }
        ts = message_ts or str(message.get("ts"))
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["trigger_id"] = trigger_id or new_trigger_id()
        payload["team"] = _team(team_id)
        payload["enterprise"] = None
        payload["is_enterprise_install"] = False
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
        payload["message"] = message
        payload["state"] = {"values": state_values}
        payload["response_url"] = response_url or unset_response_url()
    payload["actions"] = [action]
    return payload


def _blocks_for_values(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[Any]:
    """Input blocks matching `values`, so a submission's view is self-consistent."""
    blocks: list[Any] = []
    for block_id, actions in values.items():
        for action_id, state in actions.items():
            blocks.append(
                {
                    "type": "input",
                    "block_id": block_id,
                    "label": {"type": "plain_text", "text": block_id, "emoji": True},
                    "optional": False,
                    "dispatch_action": False,
                    "element": {
                        "type": state.get("type", "plain_text_input"),
                        "action_id": action_id,
                    },
                }
            )
    return blocks


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str = "U0REP",
    team_id: str = "T0TEAM",
    view_id: str | None = None,
    private_metadata: str = "",
    view_hash: str | None = None,
    blocks: list[Any] | None = None,
    trigger_id: str | None = None,
    user_name: str = "rep",
    title: str = "Alignbot",
) -> dict[str, Any]:
    """A decoded ``view_submission`` payload (request.view_submission.json), ``type: modal``.

    `values` is ``view.state.values`` exactly as Slack reports it:
    ``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}`` (selects carry
    ``selected_option``, date pickers ``selected_date``, ...). When `blocks` is omitted,
    matching input blocks are synthesised so handlers that read labels still work.
    """
    vid = view_id or f"V{next_number():010d}"
    view: dict[str, Any] = {
        "id": vid,
        "team_id": team_id,
        "type": "modal",
        "blocks": blocks if blocks is not None else _blocks_for_values(values),
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values},
        "hash": view_hash or f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None,
        "root_view_id": vid,
        "app_id": API_APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": "BBOT",
    }
    return {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id, user_name),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_shortcut(
    callback_id: str,
    *,
    message_text: str,
    message_ts: str,
    channel_id: str = "C0GENERAL",
    user_id: str = "U0REP",
    team_id: str = "T0TEAM",
    message_user: str = "U0OTHER",
    trigger_id: str | None = None,
    response_url: str | None = None,
    user_name: str = "rep",
) -> dict[str, Any]:
    """A decoded message shortcut payload (``type: message_action``); send with form_body.

    Shape of Slack's message-action payload: the clicked message (with ``user`` =
    `message_user`, its author) rides along, plus channel, trigger_id and response_url.
    """
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": now_ts(),
        "team": _team(team_id),
        "user": _user(user_id, team_id, user_name),
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url or unset_response_url(),
        "message_ts": message_ts,
        "message": {
            "client_msg_id": secrets.token_hex(16),
            "type": "message",
            "text": message_text,
            "user": message_user,
            "ts": message_ts,
            "team": team_id,
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": secrets.token_hex(2),
                    "elements": [
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": message_text}],
                        }
                    ],
                }
            ],
        },
    }


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = "T0TEAM",
    event_id: str | None = None,
    bot_user_id: str = BOT_USER_ID,
    event_time: int | None = None,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> dict[str, Any]:
    """The Events API envelope around `event` (event.message.channel.json and friends).

    Carries ``authorizations`` for the bot (what Bolt uses to pick the installation) and a
    unique ``event_id`` so apps that de-duplicate retries can be tested. On Enterprise Grid
    (event.message.channel.enterprise.json) ``enterprise_id`` is set, and an org-wide install
    says ``is_enterprise_install``.
    """
    if event_time is None:
        event_ts = event.get("event_ts") or event.get("ts")
        event_time = int(float(event_ts)) if event_ts else int(time.time())
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next_number():010d}",
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if is_enterprise_install else team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": is_enterprise_install,
            }
        ],
        **({"enterprise_id": enterprise_id} if enterprise_id else {}),
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(24)}",
    }


def app_home_opened(
    user_id: str,
    *,
    team_id: str = "T0TEAM",
    tab: str = "home",
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``app_home_opened`` event_callback (event.app_home_opened.home.json).

    Slack includes the current ``view`` only once a home tab was published for the user;
    pass it to simulate a returning user.
    """
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": dm_channel_id(user_id),
        "tab": tab,
        "event_ts": now_ts(),
    }
    if view is not None:
        event["view"] = view
    return event_callback(event, team_id=team_id)
