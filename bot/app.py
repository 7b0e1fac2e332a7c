"""Composition root: builds the Bolt app, the HTTP server and the scheduler, and wires them."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers.admin
import handlers.errors
import handlers.exports
import handlers.home
import handlers.messages
import handlers.queue
import handlers.ratings
import handlers.reports
import handlers.requests
import handlers.surveys
from bot.db import ping, upgrade
from bot.deps import Deps
from bot.workspace import ensure_workspace
from jobs.scheduler import build_scheduler

logger = logging.getLogger(__name__)

MAX_EVENT_BODY_BYTES = 1024 * 1024


def make_client(deps: Deps) -> AsyncWebClient:
    """The Web API client: configurable base URL (GovSlack, tests) and Slack's retry rules."""
    token = deps.settings.slack_bot_token
    return AsyncWebClient(
        token=token.get_secret_value() if token else None,
        base_url=deps.settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    deps: Deps, *, client: AsyncWebClient | None = None, process_before_response: bool = False
) -> AsyncApp:
    """The Bolt app with every listener registered."""
    secret = deps.settings.slack_signing_secret
    app = AsyncApp(
        client=client or make_client(deps),
        signing_secret=secret.get_secret_value() if secret else None,
        process_before_response=process_before_response,
        request_verification_enabled=not deps.settings.socket_mode,
        logger=logging.getLogger("alignbot.bolt"),
    )

    async def remember_workspace(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        team_id = context.team_id
        if team_id and team_id not in deps.known_teams:
            async with deps.sessions() as session:
                await ensure_workspace(
                    session, team_id=team_id, enterprise_id=context.enterprise_id, now=deps.clock()
                )
            deps.known_teams.add(team_id)
        await next()

    app.use(remember_workspace)
    handlers.requests.register(app, deps)
    handlers.queue.register(app, deps)
    handlers.ratings.register(app, deps)
    surveys = handlers.surveys.register(app, deps)
    reports = handlers.reports.register(app, deps)
    handlers.admin.register(
        app, deps, surveys=surveys, reports=reports, exports=handlers.exports.ExportHandlers(deps)
    )
    handlers.home.register(app, deps)
    handlers.messages.register(app, deps)
    handlers.errors.register(app)
    return app


def create_web_app(app: AsyncApp, deps: Deps) -> web.Application:
    """aiohttp application: Bolt's POST /slack/events and GET /healthz."""

    async def slack_events(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_EVENT_BODY_BYTES:
            return web.Response(status=413, text="request body too large")
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        healthy = await ping(deps.engine)
        return web.json_response(
            {"status": "ok" if healthy else "unavailable", "database": "ok" if healthy else "down"},
            status=200 if healthy else 503,
        )

    web_app = web.Application(client_max_size=MAX_EVENT_BODY_BYTES)
    web_app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    return web_app


async def serve(deps: Deps, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set): migrations, scheduler, then Slack traffic."""
    await upgrade(deps.engine)
    client = make_client(deps)
    app = create_app(deps, client=client)
    scheduler = build_scheduler(deps, client) if deps.settings.scheduler_enabled else None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if scheduler is not None:
        scheduler.start()
    try:
        if deps.settings.socket_mode:
            await _serve_socket_mode(app, deps, stop)
        else:
            await _serve_http(app, deps, stop)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await deps.engine.dispose()
        logger.info("stopped")


async def _serve_http(app: AsyncApp, deps: Deps, stop: asyncio.Event) -> None:
    runner = web.AppRunner(create_web_app(app, deps), shutdown_timeout=10)
    await runner.setup()
    site = web.TCPSite(runner, deps.settings.host, deps.settings.port)
    await site.start()
    logger.info("listening mode=http port=%s path=/slack/events", deps.settings.port)
    try:
        await stop.wait()
    finally:
        logger.info("stopping mode=http")
        await runner.cleanup()  # stops accepting, lets in-flight requests finish


async def _serve_socket_mode(app: AsyncApp, deps: Deps, stop: asyncio.Event) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    token = deps.settings.slack_app_token
    assert token is not None
    # The handler opens its connection through app.client, so SLACK_API_URL applies here too.
    handler = AsyncSocketModeHandler(app, token.get_secret_value())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("listening mode=socket")
    try:
        await stop.wait()
    finally:
        logger.info("stopping mode=socket")
        await handler.close_async()  # type: ignore[no-untyped-call]
