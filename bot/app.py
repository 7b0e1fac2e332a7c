"""Composition root: builds the Bolt app, the HTTP server and the scheduler, and wires them."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
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
import handlers.oauth
import handlers.queue
import handlers.ratings
import handlers.reports
import handlers.requests
import handlers.roster_events
import handlers.surveys
from bot.core.claims import first_delivery_of_event
from bot.core.config import RUN_ROLES, ConfigError
from bot.core.db import current_revision, head_revision, ping, upgrade
from bot.core.deps import Deps
from bot.core.outbox import oldest_unsent_at
from bot.workspace.installs import ensure_workspace, mark_installed
from jobs.clients import InstalledClients, SingleTokenClients, TeamClients
from jobs.dispatcher import Dispatcher
from jobs.scheduler import build_scheduler, run_on_demand

logger = logging.getLogger(__name__)

MAX_EVENT_BODY_BYTES = 1024 * 1024
# SIGTERM lets running jobs finish for this long (inside a typical 30 s container grace
# period); a fan-out cut short after that resumes on the next run, as after a crash.
SHUTDOWN_GRACE_SECONDS = 20.0
# Slack refused the token itself: starting would only fail every call.
FATAL_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def slack_logger() -> logging.Logger:
    """slack_sdk builds its per-call debug lines (params, bodies) whenever its logger's own level
    is NOTSET, only for logging to drop them: give it the process's level explicitly."""
    logger = logging.getLogger("alignbot.slack")
    logger.setLevel(logging.getLogger().getEffectiveLevel())
    return logger


WEB_API_TIMEOUT_SECONDS = 15


