"""chat.*: posting, updating, ephemeral messages, permalinks, deletes."""

from __future__ import annotations

import copy

from sandbox.fakeslack.blockkit import validate_blocks
from sandbox.fakeslack.calls import JSON, SlackError
from sandbox.fakeslack.state import PERMALINK_HOST, SlackState, param_str, with_block_ids
from sandbox.slack_payloads import dm_channel_id


class ChatAPI(SlackState):
    """chat.* methods."""

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

    def _chat_post_message(self, params: JSON) -> JSON:
        cid = self._post_target(param_str(params, "channel"))
        self._check_message_content(params)
        ts = self._new_ts()
        msg: JSON = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": param_str(params, "text"),
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        for key in ("blocks",):
            if params.get(key) is not None:
                msg[key] = with_block_ids(params[key])
        for key in ("attachments", "metadata", "username", "icon_emoji", "icon_url"):
            if params.get(key) is not None:
                msg[key] = copy.deepcopy(params[key])
        thread_ts = param_str(params, "thread_ts")
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
        cid = self._visible_channel(param_str(params, "channel"), need_member=True)
        msg = self._find_message(cid, param_str(params, "ts"))
        self._check_message_content(params)
        if params.get("text") is not None:
            msg["text"] = param_str(params, "text")
        if params.get("blocks") is not None:
            msg["blocks"] = with_block_ids(params["blocks"])
        if params.get("attachments") is not None:
            msg["attachments"] = copy.deepcopy(params["attachments"])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {"channel": cid, "ts": msg["ts"], "text": msg["text"], "message": copy.deepcopy(msg)}

    def _chat_post_ephemeral(self, params: JSON) -> JSON:
        user_id = param_str(params, "user")
        if user_id not in self.users:
            raise SlackError("user_not_found")
        ref = param_str(params, "channel")
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
                "text": param_str(params, "text"),
                "blocks": with_block_ids(params.get("blocks") or []),
                "thread_ts": params.get("thread_ts"),
            }
        )
        return {"message_ts": ts}

    def _chat_get_permalink(self, params: JSON) -> JSON:
        cid = self._visible_channel(param_str(params, "channel"), need_member=False)
        msg = self._find_message(cid, param_str(params, "message_ts"))
        link = f"{PERMALINK_HOST}/archives/{cid}/p{msg['ts'].replace('.', '')}"
        thread_ts = msg.get("thread_ts")
        if thread_ts and thread_ts != msg["ts"]:
            link += f"?thread_ts={thread_ts}&cid={cid}"
        return {"channel": cid, "permalink": link}

    def _chat_delete(self, params: JSON) -> JSON:
        cid = self._visible_channel(param_str(params, "channel"), need_member=True)
        msg = self._find_message(cid, param_str(params, "ts"))
        self.messages[cid].remove(msg)
        return {"channel": cid, "ts": msg["ts"]}
