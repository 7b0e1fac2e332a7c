"""Daily retention: erase free text past the workspace's retention_days; prune old claims."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import outbox
from bot.core.claims import prune_claims
from bot.core.deps import Deps
from bot.workspace.retention import RetentionReport, erase_old_free_text
from bot.workspace.settings import load_settings

logger = logging.getLogger(__name__)

DEAD_KEEP_DAYS = 30  # a month to notice, fix and resend what Slack refused


async def run_team_retention(
    deps: Deps, client: AsyncWebClient | None, *, team_id: str, now: datetime
) -> RetentionReport:
    """One workspace's erasure (no Slack call: `client` is unused, kept for the job shape)."""
    del client
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        report = await erase_old_free_text(
            session, team_id=team_id, retention_days=settings.retention_days, now=now
        )
    async with deps.sessions() as session:
        await prune_claims(session, team_id=team_id, now=now)
        await outbox.prune(
            session,
            team_id=team_id,
            now=now,
            dead_after=timedelta(
                days=min(settings.retention_days or DEAD_KEEP_DAYS, DEAD_KEEP_DAYS)
            ),
        )
    logger.info(
        "retention_run team=%s days=%s erased=%s", team_id, settings.retention_days, report.total
    )
    return report
