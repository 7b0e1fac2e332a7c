"""OAuth mode in tests: settings, the real app behind the real aiohttp server, a browser that
installs it, and time passing for a rotating token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.app import create_app, create_web_app, make_client
from bot.core.config import Settings
from bot.core.deps import Deps
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SIGNING_SECRET


def oauth_settings(fake_slack: FakeSlack, database_url: str) -> Settings:
    """OAuth mode (client id and secret, no bot token) against the fake Slack."""
    return Settings(
        _env_file=None,
        slack_bot_token=None,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        database_url=database_url,
        scheduler_enabled=False,
    )


@asynccontextmanager
async def app_server(deps: Deps) -> AsyncIterator[tuple[str, AsyncApp]]:
    """The real app behind the real aiohttp server on a free port (in OAuth mode when `deps`
    say so): (its base URL, the Bolt app)."""
    app = create_app(deps, client=make_client(deps))
    runner = web.AppRunner(create_web_app(app, deps))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        await runner.cleanup()


class Installer:
    """A browser going through /slack/install → Slack → /slack/oauth_redirect."""

    def __init__(self, base_url: str, fake: FakeSlack) -> None:
        self.base_url = base_url
        self.fake = fake

    async def install(self, code: str, **install: object) -> tuple[int, str]:
        self.fake.add_install(code, **install)  # type: ignore[arg-type]
        async with aiohttp.ClientSession() as browser:
            async with browser.get(f"{self.base_url}/slack/install") as page:
                html = await page.text()
                assert page.status == 200, html
                # Bolt's state cookie is Secure; a browser sends it back over https. Here the
                # server is plain http on loopback, so hand it back as the browser would.
                cookie = "; ".join(
                    f"{name}={morsel.value}" for name, morsel in page.cookies.items()
                )
            link = re.search(r'href="([^"]+oauth/v2/authorize[^"]+)"', html)
            assert link is not None, html
            state = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)["state"][0]
            async with browser.get(
                f"{self.base_url}/slack/oauth_redirect",
                params={"code": code, "state": state},
                headers={"Cookie": cookie},
            ) as done:
                return done.status, await done.text()


async def let_token_expire(deps: Deps, fake: FakeSlack, token: str) -> None:
    """Twelve hours pass for a rotating token: Slack refuses it and the stored install says it
    has expired (slack_sdk's rotator reads the real clock, so the stored expiry moves back)."""
    fake.expire_token(token)
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    async with deps.engine.begin() as connection:
        for table in ("slack_bots", "slack_installations"):
            await connection.execute(
                sa.text(
                    f"UPDATE {table} SET bot_token_expires_at = :past WHERE bot_token = :token"
                ),
                {"past": past, "token": token},
            )


async def stored_bot_tokens(deps: Deps) -> list[tuple[str | None, str | None]]:
    """(team id, bot token) of every bot row in the installation store."""
    async with deps.engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.text("SELECT team_id, bot_token FROM slack_bots ORDER BY team_id")
            )
        ).all()
    return [(row[0], row[1]) for row in rows]
