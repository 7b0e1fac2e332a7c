"""Slack side of App Home: publish each person's part on open, page lists, open the modals.

The request buttons on the home tab reuse the intake post's action ids, so handlers/queue.py
answers them; Bolt runs only the first listener that matches an action, which is why this
module offers `refresh_home` for the queue handlers to call after a click from the home tab
rather than listening to those ids too.
"""

from __future__ import annotations

import json
import logging
import weakref
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import home as blocks
from bot.blocks.admin import build_settings_modal
from bot.blocks.requests import build_request_modal
from bot.core.deps import Deps
from bot.requests.home import HomePaging, load_home
from bot.workspace import access
from handlers.slack_io import actor_for, tell

logger = logging.getLogger(__name__)

_REGISTERED: weakref.WeakSet[AsyncApp] = weakref.WeakSet()

# Put in a modal's private_metadata when the home tab opened it, so its submission knows to
# refresh the home (a view_submission doesn't say where the modal came from).
FROM_HOME: dict[str, str] = {"from": "home"}


def clicked_in_home(body: dict[str, Any]) -> bool:
    """Whether a block_actions payload came from the home tab (rather than a message/modal)."""
    return (body.get("view") or {}).get("type") == "home"


def opened_from_home(view: dict[str, Any]) -> bool:
    """Whether a submitted modal was opened from the home tab (see FROM_HOME)."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return False
    return isinstance(metadata, dict) and metadata.get("from") == FROM_HOME["from"]


async def publish_home(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team_id: str,
    user_id: str,
    paging: HomePaging | None = None,
) -> None:
    """Build and publish `user_id`'s home tab as it is now."""
    paging = paging or HomePaging()
    actor, settings = await actor_for(deps, client, team_id=team_id, user_id=user_id)
    async with deps.sessions() as session:
        home = await load_home(
            session,
            team_id=team_id,
            actor=actor,
            settings=settings,
            now=deps.clock(),
            paging=paging,
        )
    await client.views_publish(user_id=user_id, view=blocks.build_home_view(home, paging))


async def refresh_home(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team_id: str,
    user_id: str,
    view: dict[str, Any] | None = None,
) -> None:
    """Republish a home tab after something changed on it, keeping its paging if `view` is given.

    For callers whose own work is already done (a click was applied and announced): a failure
    here is logged, never raised, because the home is refreshed again the next time it opens.
    """
    try:
        await publish_home(
            deps, client, team_id=team_id, user_id=user_id, paging=blocks.parse_home_paging(view)
        )
    except SlackApiError as error:
        logger.warning("home_refresh_failed user=%s error=%s", user_id, error.response.get("error"))


async def _usergroups(client: AsyncWebClient) -> list[tuple[str, str]]:
    """(id, name) of the workspace's user groups for the settings modal; empty if unreadable."""
    try:
        listed = await client.usergroups_list(include_disabled=False)
    except SlackApiError as error:
        logger.warning("usergroups_list_failed error=%s", error.response.get("error"))
        return []
    return sorted(
        (
            (str(group["id"]), str(group.get("name") or group.get("handle")))
            for group in listed.get("usergroups") or []
        ),
        key=lambda pair: pair[1].lower(),
    )


class HomeHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def opened(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """A fresh home on every visit: the queue changes all day, paging starts over."""
        if event.get("tab") != "home" or not event.get("user"):
            return
        team_id = str(body.get("team_id") or context.team_id)
        await publish_home(self.deps, client, team_id=team_id, user_id=str(event["user"]))

    async def show_more(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
    ) -> None:
        await ack()
        paging = blocks.parse_home_paging(body.get("view"))
        wanted = blocks.parse_show_more(action.get("value"))
        if wanted is not None:
            paging = paging.expanded(*wanted)
        await publish_home(
            self.deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], paging=paging
        )

    async def new_request(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The /mktg form; no channel in its metadata, so the confirmation comes by DM."""
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"], view=build_request_modal(metadata=FROM_HOME)
        )

    async def open_settings(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The same settings modal as `/align settings`; its submission is handled there."""
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        actor, settings = await actor_for(self.deps, client, team_id=team_id, user_id=user_id)
        if refused := access.may_change_settings(actor, settings):
            await tell(client, body, None, refused.message)
            return
        usergroups = await _usergroups(client)
        await client.views_open(
            trigger_id=body["trigger_id"], view=build_settings_modal(settings, usergroups)
        )


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire App Home. Registering twice is a no-op (only Bolt's first listener would run)."""
    if app in _REGISTERED:
        return
    _REGISTERED.add(app)
    handlers = HomeHandlers(deps)
    app.event("app_home_opened")(handlers.opened)
    app.action(blocks.ACTION_SHOW_MORE)(handlers.show_more)
    app.action(blocks.ACTION_NEW_REQUEST)(handlers.new_request)
    app.action(blocks.ACTION_OPEN_SETTINGS)(handlers.open_settings)
