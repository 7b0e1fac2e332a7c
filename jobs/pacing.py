"""Pacing a burst of Web API calls (a survey fan-out) to what Slack allows.

Every concurrent sender of one fan-out shares one `Pacer` per Web API method. When Slack answers
HTTP 429, the whole fan-out waits out the Retry-After once, together: the pacer's "not before"
time moves, every sender waits for it before its next call, and the rate-limited call itself is
retried at that moment by `PacedRateLimitRetryHandler` (slack_sdk's AsyncRateLimitErrorRetryHandler,
with the wait shared instead of per request). Without it, each of the concurrent senders runs
into its own 429 and sleeps its own Retry-After plus up to a second of jitter. After a 429 the
pacer also keeps to the number of calls Slack accepted in the minute before it (see `Pacer`).

`fan_out_client` gives the fan-out a client with the same token, URL, timeout and retry handlers
as the one it was given, but with one keep-alive HTTP session for the whole fan-out (slack_sdk
otherwise opens a new connection for every call), the paced rate-limit handler in place of
the plain one, and a logger whose level is set (see `quiet_logger`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_RETRY_AFTER = 1.0  # what to wait when a 429 carries no (readable) Retry-After


class Pacer:
    """One method's pace for a whole fan-out.

    A 429 pauses every sender until its Retry-After is over ("not before"). It also tells how
    many calls Slack takes in a minute: those it accepted over the last 60 s. From then on a
    call goes out only while fewer than that were accepted (or are in flight) in the trailing
    60 s, so the fan-out follows the limit instead of running into it and pausing again. Times
    are taken when Slack's answer arrives, so the window never frees up earlier than Slack's.
    A learned limit below MIN_LEARNED_LIMIT is not trusted (another app or process was using
    the quota); Retry-After alone then paces the fan-out."""

    WINDOW = 60.0
    MIN_LEARNED_LIMIT = 30

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.not_before = 0.0
        self.rate_limited = 0  # 429s seen
        self.limit: int | None = None  # calls per WINDOW, once Slack has said "too many"
        self._accepted: deque[float] = deque()
        self._in_flight = 0

    def _trim(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - self.WINDOW:
            self._accepted.popleft()

    def pause_for(self, seconds: float) -> None:
        """Slack said "retry after `seconds`": nobody calls this method before then."""
        self.rate_limited += 1
        now = self._clock()
        self.not_before = max(self.not_before, now + max(seconds, 0.0))
        self._trim(now)
        seen = len(self._accepted)
        if seen >= self.MIN_LEARNED_LIMIT:
            self.limit = seen if self.limit is None else min(self.limit, seen)

    def _delay(self) -> float:
        now = self._clock()
        delay = self.not_before - now
        if delay > 0 or self.limit is None:
            return delay
        self._trim(now)
        if len(self._accepted) + self._in_flight < self.limit:
            return 0.0
        return self._accepted[0] + self.WINDOW - now if self._accepted else 0.05

    async def acquire(self) -> None:
        """Wait for a pause to end and for room in the learned limit; then one call is out."""
        while True:  # a pause may be extended while we sleep: look again on waking
            delay = self._delay()
            if delay <= 0:
                self._in_flight += 1
                return
            await asyncio.sleep(max(delay, 0.001))

    def release(self, *, accepted: bool) -> None:
        """The call is back: `accepted` unless Slack refused it with a 429 (or never saw it)."""
        self._in_flight = max(self._in_flight - 1, 0)
        if accepted:
            now = self._clock()
            self._accepted.append(now)
            self._trim(now)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One paced call: `async with pacer.slot(): await client.method(...)`."""
        await self.acquire()
        accepted = False
        try:
            yield
            accepted = True
        except SlackApiError as error:
            accepted = error.response.status_code != 429
            raise
        finally:
            self.release(accepted=accepted)


