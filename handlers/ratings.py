"""Slack side of delivery ratings: the 1–5 and 'did it help the deal?' buttons in the DM."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import queue as blocks
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.requests.queue import find_request, latest_delivery_event, rate_delivery
from handlers.slack_io import answer_click, click_listener


class RatingHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.helped = click_listener(self._helped)

    async def _rate(
        self, body: dict[str, Any], request_id: int, **answer: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        async with self.deps.sessions() as session:
            rating = await rate_delivery(
                session,
                team_id=body["team"]["id"],
                request_id=request_id,
                rater_id=body["user"]["id"],
                now=self.deps.clock(),
                **answer,
            )
            request = await find_request(session, team_id=body["team"]["id"], request_id=request_id)
            delivery = await latest_delivery_event(session, request_id=request_id)
        return blocks.build_rating_dm(
            request,
            actor_id=delivery.actor_id if delivery else None,
            rating=rating,
            delivery_event_id=delivery.id if delivery else None,
        )

    async def score(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        shown = await answer_click(client, body, respond, self._score(body, action))
        if shown is None:
            return
        text, dm_blocks, request_id, score = shown
        await respond(text=text, blocks=dm_blocks, replace_original=True)
        if score <= 2:
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=blocks.build_low_score_modal(request_id, score, **self._message_ref(body)),
            )

    async def _score(
        self, body: dict[str, Any], action: dict[str, Any]
    ) -> tuple[str, list[dict[str, Any]], int, int]:
        click, score = blocks.parse_rating_score(action)
        text, dm_blocks = await self._rate(
            body, click.request_id, score=score, delivery_event_id=click.delivery_event_id
        )
        return text, dm_blocks, click.request_id, score

    @staticmethod
    def _message_ref(body: dict[str, Any]) -> dict[str, str]:
        container = body.get("container") or {}
        return {
            "channel": str(container.get("channel_id") or ""),
            "ts": str(container.get("message_ts") or ""),
        }

    async def _helped(
        self, body: dict[str, Any], action: dict[str, Any]
    ) -> tuple[str, list[dict[str, Any]]]:
        click = blocks.parse_rating_button(action)
        return await self._rate(
            body, click.request_id, helped=click.choice, delivery_event_id=click.delivery_event_id
        )

    async def submit_reason(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        metadata = blocks.parse_metadata(view)
        request_id = metadata.get("request_id")
        reason = blocks.selected_value(view, blocks.FIELD_REASON)
        if not isinstance(request_id, int):
            await ack(
                response_action="errors", errors={blocks.FIELD_REASON: "This form is out of date."}
            )
            return
        if not reason:
            await ack(
                response_action="errors", errors={blocks.FIELD_REASON: "Pick the main reason."}
            )
            return
        try:
            text, dm_blocks = await self._rate(
                body,
                request_id,
                reason=reason,
                comment=blocks.text_value(view, blocks.FIELD_COMMENT) or "",
            )
        except UserError as error:
            await ack(response_action="errors", errors={blocks.FIELD_REASON: error.message})
            return
        await ack()
        channel, ts = metadata.get("channel"), metadata.get("ts")
        if channel and ts:
            await client.chat_update(channel=str(channel), ts=str(ts), text=text, blocks=dm_blocks)


def register(app: AsyncApp, deps: Deps) -> None:
    handlers = RatingHandlers(deps)
    app.action(re.compile(f"^{blocks.ACTION_RATE_SCORE}_[1-5]$"))(handlers.score)
    app.action(re.compile(f"^{blocks.ACTION_RATE_HELPED}_(yes|no|too_early)$"))(handlers.helped)
    app.view(blocks.LOW_SCORE_MODAL)(handlers.submit_reason)
