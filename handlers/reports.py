"""Slack side of the numbers: `/align digest`, `/align scorecard`, `/align goals`, `/align wedid`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.common import Block, context, input_block, modal, section, state_value
from bot.blocks.digests import build_demandgen_digest, build_scorecard, build_support_digest
from bot.calendar.periods import period_of
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import Function
from bot.core.text import escape_mrkdwn, unescape_slack
from bot.kpis.digests import DigestKind, demandgen_digest, scorecard_for, support_digest
from bot.kpis.feedback import record_action
from bot.kpis.goals import METRICS, format_value, goals_for, parse_quarter, parse_target, set_goal
from bot.requests.lifecycle import Actor
from bot.workspace.settings import WorkspaceSettings
from handlers.slack_io import actor_for

logger = logging.getLogger(__name__)

GOALS_MODAL = "align_goals"
KIND_WORDS = {
    "support": DigestKind.SUPPORT,
    "mktg": DigestKind.SUPPORT,
    "marketing": DigestKind.SUPPORT,
    "demandgen": DigestKind.DEMAND_GEN,
    "dg": DigestKind.DEMAND_GEN,
    "demand": DigestKind.DEMAND_GEN,
    "pipeline": DigestKind.DEMAND_GEN,
}


def can_read_numbers(actor: Actor, settings: WorkspaceSettings) -> bool:
    return bool(actor.is_admin or actor.user_id in settings.leaders or actor.roles)


def can_set_goals(actor: Actor, settings: WorkspaceSettings) -> bool:
    return actor.is_admin or actor.user_id in settings.leaders


def build_goals_modal(quarter: str, current: dict[str, float]) -> dict[str, Any]:
    blocks: list[Block] = [
        context(
            "Every volume goal needs its conversion-rate goal: a volume target alone invites "
            "gaming (for example loosening lead scoring). Leave a field empty to keep it unset."
        )
    ]
    for function in (Function.DEMAND_GEN, Function.SUPPORT):
        blocks.append(section(f"*{function.label}*"))
        for key, metric in METRICS.items():
            if metric.function != function or key == "campaign_effectiveness":
                continue
            element: dict[str, Any] = {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": 30,
            }
            if key in current:
                element["initial_value"] = format_value(key, current[key])
            hint = f"Paired with {METRICS[metric.paired].label}." if metric.paired else None
            blocks.append(input_block(key, metric.label, element, optional=True, hint=hint))
    return modal(GOALS_MODAL, f"Goals {quarter}", blocks, submit="Save", private_metadata=quarter)


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
        if not can_read_numbers(actor, settings):
            raise UserError(
                "Digests are for the Sales, Marketing Support and Demand Gen groups, leaders and admins."
            )
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
            for kind in kinds:
                if kind == DigestKind.SUPPORT:
                    text, part = build_support_digest(
                        await support_digest(
                            session,
                            team_id=team_id,
                            week_start=week,
                            settings=settings,
                            now=self.deps.clock(),
                        )
                    )
                else:
                    text, part = build_demandgen_digest(
                        await demandgen_digest(
                            session,
                            team_id=team_id,
                            week_start=week,
                            settings=settings,
                            now=self.deps.clock(),
                        )
                    )
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
        if not (
            actor.is_admin
            or actor.user_id in settings.leaders
            or actor.in_support
            or actor.in_demand_gen
        ):
            raise UserError("Scorecards are for marketing, leaders and admins.")
        today = self.deps.clock().astimezone(settings.zone).date()
        quarter = parse_quarter(" ".join(words) or None, today=today)
        parts = []
        async with self.deps.sessions() as session:
            for function in (Function.DEMAND_GEN, Function.SUPPORT):
                card = await scorecard_for(
                    session,
                    team_id=team_id,
                    quarter=quarter,
                    function=function,
                    settings=settings,
                    now=self.deps.clock(),
                )
                parts.append(build_scorecard(card))
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
        if not can_set_goals(actor, settings):
            raise UserError("Goals are set by admins and the leaders listed in `/align settings`.")
        today = self.deps.clock().astimezone(settings.zone).date()
        quarter = parse_quarter(" ".join(words) or None, today=today)
        async with self.deps.sessions() as session:
            goals = await goals_for(session, team_id=body["team_id"], quarter=quarter)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=build_goals_modal(quarter, {key: goal.target for key, goal in goals.items()}),
        )

    async def submit_goals(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        quarter = str(view.get("private_metadata") or "")
        texts = {
            key: str(state_value(view, key).get("value") or "").strip()
            for key in METRICS
            if state_value(view, key)
        }
        errors: dict[str, str] = {}
        targets: dict[str, float] = {}
        for key, text in texts.items():
            if text:
                try:
                    targets[key] = parse_target(key, text, field=key)
                except UserError as error:
                    errors[key] = error.message
        for key in targets:
            paired = METRICS[key].paired
            if METRICS[key].volume and paired and paired not in targets and paired not in errors:
                errors[paired] = (
                    f"{METRICS[key].label} needs this conversion-rate goal too: a volume target "
                    "on its own invites gaming (for example loosening lead scoring)."
                )
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            async with self.deps.sessions() as session:
                for key, target in targets.items():
                    paired = METRICS[key].paired
                    await set_goal(
                        session,
                        team_id=team_id,
                        quarter=quarter,
                        metric=key,
                        target=target,
                        paired_target=targets.get(paired) if paired else None,
                        set_by=user_id,
                        now=self.deps.clock(),
                    )
        except UserError as error:
            await ack(
                response_action="errors",
                errors={error.field if error.field in texts else next(iter(texts)): error.message},
            )
            return
        await ack()
        summary = ", ".join(
            f"{METRICS[key].label} {format_value(key, value)}" for key, value in targets.items()
        )
        await client.chat_postMessage(
            channel=user_id,
            text=f":dart: Goals for {quarter} saved: {summary or 'nothing changed'}.",
        )

    async def _wedid(
        self, body: dict[str, Any], actor: Actor, settings: WorkspaceSettings, respond: AsyncRespond
    ) -> None:
        if not (actor.in_support or actor.is_admin or actor.user_id in settings.support_leads):
            raise UserError(
                "`/align wedid` is for Marketing Support to record what changed because of feedback."
            )
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
    app.view(GOALS_MODAL)(handlers.submit_goals)
    return handlers
