"""Weekly pulse surveys: open the period's runs, fan the DMs out, remind once, close."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.surveys import build_enablement_dm, build_failure_summary, build_pipeline_dm
from bot.deps import Deps
from bot.models import SurveyDelivery, SurveyKind, SurveyRun
from bot.periods import period_of
from bot.privacy import effective_minimum
from bot.surveys import (
    claim_due_deliveries,
    claim_due_reminders,
    close_due_runs,
    get_or_create_run,
    mark_failed,
    mark_reminder,
    mark_sent,
    plan_deliveries,
    return_to_pending,
    sales_recipients,
)
from bot.workspace import WorkspaceSettings, list_team_ids, load_settings

logger = logging.getLogger(__name__)

FAN_OUT_CONCURRENCY = 8
# Errors that say "not now" rather than "never": the delivery goes back to pending.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
MAX_ATTEMPTS = 3


def survey_message(
    run: SurveyRun, settings: WorkspaceSettings, *, reminder: bool = False
) -> tuple[str, list[dict[str, object]]]:
    if run.kind == SurveyKind.ENABLEMENT:
        return build_enablement_dm(
            run, minimum=effective_minimum(settings.survey_min_respondents), reminder=reminder
        )
    return build_pipeline_dm(run, reminder=reminder)


async def _send_one(
    deps: Deps,
    client: AsyncWebClient,
    run: SurveyRun,
    settings: WorkspaceSettings,
    delivery: SurveyDelivery,
    gate: asyncio.Semaphore,
    failures: dict[str, int],
) -> None:
    assert delivery.id is not None
    text, blocks = survey_message(run, settings)
    async with gate:
        try:
            posted = await client.chat_postMessage(
                channel=delivery.user_id, text=text, blocks=blocks
            )
        except SlackApiError as error:
            code = str(error.response.get("error") or "unknown")
            async with deps.sessions() as session:
                if code in TRANSIENT_ERRORS and delivery.attempts < MAX_ATTEMPTS:
                    await return_to_pending(session, delivery_id=delivery.id, now=deps.clock())
                else:
                    await mark_failed(session, delivery_id=delivery.id, error=code)
                    failures[code] = failures.get(code, 0) + 1
            logger.warning("survey_dm_failed run=%s error=%s", run.id, code)
            return
        except Exception:
            # Connection trouble after retries: unknown whether Slack posted it. Leave it
            # claimed (sending) rather than risk a second DM; it shows in /align survey.
            logger.exception("survey_dm_crashed run=%s delivery=%s", run.id, delivery.id)
            return
        # Recorded inside the gate, so database writes never queue up behind the sends.
        async with deps.sessions() as session:
            await mark_sent(
                session,
                delivery_id=delivery.id,
                channel=str(posted.get("channel") or delivery.user_id),
                ts=str(posted.get("ts")),
                now=deps.clock(),
            )


async def fan_out(
    deps: Deps, client: AsyncWebClient, run: SurveyRun, settings: WorkspaceSettings, now: datetime
) -> dict[str, int]:
    """Send every due DM of a run with bounded concurrency; returns failures by reason."""
    assert run.id is not None
    failures: dict[str, int] = {}
    gate = asyncio.Semaphore(FAN_OUT_CONCURRENCY)
    while True:
        async with deps.sessions() as session:
            claimed = await claim_due_deliveries(session, run_id=run.id, now=now, limit=500)
        if not claimed:
            break
        await asyncio.gather(
            *(
                _send_one(deps, client, run, settings, delivery, gate, failures)
                for delivery in claimed
            )
        )
    return failures


async def _remind(
    deps: Deps, client: AsyncWebClient, run: SurveyRun, settings: WorkspaceSettings, now: datetime
) -> None:
    async with deps.sessions() as session:
        due = await claim_due_reminders(
            session, run=run, reminder_days=settings.survey_reminder_days, now=now
        )
    text, blocks = survey_message(run, settings, reminder=True)
    gate = asyncio.Semaphore(FAN_OUT_CONCURRENCY)

    async def remind(delivery: SurveyDelivery) -> None:
        assert delivery.id is not None
        async with gate:
            try:
                await client.chat_postMessage(channel=delivery.user_id, text=text, blocks=blocks)
                outcome = "sent"
            except SlackApiError as error:
                outcome = "failed"
                logger.warning("survey_reminder_failed error=%s", error.response.get("error"))
        async with deps.sessions() as session:
            await mark_reminder(session, delivery_id=delivery.id, outcome=outcome)

    await asyncio.gather(*(remind(delivery) for delivery in due))


async def _tell_admins(
    client: AsyncWebClient, settings: WorkspaceSettings, kind: SurveyKind, failures: dict[str, int]
) -> None:
    for admin in settings.admins:
        try:
            await client.chat_postMessage(channel=admin, text=build_failure_summary(kind, failures))
        except SlackApiError:
            logger.warning("failure_summary_failed admin=%s", admin)


async def run_team_surveys(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> None:
    """One workspace's survey work for `now`; safe to repeat and to run in several processes."""
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        await close_due_runs(session, team_id=team_id, now=now)
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
            await _tell_admins(client, settings, kind, failures)
        await _remind(deps, client, run, settings, now)


async def run_surveys(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """The scheduled job: every workspace on its own, so one failure stops none."""
    async with deps.sessions() as session:
        team_ids = await list_team_ids(session)
    for team_id in team_ids:
        try:
            await run_team_surveys(deps, client, team_id=team_id, now=now)
        except Exception:
            logger.exception("surveys_crashed team=%s", team_id)
