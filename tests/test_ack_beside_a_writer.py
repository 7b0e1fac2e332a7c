"""A request is authorized and acknowledged while another writer holds SQLite's write lock:
finding the workspace's token is a read, so it never queues behind a job tick's writes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator

import pytest
from slack_bolt.async_app import AsyncApp

from bot.core.deps import Deps
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.installs import Installer
from tests.support.workspace import INTAKE, SALES_GROUP, configure

pytestmark = pytest.mark.skipif(
    "postgresql" in os.environ.get("ALIGNBOT_TEST_DATABASE_URL", ""),
    reason="SQLite's single write lock; PostgreSQL reads never wait for writers",
)

TEAM = "T0ALPHA"
TOKEN = "xoxb-alpha-token"


@pytest.fixture
async def sender(server: tuple[str, AsyncApp]) -> AsyncIterator[SlackSender]:
    async with SlackSender(f"{server[0]}/slack/events") as slack:
        yield slack


async def test_a_slash_command_is_acknowledged_while_a_writer_holds_the_lock(
    server: tuple[str, AsyncApp],
    sender: SlackSender,
    fake_slack: FakeSlack,
    oauth_deps: Deps,
    database_url: str,
) -> None:
    status, _page = await Installer(server[0], fake_slack).install(
        "code-a", team_id=TEAM, bot_token=TOKEN
    )
    assert status == 200
    await configure(oauth_deps, team_id=TEAM, intake_channel=INTAKE, sales_usergroup=SALES_GROUP)

    # The first request from a workspace records it (a write, once per process): made here.
    first = await sender.command(
        "/mktg", "help", team_id=TEAM, response_url=fake_slack.response_url("first")
    )
    assert first.status == 200

    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a job tick mid-transaction
        response = await asyncio.wait_for(
            sender.command(
                "/mktg", "help", team_id=TEAM, response_url=fake_slack.response_url("help")
            ),
            timeout=8,  # under SQLITE_BUSY_TIMEOUT_MS: a queued authorization would time out
        )
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert response.status == 200
    message = response.message
    assert message is not None
    assert "/mktg" in str(message.get("text", "")) + str(message.get("blocks", ""))
