"""Slack side of the numbers: `/align digest`, `/align scorecard`, `/align goals`, `/align wedid`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import goals as goal_blocks
from bot.blocks.common import Block
from bot.blocks.digests import build_digest, build_scorecard
from bot.calendar.periods import period_of
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn, unescape_slack
from bot.kpis.digests import DigestKind, digests_for, scorecards_for
from bot.kpis.feedback import record_action
from bot.kpis.goals import goals_for, parse_quarter, set_goal
from bot.requests.lifecycle import Actor
from bot.workspace import access
from bot.workspace.settings import WorkspaceSettings
from handlers.slack_io import actor_for, confirm_by_dm

logger = logging.getLogger(__name__)

KIND_WORDS = {
    "support": DigestKind.SUPPORT,
    "mktg": DigestKind.SUPPORT,
    "marketing": DigestKind.SUPPORT,
    "demandgen": DigestKind.DEMAND_GEN,
    "dg": DigestKind.DEMAND_GEN,
    "demand": DigestKind.DEMAND_GEN,
    "pipeline": DigestKind.DEMAND_GEN,
}


class ReportHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def handle(
        self,
        subcommand: str,
        words: list[str],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """Called by `/align` after its ack, for digest, scorecard, goals and wedid."""
        team_id, user_id = body["team_id"], body["user_id"]
        actor, settings = await actor_for(self.deps, client, team_id=team_id, user_id=user_id)
        try:
            if subcommand == "digest":
                await self._digest(words, team_id, actor, settings, respond)
            elif subcommand == "scorecard":
                await self._scorecard(words, team_id, actor, settings, respond)
            elif subcommand == "goals":
                await self._open_goals(words, body, actor, settings, client, respond)
            elif subcommand == "wedid":
                await self._wedid(body, actor, settings, respond)
        except UserError as error:
            await respond(text=error.message, response_type="ephemeral")

    async def _digest(
        self,
        words: list[str],
        team_id: str,
        actor: Actor,
        settings: WorkspaceSettings,
        respond: AsyncRespond,
    ) -> None:
        access.require(access.may_read_digests(actor, settings))
        kinds = list(DigestKind.ALL)
        week = period_of(self.deps.clock(), settings.zone).start
        for word in (w.lower() for w in words):
            if word in KIND_WORDS:
                kinds = [KIND_WORDS[word]]
            elif word in ("last", "previous"):
                week -= timedelta(days=7)
            elif word not in ("this", "both", "all"):
                raise UserError("Try `/align digest [support|demandgen] [last|this]`.")
        blocks: list[Block] = []
        texts: list[str] = []
        async with self.deps.sessions() as session:
            digests = await digests_for(
                session,
                kinds=kinds,
                team_id=team_id,
                week_start=week,
                settings=settings,
                now=self.deps.clock(),
            )
        for digest in digests:
            text, part = build_digest(digest)
            texts.append(text)
            blocks.extend(part)
        await respond(text="\n".join(texts), blocks=blocks[:50], response_type="ephemeral")

    async def _scorecard(
        self,
        words: list[str],
        team_id: str,
        actor: Actor,
        settings: WorkspaceSettings,
        respond: AsyncRespond,
    ) -> None:
        access.require(access.may_read_scorecards(actor, settings))
        today = self.deps.clock().astimezone(settings.zone).date()
        quarter = parse_quarter(" ".join(words) or None, today=today)
        async with self.deps.sessions() as session:
            cards = await scorecards_for(
                session, team_id=team_id, quarter=quarter, settings=settings, now=self.deps.clock()
            )
        parts = [build_scorecard(card) for card in cards]
        await respond(text="\n\n".join(parts), response_type="ephemeral")

    async def _open_goals(
        self,
        words: list[str],
        body: dict[str, Any],
        actor: Actor,
        settings: WorkspaceSettings,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        access.require(access.may_set_goals(actor, settings))
        today = self.deps.clock().astimezone(settings.zone).date()
        quarter = parse_quarter(" ".join(words) or None, today=today)
        async with self.deps.sessions() as session:
            goals = await goals_for(session, team_id=body["team_id"], quarter=quarter)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=goal_blocks.build_goals_modal(
                quarter, {key: goal.target for key, goal in goals.items()}
            ),
        )

    async def submit_goals(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Save the typed goals; `set_goal` decides what each needs (a volume goal, its pair).

        Volume goals missing their pair go first: the domain refuses those before writing
        anything, so a refused form saves nothing."""
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        form = goal_blocks.parse_goals_modal(view)
        if form.errors:
            await ack(response_action="errors", errors=form.errors)
            return
        errors: dict[str, str] = {}
        async with self.deps.sessions() as session:
            for goal in sorted(form.goals, key=lambda goal: not goal.missing_pair):
                if errors and not goal.missing_pair:
                    break
                try:
                    await set_goal(
                        session,
                        team_id=team_id,
                        quarter=form.quarter,
                        metric=goal.metric,
                        target=goal.target,
                        paired_target=goal.paired_target,
                        set_by=user_id,
                        now=self.deps.clock(),
                    )
                except UserError as error:
                    errors.setdefault(goal_blocks.goal_error_field(goal, error), error.message)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await confirm_by_dm(
            self.deps,
            client,
            team_id=team_id,
            user_id=user_id,
            text=goal_blocks.build_goals_saved(form.quarter, form.goals),
            what="goals-saved",
        )

    async def _wedid(
        self, body: dict[str, Any], actor: Actor, settings: WorkspaceSettings, respond: AsyncRespond
    ) -> None:
        access.require(access.may_record_feedback_action(actor, settings))
        # Slack delivers command text escaped (&lt; for a typed <); store what was typed.
        text = unescape_slack((body.get("text") or "").strip()[len("wedid") :].strip())
        now = self.deps.clock()
        async with self.deps.sessions() as session:
            action = await record_action(
                session,
                team_id=body["team_id"],
                text=text,
                week_start=period_of(now, settings.zone).start,
                created_by=actor.user_id,
                now=now,
            )
        await respond(
            text=f":speech_balloon: Noted for the next digests under *You said, we did*: "
            f"{escape_mrkdwn(action.text)}",
            response_type="ephemeral",
        )


def register(app: AsyncApp, deps: Deps) -> ReportHandlers:
    handlers = ReportHandlers(deps)
    app.view(goal_blocks.GOALS_MODAL)(handlers.submit_goals)
    return handlers
