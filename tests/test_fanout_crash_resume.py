"""A survey fan-out cut short by a crash resumes: everyone DMed once, nobody twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlmodel import select

from bot.app import make_client
from bot.calendar.periods import period_of
from bot.core.config import Settings
from bot.core.deps import Deps
from bot.core.models import DeliveryStatus, Role, SurveyDelivery, SurveyKind, SurveyRun
from bot.surveys.deliveries import claim_due_deliveries, plan_deliveries, sales_recipients
from bot.surveys.runs import get_or_create_run
from bot.workspace.roster import SlackUserFacts, replace_role_members, store_slack_users
from bot.workspace.settings import load_settings
from jobs.pacing import PacedRateLimitRetryHandler, Pacer, RateLimits, paced_handlers, retry_after
from jobs.surveys import run_team_surveys, survey_message, survey_metadata
from sandbox.fakeslack import FakeSlack
from tests.support.process import bot_env, start_alignbot
from tests.support.workspace import ADMIN, REP, TEAM_ID, FixedClock, configure


def survey_dms(fake_slack: FakeSlack) -> Counter[tuple[str, str]]:
    """(recipient, survey kind) -> how many survey DMs Slack accepted."""
    found: Counter[tuple[str, str]] = Counter()
    for call in fake_slack.calls_to("chat.postMessage"):
        text = str(call.params.get("text"))
        if call.ok and "Weekly pulse" in text:
            kind = "enablement" if "enablement" in text else "pipeline"
            found[(str(call.params.get("channel")), kind)] += 1
    return found


async def sales_team(deps: Deps, fake_slack: FakeSlack, reps: list[str]) -> None:
    """Reps on the workspace's clock (UTC), both surveys due Monday 10:00."""
    for rep in reps:
        if rep not in fake_slack.users:
            fake_slack.add_user(rep, name=rep.lower())
    await configure(
        deps, sales_usergroup="S0SALES", admins=(ADMIN,), survey_local_time=False, timezone="UTC"
    )
    async with deps.sessions() as session:
        await replace_role_members(
            session, team_id=TEAM_ID, role=Role.SALES, user_ids=reps, now=deps.clock()
        )
        await store_slack_users(
            session,
            team_id=TEAM_ID,
            users=[SlackUserFacts(rep, "UTC", False, False) for rep in reps],
            now=deps.clock(),
        )


async def crashed_mid_fan_out(
    deps: Deps, *, posted: bool, kind: SurveyKind = SurveyKind.ENABLEMENT
) -> SurveyDelivery:
    """What a process killed mid-fan-out leaves behind: REP's delivery claimed ("sending") and,
    if `posted`, the DM already accepted by Slack but not yet recorded."""
    now = deps.clock()
    async with deps.sessions() as session:
        settings = await load_settings(session, TEAM_ID)
        run = await get_or_create_run(
            session, team_id=TEAM_ID, kind=kind, period=period_of(now, settings.zone), now=now
        )
        await plan_deliveries(
            session,
            run=run,
            recipients=await sales_recipients(session, team_id=TEAM_ID),
            schedule=settings.survey_schedule(kind.value),
            workspace_tz=settings.timezone,
            local_time=settings.survey_local_time,
        )
        assert run.id is not None
        claimed = await claim_due_deliveries(session, run_id=run.id, now=now)
    (delivery,) = [d for d in claimed if d.user_id == REP]
    if posted:
        text, blocks = survey_message(run, settings)
        await make_client(deps).chat_postMessage(
            channel=REP, text=text, blocks=blocks, metadata=survey_metadata(delivery)
        )
    return delivery


async def delivery_of(deps: Deps, delivery_id: int) -> SurveyDelivery:
    async with deps.sessions() as session:
        found = await session.get(SurveyDelivery, delivery_id)
        assert found is not None
        return found


async def run_job(deps: Deps) -> None:
    await run_team_surveys(deps, make_client(deps), team_id=TEAM_ID, now=deps.clock())


# --------------------------------------------------------------------------- in-process


async def test_a_dm_slack_got_before_the_crash_is_recorded_and_not_sent_again(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, [REP])
    delivery = await crashed_mid_fan_out(deps, posted=True)
    assert delivery.id is not None
    (first_dm,) = fake_slack.calls_to("chat.postMessage")
    clock.advance(minutes=11)

    await run_job(deps)

    assert survey_dms(fake_slack) == {(REP, "enablement"): 1, (REP, "pipeline"): 1}
    found = await delivery_of(deps, delivery.id)
    assert found.status == DeliveryStatus.SENT
    assert found.message_ts == first_dm.response["ts"]
    assert found.channel == fake_slack.dm_channel_id(REP)
    (history,) = fake_slack.calls_to("conversations.history")
    assert history.params["channel"] == fake_slack.dm_channel_id(REP)
    assert str(history.params["include_all_metadata"]).lower() in ("1", "true")


