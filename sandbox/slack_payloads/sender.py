"""Sending signed requests to the app over HTTP, and reading its answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.slack_payloads.payloads import slash_command
from sandbox.slack_payloads.wire import (
    SIGNING_SECRET,
    SLACK_USER_AGENT,
    form_body,
    json_body,
    next_number,
    sign,
)


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
            kw["response_url"] = self.response_url_factory(f"command-{next_number()}")
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
