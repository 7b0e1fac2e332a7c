"""Installs over OAuth (several workspaces or an Enterprise Grid org) and their removal.

Bolt runs the flow (/slack/install → Slack → /slack/oauth_redirect) and authorizes every
request from the installation store; this module keeps our side in step: a workspace is
recorded when it installs, its tokens are deleted when it uninstalls or revokes them, and its
data stays until the retention rule erases the free text."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.workspace.installs import (
    mark_enterprise_installed,
    mark_enterprise_uninstalled,
    mark_installed,
    mark_uninstalled,
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


class WorkspaceInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store on our database (tables from our migrations), which also records the
    installing workspace so jobs serve it from the first minute."""

    def __init__(self, deps: Deps, client_id: str) -> None:
        super().__init__(client_id=client_id, engine=deps.engine, logger=logger)
        self.deps = deps

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(installation)
        if installation.team_id is None:  # org-wide: workspaces are recorded as they write
            served_again = 0
            if installation.enterprise_id is not None:
                # Requests never clear an uninstall (bot.workspace.settings), so the org's reinstall
                # is what serves its workspaces again.
                async with self.deps.sessions() as session:
                    served_again = await mark_enterprise_installed(
                        session, enterprise_id=installation.enterprise_id
                    )
            logger.info(
                "installed enterprise=%s org_wide=true served_again=%s",
                installation.enterprise_id,
                served_again,
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


def installation_store(deps: Deps) -> WorkspaceInstallationStore:
    client_id = deps.settings.slack_client_id
    assert client_id is not None, "installs need SLACK_CLIENT_ID"
    return WorkspaceInstallationStore(deps, client_id)


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
    auth.test on every click; a revoked token is never cached again once it is deleted."""
    secret = deps.settings.slack_client_secret
    return AsyncInstallationStoreAuthorize(
        installation_store=store,
        client_id=deps.settings.slack_client_id,
        client_secret=secret.get_secret_value() if secret else None,
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
