"""Weekly digests, goals, scorecards and 'you said, we did', through Slack and the clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.app import make_client
from bot.calendar.periods import period_of
from bot.core.deps import Deps
from bot.core.models import (
    DigestPost,
    FeedbackAction,
    Opportunity,
    SurveyKind,
    SurveyResponse,
)
from bot.kpis.goals import goals_for
from bot.surveys.runs import get_or_create_run
from jobs.clients import SingleTokenClients
from jobs.digests import post_digests
from jobs.scheduler import run_now
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, event_callback, view_submission
from tests.support.digests import FRIDAY_AFTER_FOUR, dm_file
from tests.support.helpers import block_texts
from tests.support.queue_helpers import file_one
from tests.support.workspace import (
    ADMIN,
    DEMANDGEN,
    GENERAL,
    MARKETER,
    REP,
    TEAM_ID,
    FixedClock,
    configure,
)

SUPPORT_CHANNEL = GENERAL
DG_CHANNEL = "C0DEMAND"


@pytest.fixture
async def digesting(configured: Deps, fake_slack: FakeSlack) -> Deps:
    fake_slack.add_channel(DG_CHANNEL, name="demand-gen")
    await configure(
        configured,
        support_digest_channel=SUPPORT_CHANNEL,
        demandgen_digest_channel=DG_CHANNEL,
        leaders=(ADMIN,),
    )
    return configured


def digest_posts(fake_slack: FakeSlack) -> list:  # type: ignore[type-arg]
    return [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if call.ok and call.params.get("channel") in (SUPPORT_CHANNEL, DG_CHANNEL)
    ]


async def test_digests_are_posted_once_when_due_however_often_the_job_runs(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    client = make_client(digesting)

    await post_digests(digesting, client, datetime(2026, 11, 27, 15, 55, tzinfo=UTC))
    before_time = len(digest_posts(fake_slack))
    await post_digests(digesting, client, FRIDAY_AFTER_FOUR)
    await post_digests(digesting, client, FRIDAY_AFTER_FOUR.replace(minute=20))

    assert before_time == 0
    channels = sorted(call.params["channel"] for call in digest_posts(fake_slack))
    assert channels == sorted([SUPPORT_CHANNEL, DG_CHANNEL])
    async with digesting.sessions() as session:
        posts = (await session.exec(select(DigestPost))).all()
    assert {post.status for post in posts} == {"posted"}


async def test_two_processes_post_each_digest_once(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    other = Deps.from_settings(digesting.settings, clock=clock)

    await asyncio.gather(
        post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR),
        post_digests(other, make_client(other), FRIDAY_AFTER_FOUR),
    )
    await other.engine.dispose()

    assert len(digest_posts(fake_slack)) == 2


async def test_an_operator_can_post_now_but_still_only_once_a_week(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await run_now(  # an operator's `alignbot jobs run weekly-digest` on a Tuesday
        digesting, SingleTokenClients(make_client(digesting)), "weekly-digest", clock.now
    )
    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)

    assert len(digest_posts(fake_slack)) == 2


async def test_an_empty_week_says_no_data_yet_instead_of_dividing_by_zero(
    digesting: Deps, fake_slack: FakeSlack
) -> None:
    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)

    texts = block_texts(
        [block for call in digest_posts(fake_slack) for block in call.params["blocks"]]
    )
    assert "no data yet" in texts


async def test_the_support_digest_counts_requests_and_withholds_thin_satisfaction(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await file_one(slack, fake_slack, digesting)
    await file_one(
        slack, fake_slack, digesting, "objection Globex $40k they say our price is too high"
    )
    async with digesting.sessions() as session:
        run = await get_or_create_run(
            session,
            team_id=TEAM_ID,
            kind=SurveyKind.ENABLEMENT,
            period=period_of(clock.now, ZoneInfo("UTC")),
            now=clock.now,
        )
        for index, score in enumerate([5, 4, 4]):
            session.add(
                SurveyResponse(
                    run_id=run.id,
                    team_id=TEAM_ID,
                    kind=SurveyKind.ENABLEMENT,
                    user_id=f"U{index}",
                    score=score,
                    comment="Loved the <!channel> deck",
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        await session.commit()

    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)

    [support] = [c for c in digest_posts(fake_slack) if c.params["channel"] == SUPPORT_CHANNEL]
    text = block_texts(support.params["blocks"])
    assert "*Filed*\\n2" in text
    assert "price" in text.lower()
    assert "withheld: not enough responses" in text
    assert "Loved the" not in text  # comments of a thin week stay hidden


async def test_a_weekly_digest_shows_satisfaction_and_anonymous_comments_once_enough_answered(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    async with digesting.sessions() as session:
        run = await get_or_create_run(
            session,
            team_id=TEAM_ID,
            kind=SurveyKind.ENABLEMENT,
            period=period_of(clock.now, ZoneInfo("UTC")),
            now=clock.now,
        )
        for index, score in enumerate([5, 4, 4, 3, 4]):
            session.add(
                SurveyResponse(
                    run_id=run.id,
                    team_id=TEAM_ID,
                    kind=SurveyKind.ENABLEMENT,
                    user_id=f"U{index}",
                    score=score,
                    comment="More <!channel> battlecards" if index == 0 else None,
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        await session.commit()

    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)

    [support] = [c for c in digest_posts(fake_slack) if c.params["channel"] == SUPPORT_CHANNEL]
    text = block_texts(support.params["blocks"])
    assert "4.0 / 5" in text
    assert "More &lt;!channel&gt; battlecards" in text
    for user in ("U0", "U1", REP):
        assert f"<@{user}>" not in text


async def test_the_demand_gen_digest_shows_sourced_pipeline_with_conversion_and_coverage(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    async with digesting.sessions() as session:
        for crm_id, amount, sourced in [("006A", 10_000_000, True), ("006B", 5_000_000, False)]:
            session.add(
                Opportunity(
                    team_id=TEAM_ID,
                    crm_id=crm_id,
                    amount_cents=amount,
                    created_date=date(2026, 11, 24),
                    close_date=date(2026, 12, 20),
                    marketing_sourced=sourced,
                    lead_source="Webinar",
                    imported_at=clock.now,
                    updated_at=clock.now,
                )
            )
        await session.commit()

    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)

    [dg] = [c for c in digest_posts(fake_slack) if c.params["channel"] == DG_CHANNEL]
    text = block_texts(dg.params["blocks"])
    assert "$100,000" in text
    assert "Lead → opportunity" in text
    assert "no quota set" in text


async def test_align_digest_shows_one_privately(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.command(
        "/align",
        "digest demandgen last",
        user_id=DEMANDGEN,
        response_url=fake_slack.response_url("d"),
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("d"))
    assert answer.params["response_type"] == "ephemeral"
    assert "Demand Gen · 2026-W47" in answer.params["text"]


def goal_values(**texts: str) -> dict:  # type: ignore[type-arg]
    return {
        key: {"value": {"type": "plain_text_input", "value": text}} for key, text in texts.items()
    }


async def test_a_volume_goal_without_its_conversion_goal_is_refused_and_says_why(
    digesting: Deps, slack: SlackSender
) -> None:
    response = await slack.submit(
        view_submission(
            "align_goals",
            goal_values(sourced_pipeline="$2m"),
            user_id=ADMIN,
            private_metadata="2026-Q4",
        )
    )

    assert response.json["response_action"] == "errors"
    assert "invites gaming" in response.json["errors"]["lead_to_opportunity_rate"]
    async with digesting.sessions() as session:
        assert await goals_for(session, team_id=TEAM_ID, quarter="2026-Q4") == {}


async def test_goals_are_saved_from_the_modal_with_their_pair(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    response = await slack.submit(
        view_submission(
            "align_goals",
            goal_values(sourced_pipeline="$2m", lead_to_opportunity_rate="10%"),
            user_id=ADMIN,
            private_metadata="2026-Q4",
        )
    )

    assert response.status == 200
    async with digesting.sessions() as session:
        goals = await goals_for(session, team_id=TEAM_ID, quarter="2026-Q4")
    assert goals["sourced_pipeline"].target == 200_000_000
    assert goals["sourced_pipeline"].paired_target == pytest.approx(0.10)
    await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == ADMIN)


@pytest.mark.parametrize(("text", "expected"), [("0", "A goal of 0"), ("lots", "couldn")])
async def test_unreadable_or_zero_goals_are_refused_on_the_field(
    digesting: Deps, slack: SlackSender, text: str, expected: str
) -> None:
    response = await slack.submit(
        view_submission(
            "align_goals",
            goal_values(requests_delivered=text, on_time_delivery_rate="90%"),
            user_id=ADMIN,
            private_metadata="2026-Q4",
        )
    )

    assert expected in response.json["errors"]["requests_delivered"]


async def test_goals_are_for_admins_and_leaders(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.command("/align", "goals", user_id=REP, response_url=fake_slack.response_url("rep"))
    await slack.command(
        "/align", "goals", user_id=ADMIN, response_url=fake_slack.response_url("admin")
    )

    [refused] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("rep"))
    [opened] = await fake_slack.wait_for("views.open")
    assert "leaders and admins" in refused.params["text"]
    assert opened.ok
    assert opened.params["view"]["callback_id"] == "align_goals"


async def test_the_scorecard_shows_each_input_and_the_bonus_attainment(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.submit(
        view_submission(
            "align_goals",
            goal_values(sourced_pipeline="$2m", lead_to_opportunity_rate="10%"),
            user_id=ADMIN,
            private_metadata="2026-Q4",
        )
    )

    await slack.command(
        "/align", "scorecard", user_id=MARKETER, response_url=fake_slack.response_url("sc")
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("sc"))
    assert "Demand Gen scorecard · 2026-Q4" in answer.params["text"]
    assert "Marketing Support scorecard" in answer.params["text"]
    assert "Bonus attainment" in answer.params["text"]


async def test_you_said_we_did_is_recorded_and_shown_in_the_next_digest(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.command(
        "/align",
        "wedid Published 3 new <!here> battlecards #competitive",
        user_id=MARKETER,
        response_url=fake_slack.response_url("wedid"),
    )
    await fake_slack.wait_for("response_url", lambda c: c.path.endswith("wedid"))
    await slack.command(
        "/align", "wedid nope", user_id=REP, response_url=fake_slack.response_url("rep")
    )
    [refused] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("rep"))

    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)

    async with digesting.sessions() as session:
        [action] = (await session.exec(select(FeedbackAction))).all()
    assert (action.theme, action.text) == ("competitive", "Published 3 new <!here> battlecards")
    assert "Marketing Support" in refused.params["text"]
    [support] = [c for c in digest_posts(fake_slack) if c.params["channel"] == SUPPORT_CHANNEL]
    text = block_texts(support.params["blocks"])
    assert "You said, we did" in text
    assert "&lt;!here&gt;" in text


CSV = (
    b"Opportunity ID,Opportunity Name,Account Name,Amount,Stage,Close Date,Created Date,Lead Source\n"
    b'006X1,Big deal,Acme,"$120,000",Prospecting,2026-12-15,2026-11-20,Webinar\n'
    b"006X2,Bad row,Globex,-5,Prospecting,2026-12-15,2026-11-20,Web\n"
)


async def test_an_admin_dms_a_crm_export_and_gets_an_import_report(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await dm_file(slack, fake_slack, ADMIN, "opportunities.csv", CSV)

    [report] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{ADMIN}"
    )
    assert "row 3" in report.params["text"].lower()
    async with digesting.sessions() as session:
        [opportunity] = (await session.exec(select(Opportunity))).all()
    assert (opportunity.crm_id, opportunity.amount_cents, opportunity.marketing_sourced) == (
        "006X1",
        12_000_000,
        True,
    )


async def test_only_admins_may_import_by_dm(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await dm_file(slack, fake_slack, REP, "opportunities.csv", CSV)

    [answer] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{REP}"
    )
    assert "Only admins" in answer.params["text"]
    assert fake_slack.calls_to("file_download") == []


async def test_the_bot_token_is_never_sent_to_a_host_that_is_not_slack(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    file = fake_slack.add_user_file("F0EVIL", "opps.csv", CSV, user=ADMIN)
    file["url_private_download"] = "https://attacker.example/steal.csv"
    await slack.event(
        event_callback(
            {
                "type": "message",
                "subtype": "file_share",
                "channel": f"D{ADMIN}",
                "channel_type": "im",
                "user": ADMIN,
                "text": "",
                "ts": "1764000000.000600",
                "files": [file],
            }
        )
    )

    [answer] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{ADMIN}"
    )
    assert "isn't hosted by Slack" in answer.params["text"]


async def test_a_file_with_no_recognisable_columns_names_the_expected_ones(
    digesting: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await dm_file(slack, fake_slack, ADMIN, "opportunities.csv", b"foo,bar\n1,2\n")

    [answer] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{ADMIN}"
    )
    assert "Amount" in answer.params["text"]
