"""Weekly surveys in tests: a sales team as roster sync stores it, and the survey DMs sent."""

from __future__ import annotations

from bot.core.deps import Deps
from bot.core.models import Role
from bot.workspace.roster import SlackUserFacts, replace_role_members, store_slack_users
from sandbox.fakeslack import FakeSlack
from tests.support.workspace import ADMIN, TEAM_ID, configure


async def sales_team(deps: Deps, fake_slack: FakeSlack, members: dict[str, str]) -> None:
    """Sales reps with their time zones, as roster sync would have stored them."""
    for user_id, tz in members.items():
        fake_slack.add_user(user_id, name=user_id.lower(), tz=tz)
    await configure(deps, sales_usergroup="S0SALES", admins=(ADMIN,))
    async with deps.sessions() as session:
        await replace_role_members(
            session, team_id=TEAM_ID, role=Role.SALES, user_ids=list(members), now=deps.clock()
        )
        await store_slack_users(
            session,
            team_id=TEAM_ID,
            users=[SlackUserFacts(user, tz, False, False) for user, tz in members.items()],
            now=deps.clock(),
        )


def survey_dms(fake_slack: FakeSlack, user: str, kind: str | None = None) -> list:  # type: ignore[type-arg]
    words = {"enablement": "enablement support", "pipeline": "new pipeline"}
    return [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if call.ok
        and call.params.get("channel") == user
        and "Weekly pulse" in str(call.params.get("text"))
        and (kind is None or words[kind] in str(call.params.get("text")))
    ]
