"""Faults a test injects: errors, rate limits (queued or a sliding window), and held answers."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Any

from sandbox.fakeslack.calls import SlackError
from sandbox.fakeslack.state import SlackState


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


class Faults(SlackState):
    """Fault injection: what the next calls to a method will meet."""

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

    def lose_answer_next(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls to `method` do happen (a post is posted), but the caller gets
        HTTP 500 ``internal_error``, as when Slack or the network fails after Slack acted."""
        self._lost_answers[method] = self._lost_answers.get(method, 0) + times

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
