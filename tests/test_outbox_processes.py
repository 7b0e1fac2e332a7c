"""The outbox with real `alignbot run` processes (issue 14): a process killed while it sends, and
two replicas draining one outbox, each intake post reaches Slack once and every request learns
its post.

The processes reach the fake Slack running in this test's event loop (SLACK_API_URL) and share
the suite's database: a SQLite file, or PostgreSQL when ALIGNBOT_TEST_DATABASE_URL is set. Their
schedulers are off: the only Slack writes are the ones the outbox owes.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select, update

from bot.core.deps import Deps
from bot.core.models import OutboxMessage, OutboxState, SupportRequest
from bot.core.outbox import KIND_INTAKE_POST, payload_of
from bot.core.text import format_reference
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.process import bot_env, free_port, start_alignbot, wait_until_answering
from tests.support.workspace import INTAKE, REP, TEAM_ID

pytestmark = pytest.mark.timeout(60)  # a run takes ~10-20 s; interpreters start slowly on CI

BotProcess = tuple[asyncio.subprocess.Process, SlackSender]


@pytest.fixture
async def start_bot(
    tmp_path: Path, fake_slack: FakeSlack, configured: Deps
) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """Starts `alignbot run` on the test's database; every process still running is killed at
    the end (and every sender closed)."""
    started: list[BotProcess] = []

    async def start(name: str, token: str = "xoxb-test-token") -> BotProcess:
        port = free_port()
        env = bot_env(
            tmp_path,
            SLACK_API_URL=fake_slack.url,
            SLACK_BOT_TOKEN=token,
            PORT=str(port),
            DATABASE_URL=configured.settings.database_url,
            SCHEDULER_ENABLED="false",
        )
        workdir = tmp_path / name
        workdir.mkdir()
        process = await start_alignbot("run", env=env, cwd=workdir)
        bot = (process, SlackSender(f"http://127.0.0.1:{port}/slack/events"))
        started.append(bot)
        await wait_until_answering(process, port, "/readyz")
        return bot

    yield start
    for process, sender in started:
        await sender.close()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def file_requests(fake_slack: FakeSlack, senders: list[SlackSender], count: int) -> None:
    """`count` `/mktg` commands at once, spread over `senders`; each is acked."""
    responses = await asyncio.gather(
        *(
            senders[index % len(senders)].command(
                "/mktg",
                f"deck Account{index} $5k pitch",
                user_id=REP,
                response_url=fake_slack.response_url(f"r{index}"),
            )
            for index in range(count)
        )
    )
    assert [response.status for response in responses] == [200] * count


async def intake_rows(deps: Deps) -> list[OutboxMessage]:
    async with deps.sessions() as session:
        result = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == KIND_INTAKE_POST)
            .order_by(col(OutboxMessage.id))
        )
        return list(result.all())


async def requests(deps: Deps) -> list[SupportRequest]:
    async with deps.sessions() as session:
        result = await session.exec(select(SupportRequest).order_by(col(SupportRequest.id)))
        return list(result.all())


def intake_messages(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    """What the intake channel shows (top-level messages, not thread replies)."""
    return [m for m in fake_slack.messages.get(INTAKE, []) if m.get("thread_ts") in (None, m["ts"])]


def outbox_id(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != "alignbot_outbox":
        return None
    return int((metadata.get("event_payload") or {})["outbox_id"])


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Poll `check` (it reads the database the processes write) until it holds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


async def all_sent(deps: Deps, count: int) -> bool:
    rows = await intake_rows(deps)
    filed = await requests(deps)
    return (
        len(rows) == len(filed) == count
        and all(row.state == OutboxState.SENT for row in rows)
        and all(request.intake_ts for request in filed)
    )


async def assert_each_request_posted_once(deps: Deps, fake_slack: FakeSlack, count: int) -> None:
    """Every request's intake post is in the channel exactly once and the request (and its
    outbox row) hold that post's ts; nothing else is there."""
    rows = await intake_rows(deps)
    filed = await requests(deps)
    messages = intake_messages(fake_slack)
    by_row = Counter(outbox_id(message) for message in messages)
    numbers = Counter(str(message["text"]).split(" ")[0] for message in messages)

    assert len(filed) == len(rows) == count
    assert by_row == Counter({row.id: 1 for row in rows})  # each row's post once, no other
    assert numbers == Counter({format_reference(request.number): 1 for request in filed})
    ts_of = {outbox_id(message): message["ts"] for message in messages}
    row_of = {int(payload_of(row)["request_id"]): row for row in rows}
    for request in filed:
        row = row_of[request.id or 0]
        assert row.state == OutboxState.SENT
        assert (request.intake_channel, request.intake_ts) == (INTAKE, ts_of[row.id])
        assert (row.sent_channel, row.sent_ts) == (INTAKE, request.intake_ts)
        assert request.intake_error is None


