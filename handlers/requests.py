"""Slack side of filing a Marketing Support request: `/mktg`, its modal, the intake post."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import requests as blocks
from bot.core.db import read_only
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import OutboxState
from bot.core.slack_errors import describe_channel_problem
from bot.core.text import format_reference, truncate, unescape_slack
from bot.requests.command import (
    CancelRequest,
    FileRequest,
    ListMine,
    OpenForm,
    RequestDraft,
    ShowHelp,
    ShowStatus,
    parse_mktg_command,
)
from bot.requests.filing import (
    FIELD_DETAILS,
    FiledRequest,
    draft_from_form,
    file_request,
    get_request,
    open_requests_of,
)
from bot.requests.keywords import HELP_TEXT
from bot.requests.lifecycle import Action
from bot.workspace.settings import WorkspaceSettings, load_settings
from handlers.home import opened_from_home, refresh_home
from handlers.queue import perform

SEND_TO_SUPPORT_SHORTCUT = "send_to_marketing_support"
# How long /mktg trusts a workspace's time zone without asking the database (a changed zone
# only shifts what "due fri" means around midnight, for at most this long).
ZONE_CACHE_SECONDS = 60.0

logger = logging.getLogger(__name__)


class RequestHandlers:
    """Parse the Slack payload, call bot.requests.filing, render with bot.blocks.requests."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._first_reads: dict[str, asyncio.Lock] = {}
        self._refreshing: set[asyncio.Task[None]] = set()

    async def _settings(self, team_id: str) -> WorkspaceSettings:
        async with self.deps.sessions() as session, read_only(session):
            return await load_settings(session, team_id)

    async def _zone(self, team_id: str) -> ZoneInfo:
        """The workspace's time zone, from memory: the ack waits for nothing else.

        Once known, an expired zone is still used while one background read refreshes it, so
        a burst of commands never sends a burst of queries; only a workspace's very first
        command reads it first, and then once for all the commands that came with it."""
        cached = self.deps.zone_cache.get(team_id)
        if cached is not None:
            zone, expiry = cached
            if expiry <= time.monotonic():
                self._remember_zone(team_id, zone)  # nobody else starts a refresh meanwhile
                refresh = asyncio.create_task(self._refresh_zone(team_id))
                self._refreshing.add(refresh)
                refresh.add_done_callback(self._refreshing.discard)
            return zone
        async with self._first_reads.setdefault(team_id, asyncio.Lock()):
            cached = self.deps.zone_cache.get(team_id)
            if cached is not None:
                return cached[0]
            zone = (await self._settings(team_id)).zone
            self._remember_zone(team_id, zone)
            return zone

    def _remember_zone(self, team_id: str, zone: ZoneInfo) -> None:
        self.deps.zone_cache[team_id] = (zone, time.monotonic() + ZONE_CACHE_SECONDS)

    async def _refresh_zone(self, team_id: str) -> None:
        try:
            self._remember_zone(team_id, (await self._settings(team_id)).zone)
        except Exception:
            logger.warning("zone_refresh_failed team=%s", team_id, exc_info=True)

    async def command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        team_id, user_id = body["team_id"], body["user_id"]
        try:
            zone = await self._zone(team_id)
        except Exception:
            await ack()  # Slack shows no error of its own; ours arrives by response_url
            raise
        today = self.deps.clock().astimezone(zone).date()
        try:
            parsed = parse_mktg_command(body.get("text") or "", today=today)
        except UserError as error:
            await ack(text=error.message)
            return
        if isinstance(parsed, ShowHelp):
            await ack(text=HELP_TEXT)
        elif isinstance(parsed, OpenForm):
            await ack()
            await self._open_form(client, body, parsed.draft, reason=parsed.reason)
        elif isinstance(parsed, CancelRequest):
            await ack()
            await self._cancel(client, respond, team_id, user_id, parsed.number)
        elif isinstance(parsed, ListMine):
            await ack()
            async with self.deps.sessions() as session:
                mine = await open_requests_of(session, team_id=team_id, requester_id=user_id)
            await respond(text=blocks.build_my_requests(mine), response_type="ephemeral")
        elif isinstance(parsed, ShowStatus):
            await ack()
            try:
                async with self.deps.sessions() as session:
                    request = await get_request(session, team_id=team_id, number=parsed.number)
            except UserError as error:
                await respond(text=error.message, response_type="ephemeral")
                return
            await respond(text=blocks.build_status(request), response_type="ephemeral")
        else:
            assert isinstance(parsed, FileRequest)
            await ack()
            await self._file(
                client,
                respond,
                body,
                parsed.draft,
                await self._settings(team_id),
                source="command",
                source_key=f"cmd:{body['trigger_id']}",
            )

    async def _cancel(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond,
        team_id: str,
        user_id: str,
        number: int,
    ) -> None:
        try:
            async with self.deps.sessions() as session:
                request = await get_request(session, team_id=team_id, number=number)
            assert request.id is not None
            await perform(
                self.deps,
                client,
                team_id=team_id,
                user_id=user_id,
                request_id=request.id,
                action=Action.CANCEL,
            )
        except UserError as error:
            await respond(text=error.message, response_type="ephemeral")
            return
        await respond(
            text=f"Cancelled {format_reference(number)}. Marketing Support has been told in its thread.",
            response_type="ephemeral",
        )

    async def message_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """'Send to Marketing Support' on any message: the request form, prefilled from it."""
        await ack()
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id", "")
        permalink: str | None = None
        try:
            permalink = (
                await client.chat_getPermalink(channel=channel, message_ts=message.get("ts", ""))
            ).get("permalink")
        except SlackApiError as error:
            logger.info("shortcut_permalink_failed error=%s", error.response.get("error"))
        text = unescape_slack(str(message.get("text") or "")).strip()
        source = f"\n\nFrom Slack: {permalink}" if permalink else ""
        details = truncate(text, 3000 - len(source)) + source
        await client.views_open(
            trigger_id=shortcut["trigger_id"],
            view=blocks.build_request_modal(
                RequestDraft(details=details.strip() or None),
                reason="From a Slack message: pick what you need and check the details.",
                metadata={"channel": channel},
            ),
        )

    async def _open_form(
        self,
        client: AsyncWebClient,
        body: dict[str, Any],
        draft: RequestDraft,
        *,
        reason: str | None,
    ) -> None:
        view = blocks.build_request_modal(
            draft, reason=reason, metadata={"channel": body.get("channel_id", "")}
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def _file(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond,
        body: dict[str, Any],
        draft: RequestDraft,
        settings: WorkspaceSettings,
        *,
        source: str,
        source_key: str,
    ) -> None:
        try:
            # A burst of filings takes turns to write, holding nothing while it waits, so the
            # acks of the commands behind it never queue for the database. Slack calls below
            # run outside the gate.
            async with self.deps.filing_gate, self.deps.sessions() as session:
                filed = await file_request(
                    session,
                    team_id=body["team_id"],
                    requester_id=body["user_id"],
                    draft=draft,
                    settings=settings,
                    source=source,
                    source_key=source_key,
                    now=self.deps.clock(),
                )
        except UserError as error:
            await respond(text=error.message, response_type="ephemeral")
            return
        if not filed.created:
            return
        confirmation = await publish_to_intake(self.deps, client, filed, settings)
        await respond(text=confirmation, response_type="ephemeral")

    async def submit_form(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        form = blocks.parse_request_modal(view)
        try:
            async with self.deps.sessions() as session:
                settings = await load_settings(session, team_id)
                now = self.deps.clock()
                draft = draft_from_form(form, today=now.astimezone(settings.zone).date())
                filed = await file_request(
                    session,
                    team_id=team_id,
                    requester_id=user_id,
                    draft=draft,
                    settings=settings,
                    source="form",
                    source_key=f"view:{view['id']}",
                    now=now,
                )
        except UserError as error:
            await ack(
                response_action="errors", errors={error.field or FIELD_DETAILS: error.message}
            )
            return
        await ack()
        if not filed.created:
            return
        text = await publish_to_intake(self.deps, client, filed, settings)
        origin = blocks.parse_modal_metadata(view).get("channel")
        await tell_user(client, user_id=user_id, channel=origin, text=text)
        if opened_from_home(view):
            await refresh_home(self.deps, client, team_id=team_id, user_id=user_id)


async def tell_user(
    client: AsyncWebClient, *, user_id: str, channel: str | None, text: str
) -> None:
    """Ephemeral in the channel the person was in, or a DM when that isn't possible."""
    if channel and channel.startswith(("C", "G")):
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            return
        except SlackApiError as error:
            logger.info(
                "ephemeral_failed channel=%s error=%s", channel, error.response.get("error")
            )
    await client.chat_postMessage(channel=user_id, text=text)


async def publish_to_intake(
    deps: Deps, client: AsyncWebClient, filed: FiledRequest, settings: WorkspaceSettings
) -> str:
    """Send the request's intake post (stored with it) now; the requester's confirmation:
    filed and posted, still posting (Slack is failing; the dispatcher keeps trying), or kept
    but not postable (and why)."""
    request = filed.request
    sent = await deps.outbox.deliver(filed.outbox_ids, client)
    ended = next(iter(sent.values()), None)
    problem: str | None = None
    posting = bool(filed.outbox_ids) and (ended is None or ended.state == OutboxState.PENDING)
    if ended is not None and ended.state == OutboxState.DEAD:
        problem = describe_channel_problem(str(ended.last_error))
    if ended is not None and ended.state == OutboxState.SENT:
        async with deps.sessions() as session:
            request = await get_request(session, team_id=request.team_id, number=request.number)
    return blocks.build_filed_confirmation(
        request, intake_channel=settings.intake_channel, problem=problem, posting=posting
    )


def register(app: AsyncApp, deps: Deps) -> None:
    handlers = RequestHandlers(deps)
    app.command("/mktg")(handlers.command)
    app.view(blocks.REQUEST_MODAL)(handlers.submit_form)
    app.shortcut(SEND_TO_SUPPORT_SHORTCUT)(handlers.message_shortcut)
