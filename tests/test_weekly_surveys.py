"""Weekly pulse surveys: DMed once per person per week, answered in a few clicks, kept private."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import (
    DeliveryStatus,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyRun,
)
from bot.workspace.roster import SlackUserFacts, store_slack_users
from jobs.surveys import run_surveys
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions, view_submission
from tests.support.helpers import ack_text, block_texts
from tests.support.surveys import sales_team, survey_dms
from tests.support.workspace import ADMIN, MARKETER, REP, TEAM_ID, FixedClock

REP_TOKYO = "U0TOKYO"
REP_LA = "U0LA"


async def run_job(deps: Deps, clock: FixedClock, when: datetime | None = None) -> None:
    if when is not None:
        clock.now = when
    await run_surveys(deps, make_client(deps), clock.now)


async def runs(deps: Deps) -> dict[SurveyKind, SurveyRun]:
    async with deps.sessions() as session:
        return {run.kind: run for run in (await session.exec(select(SurveyRun))).all()}


async def responses(deps: Deps) -> list[SurveyResponse]:
    async with deps.sessions() as session:
        return list((await session.exec(select(SurveyResponse))).all())


@pytest.fixture
async def surveyed(deps: Deps, fake_slack: FakeSlack, clock: FixedClock) -> Deps:
    """REP (New York) has had both of this week's DMs (Tuesday 24 Nov, 15:00 UTC)."""
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    await run_job(deps, clock)
    return deps


def click_payload(action_id: str, value: str, dm, url: str, user: str = REP) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return block_actions(
        action_id,
        value,
        user_id=user,
        channel_id=dm.response["channel"],
        message_ts=dm.response["ts"],
        response_url=url,
    )


