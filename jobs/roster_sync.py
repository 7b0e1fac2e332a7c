"""Mirror the Sales, Marketing Support and Demand Gen user groups into the roster table.

The full sync is the safety net: live changes arrive as Slack events (handlers/roster_events.py),
and every write here is change-only (bot.workspace.roster), so a sync that finds nothing new
writes no roster or user row."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.workspace.roster import (
    begin_roster_sync,
    replace_role_members,
    slack_user_facts,
    store_slack_users,
    usergroup_roles,
)
from bot.workspace.settings import load_settings
from jobs.runner import for_each_team

logger = logging.getLogger(__name__)


async def sync_team_roster(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime
) -> dict[str, int]:
    """Refresh one workspace's roster; a group Slack can't read keeps its last known members.

    The sync takes its generation before reading the settings and stops writing as soon as a
    newer sync or settings save exists (bot.workspace.roster), so it never undoes a newer write;
    users' facts are stored as of `now`, so a `user_change` sent after it began also wins.
    Returns the members per role."""
    async with deps.sessions() as session:
        generation = await begin_roster_sync(session, team_id=team_id, now=now)
        settings = await load_settings(session, team_id)
    counts: dict[str, int] = {}
    for role, usergroup in usergroup_roles(settings).items():
        if usergroup is None:
            members: list[str] = []
        else:
            try:
                response = await client.usergroups_users_list(usergroup=usergroup)
            except SlackApiError as error:
                logger.warning(
                    "roster_sync_failed team=%s role=%s error=%s",
                    team_id,
                    role.value,
                    error.response.get("error"),
                )
                continue
            members = [str(user) for user in response.get("users") or []]
        async with deps.sessions() as session:
            written = await replace_role_members(
                session,
                team_id=team_id,
                role=role,
                user_ids=members,
                now=now,
                generation=generation,
            )
        if written is None:
            _superseded(team_id, generation, counts)
            return counts
        counts[role.value] = written
    if settings.sales_usergroup and not await _sync_user_facts(
        deps, client, team_id=team_id, now=now, generation=generation
    ):
        _superseded(team_id, generation, counts)
        return counts
    logger.info("roster_synced team=%s generation=%s counts=%s", team_id, generation, counts)
    return counts


def _superseded(team_id: str, generation: int, counts: dict[str, int]) -> None:
    logger.info(
        "roster_sync_superseded team=%s generation=%s written=%s", team_id, generation, counts
    )


async def _sync_user_facts(
    deps: Deps, client: AsyncWebClient, *, team_id: str, now: datetime, generation: int
) -> bool:
    """Time zones and deactivations from users.list, a page at a time (200 users a call).
    False when a newer sync took over part-way."""
    cursor: str | None = None
    while True:
        try:
            page = await client.users_list(limit=200, cursor=cursor)
        except SlackApiError as error:
            logger.warning(
                "users_list_failed team=%s error=%s", team_id, error.response.get("error")
            )
            return True
        facts = [
            fact for fact in map(slack_user_facts, page.get("members") or []) if fact is not None
        ]
        async with deps.sessions() as session:
            stored = await store_slack_users(
                session, team_id=team_id, users=facts, now=now, generation=generation
            )
        if stored is None:
            return False
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return True


async def sync_all_rosters(deps: Deps, client: AsyncWebClient, now: datetime) -> None:
    """Every known workspace, each on its own so one failure stops none."""
    await for_each_team(deps, client, sync_team_roster, now, name="roster-sync")
