"""The outbox dispatcher: sends the Slack writes stored in the outbox, once each, in order.

Every `alignbot run` runs one (`run_forever`); a listener or job that has just stored rows also
hands them over at once (`deliver`), so on a good day nothing waits for a poll. How rows move
between states is `bot.core.outbox`'s; this module makes the Slack calls:
- a post whose earlier attempt may have reached Slack is looked up first (every post carries
  message metadata naming its outbox row), so a retry never shows a message twice;
- an intake update renders the request as it is at send time (updates coalesce to the latest);
- Slack's "not now" (429 with Retry-After, 5xx, connection trouble) is retried with backoff;
  anything else Slack will never accept dead-letters the row at once and tells the admins once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.announcements import dead_letter_notices
from bot.core import outbox
from bot.core.deps import Deps
from bot.core.models import OutboxMessage, OutboxState
from bot.core.outbox import (
    KIND_ADMIN_NOTICE,
    KIND_INTAKE_POST,
    KIND_INTAKE_UPDATE,
)
from bot.core.slack_errors import error_code, is_transient
from bot.workspace.settings import load_settings
from jobs.clients import SingleTokenClients, TeamClients
from jobs.outbox_messages import (
    NotYet,
    Prepared,
    Skip,
    outbox_id_of,
    outbox_metadata,
    record_dead,
    record_sent,
    render,
)
from jobs.pacing import RateLimits, collect_from_history, retry_after

logger = logging.getLogger(__name__)

CLAIM_BATCH = 50
SENDERS = 8
POLL_SECONDS = 1.0
TURN_WAIT_STEP = 0.02
TURN_WAIT_LIMIT = 3.0
# The background loop leaves a just-stored row this long to the code that stored it (which is
# sending it now, and tells the person what became of it).
FRESH_GRACE = timedelta(seconds=5)
HISTORY_MARGIN = timedelta(minutes=10)  # clock differences between this host and Slack
HISTORY_PAGES = 3


class Dispatcher:
    """Claims due outbox rows and sends them with each workspace's client."""

    def __init__(self, deps: Deps, clients: TeamClients | AsyncWebClient) -> None:
        self.deps = deps
        self.clients = (
            SingleTokenClients(clients) if isinstance(clients, AsyncWebClient) else clients
        )
        self.limits: dict[str, RateLimits] = {}
        self._careful: dict[tuple[str, str], AsyncWebClient] = {}
        # Workspaces for which Slack failed with a "not now" -> until when the background loop
        # leaves their rows alone (one failure says enough; the next try probes again).
        self.down_until: dict[str, datetime] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for a write, taking its turn with the filings (`Deps.filing_gate`): on
        SQLite writers queue here instead of sleeping in SQLite's busy handler."""
        async with self.deps.filing_gate, self.deps.sessions() as session:
            yield session

    def rate_limits(self, team_id: str) -> RateLimits:
        """The workspace's pacers (Slack's limits are per workspace and method)."""
        return self.limits.setdefault(team_id, RateLimits())

    # ------------------------------------------------------------------ entry points

    async def deliver(
        self, ids: Sequence[int], client: AsyncWebClient | None = None
    ) -> dict[int, OutboxMessage]:
        """Send these just-stored rows now, in order; what became of each (rows still waiting
        for their turn or a retry are left to the background dispatcher)."""
        outcome: dict[int, OutboxMessage] = {}
        remaining = list(ids)
        waited = 0.0
        gate = asyncio.Semaphore(SENDERS)

        async def send(row: OutboxMessage) -> None:
            async with gate:  # one row per ordering key in a claim: order holds
                outcome[row.id or 0] = await self.send(row, client)

        while remaining:
            async with self.writing() as session:
                claimed = await outbox.claim_due(session, now=self.deps.clock(), ids=remaining)
                behind = not claimed and await outbox.waiting_for_turn(
                    session, ids=remaining, now=self.deps.clock()
                )
            if behind and waited < TURN_WAIT_LIMIT:
                # An earlier message about the same thing is going out in another task.
                await asyncio.sleep(TURN_WAIT_STEP)
                waited += TURN_WAIT_STEP
                continue
            if not claimed:
                break
            await asyncio.gather(*(send(row) for row in claimed))
            remaining = [row_id for row_id in remaining if row_id not in outcome]
        if remaining:
            # Another task or replica took them: say what became of them, once it is known.
            outcome |= {row.id or 0: row for row in await self._settled(remaining)}
        outcome = {row_id: row for row_id, row in outcome.items() if row_id in ids}
        if remaining:
            self.wake()
        return outcome

    async def _settled(self, ids: Sequence[int]) -> list[OutboxMessage]:
        """These rows once nobody is sending them (or after TURN_WAIT_LIMIT)."""
        waited = 0.0
        while True:
            async with self.deps.sessions() as session:
                rows = await outbox.unsent_rows(session, ids=ids)
            if waited >= TURN_WAIT_LIMIT or all(r.state != OutboxState.SENDING for r in rows):
                return rows
            await asyncio.sleep(TURN_WAIT_STEP)
            waited += TURN_WAIT_STEP

    async def run_once(self) -> int:
        """Claim one batch of due rows and send them; how many were claimed."""
        now = self.deps.clock()
        down = [team for team, until in self.down_until.items() if until > now]
        async with self.writing() as session:
            claimed = await outbox.claim_due(
                session, now=now, limit=CLAIM_BATCH, skip_teams=down, fresh_grace=FRESH_GRACE
            )
        if not claimed:
            return 0
        checked = await self.look_up_batch(claimed)
        gate = asyncio.Semaphore(SENDERS)

        async def send(row: OutboxMessage) -> None:
            async with gate:
                await self.send(row, None, checked=checked)

        await asyncio.gather(*(send(row) for row in claimed))
        return len(claimed)

    async def look_up_batch(
        self, claimed: Sequence[OutboxMessage]
    ) -> dict[int, tuple[str, str] | None]:
        """For the claimed rows that may already be in Slack: where each is (None: it is not),
        from one history scan per workspace and channel instead of one per row. A row left out
        (the scan failed, or it had nothing to send) is looked up on its own when sent."""
        doubtful: dict[str, list[tuple[OutboxMessage, Prepared]]] = {}
        for row in claimed:
            if not row.maybe_sent:
                continue
            with contextlib.suppress(Skip, NotYet):
                doubtful.setdefault(row.team_id, []).append((row, await render(self.deps, row)))
        checked: dict[int, tuple[str, str] | None] = {}
        for team_id, rows in doubtful.items():
            client = await self.clients.for_team(team_id)
            if client is None:
                continue
            try:
                found = await self.look_up(self.careful(client), self.rate_limits(team_id), rows)
            except Exception:  # each row tries again on its own
                logger.warning("outbox_lookup_failed team=%s", team_id, exc_info=True)
                continue
            checked |= {
                row.id or 0: found.get(row.id or 0)
                for row, prepared in rows
                if prepared.update_ts is None
            }
        return checked

    async def drain(self, *, rounds: int = 100) -> int:
        """Send everything due now (tests, `alignbot outbox retry`): rows sent in total."""
        total = 0
        for _ in range(rounds):
            sent = await self.run_once()
            if not sent:
                break
            total += sent
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background loop of `alignbot run`: send what is due, sleep until woken or polled."""
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                logger.exception("outbox_dispatch_crashed")
                busy = 0
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    waiters = {asyncio.ensure_future(self._wake.wait())}
                    waiters.add(asyncio.ensure_future(stop.wait()))
                    try:
                        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for waiter in waiters:
                            waiter.cancel()

    def careful(self, client: AsyncWebClient) -> AsyncWebClient:
        """The client without slack_sdk's blind retries of server and connection errors: after
        one of those Slack may have posted, so the outbox looks before it posts again. A 429
        means Slack did nothing, so its Retry-After is still waited out inline."""
        key = (client.token or "", client.base_url)
        careful = self._careful.get(key)
        if careful is None:
            careful = AsyncWebClient(
                token=client.token,
                base_url=client.base_url,
                timeout=client.timeout,
                logger=client.logger,
                retry_handlers=[
                    handler
                    for handler in client.retry_handlers
                    if isinstance(handler, AsyncRateLimitErrorRetryHandler)
                ],
            )
            self._careful[key] = careful
        return careful

    # ------------------------------------------------------------------ one row

    async def send(
        self,
        row: OutboxMessage,
        client: AsyncWebClient | None,
        *,
        checked: Mapping[int, tuple[str, str] | None] | None = None,
    ) -> OutboxMessage:
        """Send one claimed row and record what happened; the row as it ended. `checked` says
        where rows of its batch already are in Slack, if they were looked up together."""
        assert row.id is not None
        now = self.deps.clock
        if client is None:
            client = await self.clients.for_team(row.team_id)
        if client is None:
            async with self.writing() as session:
                await outbox.dead_letter(session, row, error="not_installed", now=now())
            return self._ended(row, OutboxState.DEAD, "not_installed")
        client = self.careful(client)
        limits = self.rate_limits(row.team_id)
        try:
            prepared = await render(self.deps, row)
            found = None
            if row.maybe_sent and prepared.update_ts is None:
                if checked is not None and row.id in checked:
                    found = checked[row.id]
                else:
                    found = (await self.look_up(client, limits, [(row, prepared)])).get(row.id)
            channel, ts = found or await self.call_slack(client, limits, row, prepared)
        except Skip as reason:
            async with self.writing() as session:
                await outbox.skip(session, row, reason=str(reason))
            return self._ended(row, OutboxState.SKIPPED, str(reason))
        except NotYet as reason:
            async with self.writing() as session:
                state = await outbox.retry_later(session, row, error=str(reason), now=now())
            return self._ended(row, state, str(reason))
        except SlackApiError as error:
            return await self.refused(row, error)
        except Exception as error:  # connection trouble: Slack may or may not have it
            code = type(error).__name__
            logger.warning("outbox_send_failed id=%s kind=%s error=%s", row.id, row.kind, code)
            async with self.writing() as session:
                state = await outbox.retry_later(
                    session, row, error=code, now=now(), maybe_sent=True
                )
            self._slack_failing(row)
            await self._after_failure(row, state, code)
            return self._ended(row, state, code)
        permalink = None
        if row.kind == KIND_INTAKE_POST or (
            row.kind == KIND_INTAKE_UPDATE and ts != prepared.update_ts
        ):
            permalink = await self._permalink(client, row, channel, ts)
        async with self.writing() as session:
            if await outbox.mark_sent(
                session, row, channel=channel, ts=ts, now=now(), commit=False
            ):
                await record_sent(session, row, channel, ts, permalink)
                if prepared.shown_up_to:
                    await outbox.coalesce_into(session, row, shown_up_to=prepared.shown_up_to)
            await session.commit()
        if self.down_until.pop(row.team_id, None) is not None or row.attempts > 1:
            await self._slack_is_back(row.team_id)
        return self._ended(row, OutboxState.SENT, None, ts=ts, channel=channel)

    def _slack_failing(self, row: OutboxMessage, retry_after: float | None = None) -> None:
        wait = outbox.backoff(row.attempts).total_seconds()
        until = self.deps.clock() + timedelta(seconds=max(wait, retry_after or 0.0))
        self.down_until[row.team_id] = max(until, self.down_until.get(row.team_id, until))

    async def _slack_is_back(self, team_id: str) -> None:
        """Slack took a message after failing: what waits out a backoff goes now."""
        async with self.writing() as session:
            hurried = await outbox.hurry(session, team_id=team_id, now=self.deps.clock())
        if hurried:
            logger.info("outbox_slack_back team=%s hurried=%s", team_id, hurried)
            self.wake()

    @staticmethod
    def _ended(
        row: OutboxMessage,
        state: OutboxState | None,
        error: str | None,
        *,
        ts: str | None = None,
        channel: str | None = None,
    ) -> OutboxMessage:
        ended = row.model_copy()
        ended.state = state or row.state
        ended.last_error = error
        ended.sent_ts, ended.sent_channel = ts, channel
        return ended

    async def refused(self, row: OutboxMessage, error: SlackApiError) -> OutboxMessage:
        code = error_code(error)
        now = self.deps.clock()
        wait: float | None = None
        if error.response.status_code == 429:
            wait = retry_after(error.response.headers)
            self.rate_limits(row.team_id).pacer("chat.postMessage").pause_for(wait)
        async with self.writing() as session:
            if is_transient(code):
                self._slack_failing(row, wait)
                state = await outbox.retry_later(
                    session,
                    row,
                    error=code,
                    now=now,
                    retry_after=wait,
                    maybe_sent=code.startswith("http_5") or code == "internal_error",
                )
            else:
                state = (
                    OutboxState.DEAD
                    if await outbox.dead_letter(session, row, error=code, now=now)
                    else None
                )
        logger.warning("outbox_refused id=%s kind=%s error=%s", row.id, row.kind, code)
        await self._after_failure(row, state, code)
        return self._ended(row, state, code)

    async def _after_failure(
        self, row: OutboxMessage, state: OutboxState | None, code: str
    ) -> None:
        if state != OutboxState.DEAD:
            return
        logger.error(
            "outbox_dead_letter id=%s team=%s kind=%s channel=%s error=%s",
            row.id,
            row.team_id,
            row.kind,
            row.channel,
            code,
        )
        async with self.writing() as session:
            await record_dead(session, row, code)
            if row.kind == KIND_ADMIN_NOTICE:
                return  # a notice that cannot be delivered is not noticed again
            settings = await load_settings(session, row.team_id)
            notices = dead_letter_notices(row, code, settings.admins, now=self.deps.clock())
            ids = await outbox.enqueue(
                session, team_id=row.team_id, messages=notices, now=self.deps.clock()
            )
            await session.commit()
        if ids:
            await self.deliver(ids)

    # ------------------------------------------------------------------ Slack calls

    async def call_slack(
        self, client: AsyncWebClient, limits: RateLimits, row: OutboxMessage, prepared: Prepared
    ) -> tuple[str, str]:
        """(channel, ts) of the message written."""
        assert row.id is not None
        if prepared.update_ts is not None:
            try:
                async with limits.pacer("chat.update").slot():
                    updated = await client.chat_update(
                        channel=prepared.channel,
                        ts=prepared.update_ts,
                        text=prepared.text,
                        blocks=prepared.blocks,
                    )
                return str(updated.get("channel") or prepared.channel), prepared.update_ts
            except SlackApiError as error:
                if error_code(error) != "message_not_found":
                    raise
                logger.info("intake_reposted id=%s", row.id)  # someone deleted it: post anew
        kwargs: dict[str, Any] = {
            "channel": prepared.channel,
            "text": prepared.text,
            "blocks": prepared.blocks,
            "unfurl_links": False,
            "metadata": outbox_metadata(row.id),
        }
        if prepared.thread_ts:
            kwargs["thread_ts"] = prepared.thread_ts
        try:
            async with limits.pacer("chat.postMessage").slot():
                posted = await client.chat_postMessage(**kwargs)
        except SlackApiError as error:
            if not (prepared.join_first_if_needed and error_code(error) == "not_in_channel"):
                raise
            async with limits.pacer("conversations.join").slot():
                await client.conversations_join(channel=prepared.channel)  # public channels
            async with limits.pacer("chat.postMessage").slot():
                posted = await client.chat_postMessage(**kwargs)
        return str(posted.get("channel") or prepared.channel), str(posted["ts"])

    async def look_up(
        self,
        client: AsyncWebClient,
        limits: RateLimits,
        rows: Sequence[tuple[OutboxMessage, Prepared]],
    ) -> dict[int, tuple[str, str]]:
        """Which of these posts, each of which may have reached Slack on an earlier attempt, are
        there: one history scan per channel (or thread) for the whole batch."""
        groups: dict[tuple[str, str | None], list[OutboxMessage]] = {}
        for row, prepared in rows:
            if prepared.update_ts is None:  # an update shown twice shows the same thing
                groups.setdefault((prepared.channel, prepared.thread_ts), []).append(row)
        found: dict[int, tuple[str, str]] = {}
        for (channel, thread_ts), group in groups.items():
            oldest = min(row.created_at for row in group) - HISTORY_MARGIN
            found |= await collect_from_history(
                client,
                limits,
                channel=channel,
                oldest=oldest.timestamp(),
                key=outbox_id_of,
                wanted={row.id or 0 for row in group},
                thread_ts=thread_ts,
                pages=HISTORY_PAGES,
            )
        for row_id in found:
            logger.info("outbox_found_posted id=%s", row_id)
        return found

    @staticmethod
    async def _permalink(
        client: AsyncWebClient, row: OutboxMessage, channel: str, ts: str
    ) -> str | None:
        try:
            found = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            logger.info("permalink_failed id=%s", row.id)
            return None
        permalink = found.get("permalink")
        return str(permalink) if permalink else None


def outbox_of(deps: Deps, client: AsyncWebClient) -> Dispatcher:
    """The process's dispatcher; a job run outside the app (a script, a test's second
    "process") gets one speaking with the job's client."""
    if not isinstance(deps.outbox, Dispatcher):
        deps.outbox = Dispatcher(deps, client)
    assert isinstance(deps.outbox, Dispatcher)
    return deps.outbox
