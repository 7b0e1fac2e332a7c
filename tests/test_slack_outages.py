"""Slack rate-limit storms and server errors lose nothing and double nothing: survey DMs go
out once on a later run; digests and intake posts wait in the outbox and go out once when Slack
is back; a filed request is kept and the requester told (issues 8 and 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import DeliveryStatus, DigestPost, OutboxMessage, OutboxState, SurveyDelivery
from bot.core.outbox import list_rows
from jobs.digests import post_digests
from jobs.dispatcher import Dispatcher
from jobs.surveys import run_surveys
from sandbox.fakeslack import Call, FakeSlack
from sandbox.slack_payloads import SlackSender, view_submission
from tests.support.digests import FRIDAY_AFTER_FOUR
from tests.support.helpers import stored_requests
from tests.support.requests import ONE_LINER, request_form_values
from tests.support.surveys import sales_team, survey_dms
from tests.support.workspace import ADMIN, GENERAL, INTAKE, REP, FixedClock, configure

# Each test waits out at most a couple of Retry-After seconds or server-error back-offs.
pytestmark = pytest.mark.timeout(20)

REPS = {f"U0REP{index:02d}": "America/New_York" for index in range(3)}
DG_CHANNEL = "C0DEMAND"
# Errors Slack answers during an outage, with the HTTP status it uses for each.
OUTAGES = [
    pytest.param("internal_error", 200, id="internal_error"),
    pytest.param("fatal_error", 200, id="fatal_error"),
    pytest.param("internal_error", 500, id="http-500"),
    pytest.param("service_unavailable", 503, id="http-503"),
]


def impatient_client(deps: Deps) -> AsyncWebClient:
    """The production client without its rate-limit and server-error retries: a storm or an
    outage that outlasts the client's patience, without the test sleeping through the
    Retry-After waits and back-offs first (the /mktg tests below do go through those)."""
    client = make_client(deps)
    client.retry_handlers = [
        handler
        for handler in client.retry_handlers
        if not isinstance(handler, AsyncRateLimitErrorRetryHandler | AsyncServerErrorRetryHandler)
    ]
    return client


async def deliveries(deps: Deps) -> list[SurveyDelivery]:
    async with deps.sessions() as session:
        return list((await session.exec(select(SurveyDelivery))).all())


def each_rep_has_both_dms_once(fake_slack: FakeSlack) -> None:
    for rep in REPS:
        assert len(survey_dms(fake_slack, rep, "enablement")) == 1, rep
        assert len(survey_dms(fake_slack, rep, "pipeline")) == 1, rep


def dispatcher(deps: Deps) -> Dispatcher:
    """Another process's outbox dispatcher, for sending what is due now."""
    return Dispatcher(deps, make_client(deps))


async def pending_rows(deps: Deps) -> list[OutboxMessage]:
    async with deps.sessions() as session:
        return await list_rows(session, states=(OutboxState.PENDING,))


def admin_summaries(fake_slack: FakeSlack) -> list[Call]:
    return [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == ADMIN]


# --------------------------------------------------------------------------- survey fan-out


async def test_a_429_storm_longer_than_the_clients_patience_is_sent_once_by_a_later_run(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, REPS)
    await configure(deps, admins=(ADMIN,))
    fake_slack.ratelimit_next("chat.postMessage", times=2 * len(REPS), retry_after=1)

    await run_surveys(deps, impatient_client(deps), clock.now)
    during = [d.status for d in await deliveries(deps)]
    clock.advance(minutes=1)
    await run_surveys(deps, make_client(deps), clock.now)  # too early: the retry waits 5 min
    early = len([c for c in fake_slack.calls_to("chat.postMessage") if c.ok])
    clock.advance(minutes=5)
    await run_surveys(deps, make_client(deps), clock.now)
    clock.advance(minutes=5)
    await run_surveys(deps, make_client(deps), clock.now)

    assert during == [DeliveryStatus.PENDING] * (2 * len(REPS))
    assert early == 0
    each_rep_has_both_dms_once(fake_slack)
    assert {d.status for d in await deliveries(deps)} == {DeliveryStatus.SENT}
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")].count(429) == 2 * len(REPS)
    assert admin_summaries(fake_slack) == []  # a storm is not a failure to report


async def test_a_429_storm_within_the_clients_patience_is_waited_out_in_the_same_run(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, REPS)
    # Every concurrent DM of the first fan-out hits a 429 and waits Retry-After: 1.
    fake_slack.ratelimit_next("chat.postMessage", times=len(REPS), retry_after=1)

    await run_surveys(deps, make_client(deps), clock.now)
    await run_surveys(deps, make_client(deps), clock.now)

    each_rep_has_both_dms_once(fake_slack)
    retry_after = {
        c.response.get("error") for c in fake_slack.calls_to("chat.postMessage") if c.status == 429
    }
    assert retry_after == {"ratelimited"}


