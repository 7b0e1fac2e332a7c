"""Run one job for every workspace: each on its own, each period claimed once across replicas."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.claims import claim_job_period, period_key
from bot.core.deps import Deps
from bot.workspace.settings import list_team_ids
from jobs.clients import SingleTokenClients, TeamClients

logger = logging.getLogger(__name__)

TeamJob = Callable[..., Awaitable[Any]]  # (deps, client, *, team_id, now)


async def for_each_team(
    deps: Deps,
    clients: TeamClients | AsyncWebClient,
    team_job: TeamJob,
    now: datetime,
    *,
    name: str,
    claim_minutes: int | None = None,
    stop_on_error: bool = False,
    needs_slack: bool = True,
) -> None:
    """Run `team_job` for every installed workspace.

    With `claim_minutes`, the (job, team, period) is claimed in the database first, so of several
    replicas running the same schedule only one does each period's work. One workspace's failure
    is logged and the others still run (unless `stop_on_error`, for an operator at the CLI).
    A job that does not talk to Slack (`needs_slack=False`) also runs for uninstalled workspaces,
    with no client: retention must still erase their old text."""
    if isinstance(clients, AsyncWebClient):
        clients = SingleTokenClients(clients)
    async with deps.sessions() as session:
        team_ids = await list_team_ids(session, installed_only=needs_slack)
    for team_id in team_ids:
        try:
            if claim_minutes is not None:
                async with deps.sessions() as session:
                    claimed = await claim_job_period(
                        session,
                        job=name,
                        team_id=team_id,
                        period=period_key(now, claim_minutes),
                        now=now,
                    )
                if not claimed:
                    logger.debug("job_period_taken job=%s team=%s", name, team_id)
                    continue
            client = await clients.for_team(team_id) if needs_slack else None
            if client is None and needs_slack:
                continue
            await team_job(deps, client, team_id=team_id, now=now)
        except Exception:
            if stop_on_error:
                raise
            logger.exception("job_crashed job=%s team=%s", name, team_id)
