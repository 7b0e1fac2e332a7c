"""Weekly digests, posted once per workspace, kind and week at the configured time."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.digests import build_digest
from bot.calendar.periods import period_of, send_time
from bot.core.deps import Deps
from bot.core.slack_errors import error_code, is_transient
from bot.kpis.digest_posts import claim_digest, finish_digest
from bot.kpis.digests import DigestKind, digest_for
from bot.workspace.settings import WorkspaceSettings, load_settings
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)


def digest_channel(settings: WorkspaceSettings, kind: str) -> str | None:
    return (
        settings.support_digest_channel
        if kind == DigestKind.SUPPORT
        else settings.demandgen_digest_channel
    )


async def post_team_digests(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime, force: bool = False
) -> list[str]:
    """Post this week's digests that are due and not posted yet; returns the kinds posted.

    `force` posts before the scheduled time (an operator's `jobs run weekly-digest`), still once.
    """
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
    period = period_of(now, settings.zone)
    due_at = send_time(period, settings.survey_schedule_of(settings.digest_schedule), settings.zone)
    if now < due_at and not force:
        return []
    posted: list[str] = []
    for kind in DigestKind.ALL:
        channel = digest_channel(settings, kind)
        if channel is None:
            continue
        async with deps.sessions() as session:
            if not await claim_digest(
                session, team_id=team_id, kind=kind, period_start=period.start, now=now
            ):
                continue
            text, blocks = build_digest(
                await digest_for(
                    session,
                    kind=kind,
                    team_id=team_id,
                    week_start=period.start,
                    settings=settings,
                    now=now,
                )
            )
        ts: str | None = None
        error: str | None = None
        try:
            response = await client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False
            )
            ts = str(response.get("ts"))
            posted.append(kind)
        except SlackApiError as failure:
            error = error_code(failure)
            logger.warning("digest_post_failed team=%s kind=%s error=%s", team_id, kind, error)
        async with deps.sessions() as session:
            await finish_digest(
                session,
                team_id=team_id,
                kind=kind,
                period_start=period.start,
                channel=channel,
                ts=ts,
                error=error,
                # Slack's "not now": the next run posts it instead of losing the week's digest.
                retry=error is not None and is_transient(error),
            )
    return posted


async def post_team_digests_now(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> list[str]:
    """An operator's `jobs run weekly-digest`: this week's digests now, still once per week."""
    return await post_team_digests(deps, client, team_id=team_id, now=now, force=True)


async def post_digests(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """Every workspace's due digests, each workspace on its own."""
    await for_each_team(deps, client, post_team_digests, now, name="weekly-digest")
