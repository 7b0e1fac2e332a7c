"""Slack side of working the queue: the intake post's buttons, their modals, thread replies."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import queue as blocks
from bot.blocks import requests as request_blocks
from bot.blocks.announcements import announcement
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.requests.answers import question_to_answer, request_answered_by_reply
from bot.requests.lifecycle import Action
from bot.requests.queue import (
    Outcome,
    apply_action,
    check_may_begin,
    find_request,
    load_actor,
)
from handlers.home import FROM_HOME, clicked_in_home, opened_from_home, refresh_home
from handlers.slack_io import actor_for, click_listener, refresh_intake_post, tell

logger = logging.getLogger(__name__)

DIRECT_ACTIONS: dict[str, Action] = {
    request_blocks.ACTION_CLAIM: Action.CLAIM,
    request_blocks.ACTION_START: Action.START,
    request_blocks.ACTION_CANCEL: Action.CANCEL,
    request_blocks.ACTION_REOPEN: Action.REOPEN,
}
MODAL_ACTIONS: dict[str, Action] = {
    request_blocks.ACTION_DELIVER: Action.DELIVER,
    request_blocks.ACTION_DECLINE: Action.DECLINE,
    request_blocks.ACTION_REASSIGN: Action.REASSIGN,
    request_blocks.ACTION_NEED_INFO: Action.NEED_INFO,
}
MODAL_BUILDERS = {
    Action.DELIVER: blocks.build_deliver_modal,
    Action.DECLINE: blocks.build_decline_modal,
    Action.REASSIGN: blocks.build_reassign_modal,
    Action.NEED_INFO: blocks.build_need_info_modal,
}


def request_id_of(action: dict[str, Any]) -> int | None:
    value = str(action.get("value") or "").split(":")[0]
    return int(value) if value.isdigit() else None


async def announce(deps: Deps, client: AsyncWebClient, outcome: Outcome) -> None:
    """After a change: send what it stored to say (intake post, thread line, DMs) now; what
    Slack does not take now the dispatcher sends later."""
    await deps.outbox.deliver(outcome.outbox_ids, client)


async def perform(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team_id: str,
    user_id: str,
    request_id: int,
    action: Action,
    note: str | None = None,
    new_assignee_id: str | None = None,
    deliverable_url: str | None = None,
    announced: bool = True,
) -> Outcome:
    """Apply one action for a Slack user and announce it; UserError when refused.

    A modal passes `announced=False`: it must ack Slack before anything else is said."""
    actor, _settings = await actor_for(deps, client, team_id=team_id, user_id=user_id)
    async with deps.sessions() as session:
        new_assignee = (
            await load_actor(session, team_id=team_id, user_id=new_assignee_id, is_admin=False)
            if new_assignee_id
            else None
        )
        outcome = await apply_action(
            session,
            team_id=team_id,
            request_id=request_id,
            action=action,
            actor=actor,
            now=deps.clock(),
            note=note,
            new_assignee=new_assignee,
            deliverable_url=deliverable_url,
            announce=announcement,
        )
    if announced:
        await announce(deps, client, outcome)
    return outcome


class QueueHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.open_answer = click_listener(self._answer_modal, opens_modal=True)

    async def _refresh_after_refusal(
        self, client: AsyncWebClient, team_id: str, request_id: int
    ) -> None:
        """A refused click usually means the post was stale: show what is true now."""
        try:
            async with self.deps.sessions() as session:
                request = await find_request(session, team_id=team_id, request_id=request_id)
        except UserError:
            return
        await refresh_intake_post(self.deps, client, request)

    async def click(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """Claim, Start, Cancel…: applied at once. Deliver, Decline, Reassign, Need info: checked
        first, then a modal asks for the details (its submission refreshes what it changes)."""
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        request_id = request_id_of(action)
        if request_id is None:
            await tell(client, body, respond, "That button doesn't point at a request any more.")
            return
        direct = DIRECT_ACTIONS.get(action["action_id"])
        try:
            if direct is None:
                await self._ask_details(
                    client, body, request_id, MODAL_ACTIONS[action["action_id"]]
                )
                return
            await perform(
                self.deps,
                client,
                team_id=team_id,
                user_id=user_id,
                request_id=request_id,
                action=direct,
            )
        except UserError as error:
            await tell(client, body, respond, error.message)
            await self._refresh_after_refusal(client, team_id, request_id)
        if clicked_in_home(body):
            await refresh_home(
                self.deps, client, team_id=team_id, user_id=user_id, view=body["view"]
            )

    async def _ask_details(
        self, client: AsyncWebClient, body: dict[str, Any], request_id: int, kind: Action
    ) -> None:
        """Open the action's modal, or UserError when the clicker may not begin it."""
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        actor, _settings = await actor_for(self.deps, client, team_id=team_id, user_id=user_id)
        async with self.deps.sessions() as session:
            request = await find_request(session, team_id=team_id, request_id=request_id)
        check_may_begin(kind, request, actor)
        origin = FROM_HOME if clicked_in_home(body) else {}
        await client.views_open(
            trigger_id=body["trigger_id"], view=MODAL_BUILDERS[kind](request, **origin)
        )

    async def submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Any action modal (deliver, decline, reassign, need info, answer): read, apply, tell."""
        _action, field = blocks.ACTION_MODALS[str(view.get("callback_id"))]
        try:
            form = blocks.parse_action_modal(view)
            if form.request_id is None:
                raise UserError("This form lost its request; close it and click again.")
            outcome = await perform(
                self.deps,
                client,
                team_id=body["team"]["id"],
                user_id=body["user"]["id"],
                request_id=form.request_id,
                action=form.action,
                note=form.note,
                new_assignee_id=form.new_assignee_id,
                deliverable_url=form.deliverable_url,
                announced=False,
            )
        except UserError as error:
            await ack(response_action="errors", errors={error.field or field: error.message})
            return
        await ack()
        await announce(self.deps, client, outcome)
        if opened_from_home(view):
            await refresh_home(
                self.deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"]
            )

    async def _answer_modal(self, body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        request_id = request_id_of(action)
        if request_id is None:
            raise UserError("That button doesn't point at a request any more.")
        async with self.deps.sessions() as session:
            request, question = await question_to_answer(
                session, team_id=body["team"]["id"], request_id=request_id
            )
        return blocks.build_answer_modal(request, question)

    async def thread_reply(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The requester answering in the intake thread resumes a request waiting on them."""
        thread_ts, user_id, channel = (
            event.get("thread_ts"),
            event.get("user"),
            event.get("channel"),
        )
        if not (thread_ts and user_id and channel) or event.get("subtype") or event.get("bot_id"):
            return
        team_id = str(body.get("team_id") or event.get("team"))
        async with self.deps.sessions() as session:
            request = await request_answered_by_reply(
                session,
                team_id=team_id,
                channel=str(channel),
                thread_ts=str(thread_ts),
                user_id=str(user_id),
            )
        if request is None or request.id is None:
            return
        try:
            await perform(
                self.deps,
                client,
                team_id=team_id,
                user_id=str(user_id),
                request_id=request.id,
                action=Action.RESUME,
                note=str(event.get("text") or "")[:3000],
            )
        except UserError:
            logger.info("thread_reply_ignored request=%s", request.id)


def register(app: AsyncApp, deps: Deps) -> None:
    handlers = QueueHandlers(deps)
    app.action(re.compile(f"^({'|'.join([*DIRECT_ACTIONS, *MODAL_ACTIONS])})$"))(handlers.click)
    app.action(blocks.ACTION_ANSWER)(handlers.open_answer)
    for callback_id in blocks.ACTION_MODALS:
        app.view(callback_id)(handlers.submit)
