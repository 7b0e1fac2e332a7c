"""Driving `alignbot sandbox` the way its browser page does: JSON posts to /page/*, and reading
the HTML fragments /page/view returns (messages, their buttons, the open modal)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp

from bot.core.config import Settings
from bot.demo.people import (
    ADMIN,
    DEMANDGEN_DIGEST_CHANNEL,
    INTAKE_CHANNEL,
    SUPPORT_DIGEST_CHANNEL,
    rep_id,
    support_id,
)
from sandbox.main import Sandbox, running_sandbox
from sandbox.workspace import GENERAL_CHANNEL

JSON = dict[str, Any]

REP = rep_id(1)  # U0REP001, Riley Chen
REP_DM = "D" + REP
MARKETER = support_id(1)  # U0MKT001, Morgan Diaz
MARKETER_DM = "D" + MARKETER
SAM = rep_id(2)  # U0REP002, Sam Okafor
ADMIN_DM = "D" + ADMIN
INTAKE = INTAKE_CHANNEL
GENERAL = GENERAL_CHANNEL
SUPPORT_DIGEST = SUPPORT_DIGEST_CHANNEL
DEMANDGEN_DIGEST = DEMANDGEN_DIGEST_CHANNEL
HOME = "home"
WAIT_SECONDS = 5.0


def sandbox_base_settings(**changes: Any) -> Settings:
    """What `alignbot sandbox` gets from the environment, minus the background scheduler (time
    travel runs the jobs on demand; a job firing by the wall clock would make tests flaky)."""
    return Settings(_env_file=None, scheduler_enabled=False, **changes)  # type: ignore[call-arg]


@dataclass
class Control:
    """An interactive element on the page (button, select, input) and what it is labelled."""

    tag: str
    action_id: str
    block_id: str
    value: str | None
    type: str
    label: str = ""


@dataclass
class Message:
    """One message in a conversation pane."""

    channel: str
    ts: str
    ephemeral: bool
    text: str = ""
    controls: list[Control] = field(default_factory=list)

    def button(self, action_id: str) -> Control:
        for control in self.controls:
            if control.action_id == action_id:
                return control
        raise AssertionError(f"no {action_id} control in message {self.text[:200]!r}")

    @property
    def container(self) -> JSON:
        return {
            "type": "message",
            "channel": self.channel,
            "ts": self.ts,
            "ephemeral": self.ephemeral,
        }


@dataclass
class Modal:
    """The modal on top for one person."""

    view_id: str
    callback_id: str
    kind: str
    text: str = ""
    errors: list[str] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)


class _Fragment(HTMLParser):
    """Messages (`.sb-message`), views (`.bk-view`), controls and field errors of a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.messages: list[Message] = []
        self.views: list[Modal] = []
        self._open: list[str] = []  # what each open div is: "message", "view", "error" or ""
        self._control: Control | None = None

    def _target(self) -> Message | Modal | None:
        if "message" in self._open:
            return self.messages[-1]
        if "view" in self._open:
            return self.views[-1]
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        classes = found.get("class", "").split()
        if tag == "div":
            kind = ""
            if "sb-message" in classes:
                self.messages.append(
                    Message(
                        found.get("data-channel", ""),
                        found.get("data-ts", ""),
                        found.get("data-ephemeral") == "true",
                    )
                )
                kind = "message"
            elif "bk-view" in classes:
                self.views.append(
                    Modal(
                        found.get("data-view-id", ""),
                        found.get("data-callback-id", ""),
                        found.get("data-view-type", ""),
                    )
                )
                kind = "view"
            elif "bk-input-error" in classes:
                target = self._target()
                if isinstance(target, Modal):
                    target.errors.append("")
                kind = "error"
            self._open.append(kind)
        elif "data-action-id" in found:
            control = Control(
                tag,
                found["data-action-id"],
                found.get("data-block-id", ""),
                found.get("data-value") or found.get("value"),
                found.get("data-type", ""),
            )
            target = self._target()
            if target is not None:
                target.controls.append(control)
            if tag in ("button", "option", "select", "textarea"):
                self._control = control

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._open:
            self._open.pop()
        elif tag in ("button", "select", "textarea"):
            self._control = None

    def handle_data(self, data: str) -> None:
        target = self._target()
        if target is not None:
            target.text += data
        if "error" in self._open and isinstance(target, Modal) and target.errors:
            target.errors[-1] += data
        if self._control is not None:
            self._control.label += data


