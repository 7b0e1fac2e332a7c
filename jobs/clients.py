"""Which Web API client speaks for a workspace: the one bot token, or that workspace's install."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

import aiohttp
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.workspace.installs import (
    TOKEN_REFRESH_MINUTES,
    record_org_workspaces,
    workspace_enterprise,
)

logger = logging.getLogger(__name__)

TEAMS_PAGE_LIMIT = 200  # auth.teams.list allows up to 1000; Slack may answer fewer a page


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
    bot speaks for it. With Slack's token rotation on, a bot token that expires within
    TOKEN_REFRESH_MINUTES is refreshed first (as Bolt's authorize does for requests) and the
    new one saved in the store; clients are kept per token, so a rotated token gets its own."""

    def __init__(self, deps: Deps, store: AsyncInstallationStore, base: AsyncWebClient) -> None:
        self.deps = deps
        self.store = store
        self.base = base
        self._by_token: dict[str, AsyncWebClient] = {}
        # One rotation at a time per bot in this process: a refresh token works only once.
        self._rotations: dict[tuple[str | None, str | None], asyncio.Lock] = {}
        client_id, secret = deps.settings.slack_client_id, deps.settings.slack_client_secret
        self.rotator = (
            AsyncTokenRotator(
                client_id=client_id, client_secret=secret.get_secret_value(), client=base
            )
            if client_id is not None and secret is not None
            else None
        )

    async def token_for(self, team_id: str) -> str | None:
        async with self.deps.sessions() as session:
            enterprise_id = await workspace_enterprise(session, team_id)
        bot = await self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id is not None:
            bot = await self.store.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is not None:
            bot = await self._current(bot)
        return bot.bot_token if bot is not None else None

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        token = await self.token_for(team_id)
        if token is None:
            logger.info("no_installation team=%s", team_id)
            return None
        return self._client(token)

    def _client(self, token: str) -> AsyncWebClient:
        client = self._by_token.get(token)
        if client is None:
            client = AsyncWebClient(
                token=token,
                base_url=self.base.base_url,
                timeout=self.base.timeout,
                session=self.base.session,  # the server's keep-alive session, when it has one
                retry_handlers=self.base.retry_handlers,
                logger=self.base.logger,
            )
            self._by_token[token] = client
        return client

    # ------------------------------------------------------------------ token rotation

    @staticmethod
    def _expiring(bot: Bot) -> bool:
        expires_at = bot.bot_token_expires_at
        if bot.bot_refresh_token is None or expires_at is None:
            return False  # token rotation is off: the token never expires
        return expires_at <= time.time() + TOKEN_REFRESH_MINUTES * 60

    async def _current(self, bot: Bot) -> Bot | None:
        """`bot`, its token refreshed if it is about to expire; None if Slack refused to."""
        if not self._expiring(bot):
            return bot
        if self.rotator is None:  # OAuth mode always has the client id and secret
            logger.error("token_rotation_unconfigured enterprise=%s", bot.enterprise_id)
            return bot
        key = (bot.enterprise_id, bot.team_id)
        async with self._rotations.setdefault(key, asyncio.Lock()):
            # Another job of this process may have rotated it while we waited.
            current = await self._stored(bot) or bot
            if not self._expiring(current):
                return current
            try:
                rotated = await self.rotator.perform_bot_token_rotation(
                    bot=current, minutes_before_expiration=TOKEN_REFRESH_MINUTES
                )
            except SlackTokenRotationError as error:
                # A request's authorize or another replica may have used the refresh token
                # first (it works once): then the store already holds the new token.
                latest = await self._stored(bot)
                if latest is not None and latest.bot_token != current.bot_token:
                    return latest
                logger.error(
                    "token_rotation_failed team=%s enterprise=%s error=%s",
                    current.team_id,
                    current.enterprise_id,
                    error.api_error.response.get("error"),
                )
                return None
            if rotated is None:
                return current
            await self.store.async_save_bot(rotated)
            if current.bot_token is not None:
                self._by_token.pop(current.bot_token, None)
            logger.info(
                "token_rotated team=%s enterprise=%s", rotated.team_id, rotated.enterprise_id
            )
            return rotated

    async def _stored(self, bot: Bot) -> Bot | None:
        return await self.store.async_find_bot(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install,
        )

    # ------------------------------------------------------------------ org-wide installs

    async def record_org_workspaces(self) -> int:
        """At start-up: every workspace each org-wide install was approved for (auth.teams.list)
        is recorded with its org, so jobs serve it before anyone there writes to the bot.

        The install itself records them (handlers/oauth.py); this catches orgs installed before
        that, and workspaces the org approved since. Only adds the missing ones: it never undoes
        an uninstall. Returns how many it added."""
        added = 0
        for enterprise_id in await self._org_installs():
            bot = await self.store.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
            bot = await self._current(bot) if bot is not None else None
            if bot is None or bot.bot_token is None:
                continue
            try:
                team_ids = await _org_team_ids(self._client(bot.bot_token))
            except SlackApiError as error:
                logger.warning(
                    "org_workspaces_unknown enterprise=%s error=%s",
                    enterprise_id,
                    error.response.get("error"),
                )
                continue
            except (aiohttp.ClientError, TimeoutError) as error:  # Slack unreachable
                logger.warning(
                    "org_workspaces_unknown enterprise=%s error=%s",
                    enterprise_id,
                    type(error).__name__,
                )
                continue
            async with self.deps.sessions() as session:
                new = await record_org_workspaces(
                    session,
                    enterprise_id=enterprise_id,
                    team_ids=team_ids,
                    now=self.deps.clock(),
                    serve_again=False,
                )
            logger.info(
                "org_workspaces enterprise=%s workspaces=%s added=%s",
                enterprise_id,
                len(team_ids),
                len(new),
            )
            added += len(new)
        return added

    async def _org_installs(self) -> list[str]:
        """The orgs with an org-wide install whose bot token is still stored."""
        store = self.store
        if not isinstance(store, AsyncSQLAlchemyInstallationStore):
            return []
        bots = store.bots.c
        query = (
            sa.select(bots.enterprise_id)
            .where(
                bots.client_id == store.client_id,
                bots.is_enterprise_install.is_(True),
                bots.enterprise_id.is_not(None),
                bots.bot_token.is_not(None),
            )
            .distinct()
        )
        async with store.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return sorted(str(row[0]) for row in rows)


async def _org_team_ids(client: AsyncWebClient) -> list[str]:
    """The workspaces an org-wide install was approved for, page by page."""
    team_ids: list[str] = []
    async for page in await client.auth_teams_list(limit=TEAMS_PAGE_LIMIT):
        team_ids += [str(team["id"]) for team in page.get("teams") or []]
    return team_ids
