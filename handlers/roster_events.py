"""Slack side of keeping the roster live between daily syncs: user group and user events.

- `subteam_members_changed`: someone joined or left a user group. When it is one of the groups
  the workspace mirrors (Sales, Marketing Support, Demand Gen), the roster sync runs for that
  workspace now (`Deps.run_now`), under the sync's own "latest wins" rule; any other group is
  ignored without a Slack call. The event's delta is not applied by itself: the sync reads the
  group's whole member list, so a missed or reordered event can't leave the roster wrong.
- `user_change`: one user's time zone, deactivation or bot flag, stored as of the event's time
  (`bot.workspace.roster.store_slack_user_change` says which of an event and a sync wins).

Bolt acknowledges an event before its listener runs, and repeated deliveries (Slack's retries,
other replicas) are dropped by event_id before reaching here (`bot.app.skip_repeated_events`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.workspace.roster import is_roster_usergroup, slack_user_facts, store_slack_user_change
from bot.workspace.settings import load_settings

logger = logging.getLogger(__name__)


def _team_id(body: dict[str, Any], context: AsyncBoltContext) -> str | None:
    team_id = body.get("team_id") or context.team_id
    return str(team_id) if team_id else None


def sent_at(body: dict[str, Any], now: datetime) -> datetime:
    """When Slack sent the event (`event_time`), never later than our own clock: a write is
    only as new as what we can vouch for."""
    try:
        sent = datetime.fromtimestamp(int(body["event_time"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return now
    return min(sent, now)


class RosterEventHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def members_changed(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        team_id = _team_id(body, context)
        if team_id is None:
            return
        async with self.deps.sessions() as session:
            settings = await load_settings(session, team_id)
        if not is_roster_usergroup(settings, event.get("subteam_id")):
            return
        counts = await self.deps.run_now(
            "roster-sync", client=client, team_id=team_id, now=self.deps.clock()
        )
        logger.info(
            "roster_event_synced team=%s usergroup=%s counts=%s",
            team_id,
            event.get("subteam_id"),
            counts,
        )

    async def user_changed(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team_id = _team_id(body, context)
        facts = slack_user_facts(event.get("user") or {})
        if team_id is None or facts is None:
            return
        async with self.deps.sessions() as session:
            stored = await store_slack_user_change(
                session,
                team_id=team_id,
                user=facts,
                as_of=sent_at(body, self.deps.clock()),
            )
        if stored:
            logger.info("slack_user_changed team=%s user=%s", team_id, facts.user_id)


def register(app: AsyncApp, deps: Deps) -> None:
    handlers = RosterEventHandlers(deps)
    app.event("subteam_members_changed")(handlers.members_changed)
    app.event("user_change")(handlers.user_changed)
