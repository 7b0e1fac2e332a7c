"""CRM exports DMed to the bot by an admin: downloaded, imported, and answered with a report."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn, truncate
from bot.crm.files import MAX_FILE_BYTES
from bot.crm.leads import import_leads
from bot.crm.opportunities import import_opportunities
from bot.crm.quotas import import_quotas
from bot.workspace import access
from handlers.slack_io import actor_for, confirm_by_dm

logger = logging.getLogger(__name__)

SLACK_FILE_HOSTS = ("slack.com", "slack-edge.com", "slack-gov.com", "slack-files.com")


def import_kind(filename: str, text: str) -> str:
    """Which import an upload is for, from what the admin wrote or the file's name."""
    hint = f"{text} {filename}".lower()
    if "quota" in hint:
        return "quotas"
    if "lead" in hint:
        return "leads"
    return "opportunities"


def trusted_file_url(url: str, api_url: str) -> bool:
    """Only send the bot token to Slack's own file hosts (or the configured API host)."""
    host = urlparse(url).hostname or ""
    api_host = urlparse(api_url).hostname or ""
    return host == api_host or any(host == h or host.endswith("." + h) for h in SLACK_FILE_HOSTS)


async def download(url: str, *, token: str, api_url: str, limit: int = MAX_FILE_BYTES) -> bytes:
    if not trusted_file_url(url, api_url):
        raise UserError("That file isn't hosted by Slack, so I won't fetch it.")
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(
            url, headers={"Authorization": f"Bearer {token}"}, allow_redirects=False
        ) as response,
    ):
        if response.status != 200:
            raise UserError(
                f"I couldn't download the file (Slack answered {response.status}). "
                "Check the app has the files:read scope, then send it again."
            )
        data = await response.content.read(limit + 1)
    if len(data) > limit:
        raise UserError(
            f"The file is over {limit // (1024 * 1024)} MB. Export a shorter date range."
        )
    return data


async def handle_dm_upload(
    deps: Deps, client: AsyncWebClient, event: dict[str, Any], team_id: str
) -> None:
    user_id = str(event.get("user") or "")
    channel = str(event.get("channel") or user_id)
    actor, settings = await actor_for(deps, client, team_id=team_id, user_id=user_id)
    if refused := access.may_import_crm(actor, settings):
        await client.chat_postMessage(channel=channel, text=refused.message)
        return
    token = deps.settings.slack_bot_token
    for file in event.get("files") or []:
        name = str(file.get("name") or "upload")
        kind = import_kind(name, str(event.get("text") or ""))
        try:
            if int(file.get("size") or 0) > MAX_FILE_BYTES:
                raise UserError(
                    f"{name} is {int(file['size']) // (1024 * 1024)} MB; the limit is "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MB. Export fewer columns or a shorter range."
                )
            data = await download(
                str(file.get("url_private_download") or file.get("url_private") or ""),
                token=token.get_secret_value() if token else "",
                api_url=deps.settings.slack_api_url,
            )
            importer = {"quotas": import_quotas, "leads": import_leads}.get(
                kind, import_opportunities
            )
            async with deps.sessions() as session:
                report = await importer(
                    session, team_id=team_id, data=data, filename=name, now=deps.clock()
                )
            text = f":inbox_tray: *{escape_mrkdwn(name)}* ({kind})\n```{truncate(escape_mrkdwn(report.summary()), 2800)}```"
        except UserError as error:
            text = f":warning: *{escape_mrkdwn(name)}*: {error.message}"
        logger.info("dm_import team=%s kind=%s file=%s", team_id, kind, file.get("id"))
        await confirm_by_dm(
            deps,
            client,
            team_id=team_id,
            user_id=user_id,
            text=text,
            what="import-report",
            channel=channel,  # the DM the file came in
        )
