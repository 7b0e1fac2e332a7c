"""The one `message` event listener (Bolt runs only the first matching listener), routing
thread replies in the intake channel and files DMed to the bot."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from handlers.imports import handle_dm_upload
from handlers.queue import QueueHandlers


def register(app: AsyncApp, deps: Deps) -> None:
    queue = QueueHandlers(deps)

    async def on_message(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team_id = str(body.get("team_id") or event.get("team") or "")
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return
        if event.get("channel_type") == "im" and event.get("files"):
            await handle_dm_upload(deps, client, event, team_id)
        elif event.get("thread_ts"):
            await queue.thread_reply(event, body, client)

    app.event({"type": "message"})(on_message)