@pytest.mark.parametrize(("error", "status"), OUTAGES)
async def test_a_slack_outage_during_fan_out_is_sent_once_when_slack_recovers(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock, error: str, status: int
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    await configure(deps, admins=(ADMIN,))
    fake_slack.fail_next("chat.postMessage", error, status=status)

    await run_surveys(deps, impatient_client(deps), clock.now)
    first_run = len(survey_dms(fake_slack, REP))
    clock.advance(minutes=6)
    await run_surveys(deps, make_client(deps), clock.now)
    clock.advance(minutes=6)
    await run_surveys(deps, make_client(deps), clock.now)

    assert first_run == 1
    assert len(survey_dms(fake_slack, REP, "enablement")) == 1
    assert len(survey_dms(fake_slack, REP, "pipeline")) == 1
    assert {d.status for d in await deliveries(deps)} == {DeliveryStatus.SENT}
    assert admin_summaries(fake_slack) == []


async def test_a_single_503_is_retried_by_the_client_and_the_dm_is_not_doubled(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    fake_slack.fail_next("chat.postMessage", "service_unavailable", status=503)

    await run_surveys(deps, make_client(deps), clock.now)

    assert len(survey_dms(fake_slack, REP, "enablement")) == 1
    assert len(survey_dms(fake_slack, REP, "pipeline")) == 1
    statuses = [c.status for c in fake_slack.calls_to("chat.postMessage")]
    assert statuses.count(503) == 1


async def test_an_outage_that_never_ends_is_given_up_recorded_and_reported_not_retried_forever(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    await sales_team(deps, fake_slack, {REP: "America/New_York"})
    await configure(deps, admins=(ADMIN,))
    fake_slack.fail_next("chat.postMessage", "fatal_error", times=50)

    for _ in range(6):
        await run_surveys(deps, make_client(deps), clock.now)
        clock.advance(minutes=6)

    records = await deliveries(deps)
    assert {(d.status, d.error) for d in records} == {(DeliveryStatus.FAILED, "fatal_error")}
    assert all(d.attempts <= 3 for d in records)
    assert survey_dms(fake_slack, REP) == []
    summaries = admin_summaries(fake_slack)
    assert summaries
    assert "fatal_error" in str(summaries[-1].params["text"])


# --------------------------------------------------------------------------- digests


@pytest.fixture
async def digesting(configured: Deps, fake_slack: FakeSlack) -> Deps:
    fake_slack.add_channel(DG_CHANNEL, name="demand-gen")
    await configure(configured, support_digest_channel=GENERAL, demandgen_digest_channel=DG_CHANNEL)
    return configured


def digest_posts(fake_slack: FakeSlack) -> list[Call]:
    return [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.ok and c.params.get("channel") in (GENERAL, DG_CHANNEL)
    ]


async def digest_rows(deps: Deps) -> dict[str, DigestPost]:
    async with deps.sessions() as session:
        return {row.kind: row for row in (await session.exec(select(DigestPost))).all()}


async def test_a_429_storm_while_posting_digests_still_posts_each_once(
    digesting: Deps, fake_slack: FakeSlack
) -> None:
    fake_slack.ratelimit_next("chat.postMessage", times=1, retry_after=1)

    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)
    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR + timedelta(minutes=15))

    assert sorted(c.params["channel"] for c in digest_posts(fake_slack)) == sorted(
        [GENERAL, DG_CHANNEL]
    )
    assert {row.status for row in (await digest_rows(digesting)).values()} == {"posted"}


async def test_a_429_storm_outlasting_the_client_waits_in_the_outbox_and_posts_once(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    fake_slack.ratelimit_next("chat.postMessage", times=1, retry_after=1)

    await post_digests(digesting, impatient_client(digesting), FRIDAY_AFTER_FOUR)
    waiting = await digest_rows(digesting)
    for minutes in (15, 30, 45):  # later runs of the job leave the queued digest alone
        await post_digests(
            digesting, make_client(digesting), FRIDAY_AFTER_FOUR + timedelta(minutes=minutes)
        )
    clock.advance(seconds=2)  # past Slack's Retry-After
    await dispatcher(digesting).drain()

    assert sorted(row.status for row in waiting.values()) == ["posted", "queued"]
    posted_channels = [c.params["channel"] for c in digest_posts(fake_slack)]
    assert sorted(posted_channels) == sorted([GENERAL, DG_CHANNEL])  # each once
    assert {row.status for row in (await digest_rows(digesting)).values()} == {"posted"}


@pytest.mark.parametrize(("error", "status"), OUTAGES)
async def test_a_digest_that_slack_fails_waits_in_the_outbox_then_posts_once(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock, error: str, status: int
) -> None:
    fake_slack.fail_next("chat.postMessage", error, status=status)

    await post_digests(digesting, impatient_client(digesting), FRIDAY_AFTER_FOUR)
    [waiting] = await pending_rows(digesting)
    for minutes in (15, 30):
        await post_digests(
            digesting, make_client(digesting), FRIDAY_AFTER_FOUR + timedelta(minutes=minutes)
        )
    clock.advance(seconds=1)
    await dispatcher(digesting).drain()

    assert waiting.kind == "digest"
    assert waiting.last_error == error
    rows = await digest_rows(digesting)
    assert {row.status for row in rows.values()} == {"posted"}
    assert all(row.ts for row in rows.values())
    posted_channels = [c.params["channel"] for c in digest_posts(fake_slack)]
    assert sorted(posted_channels) == sorted([GENERAL, DG_CHANNEL])


async def test_a_digest_hit_by_a_slack_blip_is_posted_once(
    digesting: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    fake_slack.fail_next("chat.postMessage", "internal_error")

    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR)
    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR + timedelta(minutes=15))
    clock.advance(seconds=1)
    await dispatcher(digesting).drain()
    await post_digests(digesting, make_client(digesting), FRIDAY_AFTER_FOUR + timedelta(minutes=30))

    assert sorted(c.params["channel"] for c in digest_posts(fake_slack)) == sorted(
        [GENERAL, DG_CHANNEL]
    )
    assert {row.status for row in (await digest_rows(digesting)).values()} == {"posted"}


# --------------------------------------------------------------------------- filing


def intake_posts(fake_slack: FakeSlack) -> list[Call]:
    return [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.ok and c.params.get("channel") == INTAKE and "thread_ts" not in c.params
    ]


@pytest.mark.parametrize(("error", "status"), OUTAGES)
async def test_a_mktg_whose_intake_post_fails_is_stored_once_told_and_posted_when_slack_is_back(
    slack: SlackSender,
    fake_slack: FakeSlack,
    configured: Deps,
    clock: FixedClock,
    error: str,
    status: int,
) -> None:
    fake_slack.fail_next("chat.postMessage", error, status=status, times=3)

    response = await slack.command(
        "/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url("outage")
    )

    assert response.status == 200
    [told] = await fake_slack.wait_for("response_url", timeout=8)
    assert "Filed *MS-1*" in told.params["text"]
    assert "still posting it to <#C0INTAKE>" in told.params["text"]
    assert told.params["response_type"] == "ephemeral"
    [request] = await stored_requests(configured)
    assert request.intake_ts is None
    assert intake_posts(fake_slack) == []

    for _ in range(3):  # the dispatcher's retries, until Slack takes it
        clock.advance(seconds=60)
        await dispatcher(configured).drain()

    [posted] = intake_posts(fake_slack)
    [request] = await stored_requests(configured)
    assert (request.intake_ts, request.intake_error) == (posted.response["ts"], None)


async def test_a_mktg_during_a_short_429_storm_is_posted_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    fake_slack.ratelimit_next("chat.postMessage", times=1, retry_after=1)

    await slack.command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())

    [told] = await fake_slack.wait_for("response_url", timeout=8)
    assert "Filed" in told.params["text"]
    assert len(intake_posts(fake_slack)) == 1
    [request] = await stored_requests(configured)
    assert request.intake_ts == intake_posts(fake_slack)[0].response["ts"]


