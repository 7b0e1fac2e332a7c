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
from bot.surveys.responses import (
    FIELD_NEW_COUNT,
    NO_NEW_PIPELINE,
    recent_deliveries_for,
    record_enablement,
    record_pipeline,
    response_of,
    validate_pipeline_form,
)
from bot.surveys.runs import check_open, find_run, open_runs, summarise_run
from bot.workspace import access
from bot.workspace.settings import load_settings
from handlers.slack_io import click_listener, confirm_by_dm, permitted

logger = logging.getLogger(__name__)


class SurveyHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        # A 1–5 click is saved at once (last click wins); the DM shows what was recorded.
        self.score = click_listener(self._score)
        self.open_comment = click_listener(self._enablement_modal, opens_modal=True)
        self.open_pipeline = click_listener(self._pipeline_modal, opens_modal=True)
        self.no_new_pipeline = click_listener(self._no_new_pipeline)

    async def _score(
        self, body: dict[str, Any], action: dict[str, Any]
    ) -> tuple[str, list[dict[str, Any]]]:
        run_id, score = blocks.parse_survey_score(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        async with self.deps.sessions() as session:
            response = await record_enablement(
                session,
                team_id=team_id,
                run_id=run_id,
                user_id=user_id,
                now=self.deps.clock(),
                score=score,
            )
            run = await find_run(session, team_id=team_id, run_id=run_id)
            settings = await load_settings(session, team_id)
        return blocks.build_enablement_dm(
            run, minimum=effective_minimum(settings.survey_min_respondents), response=response
        )

    async def _enablement_modal(
        self, body: dict[str, Any], action: dict[str, Any]
    ) -> dict[str, Any]:
        run_id, _choice = blocks.parse_survey_button(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        async with self.deps.sessions() as session:
            run = await find_run(session, team_id=team_id, run_id=run_id)
            check_open(run, self.deps.clock())
            response = await response_of(session, run_id=run_id, user_id=user_id)
        return blocks.build_enablement_modal(run, response)

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

    async def _pipeline_modal(self, body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        run_id, _choice = blocks.parse_survey_button(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        now = self.deps.clock()
        async with self.deps.sessions() as session:
            run = await find_run(session, team_id=team_id, run_id=run_id)
            check_open(run, now)
            response = await response_of(session, run_id=run_id, user_id=user_id)
            recent = await recent_deliveries_for(session, team_id=team_id, user_id=user_id, now=now)
        return blocks.build_pipeline_modal(run, response, recent)

    async def _no_new_pipeline(
        self, body: dict[str, Any], action: dict[str, Any]
    ) -> tuple[str, list[dict[str, Any]]]:
        run_id, _choice = blocks.parse_survey_button(action)
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        async with self.deps.sessions() as session:
            response = await record_pipeline(
                session,
                team_id=team_id,
                run_id=run_id,
                user_id=user_id,
                now=self.deps.clock(),
                answer=NO_NEW_PIPELINE,
            )
            run = await find_run(session, team_id=team_id, run_id=run_id)
        return blocks.build_pipeline_dm(run, response=response)

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
        await confirm_by_dm(
            self.deps,
            client,
            team_id=body["team"]["id"],
            user_id=body["user"]["id"],
            text=":white_check_mark: Pipeline pulse saved. You can change it from the survey "
            "message until the end of the week.",
            what="pulse-saved",
        )

    async def status(
        self, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, *, send: bool
    ) -> None:
        """`/align survey [send]`, called by the /align command handler."""
        team_id = body["team_id"]
        if (
            allowed := await permitted(
                self.deps, client, body, respond, access.may_see_survey_status
            )
        ) is None:
            return
        actor, settings = allowed
        now = self.deps.clock()
        if send:
            if refused := access.may_resend_surveys(actor, settings):
                await respond(text=refused.message, response_type="ephemeral")
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
