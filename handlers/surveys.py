"""Slack side of the weekly pulse: rating buttons, the two modals, and `/align survey`."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import surveys as blocks
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.surveys.privacy import effective_minimum
from bot.surveys.runs import (
    FIELD_NEW_COUNT,
    NO_NEW_PIPELINE,
    check_open,
    find_run,
    open_runs,
    recent_deliveries_for,
    record_enablement,
    record_pipeline,
    response_of,
    summarise_run,
    validate_pipeline_form,
)
from bot.workspace.settings import load_settings
from handlers.slack_io import actor_for, tell

logger = logging.getLogger(__name__)


def _run_and_choice(action: dict[str, Any]) -> tuple[int, str] | None:
    run_part, _, choice = str(action.get("value") or "").partition(":")
    return (int(run_part), choice) if run_part.isdigit() else None


class SurveyHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def score(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A 1–5 click: saved at once (last click wins), the DM shows what was recorded."""
        await ack()
        parsed = _run_and_choice(action)
        if parsed is None or not parsed[1].isdigit():
            await tell(client, body, respond, "That button is out of date.")
            return
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        try:
            async with self.deps.sessions() as session:
                response = await record_enablement(
                    session,
                    team_id=team_id,
                    run_id=parsed[0],
                    user_id=user_id,
                    now=self.deps.clock(),
                    score=int(parsed[1]),
                )
                run = await find_run(session, team_id=team_id, run_id=parsed[0])
                settings = await load_settings(session, team_id)
        except UserError as error:
            await tell(client, body, respond, error.message)
            return
        text, dm_blocks = blocks.build_enablement_dm(
            run, minimum=effective_minimum(settings.survey_min_respondents), response=response
        )
        await respond(text=text, blocks=dm_blocks, replace_original=True)

    async def open_comment(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        parsed = _run_and_choice(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        try:
            if parsed is None:
                raise UserError("That button is out of date.")
            async with self.deps.sessions() as session:
                run = await find_run(session, team_id=team_id, run_id=parsed[0])
                check_open(run, self.deps.clock())
                response = await response_of(session, run_id=parsed[0], user_id=user_id)
        except UserError as error:
            await tell(client, body, respond, error.message)
            return
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.build_enablement_modal(run, response)
        )

    async def submit_enablement(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        run_id = blocks.run_metadata(view)
        comment, help_with = blocks.parse_enablement_modal(view)
        if run_id is None:
            await ack(
                response_action="errors", errors={blocks.FIELD_COMMENT: "This form is out of date."}
            )
            return
        try:
            async with self.deps.sessions() as session:
                await record_enablement(
                    session,
                    team_id=body["team"]["id"],
                    run_id=run_id,
                    user_id=body["user"]["id"],
                    now=self.deps.clock(),
                    comment=comment,
                    help_with=help_with,
                )
        except UserError as error:
            await ack(
                response_action="errors",
                errors={error.field or blocks.FIELD_COMMENT: error.message},
            )
            return
        await ack()

    async def open_pipeline(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        parsed = _run_and_choice(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        now = self.deps.clock()
        try:
            if parsed is None:
                raise UserError("That button is out of date.")
            async with self.deps.sessions() as session:
                run = await find_run(session, team_id=team_id, run_id=parsed[0])
                check_open(run, now)
                response = await response_of(session, run_id=parsed[0], user_id=user_id)
                recent = await recent_deliveries_for(
                    session, team_id=team_id, user_id=user_id, now=now
                )
        except UserError as error:
            await tell(client, body, respond, error.message)
            return
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.build_pipeline_modal(run, response, recent)
        )

    async def no_new_pipeline(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        parsed = _run_and_choice(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        try:
            if parsed is None:
                raise UserError("That button is out of date.")
            async with self.deps.sessions() as session:
                response = await record_pipeline(
                    session,
                    team_id=team_id,
                    run_id=parsed[0],
                    user_id=user_id,
                    now=self.deps.clock(),
                    answer=NO_NEW_PIPELINE,
                )
                run = await find_run(session, team_id=team_id, run_id=parsed[0])
        except UserError as error:
            await tell(client, body, respond, error.message)
            return
        text, dm_blocks = blocks.build_pipeline_dm(run, response=response)
        await respond(text=text, blocks=dm_blocks, replace_original=True)

    async def submit_pipeline(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        run_id = blocks.run_metadata(view)
        if run_id is None:
            await ack(
                response_action="errors",
                errors={FIELD_NEW_COUNT: "This form is out of date."},
            )
            return
        try:
            answer = validate_pipeline_form(blocks.parse_pipeline_modal(view))
            async with self.deps.sessions() as session:
                await record_pipeline(
                    session,
                    team_id=body["team"]["id"],
                    run_id=run_id,
                    user_id=body["user"]["id"],
                    now=self.deps.clock(),
                    answer=answer,
                )
        except UserError as error:
            await ack(
                response_action="errors",
                errors={error.field or FIELD_NEW_COUNT: error.message},
            )
            return
        await ack()
        await client.chat_postMessage(
            channel=body["user"]["id"],
            text=":white_check_mark: Pipeline pulse saved. You can change it from the survey "
            "message until the end of the week.",
        )

    async def status(
        self, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, *, send: bool
    ) -> None:
        """`/align survey [send]`, called by the /align command handler."""
        team_id, user_id = body["team_id"], body["user_id"]
        actor, settings = await actor_for(self.deps, client, team_id=team_id, user_id=user_id)
        allowed = actor.is_admin or user_id in settings.leaders or actor.in_support
        if not allowed:
            await respond(
                text="Survey status is for Marketing Support, leaders and admins.",
                response_type="ephemeral",
            )
            return
        now = self.deps.clock()
        if send:
            if not actor.is_admin:
                await respond(text="Only admins can re-send surveys.", response_type="ephemeral")
                return
            if not settings.sales_usergroup:
                await respond(
                    text="No Sales user group is set, so there is nobody to survey. "
                    "Pick one in `/align settings`.",
                    response_type="ephemeral",
                )
                return
            resent = await self.deps.run_now(
                "survey-resend", client=client, team_id=team_id, now=now
            )
            await respond(
                text=f"Retried {resent} failed DM{'s' if resent != 1 else ''}; everyone due "
                "has been sent theirs.",
                response_type="ephemeral",
            )
        async with self.deps.sessions() as session:
            runs = await open_runs(session, team_id=team_id)
            summaries = [await summarise_run(session, run=run) for run in runs]
        await respond(
            text=blocks.build_survey_status(summaries, admin=actor.is_admin),
            response_type="ephemeral",
        )


def register(app: AsyncApp, deps: Deps) -> SurveyHandlers:
    handlers = SurveyHandlers(deps)
    app.action(re.compile(f"^{blocks.ACTION_SCORE}_[1-5]$"))(handlers.score)
    app.action(blocks.ACTION_COMMENT)(handlers.open_comment)
    app.action(blocks.ACTION_PIPELINE_OPEN)(handlers.open_pipeline)
    app.action(blocks.ACTION_PIPELINE_NONE)(handlers.no_new_pipeline)
    app.view(blocks.ENABLEMENT_MODAL)(handlers.submit_enablement)
    app.view(blocks.PIPELINE_MODAL)(handlers.submit_pipeline)
    return handlers