async def test_a_modal_filing_whose_intake_post_fails_is_stored_once_and_the_rep_told(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    fake_slack.fail_next("chat.postMessage", "fatal_error")
    payload = view_submission(
        "request_form",
        request_form_values(),
        user_id=REP,
        private_metadata='{"channel": "' + GENERAL + '"}',
    )

    await slack.submit(payload)
    await slack.submit(payload)  # Slack's retry of the same view

    [told] = await fake_slack.wait_for("chat.postEphemeral", timeout=8)
    assert "still posting" in told.params["text"]
    [request] = await stored_requests(configured)
    assert request.intake_ts is None
    assert intake_posts(fake_slack) == []
    # What must come after the retry: another form, submitted once it was acked, answered.
    await slack.submit(
        view_submission(
            "request_form",
            request_form_values(account="Later Corp"),
            user_id=REP,
            view_id="V0LATER",
            private_metadata='{"channel": "' + GENERAL + '"}',
        )
    )
    [later] = await fake_slack.wait_for("chat.postEphemeral", lambda c: "MS-2" in c.params["text"])
    await fake_slack.assert_no_call(
        "chat.postEphemeral", lambda c: c is not told and c is not later
    )
    [only_post] = intake_posts(fake_slack)  # the later form's: MS-1 waits for its retry
    assert "MS-2" in str(only_post.params)
    clock.advance(seconds=2)
    await dispatcher(configured).drain()
    assert sorted(str(c.params["text"])[:4] for c in intake_posts(fake_slack)) == ["MS-1", "MS-2"]
