"""Weekly digests, posted once per workspace, kind and week at the configured time."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.digests import build_digest, digest_post
from bot.core.deps import Deps
from bot.core.models import OutboxState
from bot.kpis.digest_posts import digest_taken, queue_digest
from bot.kpis.digest_schedule import digest_channel, digest_week
from bot.kpis.digests import DigestKind, digest_for
from bot.workspace.settings import load_settings
from jobs.dispatcher import outbox_of
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)


async def post_team_digests(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime, force: bool = False
) -> list[str]:
    """Post this week's digests that are due and not posted yet; returns the kinds posted.

    `force` posts before the scheduled time (an operator's `jobs run weekly-digest`), still once.
    """
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
    week = digest_week(settings, now)
    period = week.period
    if not week.due(now) and not force:
        return []
    posted: list[str] = []
    for kind in DigestKind.ALL:
        channel = digest_channel(settings, kind)
        if channel is None:
            continue
        async with deps.sessions() as session:
            if await digest_taken(session, team_id=team_id, kind=kind, period_start=period.start):
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
        message = digest_post(kind, period.start, channel, text, blocks)
        async with deps.sessions() as session:
            ids = await queue_digest(
                session,
                team_id=team_id,
                kind=kind,
                period_start=period.start,
                now=now,
                message=message,
                queued_at=deps.clock(),
            )
        if not ids:
            continue
        sent = await outbox_of(deps, client).deliver(ids, client)
        if all(row.state == OutboxState.SENT for row in sent.values()):
            posted.append(kind)
        else:
            logger.warning("digest_post_waiting team=%s kind=%s", team_id, kind)
    return posted


async def post_team_digests_now(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> list[str]:
    """An operator's `jobs run weekly-digest`: this week's digests now, still once per week."""
    return await post_team_digests(deps, client, team_id=team_id, now=now, force=True)


async def post_digests(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """Every workspace's due digests, each workspace on its own."""
    await for_each_team(deps, client, post_team_digests, now, name="weekly-digest")
