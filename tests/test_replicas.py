"""Two real `alignbot run` processes on one database: every survey, reminder and digest once.

Runs on the suite's database: a SQLite file, or PostgreSQL when ALIGNBOT_TEST_DATABASE_URL is
set (CI), which is how replicas are meant to be run. Both processes start their schedulers at
once, so every job's first tick races in both; the fake Slack counts what reached it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.core.deps import Deps
from bot.core.models import JobClaim
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.process import bot_env, free_port, start_alignbot, wait_until_answering
from tests.support.queue_helpers import click, file_one
from tests.support.workspace import GENERAL, MARKETER, REP, configure

SUPPORT_DIGEST = "C0SUPDIGEST"
DEMANDGEN_DIGEST = "C0DGDIGEST"
TODAY_AT_MIDNIGHT = datetime.now(UTC).strftime("%a 00:00").lower()


@pytest.fixture
async def replicas(
    tmp_path: Path, fake_slack: FakeSlack, configured: Deps
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    processes = []
    for name in ("a", "b"):
        port = free_port()
        env = bot_env(
            tmp_path,
            SLACK_API_URL=fake_slack.url,
            PORT=str(port),
            DATABASE_URL=configured.settings.database_url,
            LOG_FORMAT="json",
        )
        workdir = tmp_path / name
        workdir.mkdir()
        processes.append((await start_alignbot("run", env=env, cwd=workdir), port))
    for process, port in processes:
        await wait_until_answering(process, port, "/readyz")
    yield [process for process, _port in processes]
    for process, _port in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


def survey_dms(fake: FakeSlack) -> list[str]:
    return [
        str(call.params["channel"])
        for call in fake.calls_to("chat.postMessage")
        if call.ok and "Weekly pulse" in str(call.params.get("text"))
    ]


def posts_to(fake: FakeSlack, channel: str) -> int:
    return sum(
        1
        for call in fake.calls_to("chat.postMessage")
        if call.ok and call.params.get("channel") == channel
    )


def overdue_dms(fake: FakeSlack) -> int:
    return sum(
        1
        for call in fake.calls_to("chat.postMessage")
        if call.ok
        and call.params.get("channel") == MARKETER
        and "overdue" in str(call.params.get("text")).lower()
    )


@pytest.fixture
async def overdue_claimed_request(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    """A deck filed and claimed on Tue 24 Nov: by now (the real clock) it is past its SLA."""
    fake_slack.add_channel(SUPPORT_DIGEST, name="mktg-digest")
    fake_slack.add_channel(DEMANDGEN_DIGEST, name="demandgen-digest")
    await configure(
        configured,
        support_digest_channel=SUPPORT_DIGEST,
        demandgen_digest_channel=DEMANDGEN_DIGEST,
        enablement_survey_schedule=TODAY_AT_MIDNIGHT,
        pipeline_survey_schedule=TODAY_AT_MIDNIGHT,
        digest_schedule=TODAY_AT_MIDNIGHT,
        survey_local_time=False,
    )
    request = await file_one(slack, fake_slack, configured, "deck Acme $250k Renewal pitch")
    await click(slack, fake_slack, "request_claim", request, user_id=MARKETER)
    await fake_slack.wait_for("chat.update")
    fake_slack.calls.clear()


@pytest.mark.timeout(90)
async def test_two_replicas_send_each_survey_reminder_and_digest_once(
    overdue_claimed_request: None,
    replicas: list[asyncio.subprocess.Process],
    fake_slack: FakeSlack,
    configured: Deps,
) -> None:
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.ok and "Weekly pulse" in str(c.params["text"]),
        count=2,
        timeout=30,
    )
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.ok and c.params["channel"] in (SUPPORT_DIGEST, DEMANDGEN_DIGEST),
        count=2,
        timeout=30,
    )
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: (
            c.ok and c.params["channel"] == MARKETER and "overdue" in c.params["text"].lower()
        ),
        timeout=30,
    )
    await asyncio.sleep(3)  # the slower replica's first ticks have finished by now
    for process in replicas:
        process.send_signal(signal.SIGTERM)
    codes = [await asyncio.wait_for(process.wait(), timeout=30) for process in replicas]

    assert codes == [0, 0]
    assert sorted(survey_dms(fake_slack)) == [REP, REP]  # enablement + pipeline, once each
    assert posts_to(fake_slack, SUPPORT_DIGEST) == 1
    assert posts_to(fake_slack, DEMANDGEN_DIGEST) == 1
    assert overdue_dms(fake_slack) == 1
    assert posts_to(fake_slack, GENERAL) == 0
    async with configured.sessions() as session:
        claims = (
            await session.exec(
                select(JobClaim.job, func.count()).group_by(JobClaim.job)  # type: ignore[arg-type]
            )
        ).all()
    # Each job's first period was claimed once for the one workspace, by one of the two.
    assert dict(claims) == {
        "roster-sync": 1,
        "sla-reminders": 1,
        "surveys": 1,
        "weekly-digest": 1,
        "retention": 1,
    }
