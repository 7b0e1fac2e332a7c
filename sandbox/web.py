"""The sandbox's web page and its small JSON API (aiohttp).

`GET /` is the page; `GET /page/view` the fragments one person sees; `GET /page/events` a
server-sent event each time anything changed; the POSTs are what people do (type, click,
submit, close, run a shortcut, open App Home, travel in time). Input is checked here: an
unknown person or conversation is a 400 with a sentence, never a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from sandbox.client import SandboxSlack
from sandbox.page import HOME, conversations, modal_html, pane_html
from sandbox.render import STYLESHEET

JSON = dict[str, Any]
# Runs the scheduled jobs as of a local time typed on the page ("2026-12-07T10:00");
# returns the sentence shown to the person.
Travel = Callable[[str], Awaitable[str]]
Presets = Callable[[], list[JSON]]

HEARTBEAT_SECONDS = 15.0
MAX_TEXT = 40_000


class PageError(Exception):
    """Bad input from the page: answered 400 with this sentence."""


def _static(name: str) -> str:
    return resources.files("sandbox").joinpath("static", name).read_text(encoding="utf-8")


def create_page_app(
    slack: SandboxSlack, *, people: list[JSON], travel: Travel, presets: Presets
) -> web.Application:
    """The page server for `slack`; `people` are who the page lets you be."""
    known = {person["id"] for person in people}

    def person(value: object) -> str:
        if not isinstance(value, str) or value not in known:
            raise PageError("Pick who you are first (unknown person).")
        return value

    def conversation(user_id: str, value: object) -> str:
        ids = {c["id"] for c in conversations(slack, user_id)}
        if not isinstance(value, str) or value not in ids:
            raise PageError("That conversation is not one this person can see.")
        return value

    def open_modal(user_id: str, value: object) -> str:
        """The id of the modal on top of this person's screen: the only one they can use."""
        top = slack.top_modal(user_id)
        if top is None or value != top.get("id"):
            raise PageError("That modal is not open for this person.")
        return str(value)

    def message_ts(user_id: str, channel_id: str, value: object, *, ephemeral: bool) -> str:
        """A message this person sees in `channel_id` (an ephemeral only if it is theirs)."""
        if ephemeral:
            seen = (
                e["ts"]
                for e in slack.fake.ephemerals
                if e["channel"] == channel_id and e["user"] == user_id
            )
        else:
            seen = (m.get("ts") for m in slack.fake.messages.get(channel_id, []))
        if not isinstance(value, str) or value not in seen:
            raise PageError("That message is not in this conversation (any more).")
        return value

    async def body(request: web.Request) -> JSON:
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise PageError("The request body must be JSON.") from None
        if not isinstance(data, dict):
            raise PageError("The request body must be a JSON object.")
        return data

    @web.middleware
    async def answer_errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except PageError as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=_static("index.html"), content_type="text/html")

    async def script(_request: web.Request) -> web.Response:
        return web.Response(text=_static("sandbox.js"), content_type="text/javascript")

    async def stylesheet(_request: web.Request) -> web.Response:
        return web.Response(text=STYLESHEET + _static("sandbox.css"), content_type="text/css")

    async def who(_request: web.Request) -> web.Response:
        return web.json_response({"people": people, "presets": presets()})

    async def view(request: web.Request) -> web.Response:
        user_id = person(request.query.get("as"))
        conv = conversation(user_id, request.query.get("conv") or HOME)
        shown_presets = presets()
        return web.json_response(
            {
                "version": slack.version,
                "conversations": conversations(slack, user_id),
                "pane": pane_html(slack, user_id, conv),
                "modal": modal_html(slack, user_id),
                "banners": list(slack.banners),
                "now": shown_presets[0]["now"] if shown_presets else "",
            }
        )

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = -1
        while True:
            version = await slack.wait_for_change(seen, HEARTBEAT_SECONDS)
            line = f"data: {version}\n\n" if version != seen else ": still here\n\n"
            try:
                await response.write(line.encode())
            except ConnectionResetError:
                break
            seen = version
        return response

    async def compose(request: web.Request) -> web.Response:
        data = await body(request)
        user_id = person(data.get("as"))
        conv = conversation(user_id, data.get("conv"))
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PageError("Type a message or a command such as /mktg help.")
        if len(text) > MAX_TEXT:
            raise PageError(f"Messages are limited to {MAX_TEXT:,} characters in Slack.")
        if conv == HOME:
            raise PageError("App Home has no composer: open Messages or a channel.")
        thread_ts = data.get("thread_ts")
        await slack.compose(
            user_id, conv, text, thread_ts=thread_ts if isinstance(thread_ts, str) else None
        )
        return web.json_response({"ok": True})

    async def click(request: web.Request) -> web.Response:
        data = await body(request)
        user_id = person(data.get("as"))
        container = data.get("container")
        if not isinstance(container, dict) or container.get("type") not in (
            "message",
            "view",
            "home",
        ):
            raise PageError("A click needs the message or view it came from.")
        if container["type"] == "message":
            channel_id = conversation(user_id, container.get("channel"))
            message_ts(
                user_id, channel_id, container.get("ts"), ephemeral=bool(container.get("ephemeral"))
            )
        elif container["type"] == "view":
            open_modal(user_id, container.get("view_id"))
        elif slack.fake.views.get(user_id) is None:
            raise PageError("Open App Home first: its view is not published yet.")
        action_id, block_id = data.get("action_id"), data.get("block_id")
        if not isinstance(action_id, str) or not isinstance(block_id, str):
            raise PageError("A click needs its action_id and block_id.")
        value = data.get("value")
        await slack.click(
            user_id,
            action_id=action_id,
            block_id=block_id,
            action_type=str(data.get("type") or "button"),
            value=value if isinstance(value, str) else None,
            raw=data.get("raw"),
            container=container,
        )
        return web.json_response({"ok": True})

    async def submit(request: web.Request) -> web.Response:
        data = await body(request)
        user_id = person(data.get("as"))
        values = data.get("values") or {}
        if not isinstance(values, dict):
            raise PageError("values must be an object.")
        await slack.submit(user_id, open_modal(user_id, data.get("view_id")), values)
        return web.json_response({"ok": True})

    async def close(request: web.Request) -> web.Response:
        data = await body(request)
        user_id = person(data.get("as"))
        await slack.close(user_id, open_modal(user_id, data.get("view_id")))
        return web.json_response({"ok": True})

    async def shortcut(request: web.Request) -> web.Response:
        data = await body(request)
        user_id = person(data.get("as"))
        channel_id = conversation(user_id, data.get("channel"))
        ts = message_ts(user_id, channel_id, data.get("ts"), ephemeral=False)
        await slack.shortcut(user_id, channel_id, ts)
        return web.json_response({"ok": True})

    async def home(request: web.Request) -> web.Response:
        data = await body(request)
        await slack.open_home(person(data.get("as")))
        return web.json_response({"ok": True})

    async def travel_to(request: web.Request) -> web.Response:
        data = await body(request)
        at = data.get("at")
        if not isinstance(at, str) or not at.strip():
            raise PageError("Pick a date and time to travel to.")
        try:
            said = await travel(at.strip())
        except ValueError as error:
            raise PageError(str(error)) from None
        return web.json_response({"ok": True, "message": said})

    async def dismiss(_request: web.Request) -> web.Response:
        slack.dismiss_banners()
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[answer_errors], client_max_size=1024**2)
    app.add_routes(
        [
            web.get("/", index),
            web.get("/static/sandbox.js", script),
            web.get("/static/sandbox.css", stylesheet),
            web.get("/page/people", who),
            web.get("/page/view", view),
            web.get("/page/events", events),
            web.post("/page/compose", compose),
            web.post("/page/click", click),
            web.post("/page/submit", submit),
            web.post("/page/close", close),
            web.post("/page/shortcut", shortcut),
            web.post("/page/home", home),
            web.post("/page/travel", travel_to),
            web.post("/page/dismiss", dismiss),
        ]
    )
    return app
