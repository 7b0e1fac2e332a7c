"""Bad input gets a clear ephemeral answer and leaves nothing half-stored."""

from __future__ import annotations

import time

import pytest

from bot.core.deps import Deps
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, sign, slash_command, view_submission
from tests.support.helpers import ack_text, everything_sent, stored_requests
from tests.support.queue_helpers import file_one
from tests.support.requests import request_form_values
from tests.support.workspace import INTAKE, REP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slideshow Acme $5k", "request type"),
        ("deck Acme $abc", "couldn't read the amount"),
        ("deck Acme $-5", "negative"),
        ("deck Acme $1e99", "couldn't read the amount"),
        ("deck Acme $250k due 2020-01-01 old", "past"),
        ("deck Acme $250k due 2026-02-30 impossible", "30 February"),
    ],
)
async def test_bad_one_liners_are_answered_ephemerally_and_store_nothing(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, text: str, expected: str
) -> None:
    response = await slack.command("/mktg", text)

    assert response.status == 200
    assert expected in ack_text(response)
    assert (response.json or {}).get("response_type", "ephemeral") == "ephemeral"
    assert await stored_requests(configured) == []
    # The answer is the ack; what must come after it: a good command, sent once it arrived.
    later = await file_one(slack, fake_slack, configured, "deck Later Corp $5k Later pitch")
    await fake_slack.assert_no_call(
        "chat.postMessage", lambda c: c.response.get("ts") != later.intake_ts
    )
    assert [r.id for r in await stored_requests(configured)] == [later.id]


async def test_ten_thousand_characters_are_stored_whole_and_shown_within_block_kit_limits(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    details = ("The CFO wants proof. " * 500)[:10_000]

    await slack.command(
        "/mktg", f"deck Acme $250k {details}", response_url=fake_slack.response_url()
    )

    [post] = await fake_slack.wait_for("chat.postMessage")
    assert post.response["ok"] is True  # the fake enforces Slack's Block Kit limits
    assert "shortened here" in everything_sent(post)
    [request] = await stored_requests(configured)
    assert request.details == details.strip()


async def test_mentions_and_mrkdwn_in_user_text_are_escaped_everywhere_they_are_echoed(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    hostile = "deck <!channel> &amp; <@U999> Corp $5k due 2026-12-04 ping &lt;!here&gt; a<b>c"

    await slack.command("/mktg", hostile, response_url=fake_slack.response_url())

    [post] = await fake_slack.wait_for("chat.postMessage")
    [confirmation] = await fake_slack.wait_for("response_url")
    for call in (post, confirmation):
        sent = everything_sent(call)
        assert "<!channel>" not in sent
        assert "<!here>" not in sent
        assert "<@U999>" not in sent
        assert "&lt;!channel&gt;" in sent
    [request] = await stored_requests(configured)
    assert "<!channel>" in (request.account or "") + (request.details or "")


async def test_a_bad_signature_is_refused_and_nothing_is_stored(
    slack: SlackSender, configured: Deps
) -> None:
    body = slash_command("/mktg", "deck Acme $5k due 2026-12-04 pitch")
    headers = sign(body, secret="not-the-real-secret")

    response = await slack.post_raw(body, headers)

    assert response.status == 401
    assert await stored_requests(configured) == []


async def test_a_timestamp_older_than_five_minutes_is_refused(
    slack: SlackSender, configured: Deps
) -> None:
    body = slash_command("/mktg", "deck Acme $5k due 2026-12-04 pitch")
    headers = sign(body, timestamp=int(time.time()) - 6 * 60)

    response = await slack.post_raw(body, headers)

    assert response.status == 401
    assert await stored_requests(configured) == []


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"amount": "lots"}, "amount", "couldn't read the amount"),
        ({"amount": "-5"}, "amount", "negative"),
        ({"details": "   "}, "details", "Say what you need"),
        ({"request_type": None}, "type", "Pick the kind"),
        ({"due": "2020-01-01"}, "due", "past"),
        ({"account": "A" * 151}, "account", "too long"),
    ],
)
async def test_modal_errors_come_back_on_the_field(
    slack: SlackSender,
    fake_slack: FakeSlack,
    configured: Deps,
    values: dict,
    field: str,
    expected: str,  # type: ignore[type-arg]
) -> None:
    payload = view_submission("request_form", request_form_values(**values))

    response = await slack.submit(payload)

    assert response.status == 200
    assert response.json["response_action"] == "errors"
    assert expected in response.json["errors"][field]
    assert await stored_requests(configured) == []
    # The errors are the ack; what must come after it: a good form, sent once it arrived.
    await slack.submit(
        view_submission(
            "request_form", request_form_values(account="Later Corp"), view_id="V0LATER"
        )
    )
    [confirmation] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == REP
    )
    assert "MS-1" in confirmation.params["text"]
    [later] = await stored_requests(configured)
    await fake_slack.assert_no_call(
        "chat.postMessage",
        lambda call: (
            call.params["channel"] == INTAKE and call.response.get("ts") != later.intake_ts
        ),
    )


async def test_unknown_align_subcommand_says_what_to_do(
    slack: SlackSender, configured: Deps
) -> None:
    response = await slack.command("/align", "frobnicate <!channel>")

    assert "/align help" in ack_text(response)
    assert "<!channel>" not in ack_text(response)


async def test_nul_and_control_characters_in_text_are_stored_safely_on_any_database(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command(
        "/mktg",
        "deck Acme\x00 Corp $5k due 2026-12-04 line\x00 one \u202eevil",
        response_url=fake_slack.response_url(),
    )

    await fake_slack.wait_for("response_url")
    [request] = await stored_requests(configured)
    assert "\x00" not in (request.account or "") + (request.details or "")
    assert request.account == "Acme Corp"