def make_client(deps: Deps, *, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: configurable base URL (GovSlack, tests) and Slack's retry rules.

    With `session` (the server's one keep-alive session) every call, and every workspace's
    client made from this one, reuses its connections; without it slack_sdk opens a new
    session and TCP connection per call."""
    token = deps.settings.slack_bot_token
    return AsyncWebClient(
        token=token.get_secret_value() if token else None,
        base_url=deps.settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        session=session,
        # slack_sdk formats a debug line per call unless its logger's own level says not to.
        logger=slack_logger(),
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    deps: Deps, *, client: AsyncWebClient | None = None, process_before_response: bool = False
) -> AsyncApp:
    """The Bolt app with every listener registered.

    Token mode (SLACK_BOT_TOKEN): one workspace. OAuth mode (SLACK_CLIENT_ID/SECRET): any number
    of workspaces and Grid orgs install it, and each request runs with its workspace's token."""
    secret = deps.settings.slack_signing_secret
    client = client or make_client(deps)
    deps.run_now = functools.partial(run_on_demand, deps)
    store = None
    oauth: dict[str, Any] = {}
    if deps.settings.oauth_mode:
        # Bolt copies this token-less client per request, with the workspace's token.
        client = AsyncWebClient(
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=client.retry_handlers,
            logger=client.logger,
        )
        store = handlers.oauth.installation_store(deps)
        oauth = {
            "installation_store": store,
            "authorize": handlers.oauth.authorize(deps, store, client),
            "oauth_flow": handlers.oauth.oauth_flow(deps, store, client),
        }
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        process_before_response=process_before_response,
        request_verification_enabled=not deps.settings.socket_mode,
        logger=logging.getLogger("alignbot.bolt"),
        **oauth,
    )

    async def skip_repeated_events(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        # Slack retries an event it thinks we missed, and every replica may receive one:
        # the first to record its event_id handles it, the rest just acknowledge.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            async with deps.sessions() as session:
                first = await first_delivery_of_event(
                    session, event_id=str(event_id), team_id=context.team_id, now=deps.clock()
                )
            if not first:
                logger.info("event_repeated event_id=%s team=%s", event_id, context.team_id)
                return BoltResponse(status=200, body="")
        await next()
        return None

    async def remember_workspace(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        team_id = context.team_id
        if team_id and team_id not in deps.known_teams:
            # Insert-or-ignore, never "installed again": a request still arriving after an
            # uninstall must not undo it. Only an install clears it (handlers/oauth.py).
            async with deps.sessions() as session:
                await ensure_workspace(
                    session, team_id=team_id, enterprise_id=context.enterprise_id, now=deps.clock()
                )
            deps.known_teams.add(team_id)
        await next()

    app.use(skip_repeated_events)
    app.use(remember_workspace)
    handlers.oauth.register(app, deps, store)
    handlers.requests.register(app, deps)
    handlers.queue.register(app, deps)
    handlers.ratings.register(app, deps)
    surveys = handlers.surveys.register(app, deps)
    reports = handlers.reports.register(app, deps)
    handlers.admin.register(
        app, deps, surveys=surveys, reports=reports, exports=handlers.exports.ExportHandlers(deps)
    )
    handlers.home.register(app, deps)
    handlers.roster_events.register(app, deps)
    handlers.messages.register(app, deps)
    handlers.errors.register(app)
    # Every Slack write that follows a change goes through the outbox (jobs.dispatcher).
    deps.outbox = Dispatcher(deps, team_clients(deps, app))
    return app


def team_clients(deps: Deps, app: AsyncApp) -> TeamClients:
    """Who speaks for each workspace in scheduled jobs: the bot token, or each install's."""
    store = app.installation_store
    if deps.settings.oauth_mode and store is not None:
        return InstalledClients(deps, store, app.client)
    return SingleTokenClients(app.client)


async def readiness(deps: Deps) -> tuple[bool, dict[str, str]]:
    """Ready = the database answers and its schema is at this code's migration head."""
    head = head_revision() or "none"
    try:
        async with deps.engine.connect() as connection:
            current = await current_revision(connection) or "none"
    except Exception:
        logger.warning("readiness_database_failed", exc_info=True)
        return False, {"status": "unavailable", "database": "down", "migrations": "unknown"}
    if current != head:
        return False, {
            "status": "unavailable",
            "database": "ok",
            "migrations": f"at {current}, code needs {head}: run `alignbot db upgrade`",
        }
    return True, {"status": "ok", "database": "ok", "migrations": head}


async def outbox_lag_seconds(deps: Deps) -> float | None:
    """How long the oldest message still waiting for Slack has waited (None: nothing waits)."""
    try:
        async with deps.sessions() as session:
            oldest = await oldest_unsent_at(session)
    except Exception:
        logger.warning("outbox_lag_failed", exc_info=True)
        return None
    if oldest is None:
        return None
    return round(max((deps.clock() - oldest).total_seconds(), 0.0), 1)


def create_web_app(app: AsyncApp, deps: Deps) -> web.Application:
    """aiohttp application: Bolt's POST /slack/events, the OAuth install pages when installs are
    on, GET /healthz (liveness: the database answers) and GET /readyz (ready for traffic)."""

    async def slack_events(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_EVENT_BODY_BYTES:
            return web.Response(status=413, text="request body too large")
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        healthy = await ping(deps.engine)
        report: dict[str, Any] = {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if healthy else "down",
        }
        if healthy:
            report["outbox_oldest_unsent_seconds"] = await outbox_lag_seconds(deps)
        return web.json_response(report, status=200 if healthy else 503)

    async def readyz(_request: web.Request) -> web.Response:
        ready, report = await readiness(deps)
        return web.json_response(report, status=200 if ready else 503)

    web_app = web.Application(client_max_size=MAX_EVENT_BODY_BYTES)
    web_app.add_routes(
        [
            web.post("/slack/events", slack_events),
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
        ]
    )
    flow = app.oauth_flow
    if flow is not None:

        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request))
            )

        async def oauth_redirect(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request))
            )

        web_app.add_routes(
            [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, oauth_redirect)]
        )
    return web_app


