"""A sales rep files a request with /mktg or the modal; it is stored once and posted to intake."""

from __future__ import annotations

import asyncio
from datetime import date

from bot.core.deps import Deps
from bot.core.models import RequestStatus, RequestType
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, view_submission
from tests.support.helpers import ack_text, block_texts, stored_requests
from tests.support.requests import ONE_LINER, request_form_values
from tests.support.workspace import (
    DEMANDGEN,
    GENERAL,
    INTAKE,
    REP,
    REP_OUTSIDER,
    TEAM_ID,
    configure,
)


async def test_one_line_command_stores_the_request_and_posts_it_to_intake(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    response_url = fake_slack.response_url()

    response = await slack.command("/mktg", ONE_LINER, user_id=REP, response_url=response_url)

    assert response.status == 200
    posts = await fake_slack.wait_for("chat.postMessage")
    assert posts[0].params["channel"] == INTAKE
    assert "MS-1 · Deal deck" in block_texts(posts[0].params["blocks"])
    confirmation = await fake_slack.wait_for("response_url")
    assert "MS-1" in confirmation[0].params["text"]
    assert "https://" in confirmation[0].params["text"]  # the permalink to the intake post
    [request] = await stored_requests(configured)
    assert (request.number, request.request_type, request.status) == (
        1,
        RequestType.DEAL_DECK,
        RequestStatus.OPEN,
    )
    assert request.account == "Acme Corp"
    assert request.amount_cents == 25_000_000
    assert request.due_date == date(2026, 12, 4)
    assert request.details == "Renewal pitch for the CFO"
    assert request.requester_id == REP
    assert request.intake_channel == INTAKE
    assert request.intake_ts == posts[0].response["ts"]


async def test_references_count_up_per_workspace(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())
    await slack.command(
        "/mktg", "roi Globex $1.2m ROI model", response_url=fake_slack.response_url()
    )
    await configure(configured, team_id="T0OTHER")
    await slack.command(
        "/mktg",
        "casestudy Initech $10k healthcare story",
        team_id="T0OTHER",
        response_url=fake_slack.response_url(),
    )

    await fake_slack.wait_for("response_url", count=3)

    assert [request.number for request in await stored_requests(configured, TEAM_ID)] == [1, 2]
    assert [request.number for request in await stored_requests(configured, "T0OTHER")] == [1]


async def test_request_is_kept_and_the_rep_told_when_no_intake_channel_is_set(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())

    [confirmation] = await fake_slack.wait_for("response_url")

    assert "/align settings" in confirmation.params["text"]
    assert len(await stored_requests(deps)) == 1
    await fake_slack.assert_no_call("chat.postMessage")


async def test_bot_joins_a_public_intake_channel_it_is_not_in_yet(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    fake_slack.add_channel(INTAKE, name="mktg-intake", bot_is_member=False)

    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())

    await fake_slack.wait_for("conversations.join")
    [confirmation] = await fake_slack.wait_for("response_url")
    assert "Filed" in confirmation.params["text"]
    [request] = await stored_requests(configured)
    assert request.intake_ts is not None


async def test_a_vanished_intake_channel_keeps_the_request_and_says_why(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    fake_slack.fail_next("chat.postMessage", "channel_not_found")

    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())

    [confirmation] = await fake_slack.wait_for("response_url")
    assert "couldn't post" in confirmation.params["text"]
    [request] = await stored_requests(configured)
    assert request.intake_error == "channel_not_found"


async def test_requests_never_go_to_demand_gen(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())
    await fake_slack.wait_for("response_url")

    channels = {call.params.get("channel") for call in fake_slack.calls if "channel" in call.params}

    assert channels == {INTAKE}
    assert DEMANDGEN not in str([call.params for call in fake_slack.calls])


async def test_a_rep_outside_the_sales_group_may_file_and_the_post_notes_it(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command(
        "/mktg", ONE_LINER, user_id=REP_OUTSIDER, response_url=fake_slack.response_url()
    )

    [post] = await fake_slack.wait_for("chat.postMessage")

    assert "not in the Sales user group" in block_texts(post.params["blocks"])
    [request] = await stored_requests(configured)
    assert request.requester_in_sales is False


async def test_a_sales_rep_post_carries_no_outsider_note(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())

    [post] = await fake_slack.wait_for("chat.postMessage")

    assert "not in the Sales user group" not in block_texts(post.params["blocks"])


async def test_mktg_alone_opens_the_request_modal(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    response = await slack.command("/mktg", "")

    [opened] = await fake_slack.wait_for("views.open")
    assert response.status == 200
    assert opened.params["view"]["callback_id"] == "request_form"
    assert await stored_requests(configured) == []


async def test_text_the_parser_cannot_settle_opens_the_modal_prefilled(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command("/mktg", "deck Renewal pitch for the CFO")

    [opened] = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    type_block = next(block for block in view["blocks"] if block.get("block_id") == "type")
    details_block = next(block for block in view["blocks"] if block.get("block_id") == "details")
    assert type_block["element"]["initial_option"]["value"] == "deal_deck"
    assert details_block["element"]["initial_value"] == "Renewal pitch for the CFO"
    assert await stored_requests(configured) == []


async def test_help_explains_with_examples(slack: SlackSender, configured: Deps) -> None:
    response = await slack.command("/mktg", "help")

    assert response.status == 200
    assert "/mktg deck" in ack_text(response)


async def test_mine_lists_the_reps_open_requests(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())
    await slack.command(
        "/mktg",
        "objection Globex $40k they say we are too expensive",
        user_id=REP_OUTSIDER,
        response_url=fake_slack.response_url(),
    )
    await fake_slack.wait_for("response_url", count=2)
    mine_url = fake_slack.response_url("mine")

    await slack.command("/mktg", "mine", response_url=mine_url)

    [listing] = await fake_slack.wait_for("response_url", lambda call: call.path.endswith("mine"))
    assert "MS-1" in listing.params["text"]
    assert "MS-2" not in listing.params["text"]


async def test_status_shows_one_request(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await slack.command("/mktg", ONE_LINER, response_url=fake_slack.response_url())
    await fake_slack.wait_for("response_url")

    await slack.command("/mktg", "status MS-1", response_url=fake_slack.response_url("status"))

    [answer] = await fake_slack.wait_for("response_url", lambda call: call.path.endswith("status"))
    assert "MS-1" in answer.params["text"]
    assert "Open" in answer.params["text"]


async def test_the_modal_files_a_request_and_tells_the_rep(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    payload = view_submission(
        "request_form",
        request_form_values(),
        user_id=REP,
        private_metadata='{"channel": "' + GENERAL + '"}',
    )

    response = await slack.submit(payload)

    assert response.status == 200
    assert response.body == ""
    await fake_slack.wait_for("chat.postMessage", lambda call: call.params["channel"] == INTAKE)
    [ephemeral] = await fake_slack.wait_for("chat.postEphemeral")
    assert ephemeral.params["channel"] == GENERAL
    assert "MS-1" in ephemeral.params["text"]
    [request] = await stored_requests(configured)
    assert request.source == "form"
    assert request.amount_cents == 25_000_000


async def test_a_view_submitted_twice_files_one_request(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    payload = view_submission("request_form", request_form_values(), view_id="V0DOUBLE")

    first, second = await asyncio.gather(slack.submit(payload), slack.submit(payload))
    await slack.submit(payload)

    assert (first.status, second.status) == (200, 200)
    await fake_slack.wait_for("chat.postMessage")
    await fake_slack.assert_no_call(
        "chat.postMessage",
        lambda call: call.params["channel"] == INTAKE and "MS-2" in call.params["text"],
    )
    assert len(await stored_requests(configured)) == 1


async def test_a_changed_time_zone_reaches_mktg_after_one_refresh_without_delaying_the_ack(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    # 15:00 UTC on Tue 24 Nov is already Wed 25 Nov on Kiritimati (UTC+14).
    async def due_of_a_deck_due_tomorrow() -> date | None:
        before = len(fake_slack.calls_to("response_url"))
        await slack.command(
            "/mktg", "deck Acme $10k due tomorrow pitch", response_url=fake_slack.response_url()
        )
        await fake_slack.wait_for("response_url", count=before + 1)
        return (await stored_requests(configured))[-1].due_date

    first = await due_of_a_deck_due_tomorrow()
    await configure(configured, timezone="Pacific/Kiritimati")
    zone, _expiry = configured.zone_cache[TEAM_ID]
    configured.zone_cache[TEAM_ID] = (zone, 0.0)  # the minute is up

    stale = await due_of_a_deck_due_tomorrow()
    for _ in range(100):  # the background refresh lands
        if str(configured.zone_cache[TEAM_ID][0]) == "Pacific/Kiritimati":
            break
        await asyncio.sleep(0.02)
    fresh = await due_of_a_deck_due_tomorrow()

    assert (first, stale, fresh) == (date(2026, 11, 25), date(2026, 11, 25), date(2026, 11, 26))