async def test_a_dm_lost_in_the_crash_is_sent_once_the_lease_is_over(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, [REP])
    delivery = await crashed_mid_fan_out(deps, posted=False)
    assert delivery.id is not None

    clock.advance(minutes=5)
    await run_job(deps)
    within_lease = survey_dms(fake_slack)[(REP, "enablement")]
    clock.advance(minutes=6)
    await run_job(deps)
    clock.advance(minutes=15)
    await run_job(deps)

    assert within_lease == 0  # it may still be on its way from a live process
    assert survey_dms(fake_slack) == {(REP, "enablement"): 1, (REP, "pipeline"): 1}
    found = await delivery_of(deps, delivery.id)
    assert found.status == DeliveryStatus.SENT
    assert found.attempts == 2


async def test_last_weeks_survey_dm_in_the_history_does_not_count_as_this_weeks(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, [REP])
    await make_client(deps).chat_postMessage(
        channel=REP,
        text="Weekly pulse: how satisfied were you with marketing's enablement support?",
        metadata={"event_type": "alignbot_survey", "event_payload": {"delivery_id": 999_999}},
    )
    delivery = await crashed_mid_fan_out(deps, posted=False)
    assert delivery.id is not None
    clock.advance(minutes=11)

    await run_job(deps)

    assert survey_dms(fake_slack)[(REP, "enablement")] == 2  # last week's and this week's
    assert (await delivery_of(deps, delivery.id)).status == DeliveryStatus.SENT


async def test_two_processes_resuming_at_once_send_the_lost_dm_once(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, [REP])
    await crashed_mid_fan_out(deps, posted=False)
    clock.advance(minutes=11)

    await asyncio.gather(run_job(deps), run_job(deps))

    assert survey_dms(fake_slack) == {(REP, "enablement"): 1, (REP, "pipeline"): 1}


async def test_a_dm_that_cannot_be_checked_is_recorded_as_failed_and_admins_told(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, [REP])
    delivery = await crashed_mid_fan_out(deps, posted=False)
    assert delivery.id is not None
    fake_slack.fail_next("conversations.history", "missing_scope")
    clock.advance(minutes=11)

    await run_job(deps)

    found = await delivery_of(deps, delivery.id)
    assert found.status == DeliveryStatus.FAILED
    assert found.error == "missing_scope"
    assert survey_dms(fake_slack)[(REP, "enablement")] == 0
    summaries = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.ok and c.params.get("channel") == ADMIN
    ]
    assert len(summaries) == 1


async def test_an_outage_during_the_check_leaves_it_for_the_next_lease(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, [REP])
    delivery = await crashed_mid_fan_out(deps, posted=True)
    assert delivery.id is not None
    fake_slack.fail_next("conversations.open", "service_unavailable")
    clock.advance(minutes=11)

    await run_job(deps)
    still_unknown = (await delivery_of(deps, delivery.id)).status
    clock.advance(minutes=11)
    await run_job(deps)

    assert still_unknown == DeliveryStatus.SENDING
    assert (await delivery_of(deps, delivery.id)).status == DeliveryStatus.SENT
    assert survey_dms(fake_slack)[(REP, "enablement")] == 1


async def test_every_survey_dm_names_its_delivery_in_its_metadata(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    await sales_team(deps, fake_slack, [REP])

    await run_job(deps)

    async with deps.sessions() as session:
        deliveries = {d.message_ts: d for d in (await session.exec(select(SurveyDelivery))).all()}
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.ok]
    assert len(posts) == 2
    for post in posts:
        delivery = deliveries[post.response["ts"]]
        assert post.params["metadata"] == {
            "event_type": "alignbot_survey",
            "event_payload": {"delivery_id": delivery.id, "run_id": delivery.run_id},
        }


async def test_a_rate_limit_is_waited_out_and_everyone_gets_one_dm(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    reps = [f"U0REP{index:02d}" for index in range(20)]
    await sales_team(deps, fake_slack, reps)
    fake_slack.ratelimit_next("chat.postMessage", times=2, retry_after=1)

    await run_job(deps)

    assert survey_dms(fake_slack) == Counter(
        {(rep, kind): 1 for rep in reps for kind in ("enablement", "pipeline")}
    )
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.status == 429]) == 2


