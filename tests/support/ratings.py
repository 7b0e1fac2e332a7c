"""Delivery ratings in tests: a request filed, claimed and delivered through Slack, and the
rating DM's buttons and reason form."""

from __future__ import annotations

from typing import Any

from bot.core.deps import Deps
from bot.core.models import SupportRequest
from sandbox.fakeslack import Call, FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions
from tests.support.queue_helpers import click, file_one, modal_submission, text_value, url_value
from tests.support.workspace import REP

LINK = "https://drive.example.com/deck"


def is_delivery_dm(call: Call) -> bool:
    return call.params["channel"] == REP and "was delivered" in call.params["text"]


async def deliver(slack: SlackSender, fake_slack: FakeSlack, request: SupportRequest) -> Call:
    """Marketing Support submits the deliver modal; returns the rating DM the requester got."""
    before = len([call for call in fake_slack.calls_to("chat.postMessage") if is_delivery_dm(call)])
    await slack.submit(
        modal_submission(
            "request_deliver_form",
            request,
            url_value("link", LINK) | text_value("note", "Slides 3-5 are new"),
        )
    )
    dms = await fake_slack.wait_for("chat.postMessage", is_delivery_dm, count=before + 1)
    return dms[-1]


async def delivered_request(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> tuple[SupportRequest, Call]:
    request = await file_one(slack, fake_slack, deps)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")
    dm = await deliver(slack, fake_slack, request)
    return request, dm


async def press(
    slack: SlackSender,
    fake_slack: FakeSlack,
    request: SupportRequest,
    dm: Call,
    action_id: str,
    choice: str,
    *,
    tag: str,
    user_id: str = REP,
) -> Call:
    """Click a rating button on the DM; returns what came back through its response_url."""
    url = fake_slack.response_url(tag)
    value = next(
        (
            str(element["value"])
            for block in dm.params.get("blocks") or []
            for element in block.get("elements") or []
            if element.get("action_id") == action_id
        ),
        f"{request.id}:{choice}",
    )
    await slack.action(
        block_actions(
            action_id,
            value,
            user_id=user_id,
            channel_id=dm.response["channel"],
            message_ts=dm.response["ts"],
            response_url=url,
        )
    )
    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path == tag)
    return answer


def reason_values(
    reason: str | None, comment: str | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    selected = {"text": {"type": "plain_text", "text": reason}, "value": reason} if reason else None
    return {
        "reason": {"value": {"type": "static_select", "selected_option": selected}},
        "comment": {"value": {"type": "plain_text_input", "value": comment}},
    }
