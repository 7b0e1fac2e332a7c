"""Signed Slack requests, built byte for byte the way Slack sends them.

Why this exists: the bot's HTTP entry point (Bolt's request verification, body parsing,
`ack()` timing, retries) is part of what we ship, so tests must exercise it with the same
bytes Slack puts on the wire rather than by calling handler functions directly. Every builder
here is modelled on a sample in ``tests/fixtures/slack/samples`` (named in each docstring), and
`tests/test_fakeslack.py` checks the encodings against those samples byte for byte.

Conventions shared with :mod:`tests.fakeslack`:

* default IDs: team ``T0TEAM``, acting user ``U0REP``, channel ``C0GENERAL``, bot ``UBOT``;
* the bot's DM with a user ``U…`` is ``dm_channel_id(user) == "D" + user`` in both modules,
  so an ``app_home_opened`` event names the same channel the fake Web API hands out.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = [
    "API_APP_ID",
    "SIGNING_SECRET",
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

SIGNING_SECRET = "test-signing-secret"
# The deprecated verification token Slack still puts in every payload; apps must not rely on it.
VERIFICATION_TOKEN = "fake-verification-token"
API_APP_ID = "A0ALIGNBOT"
TEAM_DOMAIN = "alignbot-test"
BOT_USER_ID = "UBOT"
# When a test does not say where `respond()` should go, point it at a closed localhost port:
# the app fails fast and loudly instead of reaching for hooks.slack.com.
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response_url/unset"
# Slack's crawler identity; some frameworks log or branch on it.
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

_counter = itertools.count(1)


def _next() -> int:
    return next(_counter)


def dm_channel_id(user_id: str) -> str:
    """The bot's DM channel with `user_id`.

    Deterministic (and readable in failure output) so event payloads and the fake Web API agree
    without sharing state: ``U0REP`` -> ``DU0REP``.
    """
    return f"D{user_id}"


def _now_ts() -> str:
    """A Slack-style ``seconds.micros`` timestamp string, unique within this process."""
    return f"{int(time.time())}.{_next() % 1_000_000:06d}"


def _trigger_id() -> str:
    """A fresh trigger id in Slack's ``<n>.<n>.<hex>`` shape (request.slash_command.form.txt)."""
    return f"{int(time.time() * 1000)}{_next():03d}.47445629121.{secrets.token_hex(16)}"


def _unset_response_url() -> str:
    """A unique placeholder response_url that fails fast if the app ever uses it."""
    return f"{UNSET_RESPONSE_URL}/{_next()}"


def slack_json_dumps(value: Any) -> str:
    """JSON the way Slack's servers write it: compact, ASCII-only, with ``\\/`` escapes.

    Slack is a PHP/Hack shop and its JSON escapes forward slashes and non-ASCII characters
    (see error.chat.postMessage.invalid_blocks.json, "kept in Slack's wire form"). Parsers
    handle it; code that greps raw bodies for URLs does not, which is exactly what tests
    should catch. ``/`` only ever occurs inside JSON strings, so the replace is safe.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


# --------------------------------------------------------------------------- signing


def sign(
    body: bytes | str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers Slack sends with `body`: timestamp, ``v0=`` HMAC-SHA256 signature, content type.

    The signature covers ``v0:{timestamp}:{raw body}`` (request.signing_vector.json), so the
    body must be sent exactly as signed. `timestamp` defaults to now; pass an old one to test
    replay protection (Bolt rejects anything more than five minutes off).
    """
    raw = body.encode() if isinstance(body, str) else body
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + raw, hashlib.sha256).hexdigest()
    content_type = (
        "application/json" if raw.lstrip()[:1] == b"{" else "application/x-www-form-urlencoded"
    )
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


# --------------------------------------------------------------------------- bodies


def form_body(payload: Mapping[str, Any]) -> bytes:
    """Interactivity body: ``payload=`` + URL-encoded JSON of the payload.

    Encoded exactly like request.block_actions.form.txt / request.view_submission.form.txt
    (``json.dumps`` defaults, ``urllib.parse.quote`` with ``/`` left bare); a test asserts the
    samples round-trip byte for byte.
    """
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


