"""Signed Slack requests, built byte for byte the way Slack sends them.

`wire` holds the ids, signing and body encodings, `payloads` the builders of what Slack
POSTs, `sender` the `SlackSender` that signs and sends them to the app.

Why this exists: the bot's HTTP entry point (Bolt's request verification, body parsing,
`ack()` timing, retries) is part of what we ship, so tests must exercise it with the same
bytes Slack puts on the wire rather than by calling handler functions directly. Every builder
here is modelled on a sample in ``tests/fixtures/slack/samples`` (named in each docstring), and
`tests/test_fakeslack.py` checks the encodings against those samples byte for byte.

Conventions shared with :mod:`sandbox.fakeslack`:

* default IDs: team ``T0TEAM``, acting user ``U0REP``, channel ``C0GENERAL``, bot ``UBOT``;
* the bot's DM with a user ``U…`` is ``dm_channel_id(user) == "D" + user`` in both modules,
  so an ``app_home_opened`` event names the same channel the fake Web API hands out.
"""

from sandbox.slack_payloads.payloads import (
    app_home_opened,
    block_actions,
    event_callback,
    message_shortcut,
    slash_command,
    view_submission,
)
from sandbox.slack_payloads.sender import Response, SlackSender
from sandbox.slack_payloads.wire import (
    API_APP_ID,
    BOT_USER_ID,
    SIGNING_SECRET,
    SLACK_USER_AGENT,
    TEAM_DOMAIN,
    UNSET_RESPONSE_URL,
    VERIFICATION_TOKEN,
    dm_channel_id,
    form_body,
    json_body,
    sign,
    slack_json_dumps,
)

__all__ = [
    "API_APP_ID",
    "BOT_USER_ID",
    "SIGNING_SECRET",
    "SLACK_USER_AGENT",
    "TEAM_DOMAIN",
    "UNSET_RESPONSE_URL",
    "VERIFICATION_TOKEN",
    "Response",
    "SlackSender",
    "app_home_opened",
    "block_actions",
    "dm_channel_id",
    "event_callback",
    "form_body",
    "json_body",
    "message_shortcut",
    "sign",
    "slack_json_dumps",
    "slash_command",
    "view_submission",
]
