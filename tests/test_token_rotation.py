"""Slack's token rotation in OAuth mode: an expiring bot token is refreshed before it is used.

A workspace installs the app with token rotation on (a ``xoxe.xoxb-`` token that lasts 12
hours and a refresh token). Once the token has expired, the scheduled jobs and the requests
people send both refresh it through oauth.v2.access, keep the new one in the installation
store, and never call Slack with the expired one."""

from __future__ import annotations

import asyncio

import pytest
from slack_bolt.async_app import AsyncApp

from bot.app import team_clients
from bot.core.deps import Deps
from jobs.clients import InstalledClients
from jobs.scheduler import run_now
from sandbox.fakeslack import Call, FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.helpers import stored_requests
from tests.support.installs import (
    Installer,
    let_token_expire,
    stored_bot_tokens,
)
from tests.support.workspace import GENERAL, INTAKE, SALES_GROUP, configure

TEAM_A = "T0ALPHA"
ROTATING_TOKEN = "xoxe.xoxb-1-alpha"
TWELVE_HOURS = 43200


@pytest.fixture
async def expired(server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack) -> int:
    """TEAM_A installed with a rotating token that has since expired. Returns how many calls
    Slack had received when it expired."""
    status, page = await Installer(server[0], fake_slack).install(
        "code-a", team_id=TEAM_A, bot_token=ROTATING_TOKEN, expires_in=TWELVE_HOURS
    )
    assert status == 200, page
    await configure(
        oauth_deps,
        team_id=TEAM_A,
        intake_channel=INTAKE,
        sales_usergroup=SALES_GROUP,
        support_digest_channel=GENERAL,
    )
    await let_token_expire(oauth_deps, fake_slack, ROTATING_TOKEN)
    return len(fake_slack.calls)


def refreshes(fake_slack: FakeSlack) -> list[Call]:
    return [
        call
        for call in fake_slack.calls_to("oauth.v2.access")
        if call.params.get("grant_type") == "refresh_token"
    ]


def calls_since(fake_slack: FakeSlack, mark: int) -> list[Call]:
    return [call for call in fake_slack.calls[mark:] if call.method != "oauth.v2.access"]


async def test_a_scheduled_job_refreshes_an_expired_token_and_uses_the_new_one(
    server: tuple[str, AsyncApp], expired: int, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    _url, app = server

    await run_now(oauth_deps, team_clients(oauth_deps, app), "weekly-digest", oauth_deps.clock())

    [refresh] = refreshes(fake_slack)
    assert refresh.ok
    new_token = refresh.response["access_token"]
    assert new_token.startswith("xoxe.xoxb-")
    assert new_token != ROTATING_TOKEN
    assert await stored_bot_tokens(oauth_deps) == [(TEAM_A, new_token)]
    posts = fake_slack.calls_to("chat.postMessage")
    assert [(call.params["channel"], call.ok) for call in posts] == [(GENERAL, True)]
    sent = calls_since(fake_slack, expired)
    assert {call.token for call in sent} == {new_token}  # none with the expired token
    assert not [call for call in sent if call.response.get("error") == "token_expired"]


async def test_jobs_running_at_once_refresh_the_token_once(
    server: tuple[str, AsyncApp], expired: int, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    _url, app = server
    clients = team_clients(oauth_deps, app)
    assert isinstance(clients, InstalledClients)

    first, second = await asyncio.gather(clients.for_team(TEAM_A), clients.for_team(TEAM_A))

    [refresh] = refreshes(fake_slack)  # a refresh token works once: a second use would fail
    assert first is second  # one client per token
    assert first is not None
    assert first.token == refresh.response["access_token"]


async def test_a_token_that_does_not_expire_soon_is_not_refreshed(
    server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    status, _page = await Installer(server[0], fake_slack).install(
        "code-a", team_id=TEAM_A, bot_token=ROTATING_TOKEN, expires_in=TWELVE_HOURS
    )
    assert status == 200
    await configure(oauth_deps, team_id=TEAM_A, sales_usergroup=SALES_GROUP)
    _url, app = server

    await run_now(oauth_deps, team_clients(oauth_deps, app), "roster-sync", oauth_deps.clock())

    assert refreshes(fake_slack) == []
    assert [call.token for call in fake_slack.calls_to("usergroups.users.list")] == [ROTATING_TOKEN]


async def test_a_slash_command_after_expiry_is_answered_with_a_refreshed_token(
    server: tuple[str, AsyncApp], expired: int, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    async with SlackSender(f"{server[0]}/slack/events") as sender:
        await sender.command(
            "/mktg",
            "deck Acme $10k due 2026-12-04 pitch",
            team_id=TEAM_A,
            response_url=fake_slack.response_url("filed"),
        )
        [answer] = await fake_slack.wait_for("response_url", lambda c: c.path == "filed")

    assert "reinstall" not in str(answer.params.get("text"))
    [refresh] = refreshes(fake_slack)
    new_token = refresh.response["access_token"]
    assert await stored_bot_tokens(oauth_deps) == [(TEAM_A, new_token)]
    [post] = await fake_slack.wait_for("chat.postMessage")
    assert (post.params["channel"], post.token, post.ok) == (INTAKE, new_token, True)
    assert [r.number for r in await stored_requests(oauth_deps, TEAM_A)] == [1]
    sent = [call for call in calls_since(fake_slack, expired) if call.method != "response_url"]
    assert {call.token for call in sent} == {new_token}  # auth.test too: never the expired one


async def test_a_job_after_a_request_rotated_the_token_uses_the_stored_one(
    server: tuple[str, AsyncApp], expired: int, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    async with SlackSender(f"{server[0]}/slack/events") as sender:
        # Bolt authorizes, refreshing the token, before the command is acknowledged.
        response = await sender.command("/mktg", "help", team_id=TEAM_A)
    assert response.status == 200
    _url, app = server

    await run_now(oauth_deps, team_clients(oauth_deps, app), "roster-sync", oauth_deps.clock())

    [refresh] = refreshes(fake_slack)  # the request's; the job found the new token stored
    [sync] = fake_slack.calls_to("usergroups.users.list")
    assert sync.token == refresh.response["access_token"]
