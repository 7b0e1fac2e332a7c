"""Slack side of `/align` for admins and leaders: help and settings."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import admin as blocks
from bot.blocks.queue import build_queue
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.text import escape_and_truncate
from bot.requests.queue import open_queue
from bot.workspace import access
from bot.workspace.settings import save_settings
from handlers.exports import ExportHandlers
from handlers.reports import ReportHandlers
from handlers.slack_io import actor_for, confirm_by_dm, permitted
from handlers.surveys import SurveyHandlers

logger = logging.getLogger(__name__)


class AdminHandlers:
    def __init__(
        self,
        deps: Deps,
        surveys: SurveyHandlers | None = None,
        reports: ReportHandlers | None = None,
        exports: ExportHandlers | None = None,
    ) -> None:
        self.deps = deps
        self.surveys = surveys
        self.reports = reports
        self.exports = exports

    async def command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        words = (body.get("text") or "").split()
        subcommand = words[0].lower() if words else "help"
        if subcommand in ("help", "?"):
            await ack(text=blocks.ALIGN_HELP)
        elif subcommand == "settings":
            await ack()
            await self._open_settings(body, respond, client)
        elif subcommand == "survey" and self.surveys is not None:
            await ack()
            send = len(words) > 1 and words[1].lower() == "send"
            await self.surveys.status(body, respond, client, send=send)
        elif subcommand == "export" and self.exports is not None:
            await ack()
            await self.exports.export(words[1:], body, respond, client)
        elif subcommand in ("digest", "scorecard", "goals", "wedid") and self.reports is not None:
            await ack()
            await self.reports.handle(subcommand, words[1:], body, respond, client)
        elif subcommand == "queue":
            await ack()
            await self._show_queue(body, respond, client)
        else:
            await ack(
                text=f"I don't know `/align {escape_and_truncate(words[0], 40)}`. "
                "Try `/align help` for what I can do."
            )

    async def _open_settings(
        self, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        actor, settings = await actor_for(
            self.deps, client, team_id=body["team_id"], user_id=body["user_id"]
        )
        if refused := access.may_change_settings(actor, settings):
            await respond(text=refused.message, response_type="ephemeral")
            return
        usergroups: list[tuple[str, str]] = []
        try:
            listed = await client.usergroups_list(include_disabled=False)
            usergroups = sorted(
                (
                    (str(group["id"]), str(group.get("name") or group.get("handle")))
                    for group in listed.get("usergroups") or []
                ),
                key=lambda pair: pair[1].lower(),
            )
        except SlackApiError as error:
            logger.warning("usergroups_list_failed error=%s", error.response.get("error"))
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.build_settings_modal(settings, usergroups)
        )

    async def _show_queue(
        self, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        if (
            allowed := await permitted(self.deps, client, body, respond, access.may_see_queue)
        ) is None:
            return
        _actor, settings = allowed
        async with self.deps.sessions() as session:
            requests = await open_queue(session, team_id=body["team_id"])
        await respond(
            text=build_queue(requests, now=self.deps.clock(), tz=settings.zone),
            response_type="ephemeral",
        )

    async def submit_settings(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        try:
            changes = blocks.parse_settings_modal(view)
            async with self.deps.sessions() as session:
                saved = await save_settings(
                    session,
                    team_id=team_id,
                    changes=changes,
                    updated_by=user_id,
                    now=self.deps.clock(),
                )
        except UserError as error:
            await ack(response_action="errors", errors={error.field or "timezone": error.message})
            return
        await ack()
        logger.info("settings_saved team=%s by=%s", team_id, user_id)
        counts = await self.deps.run_now(
            "roster-sync", client=client, team_id=team_id, now=self.deps.clock()
        )
        await confirm_by_dm(
            self.deps,
            client,
            team_id=team_id,
            user_id=user_id,
            text=blocks.build_settings_saved(saved, counts),
            what="settings-saved",
        )


def register(
    app: AsyncApp,
    deps: Deps,
    *,
    surveys: SurveyHandlers | None = None,
    reports: ReportHandlers | None = None,
    exports: ExportHandlers | None = None,
) -> None:
    handlers = AdminHandlers(deps, surveys, reports, exports)
    app.command("/align")(handlers.command)
    app.view(blocks.SETTINGS_MODAL)(handlers.submit_settings)
