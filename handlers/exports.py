"""`/align export`: build the workbook, say "working on it" if that takes a while, DM it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn
from bot.export.period import ExportPeriod, parse_export_period
from bot.export.workbook import ExportResult, build_workbook
from bot.workspace import access
from handlers.slack_io import permitted

logger = logging.getLogger(__name__)

WORKING_ON_IT_AFTER_SECONDS = 2.0
EXPORT_DIR = Path(tempfile.gettempdir()) / "alignbot-exports"


class ExportHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def export(
        self, words: list[str], body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        if (
            allowed := await permitted(self.deps, client, body, respond, access.may_export)
        ) is None:
            return
        _actor, settings = allowed
        team_id, user_id = body["team_id"], body["user_id"]
        today = self.deps.clock().astimezone(settings.zone).date()
        try:
            period = parse_export_period(
                words[0] if words else None, words[1] if len(words) > 1 else None, today=today
            )
        except UserError as error:
            await respond(text=error.message, response_type="ephemeral")
            return
        build = asyncio.create_task(self._build(team_id, period, settings))
        done, _pending = await asyncio.wait({build}, timeout=WORKING_ON_IT_AFTER_SECONDS)
        if not done:
            await respond(
                text=":hourglass_flowing_sand: Working on it: I'll DM you the workbook when it's ready.",
                response_type="ephemeral",
            )
        result = await build
        uploaded, message = await deliver_export(
            client, user_id=user_id, result=result, period=period
        )
        if uploaded:  # the copy in Slack is the one people use; keep no business data here
            shutil.rmtree(result.path.parent, ignore_errors=True)
        await respond(text=message, response_type="ephemeral")

    async def _build(self, team_id: str, period: ExportPeriod, settings: Any) -> ExportResult:
        EXPORT_DIR.mkdir(parents=True, exist_ok=True)
        # A folder per export: two admins (or two replicas) exporting the same period at once
        # never write over each other's file.
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=EXPORT_DIR))
        out = folder / f"alignbot-{team_id}-{period.start}-{period.end}.xlsx"
        async with self.deps.sessions() as session:
            return await build_workbook(
                session,
                team_id=team_id,
                period=period,
                settings=settings,
                out=out,
                now=self.deps.clock(),
            )


async def deliver_export(
    client: AsyncWebClient, *, user_id: str, result: ExportResult, period: ExportPeriod
) -> tuple[bool, str]:
    """Upload to the person's DM, retrying once; whether it went, and what to tell them."""
    comment = f"alignbot export {period.start} – {period.end}" + (
        " (no data in this period yet)" if result.empty else ""
    )
    last_error = "unknown"
    for attempt in (1, 2):
        try:
            channel = (await client.conversations_open(users=user_id))["channel"]["id"]
            await client.files_upload_v2(
                channel=channel,
                file=str(result.path),
                filename=result.filename,
                title=result.filename,
                initial_comment=comment,
            )
            return True, f":page_facing_up: Sent *{escape_mrkdwn(result.filename)}* to your DMs."
        except SlackApiError as error:
            last_error = str(error.response.get("error"))
        except Exception as error:  # connection trouble during the upload
            last_error = type(error).__name__
        logger.warning("export_upload_failed attempt=%s error=%s", attempt, last_error)
    return False, (
        f":warning: I built the workbook but couldn't upload it to Slack ({escape_mrkdwn(last_error)}), "
        f"even after retrying. It is kept on the bot's server at {escape_mrkdwn(str(result.path))}; "
        "an operator can fetch it, or try `/align export` again in a minute."
    )
