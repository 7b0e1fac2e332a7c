"""`alignbot sandbox` end to end through its page API: what the browser sends (/page/compose,
/page/click, /page/submit…) reaches the real bot as Slack's signed requests, and what the bot
sends back shows in /page/view's fragments. Each test runs its own sandbox on its own SQLite
file; none reads or touches ALIGNBOT_TEST_DATABASE_URL, and a restart starts from a fresh one.
(Bad input, the page's form state and the CLI: tests/test_sandbox.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlmodel import select

from bot.blocks.home import HOME_CALLBACK
from bot.blocks.queue import DELIVER_MODAL
from bot.blocks.requests import ACTION_CLAIM, ACTION_DELIVER, ACTION_START, REQUEST_MODAL
from bot.blocks.surveys import ACTION_PIPELINE_OPEN, ACTION_SCORE, PIPELINE_MODAL
from bot.core.models import DeliveryRating, SupportRequest, SurveyResponse
from tests.support.sandbox_page import (
    ADMIN,
    DEMANDGEN_DIGEST,
    GENERAL,
    HOME,
    INTAKE,
    MARKETER,
    REP,
    REP_DM,
    SAM,
    SUPPORT_DIGEST,
    WAIT_SECONDS,
    Message,
    Page,
    mentions,
    sandbox_base_settings,
    sandbox_page,
)

REQUEST_TEXT = "/mktg deck Acme $250k due fri need the security slide"


def is_intake_post(message: Message) -> bool:
    return "MS-1 · Deal deck" in message.text


def is_delivery_dm(message: Message) -> bool:
    return "was delivered" in message.text and not message.ephemeral


async def file_request(page: Page) -> Message:
    """The rep types the request; returns the intake post Marketing Support sees."""
    await page.compose(REP, REP_DM, REQUEST_TEXT)
    return await page.wait_message(MARKETER, INTAKE, is_intake_post, "the intake post MS-1")


async def test_a_request_typed_in_the_dm_is_confirmed_there_and_posted_to_the_intake_channel(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        post = await file_request(page)

        confirmation = await page.wait_message(REP, REP_DM, mentions("Filed MS-1"), "the receipt")
        assert confirmation.ephemeral
        assert "Deal deck · Acme · $250,000" in confirmation.text
        assert "Only visible to you" in confirmation.text
        assert "Requested by@Riley Chen" in post.text
        assert "Open — waiting for someone to claim it" in post.text
        assert [c.label for c in post.controls][:2] == ["Claim", "Start"]
        assert (await page.view(REP, REP_DM))["banners"] == []


async def test_marketing_support_works_the_request_to_delivery_and_the_rep_rates_it(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        post = await file_request(page)

        await page.click(MARKETER, post, ACTION_CLAIM)
        post = await page.wait_message(
            MARKETER, INTAKE, lambda m: is_intake_post(m) and "Claimed" in m.text, "claimed"
        )
        assert "Assignee@Morgan Diaz" in post.text
        await page.click(MARKETER, post, ACTION_START)
        post = await page.wait_message(
            MARKETER, INTAKE, lambda m: is_intake_post(m) and "In progress" in m.text, "started"
        )
        await page.click(MARKETER, post, ACTION_DELIVER)
        modal = await page.wait_modal(
            MARKETER, lambda m: m.callback_id == DELIVER_MODAL, "the deliver modal"
        )

        for bad in ("", "drive dot example"):
            await page.submit(MARKETER, modal, {"link": {"value": bad}})
            shown = await page.modal(MARKETER)
            assert shown is not None
            assert shown.view_id == modal.view_id
            assert shown.errors == ["Paste a link that starts with https://"]

        await page.submit(
            MARKETER,
            modal,
            {"link": {"value": "https://drive.example.com/deck"}, "note": {"value": "v2"}},
        )
        assert (await page.view(MARKETER))["modal"] == ""
        await page.wait_message(
            MARKETER,
            INTAKE,
            lambda m: is_intake_post(m) and "Delivered" in m.text and "(edited)" in m.text,
            "the intake post showing Delivered",
        )
        dm = await page.wait_message(REP, REP_DM, is_delivery_dm, "the delivery DM")
        assert "Open the deliverable" in dm.text
        assert [c.label for c in dm.controls][:5] == ["1", "2", "3", "4", "5"]

        await page.click(REP, dm, "rating_score_4")
        rated = await page.wait_message(
            REP, REP_DM, lambda m: is_delivery_dm(m) and "4 ✓" in m.text, "the rated DM"
        )
        assert "you rated it 4/5" in rated.text
        async with page.sandbox.deps.sessions() as session:
            [request] = (await session.exec(select(SupportRequest))).all()
            [rating] = (await session.exec(select(DeliveryRating))).all()
        assert (request.deliverable_url, rating.score, rating.rater_id) == (
            "https://drive.example.com/deck",
            4,
            REP,
        )
        assert (await page.view(REP, REP_DM))["banners"] == []


def is_survey(kind: str) -> Callable[[Message], bool]:
    return lambda m: f"Weekly pulse: {kind}" in m.text and not m.ephemeral


async def test_travelling_to_monday_sends_the_surveys_and_to_friday_posts_the_digests(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        status, people = await page.get("/page/people")
        assert status == 200
        monday = people["presets"][0]["at"]

        answer = await page.ok("/page/travel", {"as": REP, "at": monday})
        assert "It is now Mon" in answer["message"]
        shown = await page.messages(REP, REP_DM)
        [enablement] = [m for m in shown if is_survey("enablement")(m)]
        [pipeline] = [m for m in shown if is_survey("pipeline")(m)]
        assert await page.messages(MARKETER, SUPPORT_DIGEST) == []  # not due before Friday

        await page.click(REP, enablement, f"{ACTION_SCORE}_4")
        await page.wait_message(
            REP, REP_DM, lambda m: is_survey("enablement")(m) and "4 ✓" in m.text, "a 4 ✓"
        )
        await page.click(REP, pipeline, ACTION_PIPELINE_OPEN)
        form = await page.wait_modal(
            REP, lambda m: m.callback_id == PIPELINE_MODAL, "the pipeline form"
        )
        await page.submit(REP, form, {"new_count": {"value": "2"}, "new_value": {"value": "$100k"}})
        await page.wait_message(
            REP, REP_DM, mentions("Pipeline pulse saved"), "the pipeline pulse's confirmation"
        )
        async with page.sandbox.deps.sessions() as session:
            answers = (await session.exec(select(SurveyResponse))).all()
        assert sorted((a.kind, a.score, a.opportunities, a.pipeline_cents) for a in answers) == [
            ("enablement", 4, None, None),
            ("pipeline", None, 2, 10_000_000),
        ]
        assert (await page.view(REP))["modal"] == ""

        _, people = await page.get("/page/people")  # the presets move with the clock
        await page.ok("/page/travel", {"as": REP, "at": people["presets"][1]["at"]})
        support = await page.messages(MARKETER, SUPPORT_DIGEST)
        demand_gen = await page.messages(ADMIN, DEMANDGEN_DIGEST)
        assert [m.text.count("Marketing Support · ") for m in support] == [1]
        assert [m.text.count("Demand Gen · ") for m in demand_gen] == [1]
        assert (await page.view(REP, REP_DM))["banners"] == []


async def test_travelling_into_the_past_or_to_no_date_is_refused_with_a_sentence(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        _, people = await page.get("/page/people")
        await page.ok("/page/travel", {"as": REP, "at": people["presets"][0]["at"]})
        before = page.sandbox.clock.now()

        status, answer = await page.post("/page/travel", {"as": REP, "at": "2020-01-06T10:00"})
        assert status == 400
        assert answer["ok"] is False
        assert "in the sandbox's past" in answer["error"]
        assert "time only moves forward" in answer["error"]

        status, answer = await page.post("/page/travel", {"as": REP, "at": "next tuesday"})
        assert (status, answer["error"]) == (
            400,
            "“next tuesday” is not a date and time like 2026-12-07T10:00.",
        )
        status, answer = await page.post("/page/travel", {"as": REP, "at": " "})
        assert (status, answer["error"]) == (400, "Pick a date and time to travel to.")
        assert page.sandbox.clock.now() >= before
        assert page.sandbox.clock.now() - before < timedelta(minutes=1)


async def test_send_to_marketing_support_on_a_message_in_general_opens_the_request_form(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        await page.compose(SAM, GENERAL, "Can marketing send me the Acme case study?")
        [message] = await page.messages(REP, GENERAL)
        assert "Sam Okafor" in message.text

        await page.ok("/page/shortcut", {"as": REP, "channel": GENERAL, "ts": message.ts})

        form = await page.wait_modal(REP, lambda m: m.callback_id == REQUEST_MODAL, "the form")
        assert "From a Slack message" in form.text
        shown = await page.view(REP)
        assert "Can marketing send me the Acme case study?" in shown["modal"]
        assert await page.modal(SAM) is None
        assert await page.modal(MARKETER) is None


async def test_the_event_stream_announces_a_new_version_when_something_changes(
    tmp_path: Path,
) -> None:
    async with (
        sandbox_page(tmp_path / "sandbox.db") as page,
        page.session.get(page.base + "/page/events") as events,
    ):
        assert events.headers["Content-Type"] == "text/event-stream"
        first = await asyncio.wait_for(events.content.readline(), timeout=WAIT_SECONDS)
        assert first.startswith(b"data: ")

        await page.compose(REP, GENERAL, "Morning all")

        async with asyncio.timeout(WAIT_SECONDS):
            line = b""
            while not line.startswith(b"data: "):
                line = await events.content.readline()
        assert int(line.removeprefix(b"data: ")) > int(first.removeprefix(b"data: "))


async def test_opening_app_home_shows_the_view_the_bot_published(tmp_path: Path) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        before = await page.view(REP, HOME)
        assert "Opening App Home" in before["pane"]

        await page.ok("/page/home", {"as": REP})

        await page.sandbox.fake.wait_for(
            "views.publish", lambda c: c.ok and c.params["user_id"] == REP
        )
        home = await page.view(REP, HOME)
        assert 'data-view-type="home"' in home["pane"]
        assert f'data-callback-id="{HOME_CALLBACK}"' in home["pane"]
        assert "Opening App Home" not in home["pane"]
        assert "Opening App Home" in (await page.view(MARKETER, HOME))["pane"]


async def test_a_call_slack_would_refuse_shows_a_red_banner_until_dismissed(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        page.sandbox.fake.fail_next(
            "chat.postMessage",
            "invalid_blocks",
            extra={"response_metadata": {"messages": ["[ERROR] must be less than 51 blocks"]}},
        )
        await page.compose(REP, REP_DM, REQUEST_TEXT)

        shown = await page.wait_view(REP, REP_DM, lambda v: bool(v["banners"]), "a banner")
        [banner] = shown["banners"]
        assert banner.startswith("Slack would refuse the bot's chat.postMessage: invalid_blocks")
        assert "must be less than 51 blocks" in banner
        assert (await page.view(MARKETER, INTAKE))["banners"] == [banner]  # everyone sees it

        await page.ok("/page/dismiss", {"as": REP})
        assert (await page.view(REP, REP_DM))["banners"] == []


async def test_an_error_slack_would_not_call_a_refusal_shows_no_banner(tmp_path: Path) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        page.sandbox.fake.ratelimit_next("chat.postMessage")
        post = await file_request(page)

        assert post.ephemeral is False
        assert (await page.view(REP, REP_DM))["banners"] == []


# --------------------------------------------------------------------------- restarts


async def test_a_restart_starts_from_a_fresh_database_and_never_opens_database_url(
    tmp_path: Path,
) -> None:
    database = tmp_path / "sandbox.db"
    real = tmp_path / "real.db"
    settings = sandbox_base_settings(database_url=f"sqlite:///{real}")

    async with sandbox_page(database, settings) as page:
        await page.compose(REP, REP_DM, "/mktg deck Acme $250k due fri")
        await page.wait_message(MARKETER, INTAKE, mentions("MS-1"), "the intake post")
        async with page.sandbox.deps.sessions() as session:
            assert len((await session.exec(select(SupportRequest))).all()) == 1
    assert database.exists()
    assert not real.exists()

    real.write_bytes(b"not touched")
    written = real.stat().st_mtime_ns
    async with sandbox_page(database, settings) as page:
        assert await page.messages(MARKETER, INTAKE) == []
        assert await page.messages(REP, REP_DM) == []
        async with page.sandbox.deps.sessions() as session:
            assert (await session.exec(select(SupportRequest))).all() == []
        await page.compose(REP, REP_DM, "/mktg deck Globex due fri")
        post = await page.wait_message(MARKETER, INTAKE, mentions("Globex"), "the new post")
        assert "MS-1 · Deal deck" in post.text  # numbering starts again
    assert real.read_bytes() == b"not touched"
    assert real.stat().st_mtime_ns == written


async def test_the_sandbox_drops_every_real_slack_credential_it_is_given(tmp_path: Path) -> None:
    settings = sandbox_base_settings(
        slack_bot_token=SecretStr("xoxb-real-workspace-token"),
        slack_signing_secret=SecretStr("real-signing-secret"),
        slack_api_url="https://slack.invalid/api/",
    )

    async with sandbox_page(tmp_path / "sandbox.db", settings) as page:
        await page.compose(REP, REP_DM, "/mktg deck Acme due fri")
        await page.wait_message(MARKETER, INTAKE, mentions("MS-1"), "the intake post")
        used = page.sandbox.deps.settings
        assert used.slack_bot_token is not None
        assert used.slack_bot_token.get_secret_value() != "xoxb-real-workspace-token"
        assert used.slack_api_url == page.sandbox.fake.url
        assert all(call.ok for call in page.sandbox.fake.calls if call.method != "response_url")
