"""Nothing the bot means to say is lost (issue 14): every Slack write that follows a change is an
outbox row stored with the change, sent by a dispatcher that retries through outages, looks
before it posts again, coalesces updates, and dead-letters what Slack will never take."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.app import make_client
from bot.core import outbox
from bot.core.deps import Deps
from bot.core.models import OutboxMessage, OutboxState, SupportRequest, SurveyKind
from jobs.dispatcher import Dispatcher
from jobs.reminders import send_reminders
from jobs.retention import run_team_retention
from jobs.surveys import run_surveys
from sandbox.fakeslack import Call, FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.helpers import stored_requests
from tests.support.process import alignbot_async, bot_env
from tests.support.queue_helpers import (
    click,
    current,
    file_one,
    modal_submission,
    text_value,
    url_value,
)
from tests.support.requests import ONE_LINER
from tests.support.surveys import sales_team, survey_dms
from tests.support.workspace import (
    ADMIN,
    INTAKE,
    MARKETER,
    REP,
    TEAM_ID,
    FixedClock,
    configure,
)

pytestmark = pytest.mark.timeout(30)

# What the issue measured: eight HTTP 500s in a row from chat.postMessage (and chat.update).
OUTAGE = 8


def slack_goes_down(fake_slack: FakeSlack, *methods: str) -> None:
    for method in methods or ("chat.postMessage", "chat.update"):
        fake_slack.fail_next(method, "internal_error", status=500, times=OUTAGE)


async def rows(deps: Deps) -> list[OutboxMessage]:
    async with deps.sessions() as session:
        return list((await session.exec(select(OutboxMessage).order_by("id"))).all())


async def slack_comes_back(deps: Deps, clock: FixedClock) -> None:
    """The dispatcher's retries (another process's, as `alignbot run` has), minute by minute,
    until nothing waits: the backoff is capped at 60 s."""
    dispatcher = Dispatcher(deps, make_client(deps))
    for _ in range(OUTAGE + 4):
        clock.advance(seconds=60)
        await dispatcher.drain()
        if not [row for row in await rows(deps) if row.state == OutboxState.PENDING]:
            return
    raise AssertionError("the outbox never drained")


async def status_becomes(deps: Deps, request: SupportRequest, status: str) -> None:
    """The listener runs after the ack: wait for its transaction to be committed."""
    async with asyncio.timeout(5):
        while True:
            if (await current(deps, request)).status.value == status:
                return
            await asyncio.sleep(0.02)


def posted(fake_slack: FakeSlack, channel: str, text: str) -> list[Call]:
    return [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if call.ok and call.params.get("channel") == channel and text in str(call.params)
    ]


def intake_posts(fake_slack: FakeSlack) -> list[Call]:
    return [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if call.ok and call.params.get("channel") == INTAKE and "thread_ts" not in call.params
    ]


# --------------------------------------------------------------------------- outages


async def test_a_request_filed_during_an_outage_reaches_intake_once_when_slack_is_back(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    slack_goes_down(fake_slack, "chat.postMessage")

    await slack.command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())
    [told] = await fake_slack.wait_for("response_url")
    await slack_comes_back(configured, clock)

    assert "still posting it to <#C0INTAKE>" in told.params["text"]
    [post] = intake_posts(fake_slack)
    [request] = await stored_requests(configured)
    assert (request.intake_ts, request.intake_error) == (post.response["ts"], None)
    assert request.intake_permalink
    assert {row.state for row in await rows(configured)} == {OutboxState.SENT}


async def test_a_claim_during_an_outage_shows_on_the_post_and_tells_the_requester_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request = await file_one(slack, fake_slack, configured)
    slack_goes_down(fake_slack)

    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")  # tried, and failed
    await slack_comes_back(configured, clock)

    [update] = [c for c in fake_slack.calls_to("chat.update") if c.ok]
    assert f"<@{MARKETER}>" in str(update.params["blocks"])
    assert len(posted(fake_slack, INTAKE, "claimed this")) == 1
    assert len(posted(fake_slack, REP, "picked up")) == 1


@pytest.mark.parametrize(
    ("form", "field", "note", "thread", "dm"),
    [
        ("request_deliver_form", "link", "https://drive.example.com/deck", "delivered", "package"),
        ("request_decline_form", "note", "We have one already", "declined", "declined"),
    ],
)
async def test_a_delivery_or_decline_during_an_outage_is_announced_once(
    slack: SlackSender,
    fake_slack: FakeSlack,
    configured: Deps,
    clock: FixedClock,
    form: str,
    field: str,
    note: str,
    thread: str,
    dm: str,
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.postMessage", lambda c: "claimed this" in str(c.params))
    slack_goes_down(fake_slack)

    value = url_value(field, note) if field == "link" else text_value(field, note)
    response = await slack.submit(modal_submission(form, request, value))
    assert response.status == 200
    await fake_slack.wait_for("chat.update", lambda c: not c.ok)
    await slack_comes_back(configured, clock)

    assert len(posted(fake_slack, INTAKE, thread)) == 1
    assert len(posted(fake_slack, REP, dm)) == 1
    assert (await current(configured, request)).status.value == thread


async def test_updates_made_while_slack_is_down_coalesce_to_the_latest_render(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request = await file_one(slack, fake_slack, configured)
    slack_goes_down(fake_slack, "chat.update")

    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")  # tried, and failed: it waits for a retry
    await click(slack, fake_slack, "request_start", request, tag="start")
    await status_becomes(configured, request, "in_progress")
    await slack_comes_back(configured, clock)

    [update] = [c for c in fake_slack.calls_to("chat.update") if c.ok]  # one, not two
    assert "In progress" in str(update.params["blocks"])
    assert (await current(configured, request)).status.value == "in_progress"


async def test_sla_reminders_due_during_an_outage_go_out_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await file_one(slack, fake_slack, configured)
    slack_goes_down(fake_slack, "chat.postMessage")

    for minute in (0, 15, 30):  # the job keeps running through the outage
        clock.now = datetime(2026, 11, 25, 12, minute, tzinfo=UTC)
        await send_reminders(configured, make_client(configured), clock.now)
    await slack_comes_back(configured, clock)

    assert len(posted(fake_slack, INTAKE, "without an owner")) == 1


async def test_survey_reminders_due_during_an_outage_go_out_once(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    clock.now = datetime(2026, 11, 23, 15, 5, tzinfo=UTC)
    await run_surveys(deps, make_client(deps), clock.now)
    assert len(survey_dms(fake_slack, REP)) == len(SurveyKind)
    slack_goes_down(fake_slack, "chat.postMessage")

    clock.now = datetime(2026, 11, 25, 15, 10, tzinfo=UTC)
    await run_surveys(deps, make_client(deps), clock.now)
    await run_surveys(deps, make_client(deps), clock.now)
    await slack_comes_back(deps, clock)

    reminders = [
        c for c in survey_dms(fake_slack, REP) if str(c.params["text"]).startswith("Reminder")
    ]
    assert len([c for c in reminders if c.ok]) == len(SurveyKind)  # one per survey, once


# --------------------------------------------------------------------------- never twice


async def test_a_post_whose_answer_was_lost_is_found_in_slack_and_not_posted_again(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    fake_slack.lose_answer_next("chat.postMessage")  # Slack posts it; the answer is a 500

    await slack.command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())
    [told] = await fake_slack.wait_for("response_url")
    await slack_comes_back(configured, clock)

    assert "still posting" in told.params["text"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # posted once, looked up, not again
    assert fake_slack.calls_to("conversations.history")
    [request] = await stored_requests(configured)
    [message] = [m for m in fake_slack.messages[INTAKE] if "thread_ts" not in m]
    assert request.intake_ts == message["ts"]


async def test_two_dispatchers_draining_one_outbox_send_each_message_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, times=12)
    for index in range(12):
        await slack.command(
            "/mktg",
            f"deck Account{index} $5k pitch",
            user_id=REP,
            response_url=fake_slack.response_url(f"r{index}"),
        )
    await fake_slack.wait_for("response_url", count=12)
    other_process = Deps.from_settings(configured.settings, clock=clock)

    clock.advance(seconds=60)
    await asyncio.gather(
        Dispatcher(configured, make_client(configured)).drain(),
        Dispatcher(other_process, make_client(other_process)).drain(),
    )
    await other_process.engine.dispose()

    numbers = sorted(str(c.params["text"]).split(" ")[0] for c in intake_posts(fake_slack))
    assert numbers == sorted(f"MS-{n}" for n in range(1, 13))


# --------------------------------------------------------------------------- dead letters


async def test_a_channel_slack_refuses_dead_letters_at_once_tells_the_admins_once_and_can_be_resent(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    fake_slack.add_channel("C0SECRET", name="mktg-intake", is_private=True, bot_is_member=False)
    await configure(configured, admins=[ADMIN], intake_channel="C0SECRET")

    for name in ("deck One $5k pitch", "deck Two $5k pitch"):
        await file_one(slack, fake_slack, configured, name)
    told = fake_slack.calls_to("response_url")

    assert all("couldn't post" in str(c.params["text"]) for c in told)
    dead = [row for row in await rows(configured) if row.state == OutboxState.DEAD]
    assert [row.kind for row in dead] == ["intake_post", "intake_post"]
    [notice] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == ADMIN)
    assert "outbox retry --dead" in notice.params["text"]
    assert "private channel" in notice.params["text"]

    # The admin invites the bot; an operator sends the dead rows again.
    fake_slack.add_channel("C0SECRET", name="mktg-intake", is_private=True, bot_is_member=True)
    async with configured.sessions() as session:
        assert await outbox.retry(session, now=clock.now, dead=True) == 2
    await Dispatcher(configured, make_client(configured)).drain()

    assert (
        len(
            [
                c
                for c in fake_slack.calls_to("chat.postMessage")
                if c.ok and c.params["channel"] == "C0SECRET"
            ]
        )
        == 2
    )
    assert (
        len([c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == ADMIN])
        == 1
    )
    assert all(request.intake_ts for request in await stored_requests(configured))


async def test_transient_errors_dead_letter_after_a_day_of_trying(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await configure(configured, admins=[ADMIN])
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, times=10_000)
    await file_one(slack, fake_slack, configured)
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, times=0)

    dispatcher = Dispatcher(configured, make_client(configured))
    for _ in range(30):
        clock.advance(hours=1)
        await dispatcher.drain()

    [row] = [row for row in await rows(configured) if row.kind == "intake_post"]
    assert row.state == OutboxState.DEAD
    assert row.last_error == "internal_error"


async def test_healthz_says_how_long_the_oldest_unsent_message_has_waited(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    slack_goes_down(fake_slack, "chat.postMessage")
    await slack.command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())
    await fake_slack.wait_for("response_url")
    clock.advance(seconds=90)

    url = slack.events_url.replace("/slack/events", "/healthz")
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        status, report = response.status, await response.json()

    assert status == 200
    assert report["outbox_oldest_unsent_seconds"] == 90.0


async def test_retention_forgets_what_went_out_a_week_ago_but_keeps_what_still_waits(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await file_one(slack, fake_slack, configured)  # its intake post went out
    slack_goes_down(fake_slack, "chat.postMessage")
    await file_one(slack, fake_slack, configured, "deck Later $5k pitch")  # waits
    clock.advance(days=8)

    await run_team_retention(configured, None, team_id=TEAM_ID, now=clock.now)

    assert [(row.kind, row.state) for row in await rows(configured)] == [
        ("intake_post", OutboxState.PENDING)
    ]


async def test_an_operator_lists_dead_messages_and_sends_them_again_from_the_command_line(
    slack: SlackSender,
    fake_slack: FakeSlack,
    configured: Deps,
    tmp_path: Path,
) -> None:
    fake_slack.add_channel("C0SECRET", name="mktg-intake", is_private=True, bot_is_member=False)
    await configure(configured, intake_channel="C0SECRET")
    await file_one(slack, fake_slack, configured)
    fake_slack.add_channel("C0SECRET", name="mktg-intake", is_private=True, bot_is_member=True)
    env = bot_env(
        tmp_path,
        DATABASE_URL=configured.settings.database_url,
        SLACK_API_URL=fake_slack.url,
    )

    listed = await alignbot_async("outbox", "list", "--state", "dead", env=env, cwd=tmp_path)
    resent = await alignbot_async("outbox", "retry", "--dead", env=env, cwd=tmp_path)
    again = await alignbot_async("outbox", "retry", "--dead", env=env, cwd=tmp_path)

    assert listed[0] == 0, listed
    assert "intake_post" in listed[1]
    assert "channel_not_found" in listed[1]
    assert resent[0] == 0, resent
    assert "1 message(s) queued again, 1 sent now" in resent[1]
    assert "nothing to send again" in again[1]
    assert len(posted(fake_slack, "C0SECRET", "MS-1")) == 1
