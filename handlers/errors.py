"""The one place unexpected failures go: logged with a traceback, and the person told."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.db import is_database_unavailable

logger = logging.getLogger("alignbot.errors")

SORRY = (
    ":warning: Sorry, that didn't work: something went wrong on my side and it has been "
    "logged. Nothing was half-saved; please try again in a minute."
)

DATABASE_DOWN = (
    ":warning: Sorry, I can't reach my database right now, so nothing was saved. "
    "Please try again in a minute."
)


async def handle_unexpected_error(
    error: Exception, body: dict[str, Any], request: AsyncBoltRequest, client: AsyncWebClient
) -> BoltResponse | None:
    kind = body.get("type") or ("slash_command" if "command" in body else "unknown")
    if request.context.authorize_result is None:
        # Failed before authorization, i.e. in the signature check (a timestamp header that
        # is not a number makes the verifier raise instead of refusing). Nothing in such a
        # body can be trusted: answering its response_url or DMing its user would let anyone
        # make the bot post. Refuse it like any other unsigned request.
        logger.warning(
            "request_refused_before_authorization kind=%s error=%s", kind, type(error).__name__
        )
        return BoltResponse(status=401, body="")
    database_down = is_database_unavailable(error)
    if database_down:
        logger.error("handler_failed kind=%s reason=database_unavailable", kind, exc_info=error)
    else:
        logger.error("handler_failed kind=%s", kind, exc_info=error)
    text = DATABASE_DOWN if database_down else SORRY
    try:
        response_url = body.get("response_url") or next(
            (url.get("response_url") for url in body.get("response_urls") or []), None
        )
        if response_url:
            await AsyncWebhookClient(response_url).send(text=text, response_type="ephemeral")
            return None
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        if user and kind != "event_callback":
            await client.chat_postMessage(channel=user, text=text)
    except Exception:
        logger.exception("error_report_failed kind=%s", kind)
    return None


def register(app: AsyncApp) -> None:
    app.error(handle_unexpected_error)
