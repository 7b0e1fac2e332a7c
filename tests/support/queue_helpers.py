"""Arranging requests for queue tests: file through Slack, click through Slack."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.core.deps import Deps
from bot.core.models import Role, SupportRequest
from bot.core.text import format_reference
from bot.workspace.roster import replace_role_members
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions, view_submission
from tests.support.helpers import stored_requests
from tests.support.workspace import DEMANDGEN, INTAKE, MARKETER, REP, TEAM_ID

MARKETER_TWO = "U0MKT2"
BOTH_GROUPS = "U0BOTH"  # in Marketing Support and in Demand Gen


async def add_support_members(deps: Deps, fake_slack: FakeSlack) -> None:
    fake_slack.add_user(MARKETER_TWO, name="max.marketing")
    fake_slack.add_user(BOTH_GROUPS, name="bo.both")
    async with deps.sessions() as session:
        await replace_role_members(
            session,
            team_id=TEAM_ID,
            role=Role.SUPPORT,
            user_ids=[MARKETER, MARKETER_TWO, BOTH_GROUPS],
            now=deps.clock(),
        )
        await replace_role_members(
            session,
            team_id=TEAM_ID,
            role=Role.DEMAND_GEN,
            user_ids=[DEMANDGEN, BOTH_GROUPS],
            now=deps.clock(),
        )


async def file_one(
    slack: SlackSender,
    fake_slack: FakeSlack,
    deps: Deps,
    text: str = "deck Acme Corp $250k Renewal pitch",
    *,
    user_id: str = REP,
) -> SupportRequest:
    known = {request.id for request in await stored_requests(deps)}
    await slack.command("/mktg", text, user_id=user_id, response_url=fake_slack.response_url())
    # Its own answer, named by its reference: an earlier filing's answer may still be on its way.
    async with asyncio.timeout(15):  # a 100k-character filing takes a while under load
        while True:
            new = [r for r in await stored_requests(deps) if r.id not in known]
            if new:
                break
            await asyncio.sleep(0.02)
    reference = re.compile(rf"\b{format_reference(new[-1].number)}\b")
    await fake_slack.wait_for(
        "response_url", lambda c: bool(reference.search(str(c.params.get("text")))), timeout=15
    )
    return next(r for r in await stored_requests(deps) if r.id == new[-1].id)


async def click(
    slack: SlackSender,
    fake_slack: FakeSlack,
    action_id: str,
    request: SupportRequest,
    *,
    user_id: str = MARKETER,
    tag: str = "click",
) -> tuple[Any, str]:
    url = fake_slack.response_url(tag)
    payload = block_actions(
        action_id,
        str(request.id),
        user_id=user_id,
        channel_id=INTAKE,
        message_ts=request.intake_ts,
        response_url=url,
    )
    return await slack.action(payload), url


async def current(deps: Deps, request: SupportRequest) -> SupportRequest:
    return next(r for r in await stored_requests(deps) if r.id == request.id)


def modal_submission(
    callback_id: str, request: SupportRequest, values: dict[str, Any], *, user_id: str = MARKETER
) -> dict[str, Any]:
    import json

    return view_submission(
        callback_id,
        values,
        user_id=user_id,
        private_metadata=json.dumps({"request_id": request.id}),
    )


def text_value(block_id: str, value: str | None) -> dict[str, Any]:
    return {block_id: {"value": {"type": "plain_text_input", "value": value}}}


def url_value(block_id: str, value: str | None) -> dict[str, Any]:
    return {block_id: {"value": {"type": "url_text_input", "value": value}}}


def user_value(block_id: str, user: str | None) -> dict[str, Any]:
    return {block_id: {"value": {"type": "users_select", "selected_user": user}}}