async def test_each_rep_gets_both_dms_once_however_often_the_job_runs(
    surveyed: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await run_job(surveyed, clock)
    clock.advance(minutes=5)
    await run_job(surveyed, clock)

    assert len(survey_dms(fake_slack, REP, "enablement")) == 1
    assert len(survey_dms(fake_slack, REP, "pipeline")) == 1


async def test_the_dms_say_which_survey_is_anonymous_and_which_is_not(
    surveyed: Deps, fake_slack: FakeSlack
) -> None:
    [enablement] = survey_dms(fake_slack, REP, "enablement")
    [pipeline] = survey_dms(fake_slack, REP, "pipeline")

    assert "Anonymous" in block_texts(enablement.params["blocks"])
    assert "Not anonymous" in block_texts(pipeline.params["blocks"])


async def test_two_processes_sharing_the_database_send_each_dm_once(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    reps = {f"U0REP{index:02d}": "America/New_York" for index in range(20)}
    await sales_team(deps, fake_slack, reps)
    other = Deps.from_settings(deps.settings, clock=clock)

    await asyncio.gather(
        run_surveys(deps, make_client(deps), clock.now),
        run_surveys(other, make_client(other), clock.now),
    )
    await other.engine.dispose()

    for rep in reps:
        assert len(survey_dms(fake_slack, rep)) == 2, rep


async def test_rate_limits_are_waited_out_and_every_dm_still_arrives_once(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    reps = {f"U0REP{index:02d}": "America/New_York" for index in range(6)}
    await sales_team(deps, fake_slack, reps)
    fake_slack.ratelimit_next("chat.postMessage", times=3, retry_after=1)

    await run_job(deps, clock)
    await run_job(deps, clock)

    assert [call.status for call in fake_slack.calls_to("chat.postMessage")].count(429) == 3
    for rep in reps:
        assert len(survey_dms(fake_slack, rep)) == 2, rep


async def test_undeliverable_dms_are_recorded_summarised_to_admins_and_not_retried(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York", "U0BOT1": "UTC"})
    fake_slack.fail_next("chat.postMessage", "cannot_dm_bot", times=2)

    await run_job(deps, clock)
    await run_job(deps, clock, clock.now.replace(minute=30))

    async with deps.sessions() as session:
        failed = (
            await session.exec(
                select(SurveyDelivery).where(SurveyDelivery.status == DeliveryStatus.FAILED)
            )
        ).all()
    assert {delivery.error for delivery in failed} == {"cannot_dm_bot"}
    summaries = [
        c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == ADMIN
    ]
    assert summaries
    assert "cannot_dm_bot" in summaries[0].params["text"]
    delivered = len(survey_dms(fake_slack, REP)) + len(survey_dms(fake_slack, "U0BOT1"))
    assert delivered == 2


async def test_dms_go_out_at_each_recipients_own_local_time(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP_TOKYO: "Asia/Tokyo", REP_LA: "America/Los_Angeles"})

    # Monday 23 Nov 02:00 UTC: 11:00 in Tokyo, Sunday evening in Los Angeles.
    await run_job(deps, clock, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    tokyo_first, la_first = (
        len(survey_dms(fake_slack, REP_TOKYO)),
        len(survey_dms(fake_slack, REP_LA)),
    )
    await run_job(deps, clock, datetime(2026, 11, 23, 18, 5, tzinfo=UTC))  # 10:05 in Los Angeles

    assert (tokyo_first, la_first) == (2, 0)
    assert len(survey_dms(fake_slack, REP_LA)) == 2


async def test_deactivated_reps_are_not_surveyed(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York", "U0GONE": "UTC"})
    async with deps.sessions() as session:
        await store_slack_users(
            session,
            team_id=TEAM_ID,
            users=[SlackUserFacts("U0GONE", "UTC", True, False)],
            now=clock.now,
        )

    await run_job(deps, clock)

    assert survey_dms(fake_slack, "U0GONE") == []
    assert len(survey_dms(fake_slack, REP)) == 2


async def test_a_score_click_is_saved_and_a_double_click_keeps_one_response_last_wins(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    [dm] = survey_dms(fake_slack, REP, "enablement")
    run = (await runs(surveyed))[SurveyKind.ENABLEMENT]

    await asyncio.gather(
        slack.action(
            click_payload("survey_score_2", f"{run.id}:2", dm, fake_slack.response_url("a"))
        ),
        slack.action(
            click_payload("survey_score_2", f"{run.id}:2", dm, fake_slack.response_url("b"))
        ),
    )
    await slack.action(
        click_payload("survey_score_4", f"{run.id}:4", dm, fake_slack.response_url("c"))
    )

    [updated] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("c"))
    [response] = await responses(surveyed)
    assert (response.score, response.user_id) == (4, REP)
    assert "you answered 4/5" in block_texts(updated.params["blocks"])
    assert updated.params["replace_original"] is True


async def test_the_comment_modal_saves_a_comment_and_what_would_help(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    [dm] = survey_dms(fake_slack, REP, "enablement")
    run = (await runs(surveyed))[SurveyKind.ENABLEMENT]
    await slack.action(click_payload("survey_comment", str(run.id), dm, fake_slack.response_url()))
    [opened] = await fake_slack.wait_for("views.open")

    response = await slack.submit(
        view_submission(
            "survey_enablement_form",
            {
                "comment": {
                    "value": {"type": "plain_text_input", "value": "More <!channel> battlecards"}
                },
                "help_with": {
                    "value": {"type": "radio_buttons", "selected_option": {"value": "competitive"}}
                },
            },
            user_id=REP,
            private_metadata=opened.params["view"]["private_metadata"],
        )
    )

    assert response.status == 200
    [saved] = await responses(surveyed)
    assert (saved.comment, saved.help_with) == ("More <!channel> battlecards", "competitive")


def pipeline_values(**texts: str | None) -> dict:  # type: ignore[type-arg]
    values = {
        "new_count": "4",
        "new_value": "$400k",
        "sourced_count": "1",
        "sourced_value": "$100k",
        "influenced_count": "2",
        "influenced_value": "$150k",
    }
    values.update({key: value for key, value in texts.items() if value is not None})
    state = {
        key: {"value": {"type": "plain_text_input", "value": value}}
        for key, value in values.items()
    }
    state["activities"] = {
        "value": {
            "type": "multi_static_select",
            "selected_options": [{"value": "webinar"}, {"value": "content"}],
        }
    }
    return state


async def test_the_pipeline_modal_saves_named_business_data(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    run = (await runs(surveyed))[SurveyKind.PIPELINE]

    response = await slack.submit(
        view_submission(
            "survey_pipeline_form",
            pipeline_values(),
            user_id=REP,
            private_metadata=json.dumps({"run_id": run.id}),
        )
    )

    assert response.status == 200
    [saved] = await responses(surveyed)
    assert (saved.user_id, saved.opportunities, saved.pipeline_cents) == (REP, 4, 40_000_000)
    assert (saved.sourced_count, saved.sourced_cents) == (1, 10_000_000)
    assert (saved.influenced_count, saved.influenced_cents) == (2, 15_000_000)
    assert json.loads(saved.activities or "[]") == ["webinar", "content"]


@pytest.mark.parametrize(
    ("texts", "field", "expected"),
    [
        ({"new_count": "four"}, "new_count", "whole number"),
        ({"sourced_count": "3"}, "influenced_count", "can't be more than your new opportunities"),
        ({"influenced_value": "$350k"}, "influenced_value", "can't be more than the total value"),
        ({"new_value": "$-5"}, "new_value", "negative"),
        ({"sourced_value": "lots"}, "sourced_value", "couldn't read the amount"),
    ],
)
async def test_pipeline_answers_that_dont_add_up_are_refused_on_the_field(
    surveyed: Deps,
    slack: SlackSender,
    texts: dict,
    field: str,
    expected: str,  # type: ignore[type-arg]
) -> None:
    run = (await runs(surveyed))[SurveyKind.PIPELINE]

    response = await slack.submit(
        view_submission(
            "survey_pipeline_form",
            pipeline_values(**texts),
            user_id=REP,
            private_metadata=json.dumps({"run_id": run.id}),
        )
    )

    assert response.json["response_action"] == "errors"
    assert expected in response.json["errors"][field]
    assert await responses(surveyed) == []


async def test_no_new_opportunities_is_one_click(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    [dm] = survey_dms(fake_slack, REP, "pipeline")
    run = (await runs(surveyed))[SurveyKind.PIPELINE]

    await slack.action(
        click_payload("survey_pipeline_none", str(run.id), dm, fake_slack.response_url("none"))
    )

    await fake_slack.wait_for("response_url", lambda c: c.path.endswith("none"))
    [saved] = await responses(surveyed)
    assert (saved.opportunities, saved.pipeline_cents, saved.sourced_count) == (0, 0, 0)


async def test_answering_a_closed_survey_says_it_closed(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    [dm] = survey_dms(fake_slack, REP, "enablement")
    run = (await runs(surveyed))[SurveyKind.ENABLEMENT]
    await run_job(surveyed, clock, datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # next Monday

    await slack.action(
        click_payload("survey_score_5", f"{run.id}:5", dm, fake_slack.response_url("late"))
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("late"))
    assert "closed" in answer.params["text"]
    assert "Next week" in answer.params["text"]
    assert await responses(surveyed) == []
    async with surveyed.sessions() as session:
        closed = await session.get(SurveyRun, run.id, populate_existing=True)
    assert closed is not None
    assert closed.status == "closed"


async def test_non_responders_are_reminded_once_after_two_days(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock, slack: SlackSender
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York", "U0QUICK": "America/New_York"})
    await run_job(deps, clock, datetime(2026, 11, 23, 15, 5, tzinfo=UTC))
    run = (await runs(deps))[SurveyKind.ENABLEMENT]
    [dm] = survey_dms(fake_slack, "U0QUICK", "enablement")
    await slack.action(
        click_payload(
            "survey_score_3", f"{run.id}:3", dm, fake_slack.response_url(), user="U0QUICK"
        )
    )
    await fake_slack.wait_for("response_url")

    await run_job(deps, clock, datetime(2026, 11, 25, 15, 10, tzinfo=UTC))
    await run_job(deps, clock, datetime(2026, 11, 25, 16, 0, tzinfo=UTC))

    reminders = [
        c for c in survey_dms(fake_slack, REP) if str(c.params["text"]).startswith("Reminder")
    ]
    assert len(reminders) == 2  # one per survey kind
    assert [
        c
        for c in survey_dms(fake_slack, "U0QUICK", "enablement")
        if str(c.params["text"]).startswith("Reminder")
    ] == []


async def test_survey_status_shows_counts_and_rates_but_never_who_did_not_answer(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.command(
        "/align", "survey", user_id=ADMIN, response_url=fake_slack.response_url("status")
    )

    [status] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("status"))
    assert "1 reached, 0 answered (0% response rate)" in status.params["text"]
    assert REP not in status.params["text"]


async def test_survey_status_is_not_for_sales_reps(
    surveyed: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.command(
        "/align", "survey", user_id=REP, response_url=fake_slack.response_url("rep")
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("rep"))
    assert "leaders and admins" in answer.params["text"]


async def test_survey_send_retries_failed_dms_for_admins_only(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock, slack: SlackSender
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    fake_slack.fail_next("chat.postMessage", "channel_not_found", times=2)
    await run_job(deps, clock)

    await slack.command(
        "/align", "survey send", user_id=MARKETER, response_url=fake_slack.response_url("mkt")
    )
    await slack.command(
        "/align", "survey send", user_id=ADMIN, response_url=fake_slack.response_url("admin")
    )

    [refused] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("mkt"))
    assert "leaders and admins" in refused.params["text"] or "Only admins" in refused.params["text"]
    await fake_slack.wait_for("response_url", lambda c: c.path.endswith("admin"), count=2)
    assert len(survey_dms(fake_slack, REP)) == 2


async def test_a_bad_survey_schedule_is_refused_when_set(slack: SlackSender, deps: Deps) -> None:
    from bot.core.errors import UserError
    from bot.workspace.settings import parse_setting_value, validated

    with pytest.raises(UserError, match="like `mon 10:00`"):
        validated({"enablement_survey_schedule": "someday"})
    with pytest.raises(UserError, match="never below 3"):
        validated({"survey_min_respondents": parse_setting_value("survey_min_respondents", "2")})
    response = await slack.command("/align", "help")
    assert "/align survey" in ack_text(response)


async def test_a_slack_outage_is_retried_by_a_later_run_not_burnt_at_once(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    fake_slack.fail_next("chat.postMessage", "internal_error", times=2)

    await run_job(deps, clock)
    first_pass = len(survey_dms(fake_slack, REP))
    clock.advance(minutes=5)
    await run_job(deps, clock)

    assert first_pass == 0
    assert len(survey_dms(fake_slack, REP)) == 2
    assert [
        c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == ADMIN
    ] == []


def test_a_time_zone_that_is_only_a_region_is_refused_clearly() -> None:
    from bot.core.errors import UserError
    from bot.workspace.settings import validated

    with pytest.raises(UserError, match="not a time zone name"):
        validated({"timezone": "America"})
