"""Every 15 minutes: nudge at 75% of the SLA, escalate at 100%, flag unclaimed requests."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.reminders import reminder_rows
from bot.core.deps import Deps
from bot.core.outbox import stored_ids
from bot.core.text import format_reference
from bot.requests.reminders import (
    assignee_to_check,
    claim_escalation,
    due_escalations_for_team,
    reminders_for,
    superseded,
)
from bot.workspace.settings import load_settings
from jobs.dispatcher import outbox_of
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)


async def _assignee_gone(client: AsyncWebClient, user_id: str) -> bool:
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as error:
        return error.response.get("error") in ("user_not_found", "account_inactive")
    return bool(user.get("deleted"))


async def send_team_reminders(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> None:
    """One workspace's due SLA steps. Each step is claimed in the database together with its
    messages (outbox rows), so re-runs and several processes never repeat one and an outage
    only delays it; each request is handled on its own."""
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        due = await due_escalations_for_team(session, team_id=team_id, settings=settings, now=now)
    for escalation in due:
        assert escalation.request.id is not None
        messages = []
        if not superseded(escalation, due):
            assignee = assignee_to_check(escalation)
            gone = assignee is not None and await _assignee_gone(client, assignee)
            messages = reminder_rows(reminders_for(escalation, settings, assignee_gone=gone))
        async with deps.sessions() as session:
            claimed = await claim_escalation(
                session,
                request_id=escalation.request.id,
                step=escalation.step,
                cycle=escalation.cycle,
                now=now,
                version=escalation.request.version,
                messages=messages,
                team_id=team_id,
                queued_at=deps.clock(),
            )
            ids = await stored_ids(session, team_id=team_id, messages=messages) if claimed else []
        if not claimed or not messages:
            continue
        await outbox_of(deps, client).deliver(ids, client)
        logger.info(
            "reminder_queued ref=%s step=%s",
            format_reference(escalation.request.number),
            escalation.step.value,
        )


async def send_reminders(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """Every workspace's due SLA steps (the job, unclaimed: each step is claimed on its own)."""
    await for_each_team(deps, client, send_team_reminders, now, name="sla-reminders")
