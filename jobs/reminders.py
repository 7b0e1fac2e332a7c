"""Every 15 minutes: nudge at 75% of the SLA, escalate at 100%, flag unclaimed requests."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.reminders import build_reminder_message
from bot.core.deps import Deps
from bot.core.text import format_reference
from bot.requests.reminders import (
    DueEscalation,
    assignee_to_check,
    claim_escalation,
    due_escalations_for_team,
    reminders_for,
    superseded,
)
from bot.workspace.settings import WorkspaceSettings, load_settings
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)


async def _assignee_gone(client: AsyncWebClient, user_id: str) -> bool:
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as error:
        return error.response.get("error") in ("user_not_found", "account_inactive")
    return bool(user.get("deleted"))


async def _send(
    client: AsyncWebClient, settings: WorkspaceSettings, escalation: DueEscalation
) -> None:
    assignee = assignee_to_check(escalation)
    gone = assignee is not None and await _assignee_gone(client, assignee)
    for reminder in reminders_for(escalation, settings, assignee_gone=gone):
        await client.chat_postMessage(**build_reminder_message(reminder))


async def send_team_reminders(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> None:
    """One workspace's due SLA steps. Each step is claimed in the database before it is sent, so
    re-runs and several processes never repeat one; each request is handled on its own."""
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        due = await due_escalations_for_team(session, team_id=team_id, settings=settings, now=now)
    for escalation in due:
        assert escalation.request.id is not None
        async with deps.sessions() as session:
            claimed = await claim_escalation(
                session,
                request_id=escalation.request.id,
                step=escalation.step,
                cycle=escalation.cycle,
                now=now,
                version=escalation.request.version,
            )
        if not claimed:
            continue
        if superseded(escalation, due):
            continue
        try:
            await _send(client, settings, escalation)
            logger.info(
                "reminder_sent ref=%s step=%s",
                format_reference(escalation.request.number),
                escalation.step.value,
            )
        except SlackApiError as error:
            logger.warning(
                "reminder_failed ref=%s step=%s error=%s",
                format_reference(escalation.request.number),
                escalation.step.value,
                error.response.get("error"),
            )


async def send_reminders(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """Every workspace's due SLA steps (the job, unclaimed: each step is claimed on its own)."""
    await for_each_team(deps, client, send_team_reminders, now, name="sla-reminders")
