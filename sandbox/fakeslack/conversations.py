"""conversations.*: join, open, info, members, list, history, replies."""

from __future__ import annotations

import copy
import hashlib

from sandbox.fakeslack.calls import JSON, SlackError
from sandbox.fakeslack.state import (
    SlackState,
    id_list,
    paginate,
    param_flag,
    param_int,
    param_str,
)
from sandbox.slack_payloads import dm_channel_id


class ConversationsAPI(SlackState):
    """conversations.* methods."""

    def _conversations_join(self, params: JSON) -> JSON:
        cid = self._find_channel(param_str(params, "channel"))
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
        users = id_list(params.get("users"))
        if not users and params.get("channel"):
            cid = self._visible_channel(param_str(params, "channel"), need_member=True)
            return {
                "channel": self._channel_object(cid)
                if param_flag(params, "return_im")
                else {"id": cid}
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
        channel = self._channel_object(cid) if param_flag(params, "return_im") else {"id": cid}
        result: JSON = {"channel": channel}
        if already:
            result.update(no_op=True, already_open=True)
        return result

    def _conversations_info(self, params: JSON) -> JSON:
        cid = self._visible_channel(param_str(params, "channel"), need_member=False)
        return {
            "channel": self._channel_object(
                cid, num_members=param_flag(params, "include_num_members")
            )
        }

    def _conversations_members(self, params: JSON) -> JSON:
        cid = self._visible_channel(param_str(params, "channel"), need_member=False)
        members = self._channel_members(cid)
        page, cursor = paginate(members, str, "member", params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_list(self, params: JSON) -> JSON:
        types = id_list(params.get("types")) or ["public_channel"]
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
        page, cursor = paginate(found, lambda c: str(c["id"]), "channel", params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_history(self, params: JSON) -> JSON:
        cid = self._visible_channel(param_str(params, "channel"), need_member=True)
        oldest = float(param_str(params, "oldest") or 0)
        latest = float(param_str(params, "latest") or "inf")
        top = [
            m
            for m in self.messages.get(cid, [])
            if m.get("thread_ts") in (None, m["ts"]) and oldest < float(m["ts"]) <= latest
        ]
        newest_first = list(reversed(top))
        limit = param_int(params, "limit", 100) or 100
        messages = copy.deepcopy(newest_first[:limit])
        if not param_flag(params, "include_all_metadata"):
            for message in messages:  # as Slack: message metadata only when asked for
                message.pop("metadata", None)
        return {
            "messages": messages,
            "has_more": len(newest_first) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, params: JSON) -> JSON:
        cid = self._visible_channel(param_str(params, "channel"), need_member=True)
        ts = param_str(params, "ts")
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
