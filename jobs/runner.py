"""Run one job for every workspace: each on its own, each period claimed once across replicas.

A scheduled tick costs what the workspaces with work cost, not what every installed workspace
costs. It decides who has work for all of them together (a few queries, `DueFilter`), claims
those in one statement, and only then runs each one's work. The filter may only over-approximate:
every team job still checks for itself what is due, so running one without work does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.claims import (
    claim_job_periods,
    claimed_teams,
    period_key,
    period_start,
    spread_offset,
)
from bot.core.deps import Deps
from bot.workspace.installs import list_team_ids
from bot.workspace.settings import load_settings_of
from jobs.clients import SingleTokenClients, TeamClients

logger = logging.getLogger(__name__)

TeamJob = Callable[..., Awaitable[Any]]  # (deps, client, *, team_id, now)
# (session, team_ids, now) -> the ones that might have work now; a superset of those that do.
DueFilter = Callable[[AsyncSession, Sequence[str], datetime], Awaitable[set[str]]]
# The same, for a domain rule that decides from the workspaces' settings.
SettingsFilter = Callable[..., Awaitable[set[str]]]  # (session, *, settings, now)


def by_settings(rule: SettingsFilter) -> DueFilter:
    """A tick's filter from a domain rule over the workspaces' settings, read in one query."""

    async def due(session: AsyncSession, team_ids: Sequence[str], now: datetime) -> set[str]:
        return await rule(session, settings=await load_settings_of(session, team_ids), now=now)

    return due


async def for_each_team(
    deps: Deps,
    clients: TeamClients | AsyncWebClient,
    team_job: TeamJob,
    now: datetime,
    *,
    name: str,
    stop_on_error: bool = False,
    needs_slack: bool = True,
    team_id: str | None = None,
) -> None:
    """Run `team_job` for every installed workspace, or for `team_id` alone when given (an
    operator's `alignbot jobs run NAME --team T`; nothing runs if it is not one of them).
    Unclaimed: the work itself is claimed item by item. A job that does not talk to Slack
    (`needs_slack=False`) also runs for uninstalled workspaces: retention must still erase
    their old text."""
    async with deps.sessions() as session:
        team_ids = await list_team_ids(session, installed_only=needs_slack)
    if team_id is not None:
        team_ids = [team for team in team_ids if team == team_id]
    await run_for_teams(
        deps,
        clients,
        team_job,
        team_ids,
        now,
        name=name,
        stop_on_error=stop_on_error,
        needs_slack=needs_slack,
    )


async def run_tick(
    deps: Deps,
    clients: TeamClients | AsyncWebClient,
    team_job: TeamJob,
    now: datetime,
    *,
    name: str,
    tick_minutes: int,
    once_per_minutes: int | None = None,
    due: DueFilter | None = None,
    needs_slack: bool = True,
) -> None:
    """One scheduled tick: the workspaces with work, each (job, workspace, period) claimed once,
    so several replicas on one database share the work instead of repeating it.

    The period is the tick's own slot, or with `once_per_minutes` a longer one (a day) that
    each workspace is served once in, from its own `spread_offset` on: a thousand workspaces'
    daily work is then spread over the day instead of landing on one tick."""
    period_minutes = once_per_minutes or tick_minutes
    period = period_key(now, period_minutes)
    async with deps.sessions() as session:
        team_ids = await list_team_ids(session, installed_only=needs_slack)
        if once_per_minutes is not None:
            opened = period_start(now, period_minutes)
            served = await claimed_teams(session, job=name, period=period)
            team_ids = [
                team
                for team in team_ids
                if team not in served
                and now
                >= opened
                + spread_offset(
                    name, team, period_minutes=period_minutes, tick_minutes=tick_minutes
                )
            ]
        if due is not None and team_ids:
            might = await due(session, team_ids, now)
            team_ids = [team for team in team_ids if team in might]
        claimed = (
            await claim_job_periods(session, job=name, team_ids=team_ids, period=period, now=now)
            if team_ids
            else set()
        )
    if len(claimed) < len(team_ids):
        logger.debug("job_periods_taken job=%s count=%s", name, len(team_ids) - len(claimed))
    await run_for_teams(
        deps,
        clients,
        team_job,
        [team for team in team_ids if team in claimed],
        now,
        name=name,
        needs_slack=needs_slack,
    )


async def run_for_teams(
    deps: Deps,
    clients: TeamClients | AsyncWebClient,
    team_job: TeamJob,
    team_ids: Sequence[str],
    now: datetime,
    *,
    name: str,
    stop_on_error: bool = False,
    needs_slack: bool = True,
) -> None:
    """Each workspace on its own: one failure is logged and the others still run (unless
    `stop_on_error`, for an operator at the CLI)."""
    if isinstance(clients, AsyncWebClient):
        clients = SingleTokenClients(clients)
    for team in team_ids:
        try:
            client = await clients.for_team(team) if needs_slack else None
            if client is None and needs_slack:
                continue
            await team_job(deps, client, team_id=team, now=now)
        except Exception:
            if stop_on_error:
                raise
            logger.exception("job_crashed job=%s team=%s", name, team)
