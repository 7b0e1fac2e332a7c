"""The sandbox's workspace: its people, channels and user groups on the fake Slack side, and the
bot's saved settings and roster on the database side, so every command works at once.

The ids are the demo's (team TDEMO, #mktg-intake is C0DEMOINTAKE…), so `--with-demo` fills the
same workspace with 12 weeks of history instead of a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Role
from bot.demo.people import (
    ADMIN,
    DEMANDGEN_DIGEST_CHANNEL,
    DEMANDGEN_GROUP,
    DEMO_TIMEZONE,
    INTAKE_CHANNEL,
    SALES_GROUP,
    SUPPORT_DIGEST_CHANNEL,
    SUPPORT_GROUP,
    WORKSPACE_SETTINGS,
    demandgen_id,
    rep_id,
    support_id,
)
from bot.demo.workspace import generate_demo
from bot.workspace.installs import ensure_workspace
from bot.workspace.roster import SlackUserFacts, replace_role_members, store_slack_users
from bot.workspace.settings import save_settings
from sandbox.fakeslack import FakeSlack

TEAM_ID: Final = "TDEMO"
GENERAL_CHANNEL: Final = "C0DEMOGENERAL"
DEMO_REPS: Final = 12


@dataclass(frozen=True)
class Person:
    """Someone the page lets you be."""

    user_id: str
    name: str
    real_name: str
    tz: str
    role: Role | None
    title: str


PEOPLE: Final = (
    Person(rep_id(1), "riley", "Riley Chen", "America/New_York", Role.SALES, "Sales rep, New York"),
    Person(rep_id(2), "sam", "Sam Okafor", "Europe/London", Role.SALES, "Sales rep, London"),
    Person(
        support_id(1), "morgan", "Morgan Diaz", DEMO_TIMEZONE, Role.SUPPORT, "Marketing Support"
    ),
    Person(
        support_id(2), "jordan", "Jordan Patel", DEMO_TIMEZONE, Role.SUPPORT, "Marketing Support"
    ),
    Person(
        demandgen_id(1), "alex", "Alex Kim", DEMO_TIMEZONE, Role.DEMAND_GEN, "Demand Gen manager"
    ),
    Person(ADMIN, "casey", "Casey Brooks", DEMO_TIMEZONE, None, "RevOps admin"),
)

CHANNELS: Final = (
    (GENERAL_CHANNEL, "general"),
    (INTAKE_CHANNEL, "mktg-intake"),
    (SUPPORT_DIGEST_CHANNEL, "mktg-support-digest"),
    (DEMANDGEN_DIGEST_CHANNEL, "demand-gen-digest"),
)

GROUPS: Final = (
    (SALES_GROUP, "sales", "Sales", Role.SALES),
    (SUPPORT_GROUP, "mktg-support", "Marketing Support", Role.SUPPORT),
    (DEMANDGEN_GROUP, "demand-gen", "Demand Gen", Role.DEMAND_GEN),
)


def members_of(role: Role, *, with_demo: bool) -> list[str]:
    """Who is in `role`: the six people, or with the demo its whole roster (12 reps, 4 Marketing
    Support members, 2 in Demand Gen; the demo's own numbering)."""
    featured = [person.user_id for person in PEOPLE if person.role == role]
    if not with_demo:
        return featured
    counts = {Role.SALES: (DEMO_REPS, rep_id), Role.SUPPORT: (4, support_id)}
    count, make_id = counts.get(role, (2, demandgen_id))
    return [make_id(index) for index in range(1, count + 1)]


def seed_fake_slack(fake: FakeSlack, *, with_demo: bool) -> None:
    """The people, channels and groups, as Slack's Web API will show them to the bot."""
    for person in PEOPLE:
        fake.add_user(
            person.user_id,
            name=person.name,
            real_name=person.real_name,
            tz=person.tz,
            is_admin=person.user_id == ADMIN,
            email=f"{person.name}@example.com",
        )
    featured = {person.user_id for person in PEOPLE}
    for _group_id, _handle, label, role in GROUPS:
        for index, user_id in enumerate(members_of(role, with_demo=with_demo), 1):
            if user_id not in featured:
                fake.add_user(user_id, real_name=f"{label} {index}", tz=DEMO_TIMEZONE)
    for channel_id, name in CHANNELS:
        fake.add_channel(channel_id, name=name)
    for group_id, handle, label, role in GROUPS:
        fake.add_usergroup(
            group_id, handle=handle, name=label, members=members_of(role, with_demo=with_demo)
        )


async def seed_database(session: AsyncSession, *, now: datetime, with_demo: bool) -> None:
    """Settings saved, roster stored; with the demo, its 12 weeks of history ending `now`."""
    if with_demo:
        await generate_demo(session, now=now, reps=DEMO_REPS, team_id=TEAM_ID)
    else:
        await ensure_workspace(session, team_id=TEAM_ID, enterprise_id=None, now=now)
        await save_settings(
            session,
            team_id=TEAM_ID,
            changes={**WORKSPACE_SETTINGS, "support_leads": (support_id(1),)},
            updated_by=ADMIN,
            now=now,
        )
        for _group_id, _handle, _label, role in GROUPS:
            await replace_role_members(
                session,
                team_id=TEAM_ID,
                role=role,
                user_ids=members_of(role, with_demo=False),
                now=now,
            )
    await store_slack_users(
        session,
        team_id=TEAM_ID,
        users=[SlackUserFacts(person.user_id, person.tz, False, False) for person in PEOPLE],
        now=now,
    )