async def record_token_workspace(deps: Deps, client: AsyncWebClient) -> None:
    """Token mode: learn the token's workspace at start-up (so jobs serve it before anyone
    writes to the bot) and stop with one clear line if Slack refuses the token."""
    try:
        identity = await client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error"))
        if code in FATAL_TOKEN_ERRORS:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({code}): copy the current Bot User "
                "OAuth Token from your app's OAuth & Permissions page."
            ) from None
        logger.warning("auth_test_failed error=%s", code)
        return
    except Exception as error:  # Slack unreachable: start anyway, traffic will tell
        logger.warning("auth_test_failed error=%s", type(error).__name__)
        return
    team_id = identity.get("team_id")
    if team_id:
        async with deps.sessions() as session:
            await mark_installed(
                session,
                team_id=str(team_id),
                enterprise_id=identity.get("enterprise_id"),
                now=deps.clock(),
            )
        deps.known_teams.add(str(team_id))


JOBS_NICENESS = 10
"""How much lower the CPU priority of a `--role jobs` process is: on a host it shares with the
web process, the kernel then gives the acks the CPU first and a long tick merely takes longer."""


async def serve(deps: Deps, *, stop: asyncio.Event | None = None, role: str = "all") -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set): migrations, scheduler, then Slack traffic.

    `role` (RUN_ROLES): every role sends the outbox (its dispatcher loop claims rows, so several
    processes share it); `web` + `jobs` is the same bot as `all` in two processes on one
    database, so a job tick never shares an event loop, or a core, with the acks."""
    if role not in RUN_ROLES:
        raise ValueError(f"role must be one of {', '.join(RUN_ROLES)}, not {role!r}")
    await upgrade(deps.engine)
    # One keep-alive session for every Web API call of the process: a job tick over many
    # workspaces otherwise opens a TCP connection (and an aiohttp session) per call.
    timeout = aiohttp.ClientTimeout(total=WEB_API_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        await _serve_with(deps, http, stop, role)


async def _serve_with(
    deps: Deps, http: aiohttp.ClientSession, stop: asyncio.Event | None, role: str
) -> None:
    client = make_client(deps, session=http)
    if not deps.settings.oauth_mode:
        await record_token_workspace(deps, client)
    app = create_app(deps, client=client)
    clients = team_clients(deps, app)
    if isinstance(clients, InstalledClients):
        # Workspaces an org-wide install covers are served before any of them sends traffic.
        await clients.record_org_workspaces()
    scheduling = deps.settings.scheduler_enabled and role in ("all", "jobs")
    scheduler = build_scheduler(deps, clients) if scheduling else None
    freeze_start_up_heap()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if scheduler is not None:
        scheduler.start()
    dispatching = (
        asyncio.create_task(deps.outbox.run_forever(stop))
        if isinstance(deps.outbox, Dispatcher) and deps.settings.outbox_dispatcher_enabled
        else None
    )
    try:
        if role == "jobs":
            os.nice(JOBS_NICENESS)
            logger.info("running role=jobs (no Slack traffic: run a role=web process for it)")
            await stop.wait()
        elif deps.settings.socket_mode:
            await _serve_socket_mode(app, deps, stop)
        else:
            await _serve_http(app, deps, stop)
    finally:
        stop.set()
        if dispatching is not None:
            await dispatching
        if scheduler is not None:
            await scheduler.shutdown_gracefully(SHUTDOWN_GRACE_SECONDS)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await deps.engine.dispose()
        gc.unfreeze()  # a server stopped inside a longer-lived process (tests, the sandbox)
        logger.info("stopped")


def freeze_start_up_heap() -> None:
    """Take what start-up left alive (modules, the app and its listeners) out of the garbage
    collector's sight, once, before any traffic.

    A full collection walks every tracked object. With the start-up heap in it, each one paused
    the event loop for over 100 ms, every few seconds during a survey fan-out, and those pauses
    were most of the ack delay during a tick (bench/many_workspaces.py prints the longest GC
    pause). Frozen objects are never freed, which is why this runs once, after a collection."""
    gc.collect()
    gc.freeze()


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
