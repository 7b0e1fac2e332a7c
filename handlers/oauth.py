"""Installs over OAuth (several workspaces or an Enterprise Grid org) and their removal.

Bolt runs the flow (/slack/install → Slack → /slack/oauth_redirect) and authorizes every
request from the installation store; this module keeps our side in step: a workspace is
recorded when it installs (every workspace of an org-wide install at once, from Slack's
auth.teams.list), its tokens are deleted when it uninstalls or revokes them, and its data stays
until the retention rule erases the free text. With token rotation on, `authorize` refreshes an
expiring bot token before the request runs (jobs do the same in jobs/clients.py)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.db import read_only_engine
from bot.core.deps import Deps
from bot.workspace.installs import (
    TOKEN_REFRESH_MINUTES,
    mark_enterprise_installed,
    mark_enterprise_uninstalled,
    mark_installed,
    mark_uninstalled,
    record_org_workspaces,
)

logger = logging.getLogger(__name__)

# Exactly manifest.yml's bot scopes (tests/test_manifest_matches_code.py checks they agree).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "channels:history",
    "groups:history",
    "im:history",
    "files:read",
    "files:write",
    "im:write",
    "users:read",
    "usergroups:read",
)
OAUTH_STATE_SECONDS = 600
TEAMS_PAGE_LIMIT = 200  # auth.teams.list allows up to 1000; Slack may answer fewer a page


async def org_team_ids(client: AsyncWebClient, token: str) -> list[str]:
    """Every workspace an org-wide install was approved for (auth.teams.list, page by page)."""
    team_ids: list[str] = []
    cursor: str | None = None
    while True:
        page = await client.auth_teams_list(token=token, limit=TEAMS_PAGE_LIMIT, cursor=cursor)
        team_ids += [str(team["id"]) for team in page.get("teams") or []]
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return team_ids


class WorkspaceInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store on our database (tables from our migrations), which also records the
    installing workspace, or every workspace of an org-wide install, so jobs serve them from
    the first minute. `client` (token-less) asks Slack for an org's workspaces."""

    def __init__(self, deps: Deps, client_id: str, client: AsyncWebClient | None = None) -> None:
        super().__init__(client_id=client_id, engine=deps.engine, logger=logger)
        self.deps = deps
        self.client = client or AsyncWebClient(base_url=deps.settings.slack_api_url, timeout=15)
        # Finding a token is a read on every request's way to its ack: in a read-only
        # transaction it never queues for SQLite's write lock behind a job tick's writes.
        self._reads = AsyncSQLAlchemyInstallationStore(
            client_id=client_id, engine=read_only_engine(deps.engine), logger=logger
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await self._reads.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self._reads.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(installation)
        if installation.team_id is None:  # org-wide: one bot for every workspace of the org
            served_again, recorded = 0, 0
            if installation.enterprise_id is not None:
                # Requests never clear an uninstall (bot.workspace.settings), so the org's reinstall
                # is what serves its workspaces again.
                async with self.deps.sessions() as session:
                    served_again = await mark_enterprise_installed(
                        session, enterprise_id=installation.enterprise_id
                    )
                recorded = await self._record_org_workspaces(installation)
            logger.info(
                "installed enterprise=%s org_wide=true served_again=%s workspaces=%s",
                installation.enterprise_id,
                served_again,
                recorded,
            )
            return
        async with self.deps.sessions() as session:
            await mark_installed(
                session,
                team_id=installation.team_id,
                enterprise_id=installation.enterprise_id,
                now=self.deps.clock(),
            )
        logger.info(
            "installed team=%s enterprise=%s", installation.team_id, installation.enterprise_id
        )

    async def _record_org_workspaces(self, installation: Installation) -> int:
        """Every workspace the org approved the app for is served from now on, not only once
        someone there writes to the bot. If Slack can't say which they are, the install still
        succeeds: they are recorded as they write, or at the next start-up."""
        enterprise_id, token = installation.enterprise_id, installation.bot_token
        if enterprise_id is None or token is None:
            return 0
        try:
            team_ids = await org_team_ids(self.client, token)
        except SlackApiError as error:
            logger.warning(
                "org_workspaces_unknown enterprise=%s error=%s",
                enterprise_id,
                error.response.get("error"),
            )
            return 0
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning(
                "org_workspaces_unknown enterprise=%s error=%s", enterprise_id, type(error).__name__
            )
            return 0
        async with self.deps.sessions() as session:
            await record_org_workspaces(
                session,
                enterprise_id=enterprise_id,
                team_ids=team_ids,
                now=self.deps.clock(),
                serve_again=True,
            )
        return len(team_ids)


def installation_store(
    deps: Deps, client: AsyncWebClient | None = None
) -> WorkspaceInstallationStore:
    client_id = deps.settings.slack_client_id
    assert client_id is not None, "installs need SLACK_CLIENT_ID"
    return WorkspaceInstallationStore(deps, client_id, client)


def oauth_flow(
    deps: Deps, store: WorkspaceInstallationStore, client: AsyncWebClient
) -> AsyncOAuthFlow:
    """Bolt's OAuth flow on our database; `client` carries SLACK_API_URL and retry rules."""
    settings = deps.settings
    secret = settings.slack_client_secret
    assert settings.slack_client_id is not None
    assert secret is not None
    return AsyncOAuthFlow(
        client=client,
        logger=logger,
        settings=AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=secret.get_secret_value(),
            scopes=list(BOT_SCOPES),
            redirect_uri=settings.slack_redirect_uri,
            installation_store=store,
            installation_store_bot_only=True,
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=OAUTH_STATE_SECONDS, engine=deps.engine, logger=logger
            ),
            state_expiration_seconds=OAUTH_STATE_SECONDS,
            logger=logger,
        ),
    )


