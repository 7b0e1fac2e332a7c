"""Slack calls shared by several features: admin checks, telling a person, refreshing posts."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.announcements import dm, intake_refresh
from bot.core import outbox
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import SupportRequest
from bot.requests.lifecycle import Actor
from bot.requests.queue import load_actor
from bot.workspace.settings import WorkspaceSettings, load_settings

logger = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 300

T = TypeVar("T")

# A button's work: from the click's body and action to what the listener shows.
ClickWork = Callable[[dict[str, Any], dict[str, Any]], Awaitable[T]]
Listener = Callable[..., Awaitable[None]]
Rule = Callable[[Actor, WorkspaceSettings], UserError | None]


async def is_slack_admin(deps: Deps, client: AsyncWebClient, *, team_id: str, user_id: str) -> bool:
    """Workspace admin or owner per users.info, remembered for a few minutes."""
    key = (team_id, user_id)
    cached = deps.admin_cache.get(key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError:
        return False
    admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
    deps.admin_cache[key] = (admin, time.monotonic() + ADMIN_CACHE_SECONDS)
    return admin


async def is_admin_user(
    deps: Deps,
    client: AsyncWebClient,
    settings: WorkspaceSettings,
    *,
    team_id: str,
    user_id: str,
) -> bool:
    if user_id in settings.admins:
        return True
    return await is_slack_admin(deps, client, team_id=team_id, user_id=user_id)


async def actor_for(
    deps: Deps, client: AsyncWebClient, *, team_id: str, user_id: str
) -> tuple[Actor, WorkspaceSettings]:
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        admin = await is_admin_user(deps, client, settings, team_id=team_id, user_id=user_id)
        actor = await load_actor(session, team_id=team_id, user_id=user_id, is_admin=admin)
    return actor, settings


async def tell(
    client: AsyncWebClient, body: dict[str, Any], respond: AsyncRespond | None, text: str
) -> None:
    """An ephemeral answer where the click happened; a DM where Slack offers no reply URL."""
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    if respond is not None and (body.get("response_url") or body.get("response_urls")):
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    if channel and str(channel).startswith(("C", "G")) and user_id:
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            return
        except SlackApiError:
            pass
    if user_id:
        await client.chat_postMessage(channel=user_id, text=text)


async def answer_click(
    client: AsyncWebClient, body: dict[str, Any], respond: AsyncRespond | None, step: Awaitable[T]
) -> T | None:
    """A button's work (parse its value, call the domain): its result, or None once the
    clicker has been told, where they clicked, why it was refused."""
    try:
        return await step
    except UserError as error:
        await tell(client, body, respond, error.message)
        return None


def click_listener(work: ClickWork[Any], *, opens_modal: bool = False) -> Listener:
    """A Bolt listener for a button: ack, do its work, then open the modal it built or, by
    default, put the (text, blocks) it built in place of the message clicked."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        shown = await answer_click(client, body, respond, work(body, action))
        if shown is None:
            return
        if opens_modal:
            await client.views_open(trigger_id=body["trigger_id"], view=shown)
        else:
            await respond(text=shown[0], blocks=shown[1], replace_original=True)

    return listener


async def permitted(
    deps: Deps, client: AsyncWebClient, body: dict[str, Any], respond: AsyncRespond, rule: Rule
) -> tuple[Actor, WorkspaceSettings] | None:
    """The slash-command user and their workspace's settings, or None once `rule` refused them
    and they have been told why."""
    actor, settings = await actor_for(
        deps, client, team_id=body["team_id"], user_id=body["user_id"]
    )
    if refused := rule(actor, settings):
        await respond(text=refused.message, response_type="ephemeral")
        return None
    return actor, settings


async def refresh_intake_post(deps: Deps, client: AsyncWebClient, request: SupportRequest) -> None:
    """Show the request's current state on its intake post (reposted if it was deleted), through
    the outbox like every write that follows a change."""
    if request.id is None:
        return
    refresh = intake_refresh(request, key=f"intake-refresh:{request.id}:{secrets.token_hex(6)}")
    async with deps.filing_gate, deps.sessions() as session:
        ids = await outbox.store(
            session, team_id=request.team_id, messages=[refresh], now=deps.clock()
        )
    await deps.outbox.deliver(ids, client)


async def confirm_by_dm(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team_id: str,
    user_id: str,
    text: str,
    what: str,
    channel: str | None = None,
) -> None:
    """A DM confirming what someone just saved (settings, goals, a pulse, an import report),
    through the outbox so an outage delays it instead of losing it. It is stored right after
    the change it confirms: a crash between the two loses only the confirmation."""
    message = dm(channel or user_id, text, key=f"{what}:{user_id}:{secrets.token_hex(8)}")
    async with deps.filing_gate, deps.sessions() as session:
        ids = await outbox.store(session, team_id=team_id, messages=[message], now=deps.clock())
    await deps.outbox.deliver(ids, client)
