"""A fake Slack Web API server that speaks HTTP the way Slack does.

Why a real HTTP server instead of mocking ``AsyncWebClient``: the bot's correctness depends on
what happens *on the wire* — form vs JSON encoding, JSON-encoded ``blocks``/``view`` fields,
``Authorization`` headers, HTTP 429 + ``Retry-After`` handled by slack_sdk's retry handlers,
``files_upload_v2``'s three-step dance, Block Kit limits Slack enforces server-side. A mock
of the client would agree with whatever the bot sends; this server answers like Slack, with
Slack's response shapes and error codes (modelled on ``tests/fixtures/slack/samples``), so
tests catch what production would catch.

Usage::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.url)
        fake.add_user("U0REP")
        await client.chat_postMessage(channel="U0REP", text="hi")
        (call,) = await fake.wait_for("chat.postMessage")

Notes on deliberate Slack fidelity (things that surprise people):

* HTTP 200 for every Web API error, ``{"ok": false, "error": ...}``; only rate limits are 429.
* JSON bodies must carry the token in ``Authorization`` (a ``token`` field in JSON is ignored).
* Posting to a public channel the bot is not in gives ``not_in_channel``; a private one is
  invisible (``channel_not_found``). Posting to a deactivated user still succeeds, as in Slack
  (python-slack-sdk#1156), so the bot has to check ``deleted`` itself.
* Blocks without a ``block_id`` get a random one, like Slack does; trigger ids are single use.
* ``files.completeUploadExternal`` answers before the file is shared (``shares`` empty), as
  Slack shares asynchronously; the message with the file is visible in ``messages`` at once.
* The bot user itself is part of ``users.list`` (``is_bot: true``), as in Slack.
* ``chat.update``/``chat.delete`` need the conversation id (``D…`` for DMs), not a user id.

Beyond the agreed API (all additive): ``Call.path`` and ``Call.ok``; ``origin``,
``dm_channel_id()``; state dicts ``users``, ``channels``, ``usergroups``, ``files`` and
``ephemerals`` (postEphemeral log); ``add_channel(members=...)``; ``validate_view()``;
``enforce_rate_limits({"*": n})`` as a default; extra methods ``conversations.list``,
``conversations.history``, ``conversations.replies``, ``users.lookupByEmail``, ``team.info``;
``hold(method)`` keeps answers waiting until the test releases them (ordering races).
Besides Web API methods, ``calls`` also records POSTs to a response_url (method
``"response_url"``, ``path`` = the name) and the raw upload of files_upload_v2 (method
``"file_upload"``, params ``file_id``/``size``).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import itertools
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from tests.slack_payloads import API_APP_ID, TEAM_DOMAIN, dm_channel_id, slack_json_dumps

__all__ = [
    "Call",
    "FakeSlack",
    "Hold",
    "SlackError",
    "Surface",
    "validate_blocks",
    "validate_view",
]

Surface = Literal["message", "modal", "home"]
JSON = dict[str, Any]

PERMALINK_HOST = "https://fake.slack.test"
TEAM_NAME = "Alignbot Test"

# Fields Slack accepts as JSON-encoded strings in form bodies, and the error it gives when the
# string is not valid JSON.
_JSON_STRING_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "files": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}

_TZ_LABELS = {
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "UTC": "Coordinated Universal Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
}


@dataclass
class Call:
    """One request the fake received, with what it answered.

    `params` merges query string, form and JSON body (JSON-string fields such as ``blocks``
    already decoded); `headers` are as the client sent them (original case). `path` is only
    set for non-Web-API endpoints (the ``name`` part of a response_url).
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    response: dict[str, Any]
    path: str = ""
    token: str = ""  # the token it was made with: which workspace's install spoke

    @property
    def ok(self) -> bool:
        """Whether Slack would have reported success (``"ok": true``)."""
        return bool(self.response.get("ok"))


