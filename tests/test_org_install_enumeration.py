"""An Enterprise Grid org-wide install serves every workspace of the org from the first minute.

The install asks Slack which workspaces the org approved the app for (auth.teams.list, page by
page) and records each with its org, so the scheduled jobs run for all of them with the org's
one bot token, before anyone there has written to the bot. At start-up the bot asks again, to
catch workspaces the org approved since."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlmodel import col, select

from bot.app import team_clients
from bot.core.deps import Deps
from bot.core.models import Workspace
from bot.workspace.installs import mark_uninstalled
from jobs.clients import InstalledClients
from jobs.scheduler import run_now
from sandbox.fakeslack import FakeSlack
from tests.support.installs import Installer
from tests.support.workspace import configure

ENTERPRISE = "E0ORG"
TOKEN_ORG = "xoxb-org-token"
ORG_TEAMS = {"T0GRIDA": "Grid Sales East", "T0GRIDB": "Grid Sales West", "T0GRIDC": "Grid HQ"}
DIGEST_CHANNELS = {"T0GRIDA": "C0DIGESTA", "T0GRIDB": "C0DIGESTB", "T0GRIDC": "C0DIGESTC"}


async def install_org(server: tuple[str, AsyncApp], fake_slack: FakeSlack, code: str) -> None:
    status, page = await Installer(server[0], fake_slack).install(
        code,
        team_id=None,
        bot_token=TOKEN_ORG,
        enterprise_id=ENTERPRISE,
        is_enterprise_install=True,
    )
    assert status == 200, page


async def workspaces(deps: Deps) -> dict[str, tuple[str | None, bool]]:
    """team id -> (its org, whether jobs serve it)."""
    async with deps.sessions() as session:
        rows = (await session.exec(select(Workspace).order_by(col(Workspace.team_id)))).all()
    return {row.team_id: (row.enterprise_id, row.uninstalled_at is None) for row in rows}


async def test_an_org_wide_install_runs_the_jobs_for_every_workspace_of_the_org(
    server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    fake_slack.add_org_workspaces(ENTERPRISE, ORG_TEAMS)
    fake_slack.teams_page_size = 2  # the bot must turn the page to see the third

    await install_org(server, fake_slack, "code-org")

    # No workspace of the org has sent a request or an event: the install recorded them.
    assert await workspaces(oauth_deps) == dict.fromkeys(ORG_TEAMS, (ENTERPRISE, True))
    assert len(fake_slack.calls_to("auth.teams.list")) == 2
    for team, channel in DIGEST_CHANNELS.items():
        fake_slack.add_channel(channel, name=f"digest-{team.lower()}")
        await configure(oauth_deps, team_id=team, support_digest_channel=channel)
    _url, app = server

    await run_now(oauth_deps, team_clients(oauth_deps, app), "weekly-digest", oauth_deps.clock())

    posts = [call for call in fake_slack.calls_to("chat.postMessage") if call.ok]
    assert sorted(call.params["channel"] for call in posts) == sorted(DIGEST_CHANNELS.values())
    assert {call.token for call in posts} == {TOKEN_ORG}  # the org's one bot speaks for each


async def test_an_org_reinstall_serves_again_the_workspaces_it_had_stopped(
    server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    fake_slack.add_org_workspaces(ENTERPRISE, ORG_TEAMS)
    await install_org(server, fake_slack, "code-org")
    async with oauth_deps.sessions() as session:
        await mark_uninstalled(session, team_id="T0GRIDB", now=oauth_deps.clock())

    await install_org(server, fake_slack, "code-org2")

    assert await workspaces(oauth_deps) == dict.fromkeys(ORG_TEAMS, (ENTERPRISE, True))


async def test_start_up_records_workspaces_the_org_approved_since_and_undoes_no_uninstall(
    server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    fake_slack.add_org_workspaces(ENTERPRISE, {"T0GRIDA": "Grid Sales East"})
    await install_org(server, fake_slack, "code-org")
    async with oauth_deps.sessions() as session:
        await mark_uninstalled(session, team_id="T0GRIDA", now=oauth_deps.clock())
    fake_slack.add_org_workspaces(ENTERPRISE, ORG_TEAMS)  # the org approved two more
    _url, app = server
    clients = team_clients(oauth_deps, app)
    assert isinstance(clients, InstalledClients)

    added = await clients.record_org_workspaces()

    assert added == 2
    assert await workspaces(oauth_deps) == {
        "T0GRIDA": (ENTERPRISE, False),  # an uninstall is undone only by an install
        "T0GRIDB": (ENTERPRISE, True),
        "T0GRIDC": (ENTERPRISE, True),
    }


async def test_an_install_still_succeeds_when_slack_will_not_list_the_workspaces(
    server: tuple[str, AsyncApp], oauth_deps: Deps, fake_slack: FakeSlack
) -> None:
    fake_slack.add_org_workspaces(ENTERPRISE, ORG_TEAMS)
    fake_slack.fail_next("auth.teams.list", "internal_error")

    await install_org(server, fake_slack, "code-org")

    assert await workspaces(oauth_deps) == {}  # recorded as they write, or at start-up
