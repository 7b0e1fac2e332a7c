"""Weekly pulse surveys: open the period's runs, fan the DMs out, remind once, close."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.announcements import dm
from bot.blocks.surveys import (
    build_enablement_dm,
    build_failure_summary,
    build_pipeline_dm,
    survey_reminder,
)
from bot.calendar.periods import period_of
from bot.core import outbox
from bot.core.deps import Deps
from bot.core.models import SurveyDelivery, SurveyKind, SurveyRun
from bot.core.slack_errors import error_code, is_transient
from bot.surveys.deliveries import (
    SentDM,
    StaleDelivery,
    claim_due_deliveries,
    claim_due_reminders,
    claim_stale_deliveries,
    mark_failed,
    mark_sent,
    mark_sent_many,
    plan_deliveries,
    reset_for_resend,
    return_to_pending,
    sales_recipients,
)
from bot.surveys.privacy import effective_minimum
from bot.surveys.runs import close_due_runs, get_or_create_run, open_runs
from bot.surveys.tallies import roll_up_untallied
from bot.workspace.settings import WorkspaceSettings, load_settings
from jobs.dispatcher import outbox_of
from jobs.pacing import RateLimits, fan_out_client, find_in_history, retry_after
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)

FAN_OUT_CONCURRENCY = 16
# Deliveries are claimed a batch at a time, at most two batches ahead of the senders, so a claim
# never waits long for its DM (far less than bot.surveys.deliveries.SENDING_LEASE) and a crash strands few.
CLAIM_BATCH = 100
# Posted DMs are recorded in batches: this many, or every RECORD_EVERY seconds, or before a
# rate-limit pause; a crash before that leaves them "sending", and the DM history resolves them.
RECORD_BATCH = 200
RECORD_EVERY = 1.0
MAX_ATTEMPTS = 3
# Every survey DM carries message metadata naming its delivery, so a later run can tell from the
# DM's history whether a delivery orphaned by a crash went out (conversations.history returns it
# with include_all_metadata; it needs im:history).
SURVEY_EVENT = "alignbot_survey"
HISTORY_MARGIN = timedelta(minutes=10)  # clock differences between this host and Slack
HISTORY_PAGES = 5


def survey_message(
    run: SurveyRun, settings: WorkspaceSettings, *, reminder: bool = False
) -> tuple[str, list[dict[str, object]]]:
    if run.kind == SurveyKind.ENABLEMENT:
        return build_enablement_dm(
            run, minimum=effective_minimum(settings.survey_min_respondents), reminder=reminder
        )
    return build_pipeline_dm(run, reminder=reminder)


def survey_metadata(delivery: SurveyDelivery) -> dict[str, Any]:
    """The message metadata that ties a survey DM to its delivery."""
    return {
        "event_type": SURVEY_EVENT,
        "event_payload": {"delivery_id": delivery.id, "run_id": delivery.run_id},
    }


def is_survey_message(message: dict[str, Any], delivery_id: int) -> bool:
    """Whether a message from conversations.history is the DM of this delivery."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != SURVEY_EVENT:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and str(payload.get("delivery_id")) == str(delivery_id)


