"""Every 15 minutes: nudge at 75% of the SLA, escalate at 100%, flag unclaimed requests."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.requests import format_due, summary_line
from bot.calendar.sla import EscalationStep
from bot.core.deps import Deps
from bot.core.text import escape_mrkdwn, format_reference
from bot.requests.reminders import DueEscalation, claim_escalation, due_escalations_for_team
from bot.workspace.settings import WorkspaceSettings, load_settings
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)


def _link(escalation: DueEscalation) -> str:
    request = escalation.request
    reference = format_reference(request.number)
    if request.intake_permalink:
        return f"<{escape_mrkdwn(request.intake_permalink)}|{reference}>"
    return f"*{reference}*"


async def _assignee_gone(client: AsyncWebClient, user_id: str) -> bool:
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as error:
        return error.response.get("error") in ("user_not_found", "account_inactive")
    return bool(user.get("deleted"))


async def _send(
    client: AsyncWebClient, settings: WorkspaceSettings, escalation: DueEscalation
) -> None:
    request, step = escalation.request, escalation.step
    link, summary = _link(escalation), summary_line(request)
    if step == EscalationStep.UNCLAIMED_4H:
        if settings.intake_channel:
            await client.chat_postMessage(
                channel=settings.intake_channel,
                text=f":alarm_clock: {link} ({summary}) has waited more than 4 business hours "
                "without an owner. Who can claim it?",
                unfurl_links=False,
            )
        return
    assignee = request.assignee_id
    assert assignee is not None  # claimed steps only
    if await _assignee_gone(client, assignee):
        if settings.intake_channel:
            await client.chat_postMessage(
                channel=settings.intake_channel,
                text=f":warning: {link} ({summary}) belongs to <@{assignee}>, who has left the "
                "workspace. Someone from Marketing Support should reassign it.",
            )
        return
    if step == EscalationStep.NUDGE_75:
        await client.chat_postMessage(
            channel=assignee,
            text=f":hourglass: {link} ({summary}) has used 75% of its turnaround; "
            f"it is due {format_due(request.due_date)}.",
        )
        return
    text = f":rotating_light: {link} ({summary}) is overdue (due {format_due(request.due_date)})."
    await client.chat_postMessage(
        channel=assignee, text=text + " Deliver it or tell the requester."
    )
    for lead in settings.support_leads:
        if lead != assignee:
            await client.chat_postMessage(channel=lead, text=text + f" It is with <@{assignee}>.")


async def send_team_reminders(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> None:
    """One workspace's due SLA steps. Each step is claimed in the database before it is sent, so
    re-runs and several processes never repeat one; each request is handled on its own."""
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        due = await due_escalations_for_team(session, team_id=team_id, settings=settings, now=now)
    overdue = {e.request.id for e in due if e.step == EscalationStep.OVERDUE_100}
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
        if escalation.step == EscalationStep.NUDGE_75 and escalation.request.id in overdue:
            continue  # already past due: the overdue message says it all
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