class SlackError(Exception):
    """Raised inside a handler to answer ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, *, status: int = 200, extra: JSON | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra or {}

    def body(self) -> JSON:
        """The JSON body Slack would send for this error."""
        return {"ok": False, "error": self.error, **self.extra}


class Hold:
    """A gate on one Web API method: the next calls to it are answered as Slack saw things when
    they arrived, but the answer waits inside the fake until the test releases it (a slow
    network or a slow Slack). For ordering a race deterministically ("the old sync is waiting
    on Slack while the save completes") instead of sleeping. Held calls are recorded in
    `calls` once released."""

    def __init__(self, method: str, times: int) -> None:
        self.method = method
        self.remaining = times
        self._arrived = asyncio.Event()
        self._released = asyncio.Event()

    async def arrived(self, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once a held call is waiting (raises TimeoutError if none comes)."""
        async with asyncio.timeout(timeout):
            await self._arrived.wait()

    def release(self) -> None:
        """Let the held calls through (later calls are no longer held)."""
        self._released.set()

    async def _wait(self) -> None:
        self._arrived.set()
        await self._released.wait()


# ============================================================================ Block Kit rules


def _ptr(path: str) -> str:
    return f"[json-pointer:{path}]"


def _too_long(path: str, limit: int) -> str:
    return f"must be less than {limit + 1} characters {_ptr(path)}"


def _too_many(path: str, limit: int) -> str:
    return f"no more than {limit} items allowed {_ptr(path)}"


def _schema(path: str) -> str:
    return f"failed to match all allowed schemas {_ptr(path)}"


def _missing(path: str, name: str) -> str:
    return f"missing required field: {name} {_ptr(path)}"


_KNOWN_BLOCKS = {
    "actions",
    "call",
    "context",
    "context_actions",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}
_OPTION_LIMITS = {  # element type -> max options
    "static_select": 100,
    "multi_static_select": 100,
    "checkboxes": 10,
    "radio_buttons": 10,
    "overflow": 5,
}


class _BlockValidator:
    """Collects Slack-style error strings for one surface (message, modal or home)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def err(self, message: str) -> None:
        self.errors.append(message)

    def text(
        self,
        obj: Any,
        path: str,
        *,
        limit: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A composition text object: type, non-empty text within `limit`, no mrkdwn emoji."""
        if obj is None:
            if required:
                self.err(_missing(path.rsplit("/", 1)[0], path.rsplit("/", 1)[1]))
            return
        if not isinstance(obj, dict):
            self.err(_schema(path))
            self.err(f"must provide an object {_ptr(path)}")
            return
        problems: list[str] = []
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            problems.append(f"must be one of {', '.join(allowed)} {_ptr(path + '/type')}")
        text = obj.get("text")
        if not isinstance(text, str):
            problems.append(_missing(path, "text"))
        elif not text:
            problems.append(f"must be more than 0 characters {_ptr(path + '/text')}")
        elif len(text) > limit:
            problems.append(_too_long(path + "/text", limit))
        if kind == "mrkdwn" and "emoji" in obj:
            problems.append(f"invalid additional property: emoji {_ptr(path)}")
        if problems:
            self.err(_schema(path))
            self.errors.extend(problems)

    def length(self, obj: dict[str, Any], key: str, path: str, limit: int) -> None:
        value = obj.get(key)
        if isinstance(value, str) and len(value) > limit:
            self.err(_too_long(f"{path}/{key}", limit))

    def option(self, opt: Any, path: str, *, plain_only: bool) -> None:
        if not isinstance(opt, dict):
            self.err(f"must provide an object {_ptr(path)}")
            return
        self.text(opt.get("text"), path + "/text", limit=75, plain_only=plain_only)
        self.length(opt, "value", path, 150)
        if opt.get("description") is not None:
            self.text(opt["description"], path + "/description", limit=75, plain_only=plain_only)

    def element(self, el: Any, path: str) -> None:
        """An interactive (or image) element inside a section/actions/input/context block."""
        if not isinstance(el, dict):
            self.err(f"must provide an object {_ptr(path)}")
            return
        kind = el.get("type")
        if not isinstance(kind, str):
            self.err(_missing(path, "type"))
            return
        self.length(el, "action_id", path, 255)
        if el.get("placeholder") is not None:
            self.text(el["placeholder"], path + "/placeholder", limit=150, plain_only=True)
        if kind == "button":
            self.text(el.get("text"), path + "/text", limit=75, plain_only=True)
            self.length(el, "value", path, 2000)
            self.length(el, "url", path, 3000)
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.err(f"must be one of primary, danger {_ptr(path + '/style')}")
        elif kind == "image":
            if not el.get("image_url") and not el.get("slack_file"):
                self.err(_missing(path, "image_url"))
            self.length(el, "image_url", path, 3000)
            if not isinstance(el.get("alt_text"), str):
                self.err(_missing(path, "alt_text"))
            self.length(el, "alt_text", path, 2000)
        elif kind == "plain_text_input":
            self.plain_text_input(el, path)
        if kind in _OPTION_LIMITS or kind.endswith("static_select"):
            self.options(el, kind, path)

    def plain_text_input(self, el: dict[str, Any], path: str) -> None:
        max_length = el.get("max_length")
        min_length = el.get("min_length")
        if isinstance(max_length, int) and not 1 <= max_length <= 3000:
            self.err(f"must be between 1 and 3000 {_ptr(path + '/max_length')}")
        if isinstance(min_length, int) and not 0 <= min_length <= 3000:
            self.err(f"must be between 0 and 3000 {_ptr(path + '/min_length')}")
        initial = el.get("initial_value")
        if isinstance(initial, str):
            cap = max_length if isinstance(max_length, int) else 3000
            if len(initial) > cap:
                self.err(_too_long(path + "/initial_value", cap))

    def options(self, el: dict[str, Any], kind: str, path: str) -> None:
        limit = _OPTION_LIMITS.get(kind, 100)
        plain_only = kind not in ("checkboxes", "radio_buttons")
        options = el.get("options")
        groups = el.get("option_groups")
        if options is None and groups is None:
            self.err(_missing(path, "options"))
            return
        if options is not None:
            if not isinstance(options, list):
                self.err(f"must provide an array {_ptr(path + '/options')}")
                return
            if len(options) > limit:
                self.err(_too_many(path + "/options", limit))
            if kind == "overflow" and len(options) < 2:
                self.err(f"must provide at least 2 items {_ptr(path + '/options')}")
            for i, opt in enumerate(options):
                self.option(opt, f"{path}/options/{i}", plain_only=plain_only)
        if isinstance(groups, list):
            if len(groups) > 100:
                self.err(_too_many(path + "/option_groups", 100))
            for g, group in enumerate(groups):
                gpath = f"{path}/option_groups/{g}"
                if not isinstance(group, dict):
                    self.err(f"must provide an object {_ptr(gpath)}")
                    continue
                self.text(group.get("label"), gpath + "/label", limit=75, plain_only=True)
                group_options = group.get("options") or []
                if len(group_options) > 100:
                    self.err(_too_many(gpath + "/options", 100))
                for i, opt in enumerate(group_options):
                    self.option(opt, f"{gpath}/options/{i}", plain_only=True)

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict):
            self.err(f"must provide an object {_ptr(path)}")
            return
        kind = block.get("type")
        if not isinstance(kind, str):
            self.err(_missing(path, "type"))
            return
        if kind not in _KNOWN_BLOCKS:
            self.err(_schema(path))
            self.err(f"unsupported type: {kind} {_ptr(path + '/type')}")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str):
                self.err(f"must be a string {_ptr(path + '/block_id')}")
            elif len(block_id) > 255:
                self.err(_too_long(path + "/block_id", 255))
            elif block_id in self.block_ids:
                self.err(f"duplicate block_id: {block_id} {_ptr(path + '/block_id')}")
            else:
                self.block_ids.add(block_id)
        getattr(self, f"block_{kind}", self.block_other)(block, path)

    def block_other(self, block: dict[str, Any], path: str) -> None:
        del block, path  # rich_text, file, video, ...: structure not checked here

    def block_section(self, block: dict[str, Any], path: str) -> None:
        fields = block.get("fields")
        if block.get("text") is None and fields is None:
            self.err(_schema(path))
            self.err(_missing(path, "text"))
        if block.get("text") is not None:
            self.text(block["text"], path + "/text", limit=3000)
        if fields is not None:
            if not isinstance(fields, list):
                self.err(f"must provide an array {_ptr(path + '/fields')}")
            else:
                if len(fields) > 10:
                    self.err(_too_many(path + "/fields", 10))
                for i, f in enumerate(fields):
                    self.text(f, f"{path}/fields/{i}", limit=2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], path + "/accessory")

    def block_context(self, block: dict[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.err(_missing(path, "elements"))
            return
        if len(elements) > 10:
            self.err(_too_many(path + "/elements", 10))
        for i, el in enumerate(elements):
            epath = f"{path}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.element(el, epath)
            else:
                self.text(el, epath, limit=3000)

    def block_header(self, block: dict[str, Any], path: str) -> None:
        self.text(block.get("text"), path + "/text", limit=150, plain_only=True)

    def block_actions(self, block: dict[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.err(_missing(path, "elements"))
            return
        if len(elements) > 25:
            self.err(_too_many(path + "/elements", 25))
        for i, el in enumerate(elements):
            self.element(el, f"{path}/elements/{i}")

    def block_input(self, block: dict[str, Any], path: str) -> None:
        self.text(block.get("label"), path + "/label", limit=2000, plain_only=True)
        if block.get("hint") is not None:
            self.text(block["hint"], path + "/hint", limit=2000, plain_only=True)
        if block.get("element") is None:
            self.err(_missing(path, "element"))
        else:
            self.element(block["element"], path + "/element")

    def block_image(self, block: dict[str, Any], path: str) -> None:
        self.element(block, path)
        if block.get("title") is not None:
            self.text(block["title"], path + "/title", limit=2000, plain_only=True)

    def block_markdown(self, block: dict[str, Any], path: str) -> None:
        self.length(block, "text", path, 12000)


def validate_blocks(blocks: Any, surface: Surface) -> list[str]:
    """Slack's Block Kit limits for `surface`; returns Slack-style error strings (empty = ok).

    Each string ends with a JSON pointer like Slack's (``[json-pointer:/blocks/3/text]``; for
    views the pointers start at ``/view/blocks``). Enforced: max blocks (50 in messages, 100 in
    modals/home), section text 3000 / field 2000 / 10 fields, context text 3000, header 150,
    button text 75, option text 75 / 100 options (10 for checkboxes/radios, 2-5 for overflow),
    plain_text_input max_length <= 3000 and initial_value within it, block_id / action_id
    <= 255, duplicate block_ids, empty texts, ``emoji`` on mrkdwn, unknown block types.
    Wording follows the Slack errors we have samples of; do not assert on exact strings.
    """
    root = "/blocks" if surface == "message" else "/view/blocks"
    validator = _BlockValidator()
    if not isinstance(blocks, list):
        return [f"must provide an array {_ptr(root)}"]
    limit = 50 if surface == "message" else 100
    if len(blocks) > limit:
        validator.err(_too_many(root, limit))
    for i, block in enumerate(blocks):
        validator.block(block, f"{root}/{i}")
    return validator.errors


def validate_view(view: Any, *, allowed_types: Iterable[str] = ("modal", "home")) -> list[str]:
    """Slack's checks for a ``view`` argument, as ``[ERROR] ...`` messages (views.* methods).

    Modal title/submit/close <= 24 chars, submit required with input blocks, callback_id and
    external_id <= 255, private_metadata <= 3000, plus validate_blocks for the blocks.
    """
    if not isinstance(view, dict):
        return [
            f"[ERROR] failed to match all allowed schemas {_ptr('/view')}",
            f"[ERROR] must provide an object {_ptr('/view')}",
        ]
    errors: list[str] = []
    kind = view.get("type")
    allowed = tuple(allowed_types)
    if kind not in allowed:
        errors.append(f"must be one of {', '.join(allowed)} {_ptr('/view/type')}")
    validator = _BlockValidator()
    if kind == "modal":
        title = view.get("title")
        if title is None:
            validator.err(_missing("/view", "title"))
        for key in ("title", "submit", "close"):
            obj = view.get(key)
            if obj is None:
                continue
            before = len(validator.errors)
            validator.text(obj, f"/view/{key}", limit=24, plain_only=True)
            # Slack words this one as "less than 24" (jeremeamia/slack-block-kit#3).
            validator.errors[before:] = [
                e.replace("must be less than 25 characters", "must be less than 24 characters")
                for e in validator.errors[before:]
            ]
        blocks = view.get("blocks") or []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            validator.err(_missing("/view", "submit"))
    errors.extend(validator.errors)
    for key, limit in (("callback_id", 255), ("external_id", 255), ("private_metadata", 3000)):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.append(_too_long(f"/view/{key}", limit))
    if "blocks" not in view:
        errors.append(_missing("/view", "blocks"))
    else:
        surface: Surface = "home" if kind == "home" else "modal"
        errors.extend(validate_blocks(view["blocks"], surface))
    return [f"[ERROR] {e}" for e in errors]


# ============================================================================ helpers


def _s(params: JSON, key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value)


def _int(params: JSON, key: str, default: int) -> int:
    value = params.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments", extra=_messages(f"invalid {key}")) from None


def _flag(params: JSON, key: str) -> bool:
    return params.get(key) in (True, 1, "1", "true", "True")


def _id_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _messages(*messages: str) -> JSON:
    return {"response_metadata": {"messages": list(messages)}}


def _encode_cursor(kind: str, key: str) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def _paginate(
    items: list[Any], key: Callable[[Any], str], kind: str, params: JSON
) -> tuple[list[Any], str]:
    """Slack cursor pagination: ``cursor`` = base64("<kind>:<first id of page>")."""
    limit = _int(params, "limit", 0)
    cursor = _s(params, "cursor")
    start = 0
    if cursor:
        try:
            decoded = base64.b64decode(cursor.encode(), validate=True).decode()
        except ValueError:
            raise SlackError("invalid_cursor") from None
        prefix, _, first = decoded.partition(":")
        keys = [key(item) for item in items]
        if prefix != kind or first not in keys:
            raise SlackError("invalid_cursor")
        start = keys.index(first)
    if limit <= 0:
        return items[start:], ""
    page = items[start : start + limit]
    rest = items[start + limit :]
    return page, (_encode_cursor(kind, key(rest[0])) if rest else "")


def _tz_fields(tz: str) -> JSON:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return {"tz": tz, "tz_label": tz, "tz_offset": 0}
    abbreviation = now.strftime("%Z")
    offset = now.utcoffset()
    return {
        "tz": tz,
        "tz_label": _TZ_LABELS.get(abbreviation, abbreviation),
        "tz_offset": int(offset.total_seconds()) if offset else 0,
    }


def _random_block_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))


def _with_block_ids(blocks: Any) -> Any:
    """A deep copy of `blocks` where every block has a block_id, as Slack stores them."""
    copied = copy.deepcopy(blocks)
    if isinstance(copied, list):
        for block in copied:
            if isinstance(block, dict) and "block_id" not in block:
                block["block_id"] = _random_block_id()
    return copied


def _summarise(call: Call) -> str:
    keys = ("channel", "user", "users", "user_id", "ts", "thread_ts", "view_id", "trigger_id")
    shown = {k: call.params[k] for k in keys if k in call.params}
    text = call.params.get("text")
    if isinstance(text, str):
        shown["text"] = text if len(text) <= 60 else text[:57] + "..."
    if "blocks" in call.params:
        blocks = call.params["blocks"]
        shown["blocks"] = f"<{len(blocks) if isinstance(blocks, list) else '?'} blocks>"
    outcome = "ok" if call.ok else f"error={call.response.get('error')}"
    return f"{call.method} -> {call.status} {outcome} {shown}"


# ============================================================================ the server


class FakeSlack:
    """The fake Slack: workspace state, Web API handlers, fault injection, call log.

    Runs an aiohttp server on 127.0.0.1 (free port) in the current event loop. Point an
    ``AsyncWebClient(token=fake.bot_token, base_url=fake.url)`` at it. All state is plain
    attributes so tests can set up and inspect it directly.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0TEAM",
        bot_user_id: str = "UBOT",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.app_id = API_APP_ID
        self.bot_name = "alignbot"

        self.calls: list[Call] = []
        self.users: dict[str, JSON] = {}
        self.channels: dict[str, JSON] = {}
        self.usergroups: dict[str, JSON] = {}
        self.messages: dict[str, list[JSON]] = {}
        self.ephemerals: list[JSON] = []
        self.views: dict[str, JSON] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, JSON] = {}

        self._open_dms: set[str] = set()
        self._view_keys: dict[str, str] = {}  # view id -> key in self.views
        self._used_triggers: set[str] = set()
        self._pending_uploads: dict[str, str] = {}  # upload token -> file id
        self._failures: dict[str, deque[SlackError]] = {}
        self._holds: dict[str, Hold] = {}
        self._ratelimits: dict[str, deque[int]] = {}
        self._limits: dict[str, int] = {}
        self._windows: dict[str, deque[float]] = {}
        # Every token Slack would accept -> the team it speaks for (several installs over OAuth).
        self.tokens: dict[str, str] = {bot_token: team_id}
        self.revoked_tokens: set[str] = set()
        self.client_id = "1111.2222"
        self.client_secret = "fake-client-secret"
        self._oauth_codes: dict[str, JSON] = {}  # code -> oauth.v2.access answer (single use)
        self._token_identity: dict[str, JSON] = {}  # token -> auth.test fields
        self._current_token = ""
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._origin: str | None = None

        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "team.info": self._team_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

        self.add_user(
            bot_user_id,
            name=self.bot_name,
            real_name="Alignbot",
            is_bot=True,
            tz="America/Los_Angeles",
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on 127.0.0.1 on a free port (read back into `url`)."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response_url/{name:.*}", self._handle_response_url)
        app.router.add_post("/upload/v1/{token}", self._handle_upload)
        app.router.add_get("/files-pri/{file_ref}/download/{name}", self._handle_download)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._origin = f"http://{host}:{port}"
        self._cond = asyncio.Condition()  # bound to the loop the server runs in

    def add_user_file(
        self, file_id: str, name: str, content: bytes, *, user: str
    ) -> dict[str, Any]:
        """A file a person shared (e.g. a CRM export DMed to the bot), as Slack describes it in
        `message` events; `url_private_download` serves the bytes to the bot's token only."""
        self.uploads[file_id] = content
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "filetype": name.rsplit(".", 1)[-1].lower(),
            "size": len(content),
            "user": user,
            "mode": "hosted",
            "url_private": f"{self._origin}/files-pri/{self.team_id}-{file_id}/{name}",
            "url_private_download": f"{self._origin}/files-pri/{self.team_id}-{file_id}/download/{name}",
        }

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        file_id = request.match_info["file_ref"].split("-", 1)[-1]
        call = Call("file_download", {"file": file_id}, dict(request.headers), 200, {})
        self.calls.append(call)
        if auth != f"Bearer {self.bot_token}":
            # Slack answers an unauthenticated download with its sign-in page, not the file.
            return web.Response(status=302, headers={"Location": "https://fake.slack.test/signin"})
        if file_id not in self.uploads:
            return web.Response(status=404, text="not found")
        return web.Response(body=self.uploads[file_id], content_type="application/octet-stream")

    async def stop(self) -> None:
        """Stop the server and close its connections."""
        for hold in self._holds.values():
            hold.release()  # a test that failed mid-race must not leave a call hanging
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._origin is None:
            raise RuntimeError("FakeSlack is not started: use `await fake.start()`")
        return self._origin

    @property
    def url(self) -> str:
        """Web API base URL ending in ``/api/`` (for ``AsyncWebClient(base_url=...)``)."""
        return f"{self.origin}/api/"

    def response_url(self, name: str = "x") -> str:
        """A response_url on this server; POSTs to it are recorded as method ``response_url``."""
        return f"{self.origin}/response_url/{name}"

    def dm_channel_id(self, user_id: str) -> str:
        """The bot's DM channel id with `user_id` (same rule as slack_payloads.dm_channel_id)."""
        return dm_channel_id(user_id)

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """Calls to `method` so far, in order (including failed and rate-limited ones)."""
        return [c for c in self.calls if c.method == method]

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        cond = self._condition()
        async with cond:
            cond.notify_all()

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 -- part of the agreed test API
    ) -> list[Call]:
        """Wait until at least `count` calls to `method` (matching `predicate`) exist.

        Event-driven: woken by each recorded call, no polling. Returns all matching calls.
        Counts failed/rate-limited calls too; use ``lambda c: c.ok`` to wait for successes.
        A predicate that raises KeyError/IndexError/TypeError/AttributeError on a call (say,
        ``c.params["thread_ts"]`` on a top-level post) simply does not match it.
        Raises AssertionError listing every call received so far on timeout.
        """

        def matches(call: Call) -> bool:
            if call.method != method:
                return False
            if predicate is None:
                return True
            try:
                return predicate(call)
            except (KeyError, IndexError, TypeError, AttributeError):
                return False  # e.g. a call without the param the predicate looks at

        def matching() -> list[Call]:
            return [c for c in self.calls if matches(c)]

        cond = self._condition()
        try:
            async with asyncio.timeout(timeout), cond:
                await cond.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            found = matching()
            lines = "\n".join(f"  {i}. {_summarise(c)}" for i, c in enumerate(self.calls, 1))
            what = f"{method}" + (" matching the predicate" if predicate else "")
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} call(s) to {what}; "
                f"{len(found)} matched. Calls received so far ({len(self.calls)}):\n"
                + (lines or "  (none)")
            ) from None
        return matching()

    async def assert_no_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        within: float = 0.3,
    ) -> None:
        """Fail if a matching call exists now or arrives within `within` seconds.

        Calls made before this was awaited count too (a bot that already posted is exactly
        what such an assertion is meant to catch); narrow with `predicate` if needed.
        """
        try:
            found = await self.wait_for(method, predicate, timeout=within)
        except AssertionError:
            return
        raise AssertionError(
            f"expected no call to {method}, got {len(found)}:\n"
            + "\n".join(f"  {_summarise(c)}" for c in found)
        )

    # ------------------------------------------------------------------ state setup

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "America/New_York",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> None:
        """Add (or replace) a workspace member, shaped like api.users.info.ok.json.

        `name` defaults to the lower-cased id, `real_name` to `name`. Without `email` the
        profile has no email field, as when the app lacks ``users:read.email``.
        """
        name = name or user_id.lower()
        real_name = real_name or name
        profile: JSON = {
            "avatar_hash": hashlib.md5(user_id.encode(), usedforsecurity=False).hexdigest()[:12],
            "display_name": name,
            "display_name_normalized": name,
            "real_name": real_name,
            "real_name_normalized": real_name,
            "first_name": real_name.split(" ")[0],
            "last_name": " ".join(real_name.split(" ")[1:]),
            "title": "",
            "phone": "",
            "skype": "",
            "status_emoji": "",
            "status_text": "",
            "image_24": f"{PERMALINK_HOST}/avatars/{user_id}_24.png",
            "image_48": f"{PERMALINK_HOST}/avatars/{user_id}_48.png",
            "image_72": f"{PERMALINK_HOST}/avatars/{user_id}_72.png",
            "image_192": f"{PERMALINK_HOST}/avatars/{user_id}_192.png",
            "image_512": f"{PERMALINK_HOST}/avatars/{user_id}_512.png",
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.bot_id if user_id == self.bot_user_id else "B" + user_id[1:]
            profile["api_app_id"] = self.app_id if user_id == self.bot_user_id else ""
            profile["always_active"] = False
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            **_tz_fields(tz),
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "is_email_confirmed": email is not None,
            "has_2fa": False,
        }

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        is_private: bool = False,
        bot_is_member: bool = True,
        members: list[str] | None = None,
    ) -> None:
        """Add a channel. `members` (optional) lists human members; None means everyone.

        The bot's own membership is controlled only by `bot_is_member` (and
        conversations.join), and is reflected in conversations.members.
        """
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_private": is_private,
            "bot_is_member": bot_is_member,
            "members": None if members is None else list(members),
            "created": int(time.time()),
            "is_mpim": False,
        }

    def add_usergroup(
        self, usergroup_id: str, *, handle: str, name: str, members: list[str]
    ) -> None:
        """Add a user group (``@handle``) with the given member ids."""
        now = int(time.time())
        self.usergroups[usergroup_id] = {
            "id": usergroup_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name,
            "description": "",
            "handle": handle,
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": 0,
            "auto_type": None,
            "auto_provision": False,
            "enterprise_subteam_id": "",
            "created_by": self.bot_user_id,
            "updated_by": self.bot_user_id,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": list(members),
            "user_count": len(members),
            "channel_count": 0,
        }

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int = 200,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Make the next `times` calls to `method` answer ``{"ok": false, "error": error}``.

        Applied after auth and rate limiting, before the method runs (so no state changes).
        Works for ``response_url`` too: the body is then the bare error text, as Slack's
        response_url endpoint answers (use e.g. ``status=404``).
        """
        queue = self._failures.setdefault(method, deque())
        for _ in range(times):
            queue.append(SlackError(error, status=status, extra=dict(extra or {})))

    def hold(self, method: str, *, times: int = 1) -> Hold:
        """Hold the next `times` calls to `method` until `Hold.release()` (see `Hold`)."""
        gate = Hold(method, times)
        self._holds[method] = gate
        return gate

    def ratelimit_next(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls to `method` with HTTP 429 + ``Retry-After`` like Slack."""
        queue = self._ratelimits.setdefault(method, deque())
        queue.extend([retry_after] * times)

    def enforce_rate_limits(self, per_minute: dict[str, int]) -> None:
        """Sliding 60 s window per method; over the limit -> 429 with a computed Retry-After.

        Only accepted calls count towards the window (Slack does not count rejected ones).
        Key ``"*"`` sets a default for every other method. Replaces any previous limits.
        """
        self._limits = dict(per_minute)
        self._windows = {}

    def _check_rate_limit(self, method: str) -> int | None:
        """Retry-After seconds if `method` is over its limit now, else None (and count it)."""
        queued = self._ratelimits.get(method)
        if queued:
            return queued.popleft()
        limit = self._limits.get(method, self._limits.get("*"))
        if limit is None:
            return None
        now = time.monotonic()
        window = self._windows.setdefault(method, deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + 60.0 - now))
        window.append(now)
        return None

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(
        self, request: web.Request
    ) -> tuple[JSON, str | None, SlackError | None]:
        """Merge query string + form/JSON body like Slack; returns (params, token, error)."""
        params: JSON = dict(request.query)
        token: str | None = params.get("token")
        error: SlackError | None = None
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    params.update(body)  # a "token" in a JSON body is not honoured by Slack
                else:
                    error = SlackError("invalid_json")
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = value.file.read()
                    else:
                        params[key] = value
                if "token" in form:
                    token = str(form["token"])
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        elif auth.startswith("Basic "):  # oauth.v2.access: client id and secret
            decoded = base64.b64decode(auth[len("Basic ") :].strip()).decode(errors="replace")
            client_id, _, client_secret = decoded.partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", client_secret)
        for key, err in _JSON_STRING_FIELDS.items():
            encoded = params.get(key)
            if isinstance(encoded, str):
                try:
                    params[key] = json.loads(encoded) if encoded.strip() else None
                except ValueError:
                    if error is None:
                        extra = _messages(f"[ERROR] invalid JSON {_ptr('/' + key)}")
                        error = SlackError(err, extra=extra if err == "invalid_arguments" else {})
        return params, token, error

    def _json_response(
        self, status: int, body: JSON, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            text=slack_json_dumps(body),
            status=status,
            content_type="application/json",
            charset="utf-8",
            headers=headers,
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, token, body_error = await self._read_params(request)
        headers = dict(request.headers)
        status, body, extra_headers = self._dispatch(method, params, token, body_error)
        gate = self._holds.get(method)
        if gate is not None and gate.remaining > 0:
            gate.remaining -= 1
            await gate._wait()
        await self._record(Call(method, params, headers, status, body, token=token or ""))
        return self._json_response(status, body, extra_headers)

    def _dispatch(
        self, method: str, params: JSON, token: str | None, body_error: SlackError | None
    ) -> tuple[int, JSON, dict[str, str]]:
        handler = self._methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if method == "oauth.v2.access":
            token = "oauth"  # authenticated by client id and secret, not by a token
        elif not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        elif token in self.revoked_tokens:
            return 200, {"ok": False, "error": "token_revoked"}, {}
        elif token not in self.tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        self._current_token = token
        retry_after = self._check_rate_limit(method)
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            return failure.status, failure.body(), {}
        if body_error is not None:
            return body_error.status, body_error.body(), {}
        try:
            return 200, {"ok": True, **handler(params)}, {}
        except SlackError as exc:
            return exc.status, exc.body(), {}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        """Slack's response_url endpoint: answers text ``ok`` (or a bare error text)."""
        name = request.match_info["name"]
        raw = await request.read()
        params: JSON
        try:
            parsed = json.loads(raw) if raw.strip() else {}
            params = parsed if isinstance(parsed, dict) else {"_body": parsed}
        except ValueError:
            form = await request.post()
            payload = form.get("payload")
            params = json.loads(str(payload)) if payload else {k: str(v) for k, v in form.items()}
        status, text = 200, "ok"
        failures = self._failures.get("response_url")
        if failures:
            failure = failures.popleft()
            status, text = failure.status, failure.error
        elif "blocks" in params and validate_blocks(params["blocks"], "message"):
            status, text = 400, "invalid_blocks"
        elif not (
            params.get("text")
            or params.get("blocks")
            or params.get("attachments")
            or params.get("delete_original")
        ):
            status, text = 400, "no_text"
        response: JSON = {"ok": True} if text == "ok" else {"ok": False, "error": text}
        await self._record(
            Call("response_url", params, dict(request.headers), status, response, path=name)
        )
        return web.Response(text=text, status=status, content_type="text/html")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The ``upload_url`` from files.getUploadURLExternal: accepts the raw bytes."""
        file_id = self._pending_uploads.get(request.match_info["token"])
        if file_id is None:
            return web.Response(text="not_found", status=404, content_type="text/plain")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field_value = form.get("file") or next(iter(form.values()), b"")
            if isinstance(field_value, web.FileField):
                data = field_value.file.read()
            else:
                data = str(field_value).encode()
        else:
            data = await request.read()
        self.uploads[file_id] = data
        del self._pending_uploads[request.match_info["token"]]
        await self._record(
            Call(
                "file_upload",
                {"file_id": file_id, "size": len(data)},
                dict(request.headers),
                200,
                {"ok": True},
                path=request.path,
            )
        )
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    # ------------------------------------------------------------------ id/ts helpers

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def _new_ts(self) -> str:
        """Unique, strictly increasing ``seconds.micros`` message timestamp."""
        now_us = time.time_ns() // 1000
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    def _bot_profile(self) -> JSON:
        return {
            "id": self.bot_id,
            "deleted": False,
            "name": self.bot_name,
            "updated": int(time.time()),
            "app_id": self.app_id,
            "icons": {"image_36": f"{PERMALINK_HOST}/bot_36.png"},
            "team_id": self.team_id,
        }

    # ------------------------------------------------------------------ conversation lookup

    def _user_or_error(self, user_id: str) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _dm_user(self, channel_id: str) -> str | None:
        """The user whose DM with the bot `channel_id` is, if it is one."""
        if channel_id.startswith("D") and channel_id[1:] in self.users:
            return channel_id[1:]
        return None

    def _find_channel(self, ref: str) -> str:
        """Resolve an id or ``#name`` to a known conversation id (no membership check)."""
        if not ref:
            raise SlackError("channel_not_found")
        if ref in self.channels or self._dm_user(ref):
            return ref
        name = ref.lstrip("#")
        for cid, ch in self.channels.items():
            if ch["name"] == name:
                return cid
        raise SlackError("channel_not_found")

    def _visible_channel(self, ref: str, *, need_member: bool) -> str:
        """A conversation the bot can see; private non-member channels are invisible."""
        cid = self._find_channel(ref)
        ch = self.channels.get(cid)
        if ch is not None and not ch["bot_is_member"]:
            if ch["is_private"]:
                raise SlackError("channel_not_found")
            if need_member:
                raise SlackError("not_in_channel")
        return cid

    def _post_target(self, ref: str) -> str:
        """Where chat.postMessage with channel=`ref` goes: a user id means the bot's DM."""
        if ref[:1] in ("U", "W") and ref in self.users:
            self._open_dms.add(ref)
            return dm_channel_id(ref)
        return self._visible_channel(ref, need_member=True)

    def _channel_members(self, cid: str) -> list[str]:
        dm_user = self._dm_user(cid)
        if dm_user is not None:
            return [dm_user, self.bot_user_id]
        ch = self.channels[cid]
        if ch["members"] is None:
            humans = [
                uid
                for uid, u in self.users.items()
                if not u["deleted"] and not u["is_bot"] and uid != self.bot_user_id
            ]
        else:
            humans = [uid for uid in ch["members"] if uid != self.bot_user_id]
        return humans + ([self.bot_user_id] if ch["bot_is_member"] else [])

    def _channel_object(self, cid: str, *, num_members: bool = False) -> JSON:
        dm_user = self._dm_user(cid)
        if dm_user is not None:
            return {
                "id": cid,
                "created": int(time.time()),
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": int(time.time() * 1000),
                "user": dm_user,
                "is_user_deleted": self.users[dm_user]["deleted"],
                "priority": 0,
            }
        ch = self.channels[cid]
        obj: JSON = {
            "id": cid,
            "name": ch["name"],
            "is_channel": not ch["is_private"],
            "is_group": False,
            "is_im": False,
            "is_mpim": ch["is_mpim"],
            "is_private": ch["is_private"],
            "created": ch["created"],
            "is_archived": False,
            "is_general": ch["name"] == "general",
            "unlinked": 0,
            "name_normalized": ch["name"],
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": ch["created"] * 1000,
            "parent_conversation": None,
            "creator": "",
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": ch["bot_is_member"],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }
        if num_members:
            obj["num_members"] = len(self._channel_members(cid))
        return obj

    def _find_message(self, cid: str, ts: str) -> JSON:
        for msg in self.messages.get(cid, []):
            if msg["ts"] == ts:
                return msg
        raise SlackError("message_not_found")

    # ------------------------------------------------------------------ message checks

    @staticmethod
    def _check_message_content(params: JSON, *, require_content: bool = True) -> None:
        blocks = params.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            errors = validate_blocks(blocks, "message")
            if errors:
                raise SlackError("invalid_blocks", extra={"errors": errors})
        text = params.get("text")
        if isinstance(text, str) and len(text) > 40_000:
            raise SlackError("msg_too_long")
        if require_content and not (text or blocks or params.get("attachments")):
            raise SlackError("no_text")

    # ------------------------------------------------------------------ auth / team

    def _auth_test(self, params: JSON) -> JSON:
        del params
        return {
            "url": f"{PERMALINK_HOST}/",
            "team": TEAM_NAME,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
            **self._token_identity.get(self._current_token, {}),
        }

    # ------------------------------------------------------------------ OAuth installs

    def add_install(
        self,
        code: str,
        *,
        team_id: str | None,
        bot_token: str,
        team_name: str = "Another Workspace",
        enterprise_id: str | None = None,
        enterprise_name: str = "Alignbot Test Org",
        is_enterprise_install: bool = False,
        installer: str = "U0INSTALLER",
        scope: str = "commands,chat:write",
    ) -> None:
        """Let `code` be exchanged once by oauth.v2.access for `bot_token`, as after a person
        clicks Allow. An org-wide install (``is_enterprise_install``) has no team."""
        bot_user_id = f"UBOT{len(self.tokens)}"
        self._oauth_codes[code] = {
            "access_token": bot_token,
            "token_type": "bot",
            "scope": scope,
            "bot_user_id": bot_user_id,
            "app_id": self.app_id,
            "team": None if team_id is None else {"name": team_name, "id": team_id},
            "enterprise": None
            if enterprise_id is None
            else {"name": enterprise_name, "id": enterprise_id},
            "is_enterprise_install": is_enterprise_install,
            "authed_user": {"id": installer},
        }
        self._token_identity[bot_token] = {
            "team_id": team_id,
            "team": team_name,
            "user_id": bot_user_id,
            "bot_id": "B" + bot_user_id[1:],
            "enterprise_id": enterprise_id,
            "is_enterprise_install": is_enterprise_install,
        }

    def revoke(self, token: str) -> None:
        """Slack answers ``token_revoked`` from now on, as after an uninstall."""
        self.revoked_tokens.add(token)

    def _oauth_v2_access(self, params: JSON) -> JSON:
        if params.get("client_id") != self.client_id or (
            params.get("client_secret") != self.client_secret
        ):
            raise SlackError("invalid_client_id")
        answer = self._oauth_codes.pop(str(params.get("code") or ""), None)
        if answer is None:
            raise SlackError("invalid_code")
        token = str(answer["access_token"])
        self.tokens[token] = str((answer.get("team") or {}).get("id") or "")
        return copy.deepcopy(answer)

    def _team_info(self, params: JSON) -> JSON:
        del params
        return {
            "team": {
                "id": self.team_id,
                "name": TEAM_NAME,
                "url": f"{PERMALINK_HOST}/",
                "domain": TEAM_DOMAIN,
                "email_domain": "",
                "icon": {"image_default": True},
            }
        }

    # ------------------------------------------------------------------ chat.*

    def _chat_post_message(self, params: JSON) -> JSON:
        cid = self._post_target(_s(params, "channel"))
        self._check_message_content(params)
        ts = self._new_ts()
        msg: JSON = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": _s(params, "text"),
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        for key in ("blocks",):
            if params.get(key) is not None:
                msg[key] = _with_block_ids(params[key])
        for key in ("attachments", "metadata", "username", "icon_emoji", "icon_url"):
            if params.get(key) is not None:
                msg[key] = copy.deepcopy(params[key])
        thread_ts = _s(params, "thread_ts")
        if thread_ts:
            msg["thread_ts"] = thread_ts
            for parent in self.messages.get(cid, []):
                if parent["ts"] == thread_ts:
                    msg["parent_user_id"] = parent.get("user", "")
                    parent["thread_ts"] = thread_ts
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    parent["latest_reply"] = ts
                    parent["reply_users"] = [self.bot_user_id]
                    parent["reply_users_count"] = 1
        self.messages.setdefault(cid, []).append(msg)
        return {"channel": cid, "ts": ts, "message": copy.deepcopy(msg)}

    def _chat_update(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=True)
        msg = self._find_message(cid, _s(params, "ts"))
        self._check_message_content(params)
        if params.get("text") is not None:
            msg["text"] = _s(params, "text")
        if params.get("blocks") is not None:
            msg["blocks"] = _with_block_ids(params["blocks"])
        if params.get("attachments") is not None:
            msg["attachments"] = copy.deepcopy(params["attachments"])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {"channel": cid, "ts": msg["ts"], "text": msg["text"], "message": copy.deepcopy(msg)}

    def _chat_post_ephemeral(self, params: JSON) -> JSON:
        user_id = _s(params, "user")
        if user_id not in self.users:
            raise SlackError("user_not_found")
        ref = _s(params, "channel")
        if ref[:1] in ("U", "W") and ref in self.users:
            cid = dm_channel_id(ref)
        else:
            cid = self._find_channel(ref)
            ch = self.channels.get(cid)
            if ch is not None and not ch["bot_is_member"]:
                raise SlackError("channel_not_found")
        if user_id not in self._channel_members(cid):
            raise SlackError("user_not_in_channel")
        self._check_message_content(params)
        ts = self._new_ts()
        self.ephemerals.append(
            {
                "channel": cid,
                "user": user_id,
                "ts": ts,
                "text": _s(params, "text"),
                "blocks": _with_block_ids(params.get("blocks") or []),
                "thread_ts": params.get("thread_ts"),
            }
        )
        return {"message_ts": ts}

    def _chat_get_permalink(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=False)
        msg = self._find_message(cid, _s(params, "message_ts"))
        link = f"{PERMALINK_HOST}/archives/{cid}/p{msg['ts'].replace('.', '')}"
        thread_ts = msg.get("thread_ts")
        if thread_ts and thread_ts != msg["ts"]:
            link += f"?thread_ts={thread_ts}&cid={cid}"
        return {"channel": cid, "permalink": link}

    def _chat_delete(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=True)
        msg = self._find_message(cid, _s(params, "ts"))
        self.messages[cid].remove(msg)
        return {"channel": cid, "ts": msg["ts"]}

    # ------------------------------------------------------------------ conversations.*

    def _conversations_join(self, params: JSON) -> JSON:
        cid = self._find_channel(_s(params, "channel"))
        ch = self.channels.get(cid)
        if ch is None or ch["is_private"]:
            raise SlackError("method_not_supported_for_channel_type")
        result: JSON = {}
        if ch["bot_is_member"]:
            result = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        ch["bot_is_member"] = True
        return {"channel": self._channel_object(cid), **result}

    def _conversations_open(self, params: JSON) -> JSON:
        users = _id_list(params.get("users"))
        if not users and params.get("channel"):
            cid = self._visible_channel(_s(params, "channel"), need_member=True)
            return {
                "channel": self._channel_object(cid) if _flag(params, "return_im") else {"id": cid}
            }
        if not users:
            raise SlackError("users_list_not_supplied")
        for uid in users:
            if uid not in self.users:
                raise SlackError("user_not_found")
        if len(users) > 8:
            raise SlackError("too_many_users")
        if len(users) == 1:
            uid = users[0]
            cid = dm_channel_id(uid)
            already = uid in self._open_dms
            self._open_dms.add(uid)
        else:
            digest = hashlib.sha1(",".join(sorted(users)).encode(), usedforsecurity=False)
            cid = "G" + digest.hexdigest()[:10].upper()
            if cid not in self.channels:
                self.add_channel(cid, name="mpdm-" + "--".join(sorted(users)) + "-1", members=users)
                self.channels[cid].update(is_private=True, is_mpim=True)
            already = False
        channel = self._channel_object(cid) if _flag(params, "return_im") else {"id": cid}
        result: JSON = {"channel": channel}
        if already:
            result.update(no_op=True, already_open=True)
        return result

    def _conversations_info(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=False)
        return {
            "channel": self._channel_object(cid, num_members=_flag(params, "include_num_members"))
        }

    def _conversations_members(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=False)
        members = self._channel_members(cid)
        page, cursor = _paginate(members, str, "member", params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_list(self, params: JSON) -> JSON:
        types = _id_list(params.get("types")) or ["public_channel"]
        found: list[JSON] = []
        for cid, ch in self.channels.items():
            if ch["is_mpim"]:
                if "mpim" in types and ch["bot_is_member"]:
                    found.append(self._channel_object(cid))
            elif ch["is_private"]:
                if "private_channel" in types and ch["bot_is_member"]:
                    found.append(self._channel_object(cid))
            elif "public_channel" in types:
                found.append(self._channel_object(cid))
        if "im" in types:
            found.extend(self._channel_object(dm_channel_id(uid)) for uid in sorted(self._open_dms))
        page, cursor = _paginate(found, lambda c: str(c["id"]), "channel", params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_history(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=True)
        oldest = float(_s(params, "oldest") or 0)
        latest = float(_s(params, "latest") or "inf")
        top = [
            m
            for m in self.messages.get(cid, [])
            if m.get("thread_ts") in (None, m["ts"]) and oldest < float(m["ts"]) <= latest
        ]
        newest_first = list(reversed(top))
        limit = _int(params, "limit", 100) or 100
        messages = copy.deepcopy(newest_first[:limit])
        if not _flag(params, "include_all_metadata"):
            for message in messages:  # as Slack: message metadata only when asked for
                message.pop("metadata", None)
        return {
            "messages": messages,
            "has_more": len(newest_first) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, params: JSON) -> JSON:
        cid = self._visible_channel(_s(params, "channel"), need_member=True)
        ts = _s(params, "ts")
        thread = [
            m for m in self.messages.get(cid, []) if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            raise SlackError("thread_not_found")
        return {
            "messages": copy.deepcopy(thread),
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    # ------------------------------------------------------------------ users.* / usergroups.*

    def _users_info(self, params: JSON) -> JSON:
        user = copy.deepcopy(self._user_or_error(_s(params, "user")))
        if _flag(params, "include_locale"):
            user["locale"] = "en-US"
        return {"user": user}

    def _users_list(self, params: JSON) -> JSON:
        members = [copy.deepcopy(u) for u in self.users.values()]
        page, cursor = _paginate(members, lambda u: str(u["id"]), "user", params)
        return {
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_lookup_by_email(self, params: JSON) -> JSON:
        email = _s(params, "email").lower()
        for user in self.users.values():
            if str(user["profile"].get("email", "")).lower() == email and email:
                return {"user": copy.deepcopy(user)}
        raise SlackError("users_not_found")

    def _usergroups_list(self, params: JSON) -> JSON:
        groups = []
        for group in self.usergroups.values():
            shown = copy.deepcopy(group)
            if not _flag(params, "include_users"):
                shown.pop("users")
            groups.append(shown)
        return {"usergroups": groups}

    def _usergroups_users_list(self, params: JSON) -> JSON:
        group = self.usergroups.get(_s(params, "usergroup"))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group["users"])}

    # ------------------------------------------------------------------ views.*

    def _check_view(self, params: JSON, allowed_types: tuple[str, ...]) -> JSON:
        view = params.get("view")
        if view is None:
            raise SlackError(
                "invalid_arguments", extra=_messages(f"[ERROR] {_missing('', 'view')}")
            )
        errors = validate_view(view, allowed_types=allowed_types)
        if errors:
            raise SlackError("invalid_arguments", extra=_messages(*errors))
        assert isinstance(view, dict)
        return view

    def _use_trigger(self, params: JSON) -> None:
        trigger_id = _s(params, "trigger_id")
        if not trigger_id:
            raise SlackError(
                "invalid_arguments", extra=_messages(f"[ERROR] {_missing('', 'trigger_id')}")
            )
        if "expired" in trigger_id:
            raise SlackError("expired_trigger_id")
        if "invalid" in trigger_id:
            raise SlackError("invalid_arguments", extra=_messages("invalid `trigger_id`"))
        if trigger_id in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        self._used_triggers.add(trigger_id)

    def _build_view(self, spec: JSON, view_id: str, root_view_id: str | None) -> JSON:
        view: JSON = {
            "id": view_id,
            "team_id": self.team_id,
            "type": spec["type"],
            "blocks": _with_block_ids(spec.get("blocks") or []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": copy.deepcopy(spec.get("title")),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": copy.deepcopy(spec.get("close")),
            "submit": copy.deepcopy(spec.get("submit")),
            "previous_view_id": None,
            "root_view_id": root_view_id or view_id,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if spec["type"] == "home":
            view.pop("title")
        return view

    def _check_external_id(self, spec: JSON, own_id: str | None) -> None:
        external_id = spec.get("external_id")
        if not external_id:
            return
        for view in self.views.values():
            if view.get("external_id") == external_id and view["id"] != own_id:
                raise SlackError("duplicate_external_id")

    def _store_view(self, key: str, view: JSON) -> JSON:
        self.views[key] = view
        self._view_keys[view["id"]] = key
        return {"view": copy.deepcopy(view)}

    def _views_open(self, params: JSON) -> JSON:
        self._use_trigger(params)
        spec = self._check_view(params, ("modal",))
        self._check_external_id(spec, None)
        view_id = self._new_id("V")
        return self._store_view(view_id, self._build_view(spec, view_id, None))

    def _views_push(self, params: JSON) -> JSON:
        self._use_trigger(params)
        spec = self._check_view(params, ("modal",))
        self._check_external_id(spec, None)
        view_id = self._new_id("V")
        return self._store_view(view_id, self._build_view(spec, view_id, None))

    def _views_update(self, params: JSON) -> JSON:
        view_id = _s(params, "view_id")
        external_id = _s(params, "external_id")
        if not view_id and not external_id:
            raise SlackError(
                "invalid_arguments", extra=_messages(f"[ERROR] {_missing('', 'view_id')}")
            )
        key = self._view_keys.get(view_id) if view_id else None
        if key is None and external_id:
            key = next(
                (k for k, v in self.views.items() if v.get("external_id") == external_id), None
            )
        if key is None:
            raise SlackError("not_found")
        current = self.views[key]
        spec = self._check_view(params, (current["type"],))
        given_hash = _s(params, "hash")
        if given_hash and given_hash != current["hash"]:
            raise SlackError("hash_conflict")
        self._check_external_id(spec, current["id"])
        updated = self._build_view(spec, current["id"], current["root_view_id"])
        updated["previous_view_id"] = current["previous_view_id"]
        return self._store_view(key, updated)

    def _views_publish(self, params: JSON) -> JSON:
        user_id = _s(params, "user_id")
        self._user_or_error(user_id)
        spec = self._check_view(params, ("home",))
        current = self.views.get(user_id)
        given_hash = _s(params, "hash")
        if current is not None and given_hash and given_hash != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current is not None else self._new_id("V")
        return self._store_view(user_id, self._build_view(spec, view_id, None))

    # ------------------------------------------------------------------ files.*

    def _files_get_upload_url(self, params: JSON) -> JSON:
        filename = _s(params, "filename")
        if not filename:
            raise SlackError(
                "invalid_arguments", extra=_messages(f"[ERROR] {_missing('', 'filename')}")
            )
        length = _int(params, "length", -1)
        if length < 0:
            raise SlackError(
                "invalid_arguments", extra=_messages(f"[ERROR] {_missing('', 'length')}")
            )
        file_id = self._new_id("F")
        token = secrets.token_urlsafe(24)
        self._pending_uploads[token] = file_id
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "length": length,
            "alt_txt": _s(params, "alt_txt"),
        }
        return {"upload_url": f"{self.origin}/upload/v1/{token}", "file_id": file_id}

    def _file_object(self, file_id: str, title: str) -> JSON:
        meta = self.files[file_id]
        name = meta["name"]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        now = int(time.time())
        return {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title or name,
            "mimetype": "text/plain"
            if ext in ("txt", "text", "csv")
            else "application/octet-stream",
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(self.uploads.get(file_id, b"")),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{PERMALINK_HOST}/files-pri/{self.team_id}-{file_id}/{name}",
            "url_private_download": (
                f"{PERMALINK_HOST}/files-pri/{self.team_id}-{file_id}/download/{name}"
            ),
            "permalink": f"{PERMALINK_HOST}/files/{self.bot_user_id}/{file_id}/{name}",
            "permalink_public": f"{PERMALINK_HOST}/{self.team_id}-{file_id}-{secrets.token_hex(5)}",
            "alt_txt": meta.get("alt_txt", ""),
            "comments_count": 0,
            "is_starred": False,
            "shares": {},
            "channels": [],
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def _files_complete_upload(self, params: JSON) -> JSON:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", extra=_messages("[ERROR] missing files"))
        targets = _id_list(params.get("channels")) or _id_list(params.get("channel_id"))
        channel_ids = [self._post_target(t) for t in targets]
        objects: list[JSON] = []
        for entry in entries:
            file_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
            if file_id not in self.files or file_id not in self.uploads:
                raise SlackError("file_not_found")
            title = str(entry.get("title") or "")
            objects.append(self._file_object(file_id, title))
        for cid in channel_ids:
            msg: JSON = {
                "user": self.bot_user_id,
                "type": "message",
                "ts": self._new_ts(),
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "text": _s(params, "initial_comment"),
                "team": self.team_id,
                "files": copy.deepcopy(objects),
                "upload": True,
                "display_as_bot": False,
            }
            if params.get("thread_ts"):
                msg["thread_ts"] = _s(params, "thread_ts")
            self.messages.setdefault(cid, []).append(msg)
        return {"files": objects}
