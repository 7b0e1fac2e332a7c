"""The fake workspace's state and the lookups every Web API family shares."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.fakeslack.calls import JSON, Call, SlackError
from sandbox.slack_payloads import API_APP_ID, dm_channel_id

if TYPE_CHECKING:
    from sandbox.fakeslack.faults import Hold

PERMALINK_HOST = "https://fake.slack.test"
TEAM_NAME = "Alignbot Test"

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


def param_str(params: JSON, key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value)


def param_int(params: JSON, key: str, default: int) -> int:
    value = params.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments", extra=error_messages(f"invalid {key}")) from None


def param_flag(params: JSON, key: str) -> bool:
    return params.get(key) in (True, 1, "1", "true", "True")


def id_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def error_messages(*messages: str) -> JSON:
    return {"response_metadata": {"messages": list(messages)}}


def encode_cursor(kind: str, key: str) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def paginate(
    items: list[Any], key: Callable[[Any], str], kind: str, params: JSON
) -> tuple[list[Any], str]:
    """Slack cursor pagination: ``cursor`` = base64("<kind>:<first id of page>")."""
    limit = param_int(params, "limit", 0)
    cursor = param_str(params, "cursor")
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
    return page, (encode_cursor(kind, key(rest[0])) if rest else "")


def tz_fields(tz: str) -> JSON:
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


def random_block_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))


def with_block_ids(blocks: Any) -> Any:
    """A deep copy of `blocks` where every block has a block_id, as Slack stores them."""
    copied = copy.deepcopy(blocks)
    if isinstance(copied, list):
        for block in copied:
            if isinstance(block, dict) and "block_id" not in block:
                block["block_id"] = random_block_id()
    return copied


class SlackState:
    """The workspace as Slack knows it: members, channels, groups, messages, views, files, tokens.

    Plain attributes, so tests can arrange and inspect them directly; the Web API mixins read
    and change them.
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
        # Called with each recorded call, after the state changed (the sandbox's live page).
        self.observers: list[Callable[[Call], None]] = []
        # Where message timestamps come from (the sandbox's time travel moves it).
        self.now_ns: Callable[[], int] = time.time_ns
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
        self._lost_answers: dict[str, int] = {}
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
        self.token_expires_at: dict[str, float] = {}  # rotating token -> when Slack refuses it
        self._refresh_tokens: dict[str, JSON] = {}  # refresh token -> the grant it renews (once)
        self.org_teams: dict[str, list[JSON]] = {}  # enterprise id -> its workspaces
        self._current_token = ""
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._cond: asyncio.Condition | None = None
        self._origin: str | None = None

        self.add_user(
            bot_user_id,
            name=self.bot_name,
            real_name="Alignbot",
            is_bot=True,
            tz="America/Los_Angeles",
        )

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
            **tz_fields(tz),
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

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def _new_ts(self) -> str:
        """Unique, strictly increasing ``seconds.micros`` message timestamp."""
        now_us = self.now_ns() // 1000
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