def json_body(payload: Mapping[str, Any]) -> bytes:
    """Events API body: the JSON document itself, in Slack's wire style (see slack_json_dumps)."""
    return slack_json_dumps(payload).encode()


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
        ("response_url", response_url or _unset_response_url()),
        ("trigger_id", trigger_id or _trigger_id()),
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
    action["action_ts"] = _now_ts()

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
        payload["trigger_id"] = trigger_id or _trigger_id()
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
            ts = message_ts or _now_ts()
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
        payload["trigger_id"] = trigger_id or _trigger_id()
        payload["team"] = _team(team_id)
        payload["enterprise"] = None
        payload["is_enterprise_install"] = False
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
        payload["message"] = message
        payload["state"] = {"values": state_values}
        payload["response_url"] = response_url or _unset_response_url()
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
    vid = view_id or f"V{_next():010d}"
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
        "trigger_id": trigger_id or _trigger_id(),
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
        "action_ts": _now_ts(),
        "team": _team(team_id),
        "user": _user(user_id, team_id, user_name),
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or _trigger_id(),
        "response_url": response_url or _unset_response_url(),
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
        "event_id": event_id or f"Ev{_next():010d}",
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
        "event_ts": _now_ts(),
    }
    if view is not None:
        event["view"] = view
    return event_callback(event, team_id=team_id)


# --------------------------------------------------------------------------- sender


@dataclass
class Response:
    """What the app answered: status, raw body, parsed JSON (if it was JSON), seconds taken.

    `elapsed` lets tests assert the three-second ``ack()`` budget Slack enforces.
    """

    status: int
    body: str
    json: Any | None
    elapsed: float

    @property
    def message(self) -> dict[str, Any] | None:
        """What Slack would show for this answer: the JSON object, or ``{"text": body}``.

        Slack treats a non-JSON body answering a slash command as the message text, and
        Bolt's ``ack("...")`` with only text sends exactly that (text/plain), so ``json`` is
        None there; use this to read the reply either way.
        """
        if isinstance(self.json, dict):
            return self.json
        return {"text": self.body} if self.body else None


class SlackSender:
    """Sends signed requests to a running app over real HTTP (aiohttp.ClientSession).

    Plays Slack's side of the Events API / interactivity / slash-command contract so the
    app's whole HTTP stack (signature check, parsing, ack) is under test.
    `response_url_factory` (e.g. ``fake.response_url``) is used for slash commands that do
    not pass ``response_url`` explicitly, so ``respond()`` lands on the fake server.
    """

    def __init__(
        self,
        events_url: str,
        *,
        secret: str = SIGNING_SECRET,
        response_url_factory: Callable[[str], str] | None = None,
    ) -> None:
        self.events_url = events_url
        self.secret = secret
        self.response_url_factory = response_url_factory
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def command(self, command: str, text: str = "", **kw: Any) -> Response:
        """Build a slash command (see slash_command for keywords), sign it and POST it."""
        if kw.get("response_url") is None and self.response_url_factory is not None:
            kw["response_url"] = self.response_url_factory(f"command-{_next()}")
        return await self._send_signed(slash_command(command, text, **kw))

    async def action(self, payload: Mapping[str, Any]) -> Response:
        """POST an interactivity payload (block_actions, ...) form-encoded, as Slack does."""
        return await self._send_signed(form_body(payload))

    async def submit(self, payload: Mapping[str, Any]) -> Response:
        """POST a view_submission payload (form-encoded)."""
        return await self._send_signed(form_body(payload))

    async def shortcut(self, payload: Mapping[str, Any]) -> Response:
        """POST a shortcut / message_action payload (form-encoded)."""
        return await self._send_signed(form_body(payload))

    async def event(
        self,
        payload: Mapping[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Response:
        """POST an Events API payload as JSON; `retry_num` adds Slack's retry headers."""
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra["X-Slack-Retry-Num"] = str(retry_num)
            extra["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return await self._send_signed(json_body(payload), extra)

    async def _send_signed(self, body: bytes, extra: Mapping[str, str] | None = None) -> Response:
        headers = sign(body, secret=self.secret)
        headers["User-Agent"] = SLACK_USER_AGENT
        if extra:
            headers.update(extra)
        return await self.post_raw(body, headers)

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> Response:
        """POST `body` with exactly `headers` (for bad-signature / stale-timestamp tests)."""
        session = self._get_session()
        started = time.perf_counter()
        async with session.post(self.events_url, data=body, headers=headers) as resp:
            text = await resp.text()
            elapsed = time.perf_counter() - started
            parsed: Any | None = None
            if resp.content_type == "application/json" or text.lstrip()[:1] in ("{", "["):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = None
            return Response(status=resp.status, body=text, json=parsed, elapsed=elapsed)

    async def close(self) -> None:
        """Close the HTTP session (safe to call twice)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