class RateLimits:
    """The pacers of one fan-out, one per Web API method (each has its own limit in Slack)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pacers: dict[str, Pacer] = {}

    def pacer(self, method: str) -> Pacer:
        pacer = self._pacers.get(method)
        if pacer is None:
            pacer = self._pacers[method] = Pacer(self._clock)
        return pacer

    def for_url(self, url: str) -> Pacer:
        return self.pacer(url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0])

    @property
    def rate_limited(self) -> int:
        return sum(pacer.rate_limited for pacer in self._pacers.values())


def retry_after(headers: object) -> float:
    """Seconds from a Retry-After header (slack_sdk hands headers over as a dict of lists)."""
    if not hasattr(headers, "items"):
        return DEFAULT_RETRY_AFTER
    for key, value in headers.items():
        if str(key).lower() != "retry-after":
            continue
        raw = value[0] if isinstance(value, list | tuple) and value else value
        try:
            return max(float(str(raw)), 0.0)
        except ValueError:
            return DEFAULT_RETRY_AFTER
    return DEFAULT_RETRY_AFTER


class PacedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's rate-limit retry, with the Retry-After wait shared by the whole fan-out."""

    def __init__(self, limits: RateLimits, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.limits = limits

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # pragma: no cover - only 429 responses get here
            await super().prepare_for_next_attempt_async(
                state=state, request=request, response=response, error=error
            )
            return
        pacer = self.limits.for_url(request.url)
        pacer.release(accepted=False)
        pacer.pause_for(retry_after(response.headers))
        await pacer.acquire()
        state.next_attempt_requested = True
        state.increment_current_attempt()


def paced_handlers(
    handlers: list[AsyncRetryHandler], limits: RateLimits
) -> list[AsyncRetryHandler]:
    """The client's retry handlers, its rate-limit one sharing its wait through `limits`."""
    return [
        PacedRateLimitRetryHandler(limits, max_retry_count=handler.max_retry_count)
        if isinstance(handler, AsyncRateLimitErrorRetryHandler)
        else handler
        for handler in handlers
    ]


def quiet_logger(logger: logging.Logger) -> logging.Logger:
    """A logger for slack_sdk at `logger`'s effective level, set explicitly.

    slack_sdk decides whether to build its debug lines (every request's params and every
    response's body, formatted) from `logger.level`, not the effective level: a logger left at
    NOTSET (0) makes it format them on every call, only for logging to drop them."""
    if logger.level != logging.NOTSET:
        return logger
    child = logging.getLogger(f"{logger.name}.fanout")
    child.setLevel(logger.getEffectiveLevel())
    return child


@asynccontextmanager
async def fan_out_client(
    client: AsyncWebClient, limits: RateLimits
) -> AsyncIterator[AsyncWebClient]:
    """`client`'s twin for one fan-out: one keep-alive session, rate-limit waits shared."""
    own_session = client.session is None or client.session.closed
    session = (
        aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=client.timeout),
            trust_env=client.trust_env_in_session,
        )
        if own_session
        else client.session
    )
    paced = AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=session,
        trust_env_in_session=client.trust_env_in_session,
        logger=quiet_logger(client.logger),
        retry_handlers=paced_handlers(client.retry_handlers, limits),
    )
    paced.headers = dict(client.headers)
    paced.default_params = dict(client.default_params)
    try:
        yield paced
    finally:
        if own_session and session is not None:
            await session.close()


async def find_in_history(
    client: AsyncWebClient,
    limits: RateLimits,
    *,
    channel: str,
    oldest: float,
    matches: Callable[[dict[str, Any]], bool],
    thread_ts: str | None = None,
    pages: int = 3,
) -> tuple[str, str] | None:
    """(channel, ts) of the first recent message `matches` accepts, paced: how a retry finds out
    whether an earlier attempt reached Slack. `channel` may be a user (their DM with the bot is
    opened); with `thread_ts` the thread's replies are read. Message metadata comes back only
    with include_all_metadata (and needs the history scope of the channel's kind)."""
    found = await collect_from_history(
        client,
        limits,
        channel=channel,
        oldest=oldest,
        key=lambda message: 0 if matches(message) else None,
        wanted={0},
        thread_ts=thread_ts,
        pages=pages,
    )
    return found.get(0)


async def collect_from_history(
    client: AsyncWebClient,
    limits: RateLimits,
    *,
    channel: str,
    oldest: float,
    key: Callable[[dict[str, Any]], int | None],
    wanted: set[int],
    thread_ts: str | None = None,
    pages: int = 3,
) -> dict[int, tuple[str, str]]:
    """Several messages at once: {key: (channel, ts)} for each `wanted` key that `key` finds in
    the recent history (one scan for a whole batch of retries), newest page first."""
    if channel.startswith(("U", "W")):
        async with limits.pacer("conversations.open").slot():
            opened = await client.conversations_open(users=channel)
        channel = str(opened["channel"]["id"])
    found: dict[int, tuple[str, str]] = {}
    cursor: str | None = None
    for _page in range(pages):
        method = "conversations.replies" if thread_ts else "conversations.history"
        async with limits.pacer(method).slot():
            if thread_ts:
                page = await client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=f"{oldest:.6f}",
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            else:
                page = await client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
        for message in page.get("messages") or []:
            if not isinstance(message, dict):
                continue
            found_key = key(message)
            if found_key in wanted and found_key not in found:
                found[found_key] = (channel, str(message["ts"]))
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if wanted <= found.keys() or not page.get("has_more") or not cursor:
            break
    return found
