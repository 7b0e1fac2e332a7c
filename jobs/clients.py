"""Which Web API client speaks for a workspace: the one bot token, or that workspace's install."""

from __future__ import annotations

import logging
from typing import Protocol

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.workspace.installs import workspace_enterprise

logger = logging.getLogger(__name__)


class TeamClients(Protocol):
    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        """A client with the workspace's bot token, or None when it has none (uninstalled)."""


class SingleTokenClients:
    """Token mode: one workspace, one SLACK_BOT_TOKEN."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        return self.client


class InstalledClients:
    """OAuth mode: each workspace's own bot token, from the installation store.

    A workspace in an org-wide (Enterprise Grid) install has no bot of its own: the org's
    bot speaks for it."""

    def __init__(self, deps: Deps, store: AsyncInstallationStore, base: AsyncWebClient) -> None:
        self.deps = deps
        self.store = store
        self.base = base
        self._by_token: dict[str, AsyncWebClient] = {}

    async def token_for(self, team_id: str) -> str | None:
        async with self.deps.sessions() as session:
            enterprise_id = await workspace_enterprise(session, team_id)
        bot = await self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id is not None:
            bot = await self.store.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        return bot.bot_token if bot is not None else None

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        token = await self.token_for(team_id)
        if token is None:
            logger.info("no_installation team=%s", team_id)
            return None
        client = self._by_token.get(token)
        if client is None:
            client = AsyncWebClient(
                token=token,
                base_url=self.base.base_url,
                timeout=self.base.timeout,
                retry_handlers=self.base.retry_handlers,
                logger=self.base.logger,
            )
            self._by_token[token] = client
        return client