def posts(fake_slack: FakeSlack, *, ok: bool) -> list[Any]:
    return [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if call.ok == ok and call.params.get("channel") == INTAKE
    ]


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=15)


# --------------------------------------------------------------------------- kill -9

FILED = 30
NOT_POSTED = 5  # Slack never saw these posts: the process died waiting for the answer
POSTED_UNANSWERED = 10  # Slack has these posts; the answer never reached the process


async def test_a_process_killed_while_sending_leaves_nothing_lost_and_nothing_doubled(
    start_bot: Callable[..., Awaitable[BotProcess]], fake_slack: FakeSlack, configured: Deps
) -> None:
    first, sender = await start_bot("first")
    # The first NOT_POSTED posts fail inside Slack, the next POSTED_UNANSWERED are posted;
    # the answers to all of them are held: the process is waiting on Slack for those.
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, times=NOT_POSTED)
    held = fake_slack.hold("chat.postMessage", times=NOT_POSTED + POSTED_UNANSWERED)

    await file_requests(fake_slack, [sender], FILED)

    async def mid_sending() -> bool:  # every post has reached Slack; the held ones unanswered
        rows = await intake_rows(configured)
        return (
            len(intake_messages(fake_slack)) == FILED - NOT_POSTED
            and [row.state for row in rows].count(OutboxState.SENT)
            == FILED - NOT_POSTED - POSTED_UNANSWERED
        )

    await until("the posts to reach Slack", mid_sending)
    first.kill()  # SIGKILL: no shutdown, no cleanup
    assert await first.wait() == -signal.SIGKILL
    held.release()  # Slack finishes answering a process that is gone

    rows = await intake_rows(configured)
    sending = [row for row in rows if row.state == OutboxState.SENDING]
    assert len(sending) == NOT_POSTED + POSTED_UNANSWERED
    assert not any(row.maybe_sent for row in sending)
    # The killed process's claims hold for CLAIM_LEASE (60 s) on the real clock. Moving their
    # end into the past stands for the lease running out, without waiting a minute.
    async with configured.sessions() as session:
        lapsed = await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.state) == OutboxState.SENDING)
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    assert lapsed.rowcount == NOT_POSTED + POSTED_UNANSWERED
    looked_up_before = len(fake_slack.calls_to("conversations.history"))

    second, _ = await start_bot("second")  # its dispatcher's loop takes the lapsed claims
    await until("every intake post", lambda: all_sent(configured, FILED))

    await assert_each_request_posted_once(configured, fake_slack, FILED)
    assert len(posts(fake_slack, ok=True)) == FILED  # posted once each, never again
    assert len(posts(fake_slack, ok=False)) == NOT_POSTED
    assert len(fake_slack.calls_to("conversations.history")) > looked_up_before
    assert await stop(second) == 0


# --------------------------------------------------------------------------- two replicas

REPLICA_FILED = 40
# Every first attempt fails (inline, on both replicas), and most of the retries after it.
FAILURES = 2 * REPLICA_FILED - 1
TOKEN, OTHER_TOKEN = "xoxb-test-token", "xoxb-replica-b"  # one workspace: tells the calls apart


async def test_two_replicas_drain_one_outbox_filled_during_an_outage_each_post_once(
    start_bot: Callable[..., Awaitable[BotProcess]], fake_slack: FakeSlack, configured: Deps
) -> None:
    fake_slack.tokens[OTHER_TOKEN] = TEAM_ID
    (one, one_sender), (two, two_sender) = await asyncio.gather(
        start_bot("one", token=TOKEN), start_bot("two", token=OTHER_TOKEN)
    )
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, times=FAILURES)

    await file_requests(fake_slack, [one_sender, two_sender], REPLICA_FILED)
    told = await fake_slack.wait_for("response_url", count=REPLICA_FILED, timeout=20)
    # Each request was stored and its requester answered once (usually "still posting": on a
    # slow machine a late filing may find Slack already back, which is no failure).
    assert len(told) == REPLICA_FILED
    await until("every intake post", lambda: all_sent(configured, REPLICA_FILED))

    await assert_each_request_posted_once(configured, fake_slack, REPLICA_FILED)
    assert len(posts(fake_slack, ok=False)) == FAILURES
    assert len(posts(fake_slack, ok=True)) == REPLICA_FILED
    assert [await stop(one), await stop(two)] == [0, 0]
