"""The roster job mirrors the three user groups for every workspace, each on its own."""

from __future__ import annotations

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import Role
from bot.workspace.roster import roles_of
from jobs.roster_sync import sync_all_rosters
from sandbox.fakeslack import FakeSlack
from tests.support.workspace import MARKETER, REP, SALES_GROUP, SUPPORT_GROUP, TEAM_ID, configure


async def test_the_job_refreshes_members_who_joined_or_left_a_group(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    await configure(deps, sales_usergroup=SALES_GROUP, support_usergroup=SUPPORT_GROUP)
    await sync_all_rosters(deps, make_client(deps), deps.clock())
    fake_slack.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[MARKETER])

    await sync_all_rosters(deps, make_client(deps), deps.clock())

    async with deps.sessions() as session:
        assert await roles_of(session, team_id=TEAM_ID, user_id=REP) == set()
        assert await roles_of(session, team_id=TEAM_ID, user_id=MARKETER) == {
            Role.SALES,
            Role.SUPPORT,
        }


async def test_one_failing_workspace_does_not_stop_the_others(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    await configure(deps, team_id="T0BROKEN", sales_usergroup="S0GONE")
    await configure(deps, sales_usergroup=SALES_GROUP)

    await sync_all_rosters(deps, make_client(deps), deps.clock())

    async with deps.sessions() as session:
        assert await roles_of(session, team_id=TEAM_ID, user_id=REP) == {Role.SALES}
