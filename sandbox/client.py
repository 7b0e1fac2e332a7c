"""Slack's client side, played by the sandbox: what a person types or clicks on the page becomes
the signed request Slack would send the bot, and what the bot sends back (an ack body, a POST to
a response_url, a view to open) becomes what that person sees.

The fake Slack Web API (`sandbox.fakeslack`) keeps channels, messages, ephemerals and views;
this module keeps only what Slack's own client would: whose modal is on top, which
response_url belongs to which message, the errors shown on a modal's fields, and a red banner
for every call Slack would have refused.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from sandbox.fakeslack import Call, FakeSlack
from sandbox.fakeslack.calls import SlackError
from sandbox.slack_payloads import (
    SlackSender,
    app_home_opened,
    block_actions,
    event_callback,
    message_shortcut,
    view_submission,
)
from sandbox.slack_payloads.sender import Response
from sandbox.slack_payloads.wire import new_trigger_id
from sandbox.view_state import state_values

JSON = dict[str, Any]

COMMANDS: Final = ("/mktg", "/align")
SHORTCUT_CALLBACK_ID: Final = "send_to_marketing_support"
# Errors that mean "Slack would not accept what the bot sent": shown as a red banner.
REJECTIONS: Final = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_attachments",
        "invalid_metadata_format",
        "msg_too_long",
        "no_text",
        "not_found",
        "hash_conflict",
        "duplicate_external_id",
    }
)
MAX_BANNERS: Final = 20


@dataclass(frozen=True)
class Origin:
    """Where a response_url answers: a person, a channel, and the message clicked (if any)."""

    user_id: str
    channel_id: str
    message_ts: str | None = None
    ephemeral: bool = False


class SandboxSlack:
    """The people's side of the sandbox: turns page input into signed requests and keeps what
    Slack's client shows that the Web API does not (modal stacks, field errors, banners)."""

    def __init__(self, fake: FakeSlack, sender: SlackSender, *, team_id: str) -> None:
        self.fake = fake
        self.sender = sender
        self.team_id = team_id
        self.modals: dict[str, list[str]] = {}  # user -> stack of open view ids, top last
        self.view_errors: dict[str, dict[str, str]] = {}  # view id -> block id -> message
        self.banners: deque[str] = deque(maxlen=MAX_BANNERS)
        self.version = 0
        self._origins: dict[str, Origin] = {}
        self._trigger_owner: dict[str, str] = {}
        self._changed = asyncio.Condition()
        self._notifying: set[asyncio.Task[None]] = set()
        fake.observers.append(self._observe)

    # ------------------------------------------------------------------ change feed

    def _bump(self) -> None:
        self.version += 1
        task = asyncio.get_running_loop().create_task(self._notify())
        self._notifying.add(task)  # held until done, so it is not collected mid-way
        task.add_done_callback(self._notifying.discard)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_change(self, seen: int, timeout: float) -> int:  # noqa: ASYNC109
        """The version once it differs from `seen`, or `seen` after `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: self.version != seen)
        except TimeoutError:
            pass
        return self.version

    def _observe(self, call: Call) -> None:
        if call.method == "response_url":
            origin = self._origins.get(call.path or "")
            if call.ok and origin is not None:
                self._answer(origin, call.params)
        elif call.ok and call.method in ("views.open", "views.push"):
            owner = self._trigger_owner.pop(str(call.params.get("trigger_id")), None)
            if owner is not None:
                stack = self.modals.setdefault(owner, [])
                if call.method == "views.open":
                    stack.clear()
                stack.append(str(call.response["view"]["id"]))
        if not call.ok:
            self._reject(call.method, call.response)
        self._bump()

    def _reject(self, method: str, body: JSON) -> None:
        error = str(body.get("error", ""))
        if error not in REJECTIONS:
            return
        details = body.get("response_metadata", {}).get("messages") or []
        self.banners.append(
            f"Slack would refuse the bot's {method}: {error}"
            + (f" — {'; '.join(str(line) for line in details[:3])}" if details else "")
        )

    def dismiss_banners(self) -> None:
        self.banners.clear()
        self._bump()

    # ------------------------------------------------------------------ answers

    def _new_response_url(self, origin: Origin) -> str:
        name = f"sandbox-{secrets.token_hex(8)}"
        self._origins[name] = origin
        return self.fake.response_url(name)

    def _new_trigger(self, user_id: str) -> str:
        trigger_id = new_trigger_id()
        self._trigger_owner[trigger_id] = user_id
        return trigger_id

    def _answer(self, origin: Origin, message: JSON, *, author: str | None = None) -> None:
        """What Slack does with a message sent to a response_url (or in an ack's body)."""
        if message.get("delete_original"):
            self._replace(origin, None)
            return
        if message.get("replace_original") and origin.message_ts is not None:
            self._replace(origin, message)
            return
        if message.get("response_type") == "in_channel":
            self.fake.messages.setdefault(origin.channel_id, []).append(self._bot_message(message))
            return
        self.fake.ephemerals.append(
            {
                "channel": origin.channel_id,
                "user": origin.user_id,
                "ts": self.fake._new_ts(),
                "text": str(message.get("text") or ""),
                "blocks": copy.deepcopy(message.get("blocks") or []),
                "thread_ts": None,
                **({"author": author} if author else {}),
            }
        )

    def _bot_message(self, message: JSON) -> JSON:
        return {
            "type": "message",
            "user": self.fake.bot_user_id,
            "bot_id": self.fake.bot_id,
            "ts": self.fake._new_ts(),
            "text": str(message.get("text") or ""),
            "blocks": copy.deepcopy(message.get("blocks") or []),
        }

    def _replace(self, origin: Origin, message: JSON | None) -> None:
        if origin.ephemeral:
            found = [
                e
                for e in self.fake.ephemerals
                if e["ts"] == origin.message_ts and e["user"] == origin.user_id
            ]
            for entry in found:
                if message is None:
                    self.fake.ephemerals.remove(entry)
                else:
                    entry["text"] = str(message.get("text") or "")
                    entry["blocks"] = copy.deepcopy(message.get("blocks") or [])
            return
        messages = self.fake.messages.get(origin.channel_id, [])
        for stored in list(messages):
            if stored["ts"] != origin.message_ts:
                continue
            if message is None:
                messages.remove(stored)
            else:
                stored["text"] = str(message.get("text") or "")
                stored["blocks"] = copy.deepcopy(message.get("blocks") or [])
                stored["edited"] = {"user": self.fake.bot_user_id, "ts": self.fake._new_ts()}

    def _bot_failed(self, what: str, response: Response) -> None:
        if response.status != 200:
            self.banners.append(
                f"The bot answered {what} with HTTP {response.status}: in Slack the person "
                "would see an error (for example “/mktg failed with the error …”)."
            )

    # ------------------------------------------------------------------ people's input

    def user_name(self, user_id: str) -> str:
        user = self.fake.users.get(user_id, {})
        return str(user.get("name") or user_id.lower())

    async def compose(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> None:
        """The composer's Enter: a slash command, or a message posted to the conversation."""
        text = text.strip()
        if not text:
            return
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            await self._command(user_id, channel_id, command.lower(), rest.strip())
        else:
            await self._post_as_person(user_id, channel_id, text, thread_ts)
        self._bump()

    async def _command(self, user_id: str, channel_id: str, command: str, text: str) -> None:
        origin = Origin(user_id, channel_id)
        if command not in COMMANDS:
            # What Slack itself answers for a command no app in the workspace has.
            self._answer(
                origin,
                {
                    "text": f"`{command}` is not a valid command. In Slack, all messages that "
                    "start with the “/” character are interpreted as commands."
                },
                author="Slackbot",
            )
            return
        channel = self.fake.channels.get(channel_id)
        response = await self.sender.command(
            command,
            text,
            user_id=user_id,
            team_id=self.team_id,
            channel_id=channel_id,
            channel_name=str(channel["name"]) if channel else "directmessage",
            trigger_id=self._new_trigger(user_id),
            response_url=self._new_response_url(origin),
            user_name=self.user_name(user_id),
        )
        self._bot_failed(command, response)
        if response.status == 200 and response.message:
            self._answer(origin, response.message)

    async def _post_as_person(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None
    ) -> None:
        ts = self.fake._new_ts()
        message: JSON = {
            "type": "message",
            "user": user_id,
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "client_msg_id": secrets.token_hex(16),
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.fake.messages.setdefault(channel_id, []).append(message)
        event = {
            **message,
            "channel": channel_id,
            "event_ts": ts,
            "channel_type": "im" if channel_id.startswith("D") else "channel",
        }
        response = await self.sender.event(event_callback(event, team_id=self.team_id))
        self._bot_failed("a message event", response)

    async def open_home(self, user_id: str) -> None:
        """The App Home tab was opened: Slack sends app_home_opened (with the current view)."""
        current = self.fake.views.get(user_id)
        response = await self.sender.event(
            app_home_opened(user_id, team_id=self.team_id, view=copy.deepcopy(current))
        )
        self._bot_failed("app_home_opened", response)
        self._bump()

    async def click(
        self,
        user_id: str,
        *,
        action_id: str,
        block_id: str,
        action_type: str,
        value: str | None,
        raw: Any,
        container: JSON,
    ) -> None:
        """A button, select, overflow option… in a message, a modal or App Home."""
        kind = container.get("type")
        view = self._container_view(user_id, container)
        element = find_element(
            view["blocks"] if view else self._blocks_of(container), block_id, action_id
        )
        selected = selected_for(element, action_type, raw) if element else None
        action_value = value if action_type in ("button", "overflow") else None
        if view is not None:
            values = state_values(view, container.get("values") or {})
            payload = block_actions(
                action_id,
                action_value,
                user_id=user_id,
                team_id=self.team_id,
                block_id=block_id,
                action_type=action_type,
                selected=selected,
                view={**copy.deepcopy(view), "state": {"values": values}},
                trigger_id=self._new_trigger(user_id),
                user_name=self.user_name(user_id),
            )
            view["state"] = {"values": values}
        else:
            channel_id = str(container.get("channel"))
            ts = str(container.get("ts"))
            ephemeral = bool(container.get("ephemeral"))
            message = None if ephemeral else self._find_message(channel_id, ts)
            payload = block_actions(
                action_id,
                action_value,
                user_id=user_id,
                team_id=self.team_id,
                channel_id=channel_id,
                message_ts=ts,
                block_id=block_id,
                action_type=action_type,
                selected=selected,
                trigger_id=self._new_trigger(user_id),
                response_url=self._new_response_url(Origin(user_id, channel_id, ts, ephemeral)),
                message=copy.deepcopy(message),
                user_name=self.user_name(user_id),
            )
            if ephemeral:
                payload["container"]["is_ephemeral"] = True
                payload.pop("message", None)
        if isinstance(payload["actions"][0].get("text"), dict) and element is not None:
            payload["actions"][0]["text"] = copy.deepcopy(element.get("text"))
        response = await self.sender.action(payload)
        self._bot_failed(f"the {action_id} {kind} action", response)
        self._bump()

    def _container_view(self, user_id: str, container: JSON) -> JSON | None:
        if container.get("type") == "home":
            return self.fake.views.get(user_id)
        if container.get("type") == "view":
            return self.view(str(container.get("view_id")))
        return None

    def _blocks_of(self, container: JSON) -> list[Any]:
        channel_id, ts = str(container.get("channel")), str(container.get("ts"))
        if container.get("ephemeral"):
            for entry in self.fake.ephemerals:
                if entry["ts"] == ts:
                    return list(entry.get("blocks") or [])
            return []
        message = self._find_message(channel_id, ts)
        return list(message.get("blocks") or []) if message else []

    def _find_message(self, channel_id: str, ts: str) -> JSON | None:
        for message in self.fake.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        return None

    def view(self, view_id: str) -> JSON | None:
        key = self.fake._view_keys.get(view_id)
        return self.fake.views.get(key) if key is not None else None

    def top_modal(self, user_id: str) -> JSON | None:
        stack = self.modals.get(user_id) or []
        while stack and self.view(stack[-1]) is None:
            stack.pop()
        return self.view(stack[-1]) if stack else None

    async def submit(self, user_id: str, view_id: str, raw_values: JSON) -> None:
        """The modal's submit button: a view_submission, then what its response_action says."""
        view = self.view(view_id)
        if view is None:
            return
        values = state_values(view, raw_values)
        view["state"] = {"values": values}
        payload = view_submission(
            str(view.get("callback_id") or ""),
            values,
            user_id=user_id,
            team_id=self.team_id,
            view_id=view_id,
            trigger_id=self._new_trigger(user_id),
            user_name=self.user_name(user_id),
        )
        payload["view"] = {**copy.deepcopy(view), "state": {"values": values}}
        response = await self.sender.submit(payload)
        self._bot_failed("the modal's submission", response)
        if response.status == 200:
            self._after_submission(user_id, view, response.json)
        self._bump()

    def _after_submission(self, user_id: str, view: JSON, answer: Any) -> None:
        stack = self.modals.setdefault(user_id, [])
        action = answer.get("response_action") if isinstance(answer, dict) else None
        if action == "errors":
            self.view_errors[view["id"]] = {
                str(block): str(message) for block, message in (answer.get("errors") or {}).items()
            }
            return
        self.view_errors.pop(view["id"], None)
        try:
            if action == "update":
                self.fake._views_update({"view_id": view["id"], "view": answer.get("view")})
                return
            if action == "push":
                trigger = self._new_trigger(user_id)
                pushed = self.fake._views_push({"trigger_id": trigger, "view": answer.get("view")})
                self._trigger_owner.pop(trigger, None)
                stack.append(str(pushed["view"]["id"]))
                return
        except SlackError as error:
            self._reject(f"view_submission response_action {action}", error.body())
            return
        if action == "clear":
            stack.clear()
        elif stack and stack[-1] == view["id"]:
            stack.pop()

    async def close(self, user_id: str, view_id: str) -> None:
        """The modal's Cancel: back to the view below, and view_closed if the bot asked."""
        view = self.view(view_id)
        stack = self.modals.setdefault(user_id, [])
        if stack and stack[-1] == view_id:
            stack.pop()
        if view is not None and view.get("notify_on_close"):
            payload = {
                "type": "view_closed",
                "team": {"id": self.team_id, "domain": "alignbot-sandbox"},
                "user": {"id": user_id, "team_id": self.team_id, "name": self.user_name(user_id)},
                "api_app_id": self.fake.app_id,
                "view": copy.deepcopy(view),
                "is_cleared": False,
                "is_enterprise_install": False,
                "enterprise": None,
            }
            response = await self.sender.action(payload)
            self._bot_failed("view_closed", response)
        self._bump()

    async def shortcut(self, user_id: str, channel_id: str, ts: str) -> None:
        """The message's "Send to Marketing Support" shortcut."""
        message = self._find_message(channel_id, ts) or {}
        payload = message_shortcut(
            SHORTCUT_CALLBACK_ID,
            message_text=str(message.get("text") or ""),
            message_ts=ts,
            channel_id=channel_id,
            user_id=user_id,
            team_id=self.team_id,
            message_user=str(message.get("user") or self.fake.bot_user_id),
            trigger_id=self._new_trigger(user_id),
            response_url=self._new_response_url(Origin(user_id, channel_id)),
            user_name=self.user_name(user_id),
        )
        if message.get("blocks"):
            payload["message"]["blocks"] = copy.deepcopy(message["blocks"])
        response = await self.sender.shortcut(payload)
        self._bot_failed("the message shortcut", response)
        self._bump()


def find_element(blocks: list[Any], block_id: str, action_id: str) -> JSON | None:
    """The interactive element `action_id` of block `block_id` (accessory, actions or input)."""
    for block in blocks:
        if not isinstance(block, dict) or str(block.get("block_id")) != block_id:
            continue
        candidates = [block.get("accessory"), block.get("element"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def selected_for(element: JSON, action_type: str, raw: Any) -> JSON | None:
    """The `selected` argument of block_actions for a select or overflow click."""
    if action_type == "overflow":
        return option_with_value(element, raw)
    if action_type in ("static_select", "radio_buttons"):
        option = option_with_value(element, raw)
        return option if option is not None else None
    singles = {
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
    }
    if action_type in singles:
        return {singles[action_type]: raw or None}
    if action_type in ("multi_static_select", "checkboxes"):
        chosen = raw if isinstance(raw, list) else json.loads(raw or "[]")
        return {
            "selected_options": [
                option for value in chosen if (option := option_with_value(element, value))
            ]
        }
    return None


def option_with_value(element: JSON, value: Any) -> JSON | None:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if isinstance(option, dict) and option.get("value") == value:
            return copy.deepcopy(option)
    return None