def authorize(
    deps: Deps, store: WorkspaceInstallationStore, client: AsyncWebClient
) -> AsyncInstallationStoreAuthorize:
    """Per-request tokens from the store. Authorizations are cached per token, which spares an
    auth.test on every click; a revoked token is never cached again once it is deleted.

    With token rotation on (the install gave a refresh token), Bolt refreshes a bot token that
    expires within TOKEN_REFRESH_MINUTES through `client` with our client id and secret, and
    saves the new one in the store (`async_save_bot`) before the request runs; a rotated token
    is a new cache key, so it gets its own auth.test."""
    secret = deps.settings.slack_client_secret
    return AsyncInstallationStoreAuthorize(
        installation_store=store,
        client_id=deps.settings.slack_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        token_rotation_expiration_minutes=TOKEN_REFRESH_MINUTES,
        logger=logger,
        bot_only=True,
        cache_enabled=True,
        client=client,
    )


class UninstallHandlers:
    """app_uninstalled and tokens_revoked, in token mode and OAuth mode alike."""

    def __init__(self, deps: Deps, store: WorkspaceInstallationStore | None) -> None:
        self.deps = deps
        self.store = store

    async def app_uninstalled(self, context: AsyncBoltContext) -> None:
        team_id, enterprise_id = context.team_id, context.enterprise_id
        if self.store is not None:
            is_org = bool(context.is_enterprise_install)
            await self.store.async_delete_all(
                enterprise_id=enterprise_id, team_id=None if is_org else team_id
            )
        await self._stop_serving(context)
        logger.info("uninstalled team=%s enterprise=%s", team_id, enterprise_id)

    async def _stop_serving(self, context: AsyncBoltContext) -> None:
        """Jobs stop serving the workspace, or every workspace of an org-wide install: its one
        bot spoke for all of them (and its events name no workspace)."""
        team_id, enterprise_id = context.team_id, context.enterprise_id
        stopped: list[str] = []
        async with self.deps.sessions() as session:
            if context.is_enterprise_install and enterprise_id:
                stopped = await mark_enterprise_uninstalled(
                    session, enterprise_id=enterprise_id, now=self.deps.clock()
                )
            elif team_id:
                await mark_uninstalled(session, team_id=team_id, now=self.deps.clock())
                stopped = [team_id]
        self.deps.known_teams.difference_update(stopped)

    async def tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") or {}
        team_id, enterprise_id = context.team_id, context.enterprise_id
        is_org = bool(context.is_enterprise_install)
        store_team = None if is_org else team_id
        if self.store is not None:
            for user_id in tokens.get("oauth") or []:
                await self.store.async_delete_installation(
                    enterprise_id=enterprise_id, team_id=store_team, user_id=user_id
                )
            if tokens.get("bot"):
                await self.store.async_delete_bot(enterprise_id=enterprise_id, team_id=store_team)
        if tokens.get("bot"):
            # Without a bot token nothing can be sent: jobs stop until the app is reinstalled.
            await self._stop_serving(context)
        logger.info(
            "tokens_revoked team=%s bot=%s user_tokens=%s",
            team_id,
            bool(tokens.get("bot")),
            len(tokens.get("oauth") or []),
        )


def register(app: AsyncApp, deps: Deps, store: WorkspaceInstallationStore | None) -> None:
    handlers = UninstallHandlers(deps, store)
    app.event("app_uninstalled")(handlers.app_uninstalled)
    app.event("tokens_revoked")(handlers.tokens_revoked)