class _FanOut:
    """One run's due DMs: stale claims resolved first, then the pending ones, paced together."""

    def __init__(
        self,
        deps: Deps,
        client: AsyncWebClient,
        limits: RateLimits,
        run: SurveyRun,
        settings: WorkspaceSettings,
        now: datetime,
    ) -> None:
        assert run.id is not None
        self.deps = deps
        self.client = client
        self.limits = limits
        self.run = run
        self.run_id = run.id
        self.now = now
        self.started = deps.clock()
        self.text, self.blocks = survey_message(run, settings)
        self.failures: dict[str, int] = {}
        self._sent: list[SentDM] = []
        self._last_record = time.monotonic()
        self._record_lock = asyncio.Lock()
        self._writing = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for one claim or record, one at a time: the fan-out's own writes then never
        queue behind each other in SQLite's busy handler (which sleeps in 25-100 ms steps)."""
        async with self._writing, self.deps.sessions() as session:
            yield session

    def clock(self) -> datetime:
        """The job's time: its `now`, moved on by as long as the fan-out has been running."""
        return self.now + (self.deps.clock() - self.started)

    async def run_all(self) -> dict[str, int]:
        await self.recover_stale()
        await self.send_due()
        await self.record(force=True)
        return self.failures

    # ------------------------------------------------------------------ sending

    async def send_due(self) -> None:
        """Claim just ahead of FAN_OUT_CONCURRENCY senders until nothing due is left."""
        queue: asyncio.Queue[SurveyDelivery | None] = asyncio.Queue()
        taken = asyncio.Event()

        async def claim() -> None:
            try:
                while True:
                    while queue.qsize() >= CLAIM_BATCH:  # a batch ahead: senders never wait
                        taken.clear()
                        await taken.wait()
                    async with self.session() as session:
                        claimed = await claim_due_deliveries(
                            session,
                            run_id=self.run_id,
                            now=self.now,
                            limit=CLAIM_BATCH,
                            claimed_at=self.clock(),
                        )
                    if not claimed:
                        return
                    for delivery in claimed:
                        queue.put_nowait(delivery)
            finally:
                for _ in range(FAN_OUT_CONCURRENCY):
                    queue.put_nowait(None)

        async def send() -> None:
            while (delivery := await queue.get()) is not None:
                taken.set()
                await self.send(delivery)

        outcomes = await asyncio.gather(
            claim(), *(send() for _ in range(FAN_OUT_CONCURRENCY)), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def send(self, delivery: SurveyDelivery) -> None:
        """Post one claimed DM; the outcome is recorded only while the claim still holds."""
        assert delivery.id is not None
        pacer = self.limits.pacer("chat.postMessage")
        if pacer.not_before > time.monotonic():
            await self.record(force=True)  # nothing else to do while Slack makes us wait
        try:
            async with pacer.slot():
                posted = await self.client.chat_postMessage(
                    channel=delivery.user_id,
                    text=self.text,
                    blocks=self.blocks,
                    metadata=survey_metadata(delivery),
                )
        except SlackApiError as error:
            code = error_code(error)
            if error.response.status_code == 429:
                pacer.pause_for(retry_after(error.response.headers))
            await self._refused(delivery, code)
            return
        except Exception:
            # Connection trouble after retries: unknown whether Slack posted it. It stays
            # "sending"; once its lease is over, a later run looks in the DM and decides.
            logger.exception("survey_dm_crashed run=%s delivery=%s", self.run_id, delivery.id)
            return
        self._sent.append(
            SentDM(
                delivery_id=delivery.id,
                claim_token=str(delivery.claim_token),
                channel=str(posted.get("channel") or delivery.user_id),
                ts=str(posted.get("ts")),
            )
        )
        await self.record()

    async def _refused(self, delivery: SurveyDelivery, code: str) -> None:
        assert delivery.id is not None
        async with self.session() as session:
            if is_transient(code) and delivery.attempts < MAX_ATTEMPTS:
                await return_to_pending(
                    session,
                    delivery_id=delivery.id,
                    now=self.deps.clock(),
                    claim_token=delivery.claim_token,
                )
            else:
                await mark_failed(
                    session, delivery_id=delivery.id, error=code, claim_token=delivery.claim_token
                )
                self.failures[code] = self.failures.get(code, 0) + 1
        logger.warning("survey_dm_failed run=%s error=%s", self.run_id, code)

    async def record(self, *, force: bool = False) -> None:
        """Write the posted DMs collected so far (a batch at a time, in one statement)."""
        if not self._sent:
            return
        due = (
            len(self._sent) >= RECORD_BATCH or time.monotonic() - self._last_record >= RECORD_EVERY
        )
        if not (force or due):
            return
        async with self._record_lock:
            batch, self._sent = self._sent, []
            self._last_record = time.monotonic()
            if not batch:
                return
            try:
                async with self.session() as session:
                    await mark_sent_many(session, sent=batch, now=self.deps.clock())
            except Exception:
                # They stay "sending": after the lease a later run finds them in the DMs.
                logger.exception("survey_dm_record_failed run=%s count=%s", self.run_id, len(batch))

    # ------------------------------------------------------------------ resuming

    async def recover_stale(self) -> None:
        """Deliveries a dead process left "sending": sent if the DM is there, else sent now."""
        gate = asyncio.Semaphore(FAN_OUT_CONCURRENCY)

        async def recover(stale: StaleDelivery) -> None:
            async with gate:
                await self.recover(stale)

        while True:
            async with self.session() as session:
                stale = await claim_stale_deliveries(
                    session, run_id=self.run_id, now=self.clock(), limit=CLAIM_BATCH
                )
            if not stale:
                return
            await asyncio.gather(*(recover(item) for item in stale))

    async def recover(self, stale: StaleDelivery) -> None:
        delivery = stale.delivery
        assert delivery.id is not None
        try:
            found = await self.find_posted(delivery, since=stale.since)
        except SlackApiError as error:
            code = error_code(error)
            if is_transient(code):
                # Still unknown: it stays claimed and is looked at again after another lease.
                logger.warning("survey_dm_check_failed run=%s error=%s", self.run_id, code)
            else:
                await self._refused(delivery, code)
            return
        except Exception:
            logger.exception("survey_dm_check_crashed run=%s delivery=%s", self.run_id, delivery.id)
            return
        if found is None:
            logger.info("survey_dm_resent run=%s delivery=%s", self.run_id, delivery.id)
            await self.send(delivery)
            return
        channel, ts = found
        async with self.session() as session:
            await mark_sent(
                session,
                delivery_id=delivery.id,
                channel=channel,
                ts=ts,
                now=stale.since,
                claim_token=delivery.claim_token,
            )
        logger.info("survey_dm_found run=%s delivery=%s", self.run_id, delivery.id)

    async def find_posted(
        self, delivery: SurveyDelivery, *, since: datetime
    ) -> tuple[str, str] | None:
        """(channel, ts) of this delivery's DM if Slack has it, from the DM's recent history."""
        delivery_id = delivery.id or 0
        return await find_in_history(
            self.client,
            self.limits,
            channel=delivery.user_id,
            oldest=(since - HISTORY_MARGIN).timestamp(),
            matches=lambda message: is_survey_message(message, delivery_id),
            pages=HISTORY_PAGES,
        )


async def fan_out(
    deps: Deps, client: AsyncWebClient, run: SurveyRun, settings: WorkspaceSettings, now: datetime
) -> dict[str, int]:
    """Send every due DM of a run with bounded concurrency; returns failures by reason.

    Deliveries a crashed process left "sending" past their lease are resolved first: found in
    the DM's history (marked sent) or re-claimed and sent. Rate limits pause the whole fan-out."""
    # The workspace's pacers are the outbox dispatcher's: a fan-out and the messages the outbox
    # sends meanwhile keep to one Retry-After and one learned limit per method.
    limits = outbox_of(deps, client).rate_limits(run.team_id)
    async with fan_out_client(client, limits) as paced:
        return await _FanOut(deps, paced, limits, run, settings, now).run_all()


async def _remind(
    deps: Deps, client: AsyncWebClient, run: SurveyRun, settings: WorkspaceSettings, now: datetime
) -> None:
    """One reminder per non-responder: claimed and stored in the outbox together, then sent;
    what Slack does not take now (or a crash interrupts) the dispatcher sends later."""
    text, blocks = survey_message(run, settings, reminder=True)
    async with deps.sessions() as session:
        ids = await claim_due_reminders(
            session,
            run=run,
            reminder_days=settings.survey_reminder_days,
            now=now,
            message=lambda delivery: survey_reminder(delivery, text, blocks),
            queued_at=deps.clock(),
        )
    if ids:
        await outbox_of(deps, client).deliver(ids, client)


async def _tell_admins(
    deps: Deps,
    client: AsyncWebClient,
    run: SurveyRun,
    settings: WorkspaceSettings,
    failures: dict[str, int],
) -> None:
    summary = build_failure_summary(SurveyKind(run.kind), failures)
    notices = [
        dm(admin, summary, key=f"survey-failures:{run.id}:{admin}:{sum(failures.values())}")
        for admin in settings.admins
    ]
    async with deps.sessions() as session:
        ids = await outbox.store(session, team_id=run.team_id, messages=notices, now=deps.clock())
    await outbox_of(deps, client).deliver(ids, client)


async def resend_team_surveys(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> int:
    """`/align survey send`: the week's usual work, then every failed DM of this week's runs
    returned to pending and sent again (each still claimed before it is sent). Returns how many
    failed DMs were retried."""
    await run_team_surveys(deps, client, team_id=team_id, now=now)
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        this_week = period_of(now, settings.zone).start
        current = [
            run
            for run in await open_runs(session, team_id=team_id)
            if run.period_start == this_week
        ]
        resent = 0
        for run in current:
            assert run.id is not None
            resent += await reset_for_resend(session, run_id=run.id, now=now)
    for run in current:
        await fan_out(deps, client, run, settings, now)
    return resent


async def run_team_surveys(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> None:
    """One workspace's survey work for `now`; safe to repeat and to run in several processes."""
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        await close_due_runs(session, team_id=team_id, now=now)
        # Runs closed without a tally (before tallies existed): a bounded batch a tick.
        await roll_up_untallied(session, team_id=team_id, now=now)
        await session.commit()
    if not settings.surveys_enabled or not settings.sales_usergroup:
        return
    period = period_of(now, settings.zone)
    for kind in SurveyKind:
        async with deps.sessions() as session:
            run = await get_or_create_run(
                session, team_id=team_id, kind=kind, period=period, now=now
            )
            recipients = await sales_recipients(session, team_id=team_id)
            await plan_deliveries(
                session,
                run=run,
                recipients=recipients,
                schedule=settings.survey_schedule(kind.value),
                workspace_tz=settings.timezone,
                local_time=settings.survey_local_time,
            )
        failures = await fan_out(deps, client, run, settings, now)
        if failures:
            await _tell_admins(deps, client, run, settings, failures)
        await _remind(deps, client, run, settings, now)


async def run_surveys(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """Every workspace's survey work, each on its own so one failure stops none."""
    await for_each_team(deps, client, run_team_surveys, now, name="surveys")
