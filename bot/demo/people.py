"""The demo's people and settings: who is in sales, Marketing Support and Demand Gen, where the
reps work, and the workspace's channels, groups and admins."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Role
from bot.workspace.installs import ensure_workspace
from bot.workspace.roster import SlackUserFacts, replace_role_members, store_slack_users
from bot.workspace.settings import WorkspaceSettings, save_settings

__all__ = [
    "ADMIN",
    "DEMANDGEN_DIGEST_CHANNEL",
    "DEMO_TIMEZONE",
    "INTAKE_CHANNEL",
    "SUPPORT_DIGEST_CHANNEL",
    "WORKSPACE_SETTINGS",
    "People",
    "rep_id",
    "set_up_people",
]

DEMO_TIMEZONE: Final = "America/New_York"
INTAKE_CHANNEL: Final = "C0DEMOINTAKE"
SUPPORT_DIGEST_CHANNEL: Final = "C0DEMOSUPPORTDIGEST"
DEMANDGEN_DIGEST_CHANNEL: Final = "C0DEMODGDIGEST"
SALES_GROUP: Final = "S0DEMOSALES"
SUPPORT_GROUP: Final = "S0DEMOMKTSUPPORT"
DEMANDGEN_GROUP: Final = "S0DEMODEMANDGEN"
ADMIN: Final = "U0DEMOADMIN"
LEADER: Final = "U0DEMOVPSALES"


# The demo workspace's channels, groups, zone and admin (the sandbox saves the same).
WORKSPACE_SETTINGS: Final = {
    "intake_channel": INTAKE_CHANNEL,
    "support_digest_channel": SUPPORT_DIGEST_CHANNEL,
    "demandgen_digest_channel": DEMANDGEN_DIGEST_CHANNEL,
    "sales_usergroup": SALES_GROUP,
    "support_usergroup": SUPPORT_GROUP,
    "demandgen_usergroup": DEMANDGEN_GROUP,
    "timezone": DEMO_TIMEZONE,
    "admins": (ADMIN,),
}


def rep_id(index: int) -> str:
    """The demo's sales reps: U0REP001, U0REP002… (wider past 999)."""
    return f"U0REP{index:03d}"


def support_id(index: int) -> str:
    return f"U0MKT{index:03d}"


def demandgen_id(index: int) -> str:
    return f"U0DG{index:03d}"


REP_ZONES: Final = (
    ("America/New_York", 40),
    ("America/Chicago", 20),
    ("America/Denver", 8),
    ("America/Los_Angeles", 25),
    ("Europe/London", 5),
    ("America/Sao_Paulo", 2),
)

SUPPORT_PER_SCALE: Final = 4
DEMANDGEN_PER_SCALE: Final = 2


@dataclass(frozen=True)
class People:
    """The roster the demo made, with each rep's time zone."""

    settings: WorkspaceSettings
    sales: list[str]
    support: list[str]
    demandgen: list[str]
    rep_zones: dict[str, str]


async def set_up_people(
    session: AsyncSession,
    *,
    rng: random.Random,
    team_id: str,
    reps: int,
    scale: int,
    started: datetime,
) -> People:
    """Create the workspace with its settings, roster and Slack users, as of `started`."""
    sales = [rep_id(index) for index in range(1, reps * scale + 1)]
    support = [support_id(index) for index in range(1, SUPPORT_PER_SCALE * scale + 1)]
    demandgen = [demandgen_id(index) for index in range(1, DEMANDGEN_PER_SCALE * scale + 1)]

    await ensure_workspace(session, team_id=team_id, enterprise_id=None, now=started)
    settings = await save_settings(
        session,
        team_id=team_id,
        changes={**WORKSPACE_SETTINGS, "support_leads": (support[0],), "leaders": (LEADER,)},
        updated_by=ADMIN,
        now=started,
    )
    for role, members in (
        (Role.SALES, sales),
        (Role.SUPPORT, support),
        (Role.DEMAND_GEN, demandgen),
    ):
        await replace_role_members(
            session, team_id=team_id, role=role, user_ids=members, now=started
        )
    zones = [name for name, _weight in REP_ZONES]
    zone_weights = [weight for _name, weight in REP_ZONES]
    rep_zones = dict(zip(sales, rng.choices(zones, zone_weights, k=len(sales)), strict=True))
    await store_slack_users(
        session,
        team_id=team_id,
        users=[
            SlackUserFacts(user_id, rep_zones.get(user_id, DEMO_TIMEZONE), False, False)
            for user_id in [*sales, *support, *demandgen, ADMIN, LEADER]
        ],
        now=started,
    )
    return People(settings, sales, support, demandgen, rep_zones)
