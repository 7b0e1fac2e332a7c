"""Multi-workspace installs over OAuth: install, per-workspace tokens, isolation, uninstall.

The real Bolt app in OAuth mode (SLACK_CLIENT_ID/SECRET, no bot token) behind the real aiohttp
server; the fake Slack exchanges codes at oauth.v2.access and accepts each install's token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import sqlalchemy as sa
from slack_bolt.async_app import AsyncApp

from bot.app import team_clients
from bot.core.config import Settings
from bot.core.deps import Deps
from bot.core.models import RequestStatus, Role, Workspace
from bot.workspace.installs import list_team_ids
from bot.workspace.roster import replace_role_members
from jobs.scheduler import run_now
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions, event_callback
from tests.support.helpers import stored_requests
from tests.support.installs import Installer
from tests.support.workspace import INTAKE, MARKETER, SALES_GROUP, TEAM_ID, configure

TEAM_A = "T0ALPHA"
TEAM_B = "T0BRAVO"
TEAM_GRID = "T0GRIDWS"
ENTERPRISE = "E0ORG"
TOKEN_A = "xoxb-alpha-token"
TOKEN_B = "xoxb-bravo-token"
TOKEN_ORG = "xoxb-org-token"


@pytest.fixture
async def sender(server: tuple[str, AsyncApp]) -> AsyncIterator[SlackSender]:
    base_url, _app = server
    async with SlackSender(f"{base_url}/slack/events") as slack:
        yield slack


@pytest.fixture
def installer(server: tuple[str, AsyncApp], fake_slack: FakeSlack) -> Installer:
    return Installer(server[0], fake_slack)


async def workspace(deps: Deps, team_id: str) -> Workspace | None:
    async with deps.sessions() as session:
        return await session.get(Workspace, team_id)


async def uninstall_recorded(deps: Deps, team_id: str) -> Workspace:
    """The workspace once app_uninstalled's listener has recorded the uninstall: Bolt acks an
    event first and runs its listener after, so the HTTP answer alone proves nothing."""
    async with asyncio.timeout(5):
        while True:
            recorded = await workspace(deps, team_id)
            if recorded is not None and recorded.uninstalled_at is not None:
                return recorded
            await asyncio.sleep(0.02)


async def install_two(installer: Installer, deps: Deps) -> None:
    for code, team, token in (("code-a", TEAM_A, TOKEN_A), ("code-b", TEAM_B, TOKEN_B)):
        status, _page = await installer.install(code, team_id=team, bot_token=token)
        assert status == 200
        await configure(deps, team_id=team, intake_channel=INTAKE, sales_usergroup=SALES_GROUP)


async def test_installing_stores_the_token_and_records_the_workspace(
    installer: Installer, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    status, page = await installer.install("code-1", team_id=TEAM_A, bot_token=TOKEN_A)

    assert status == 200, page
    [exchange] = fake_slack.calls_to("oauth.v2.access")
    assert exchange.ok
    async with oauth_deps.engine.connect() as connection:
        rows = (
            await connection.execute(sa.text("SELECT team_id, bot_token FROM slack_bots"))
        ).all()
    assert [tuple(row) for row in rows] == [(TEAM_A, TOKEN_A)]
    recorded = await workspace(oauth_deps, TEAM_A)
    assert recorded is not None
    assert recorded.uninstalled_at is None


async def test_a_callback_with_a_forged_state_installs_nothing(
    server: tuple[str, AsyncApp], fake_slack: FakeSlack, oauth_deps: Deps
) -> None:
    fake_slack.add_install("code-x", team_id=TEAM_A, bot_token=TOKEN_A)
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(
            f"{server[0]}/slack/oauth_redirect", params={"code": "code-x", "state": "forged"}
        ) as page,
    ):
        status = page.status

    assert status == 400  # the callback has answered: an exchange of the code would be logged
    await fake_slack.assert_no_call("oauth.v2.access")
    assert await workspace(oauth_deps, TEAM_A) is None


async def test_each_workspace_is_answered_with_its_own_token(
    installer: Installer, sender: SlackSender, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    await install_two(installer, oauth_deps)

    for team in (TEAM_A, TEAM_B):
        await sender.command(
            "/mktg",
            f"deck {team} Corp $10k due 2026-12-04 pitch",
            team_id=team,
            response_url=fake_slack.response_url(team),
        )
    await fake_slack.wait_for("response_url", count=2)

    posts = await fake_slack.wait_for("chat.postMessage", count=2)
    token_by_account = {
        team: call.token for call in posts for team in (TEAM_A, TEAM_B) if team in str(call.params)
    }
    assert token_by_account == {TEAM_A: TOKEN_A, TEAM_B: TOKEN_B}
    assert [r.number for r in await stored_requests(oauth_deps, TEAM_A)] == [1]
    assert [r.number for r in await stored_requests(oauth_deps, TEAM_B)] == [1]


async def test_a_request_of_one_workspace_cannot_be_claimed_from_another(
    installer: Installer, sender: SlackSender, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    await install_two(installer, oauth_deps)
    async with oauth_deps.sessions() as session:
        for team in (TEAM_A, TEAM_B):
            await replace_role_members(
                session,
                team_id=team,
                role=Role.SUPPORT,
                user_ids=[MARKETER],
                now=oauth_deps.clock(),
            )
    await sender.command(
        "/mktg",
        "deck Acme $10k due 2026-12-04 pitch",
        team_id=TEAM_A,
        response_url=fake_slack.response_url(),
    )
    await fake_slack.wait_for("response_url")
    [request_a] = await stored_requests(oauth_deps, TEAM_A)

    await sender.action(
        block_actions(
            "request_claim", str(request_a.id), user_id=MARKETER, team_id=TEAM_B, channel_id=INTAKE
        )
    )
    await sender.command(
        "/mktg", "status MS-1", team_id=TEAM_B, response_url=fake_slack.response_url("status")
    )

    [status] = await fake_slack.wait_for("response_url", lambda c: c.path == "status")
    assert "Acme" not in status.params.get("text", "")
    [unchanged] = await stored_requests(oauth_deps, TEAM_A)
    assert unchanged.status == RequestStatus.OPEN
    assert unchanged.assignee_id is None
    for call in fake_slack.calls:
        if call.method == "chat.postEphemeral":
            assert call.token == TOKEN_B  # B's answer went out with B's token


async def test_scheduled_jobs_use_each_workspaces_token(
    installer: Installer, server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    await install_two(installer, oauth_deps)
    _url, app = server

    await run_now(oauth_deps, team_clients(oauth_deps, app), "roster-sync", oauth_deps.clock())

    syncs = fake_slack.calls_to("usergroups.users.list")
    assert sorted(call.token for call in syncs) == sorted([TOKEN_A, TOKEN_B])


async def test_uninstalling_deletes_the_tokens_keeps_the_data_and_stops_the_jobs(
    installer: Installer,
    server: tuple[str, AsyncApp],
    sender: SlackSender,
    oauth_deps: Deps,
    fake_slack: FakeSlack,
) -> None:
    await install_two(installer, oauth_deps)
    await sender.command(
        "/mktg",
        "deck Beta $10k due 2026-12-04 pitch",
        team_id=TEAM_B,
        response_url=fake_slack.response_url(),
    )
    await fake_slack.wait_for("response_url")

    fake_slack.revoke(TOKEN_B)
    response = await sender.event(
        event_callback({"type": "app_uninstalled", "event_ts": "1764600000.000100"}, team_id=TEAM_B)
    )
    assert response.status == 200
    await uninstall_recorded(oauth_deps, TEAM_B)
    _url, app = server
    await run_now(oauth_deps, team_clients(oauth_deps, app), "roster-sync", oauth_deps.clock())

    async with oauth_deps.engine.connect() as connection:
        tokens = (await connection.execute(sa.text("SELECT team_id FROM slack_bots"))).all()
        installs = (
            await connection.execute(sa.text("SELECT team_id FROM slack_installations"))
        ).all()
    assert [row[0] for row in tokens] == [TEAM_A]
    assert [row[0] for row in installs] == [TEAM_A]
    gone = await workspace(oauth_deps, TEAM_B)
    assert gone is not None
    assert gone.uninstalled_at == oauth_deps.clock()
    assert len(await stored_requests(oauth_deps, TEAM_B)) == 1  # data kept
    assert [call.token for call in fake_slack.calls_to("usergroups.users.list")] == [TOKEN_A]


async def test_reinstalling_serves_the_workspace_again_with_its_data(
    installer: Installer, sender: SlackSender, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    await install_two(installer, oauth_deps)
    await sender.event(
        event_callback({"type": "app_uninstalled", "event_ts": "1764600000.000100"}, team_id=TEAM_B)
    )
    await uninstall_recorded(oauth_deps, TEAM_B)

    status, _page = await installer.install("code-b2", team_id=TEAM_B, bot_token="xoxb-bravo-2")

    assert status == 200
    back = await workspace(oauth_deps, TEAM_B)
    assert back is not None
    assert back.uninstalled_at is None


async def test_requests_during_and_after_the_uninstall_do_not_reinstall_the_workspace(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    # Token mode: Bolt checked the token once, so requests still get through after the
    # uninstall. Only an install may serve the workspace again; a request must not.
    await configure(deps, intake_channel=INTAKE, sales_usergroup=SALES_GROUP)
    held = fake_slack.hold("chat.postMessage")
    await slack.command(
        "/mktg", "deck Acme $10k due 2026-12-04 pitch", response_url=fake_slack.response_url("a")
    )
    await held.arrived()  # the first filing is stored and still being posted to intake

    await slack.event(event_callback({"type": "app_uninstalled", "event_ts": "1764600000.1"}))
    await uninstall_recorded(deps, TEAM_ID)
    held.release()
    await fake_slack.wait_for("response_url", lambda c: c.path == "a")
    # A second filing reaches this process after the uninstall dropped the workspace from the
    # ones it has seen, so it records the workspace afresh.
    await slack.command(
        "/mktg", "deck Beta $10k due 2026-12-04 pitch", response_url=fake_slack.response_url("b")
    )
    await fake_slack.wait_for("response_url", lambda c: c.path == "b")

    still = await workspace(deps, TEAM_ID)
    assert still is not None
    assert still.uninstalled_at == deps.clock()
    async with deps.sessions() as session:
        assert TEAM_ID not in await list_team_ids(session)
    assert len(await stored_requests(deps, TEAM_ID)) == 2  # what they filed is kept


async def test_revoked_bot_token_is_deleted(
    installer: Installer, sender: SlackSender, oauth_deps: Deps
) -> None:
    await install_two(installer, oauth_deps)

    await sender.event(
        event_callback(
            {"type": "tokens_revoked", "tokens": {"bot": ["UBOT2"]}, "event_ts": "1764600000.1"},
            team_id=TEAM_A,
        )
    )

    revoked = await uninstall_recorded(oauth_deps, TEAM_A)  # the listener runs after the ack

    async with oauth_deps.engine.connect() as connection:
        tokens = (await connection.execute(sa.text("SELECT team_id FROM slack_bots"))).all()
    assert [row[0] for row in tokens] == [TEAM_B]
    assert revoked.uninstalled_at is not None


async def test_an_org_wide_install_serves_every_workspace_of_the_org(
    installer: Installer,
    server: tuple[str, AsyncApp],
    sender: SlackSender,
    oauth_deps: Deps,
    fake_slack: FakeSlack,
) -> None:
    status, page = await installer.install(
        "code-org",
        team_id=None,
        bot_token=TOKEN_ORG,
        enterprise_id=ENTERPRISE,
        is_enterprise_install=True,
    )
    assert status == 200, page
    fake_slack.add_channel("C0GRIDINTAKE", name="grid-intake")

    await sender.command(
        "/mktg",
        "deck Gridco $10k due 2026-12-04 pitch",
        team_id=TEAM_GRID,
        enterprise_id=ENTERPRISE,
        is_enterprise_install=True,
        response_url=fake_slack.response_url("grid"),
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path == "grid")
    assert "Filed" in answer.params["text"] or "MS-1" in answer.params["text"]
    recorded = await workspace(oauth_deps, TEAM_GRID)
    assert recorded is not None
    assert recorded.enterprise_id == ENTERPRISE
    await configure(oauth_deps, team_id=TEAM_GRID, sales_usergroup=SALES_GROUP)
    _url, app = server
    await run_now(oauth_deps, team_clients(oauth_deps, app), "roster-sync", oauth_deps.clock())
    assert [call.token for call in fake_slack.calls_to("usergroups.users.list")] == [TOKEN_ORG]


async def test_an_org_uninstall_stops_its_workspaces_and_its_reinstall_serves_them_again(
    installer: Installer, sender: SlackSender, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    async def install_org(code: str, token: str) -> None:
        status, page = await installer.install(
            code,
            team_id=None,
            bot_token=token,
            enterprise_id=ENTERPRISE,
            is_enterprise_install=True,
        )
        assert status == 200, page

    await install_org("code-org", TOKEN_ORG)
    await sender.command(  # the org's workspaces are recorded as they write
        "/mktg",
        "help",
        team_id=TEAM_GRID,
        enterprise_id=ENTERPRISE,
        is_enterprise_install=True,
        response_url=fake_slack.response_url(),
    )
    await sender.event(
        event_callback(
            {"type": "app_uninstalled", "event_ts": "1764600000.1"},
            team_id=TEAM_GRID,
            enterprise_id=ENTERPRISE,
            is_enterprise_install=True,
        )
    )
    await uninstall_recorded(oauth_deps, TEAM_GRID)  # the org's one bot spoke for it

    await install_org("code-org2", "xoxb-org-2")

    back = await workspace(oauth_deps, TEAM_GRID)
    assert back is not None
    assert back.enterprise_id == ENTERPRISE
    assert back.uninstalled_at is None


async def test_a_request_from_a_workspace_that_never_installed_is_refused(
    sender: SlackSender, oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    response = await sender.command(
        "/mktg",
        "deck Nobody $10k due 2026-12-04 pitch",
        team_id="T0NEVER",
        response_url=fake_slack.response_url(),
    )

    # Bolt finds no installation: it tells the person through response_url, then acks empty.
    assert (response.status, response.body) == (200, "")
    [told] = await fake_slack.wait_for("response_url")
    assert "reinstall this app" in told.params["text"]
    assert await stored_requests(oauth_deps, "T0NEVER") == []
    await fake_slack.assert_no_call("chat.postMessage")


def test_oauth_mode_refuses_a_bot_token_alongside_the_client_id() -> None:
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-x",
        slack_client_id="1.2",
        slack_client_secret="s",
        slack_signing_secret="x",
    )
    with pytest.raises(Exception, match="SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID"):
        settings.require_slack()


def test_oauth_mode_names_the_missing_client_secret() -> None:
    settings = Settings(
        _env_file=None,
        slack_client_id="1.2",
        slack_signing_secret="x",
    )
    with pytest.raises(Exception, match="SLACK_CLIENT_SECRET is not set"):
        settings.require_slack()
