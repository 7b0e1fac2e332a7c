"""Run one job for every workspace: each on its own, each period claimed once across replicas."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.claims import claim_job_period, period_key
from bot.core.deps import Deps
from bot.workspace.installs import list_team_ids
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
    team_id: str | None = None,
) -> None:
    """Run `team_job` for every installed workspace, or for `team_id` alone when given (an
    operator's `alignbot jobs run NAME --team T`; nothing runs if it is not one of them).

    With `claim_minutes`, the (job, team, period) is claimed in the database first, so of several
    replicas running the same schedule only one does each period's work. One workspace's failure
    is logged and the others still run (unless `stop_on_error`, for an operator at the CLI).
    A job that does not talk to Slack (`needs_slack=False`) also runs for uninstalled workspaces,
    with no client: retention must still erase their old text."""
    if isinstance(clients, AsyncWebClient):
        clients = SingleTokenClients(clients)
    async with deps.sessions() as session:
        team_ids = await list_team_ids(session, installed_only=needs_slack)
    if team_id is not None:
        team_ids = [team for team in team_ids if team == team_id]
    for team in team_ids:
        try:
            if claim_minutes is not None:
                async with deps.sessions() as session:
                    claimed = await claim_job_period(
                        session,
                        job=name,
                        team_id=team,
                        period=period_key(now, claim_minutes),
                        now=now,
                    )
                if not claimed:
                    logger.debug("job_period_taken job=%s team=%s", name, team)
                    continue
            client = await clients.for_team(team) if needs_slack else None
            if client is None and needs_slack:
                continue
            await team_job(deps, client, team_id=team, now=now)
        except Exception:
            if stop_on_error:
                raise
            logger.exception("job_crashed job=%s team=%s", name, team)