async def test_the_paced_client_keeps_every_retry_handler_and_shares_rate_limit_waits() -> None:
    limits = RateLimits()
    handlers = paced_handlers(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
        limits,
    )
    paced, connection = handlers
    state = RetryState()
    limited = HttpResponse(status_code=429, headers={"Retry-After": ["0"]})
    request = HttpRequest(method="POST", url="https://slack.test/api/chat.postMessage", headers={})

    assert isinstance(paced, PacedRateLimitRetryHandler)
    assert paced.max_retry_count == 5
    assert isinstance(connection, AsyncConnectionErrorRetryHandler)
    assert await paced.can_retry_async(state=state, request=request, response=limited)
    await paced.prepare_for_next_attempt_async(state=state, request=request, response=limited)
    assert state.next_attempt_requested
    assert state.current_attempt == 1
    assert limits.pacer("chat.postMessage").rate_limited == 1
    assert limits.pacer("conversations.history").rate_limited == 0
    assert retry_after({"retry-after": ["30"]}) == 30.0
    assert retry_after({"Retry-After": "soon"}) == 1.0
    assert retry_after({}) == 1.0


# --------------------------------------------------------------------------- a real process

REPS = [f"U0KILL{index:02d}" for index in range(30)]
FIRST_RUN = "2026-11-23T10:05:00Z"  # Monday, five minutes after both surveys were due
AFTER_THE_LEASE = "2026-11-23T10:20:00Z"  # past bot.surveys.runs.SENDING_LEASE (10 minutes)
PER_MINUTE = 12  # the first run sends 12 DMs, then Slack makes it wait a minute: killed there


def cli_env(settings: Settings, fake_slack: FakeSlack, tmp_path: Path) -> dict[str, str]:
    return bot_env(tmp_path, SLACK_API_URL=fake_slack.url, DATABASE_URL=settings.database_url)


async def start_job(at: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await start_alignbot(
        "jobs", "run", "surveys", "--at", at, env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE
    )


async def statuses(deps: Deps) -> Counter[str]:
    async with deps.sessions() as session:
        rows = (await session.exec(select(SurveyDelivery.status))).all()
    return Counter(str(status) for status in rows)


async def test_a_fan_out_killed_midway_resumes_and_everyone_gets_each_survey_once(
    deps: Deps, settings: Settings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    await sales_team(deps, fake_slack, REPS)
    env = cli_env(settings, fake_slack, tmp_path)
    fake_slack.enforce_rate_limits({"chat.postMessage": PER_MINUTE})

    first = await start_job(FIRST_RUN, env, tmp_path)
    try:
        await fake_slack.wait_for("chat.postMessage", lambda c: c.status == 429, timeout=60)
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        await first.communicate()
    left_behind = await statuses(deps)
    sent_before = sum(survey_dms(fake_slack).values())
    fake_slack.enforce_rate_limits({})
    second = await start_job(AFTER_THE_LEASE, env, tmp_path)
    out, err = await asyncio.wait_for(second.communicate(), timeout=120)

    assert first.returncode == -9
    assert sent_before == PER_MINUTE
    assert left_behind[DeliveryStatus.SENDING] > 0  # killed with DMs claimed and not sent
    assert second.returncode == 0, err.decode()
    assert survey_dms(fake_slack) == Counter(
        {(rep, kind): 1 for rep in REPS for kind in ("enablement", "pipeline")}
    )
    async with deps.sessions() as session:
        runs = (await session.exec(select(SurveyRun))).all()
        deliveries = (await session.exec(select(SurveyDelivery))).all()
    assert len(runs) == 2
    assert Counter(str(d.status) for d in deliveries) == {DeliveryStatus.SENT: 60}
    # Each delivery the kill left "sending" was looked up in its DM once, the rest never.
    assert len(fake_slack.calls_to("conversations.history")) == left_behind[DeliveryStatus.SENDING]
    assert "surveys done" in out.decode()


async def test_after_a_429_the_pacer_keeps_to_what_slack_accepted_in_the_last_minute() -> None:
    now = [1000.0]
    pacer = Pacer(clock=lambda: now[0])
    for _ in range(40):
        await pacer.acquire()
        pacer.release(accepted=True)
    await pacer.acquire()
    pacer.release(accepted=False)  # the 41st: HTTP 429, Retry-After 2

    pacer.pause_for(2)
    limit = pacer.limit
    now[0] += 5  # the pause is over, but all 40 are still inside the minute
    blocked = asyncio.create_task(pacer.acquire())
    done, _pending = await asyncio.wait({blocked}, timeout=0.05)
    blocked.cancel()
    now[0] += 60  # the minute has passed
    await asyncio.wait_for(pacer.acquire(), timeout=5)

    assert limit == 40
    assert not done
    assert pacer.rate_limited == 1