def messages_in(pane: str) -> list[Message]:
    parser = _Fragment()
    parser.feed(pane)
    parser.close()
    return parser.messages


def modal_in(fragment: str) -> Modal | None:
    parser = _Fragment()
    parser.feed(fragment)
    parser.close()
    return parser.views[0] if parser.views else None


class Page:
    """What the browser sends and reads, as one person at a time."""

    def __init__(self, sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
        self.sandbox = sandbox
        self.session = session
        self.base = sandbox.url.rstrip("/")

    async def post(self, path: str, body: Any) -> tuple[int, JSON]:
        async with self.session.post(self.base + path, json=body) as response:
            return response.status, await response.json()

    async def post_bytes(self, path: str, data: bytes) -> tuple[int, JSON]:
        headers = {"Content-Type": "application/json"}
        async with self.session.post(self.base + path, data=data, headers=headers) as response:
            return response.status, await response.json()

    async def get(self, path: str, **params: str) -> tuple[int, JSON]:
        async with self.session.get(self.base + path, params=params) as response:
            return response.status, await response.json()

    async def ok(self, path: str, body: JSON) -> JSON:
        status, answer = await self.post(path, body)
        assert (status, answer.get("ok")) == (200, True), (path, status, answer)
        return answer

    async def view(self, who: str, conv: str = HOME) -> JSON:
        status, answer = await self.get("/page/view", **{"as": who, "conv": conv})
        assert status == 200, answer
        return answer

    async def messages(self, who: str, conv: str) -> list[Message]:
        return messages_in((await self.view(who, conv))["pane"])

    async def modal(self, who: str) -> Modal | None:
        return modal_in((await self.view(who))["modal"])

    async def wait_view(
        self, who: str, conv: str, condition: Callable[[JSON], bool], what: str
    ) -> JSON:
        """/page/view once `condition` holds, re-read each time the sandbox says something
        changed (its change feed, as the page's EventSource does); fails after WAIT_SECONDS."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while True:
            seen = self.sandbox.slack.version
            answer = await self.view(who, conv)
            if condition(answer):
                return answer
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"timed out waiting for {what} ({who} in {conv}); the pane holds:\n"
                    + "\n".join(f"  - {m.text[:160]!r}" for m in messages_in(answer["pane"]))
                    + f"\nmodal: {answer['modal'][:300]!r}\nbanners: {answer['banners']}"
                )
            await self.sandbox.slack.wait_for_change(seen, min(left, 0.25))

    async def wait_message(
        self, who: str, conv: str, condition: Callable[[Message], bool], what: str
    ) -> Message:
        answer = await self.wait_view(
            who, conv, lambda view: any(condition(m) for m in messages_in(view["pane"])), what
        )
        return next(m for m in messages_in(answer["pane"]) if condition(m))

    async def wait_modal(self, who: str, condition: Callable[[Modal], bool], what: str) -> Modal:
        def showing(view: JSON) -> bool:
            modal = modal_in(view["modal"])
            return modal is not None and condition(modal)

        answer = await self.wait_view(who, HOME, showing, what)
        modal = modal_in(answer["modal"])
        assert modal is not None
        return modal

    async def compose(self, who: str, conv: str, text: str) -> None:
        await self.ok("/page/compose", {"as": who, "conv": conv, "text": text})

    async def click(self, who: str, message: Message, action_id: str, *, raw: Any = None) -> None:
        control = message.button(action_id)
        await self.ok(
            "/page/click",
            {
                "as": who,
                "action_id": control.action_id,
                "block_id": control.block_id,
                "type": control.type or "button",
                "value": control.value,
                "raw": control.value if raw is None else raw,
                "container": message.container,
            },
        )

    async def submit(self, who: str, modal: Modal, values: JSON) -> None:
        await self.ok("/page/submit", {"as": who, "view_id": modal.view_id, "values": values})


@contextlib.asynccontextmanager
async def sandbox_page(database: Path, settings: Settings | None = None) -> AsyncIterator[Page]:
    """A sandbox on `database` (a file of its own) and a page client for it."""
    async with (
        running_sandbox(settings or sandbox_base_settings(), database=database) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        yield Page(sandbox, session)


def mentions(text: str) -> Callable[[Message], bool]:
    return lambda message: text in message.text
