"""Who plays which part, mirrored from Slack user groups, and what each part may do.

Two syncs of one workspace may overlap: the scheduled one, and the one a settings save starts
at once. The latest wins. A sync takes the workspace's next generation when it starts
(`begin_roster_sync`; a settings save changing a group takes one too), and each of its writes
checks, in the write's own transaction, that the generation is still its own; a superseded
sync writes nothing more. So a sync that read the settings before a save can never put back
the groups the save replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import Role, RosterMember, SlackUser, Workspace
from bot.workspace.installs import ensure_workspace
from bot.workspace.settings import WorkspaceSettings, next_roster_generation


def usergroup_roles(settings: WorkspaceSettings) -> dict[Role, str | None]:
    return {
        Role.SALES: settings.sales_usergroup,
        Role.SUPPORT: settings.support_usergroup,
        Role.DEMAND_GEN: settings.demandgen_usergroup,
    }


async def begin_roster_sync(session: AsyncSession, *, team_id: str, now: datetime) -> int:
    """Start a sync: the workspace's next roster generation, committed before the sync reads
    the settings, so any save committed after that read takes a newer one."""
    generation = await next_roster_generation(session, team_id=team_id)
    if generation is None:  # never seen by a request (an operator's run): record it first
        await ensure_workspace(session, team_id=team_id, enterprise_id=None, now=now)
        generation = await next_roster_generation(session, team_id=team_id)
        assert generation is not None
    await session.commit()
    return generation


async def _still_latest(session: AsyncSession, *, team_id: str, generation: int) -> bool:
    """Whether no newer sync or settings save exists, checked in the caller's transaction.

    A no-op update rather than a read: it holds the workspace row until the write commits
    (PostgreSQL), so a newer generation is taken after this write, never during it."""
    result = await session.exec(
        update(Workspace)
        .where(col(Workspace.team_id) == team_id, col(Workspace.roster_generation) == generation)
        .values(roster_generation=generation)
    )
    return int(result.rowcount) == 1


async def replace_role_members(
    session: AsyncSession,
    *,
    team_id: str,
    role: Role,
    user_ids: Iterable[str],
    now: datetime,
    generation: int | None = None,
) -> int | None:
    """Make the stored members of `role` exactly `user_ids`, atomically.

    With `generation` (a sync's), only while that sync is still the latest: returns None and
    writes nothing when a newer sync or settings save has begun since."""
    members = sorted(set(user_ids))
    if generation is not None and not await _still_latest(
        session, team_id=team_id, generation=generation
    ):
        await session.rollback()
        return None
    await session.exec(
        delete(RosterMember).where(
            col(RosterMember.team_id) == team_id, col(RosterMember.role) == role
        )
    )
    session.add_all(
        RosterMember(team_id=team_id, user_id=user_id, role=role, synced_at=now)
        for user_id in members
    )
    await session.commit()
    return len(members)


async def roles_of(session: AsyncSession, *, team_id: str, user_id: str) -> set[Role]:
    result = await session.exec(
        select(RosterMember.role).where(
            RosterMember.team_id == team_id, RosterMember.user_id == user_id
        )
    )
    return {Role(role) for role in result.all()}


@dataclass(frozen=True)
class SlackUserFacts:
    user_id: str
    tz: str | None
    deleted: bool
    is_bot: bool


async def store_slack_users(
    session: AsyncSession,
    *,
    team_id: str,
    users: Iterable[SlackUserFacts],
    now: datetime,
    generation: int | None = None,
) -> int | None:
    """Remember users' time zones and whether they left, for scheduling DMs (upsert).

    With `generation`, like `replace_role_members`: None, and nothing written, once superseded."""
    rows = [
        {
            "team_id": team_id,
            "user_id": user.user_id,
            "tz": user.tz,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "updated_at": now,
        }
        for user in users
    ]
    if not rows:
        return 0
    if generation is not None and not await _still_latest(
        session, team_id=team_id, generation=generation
    ):
        await session.rollback()
        return None
    insert = dialect_insert(session)
    connection = await session.connection()
    for start in range(0, len(rows), 500):
        statement = insert(SlackUser).values(rows[start : start + 500])
        statement = statement.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={
                "tz": statement.excluded.tz,
                "deleted": statement.excluded.deleted,
                "is_bot": statement.excluded.is_bot,
                "updated_at": statement.excluded.updated_at,
            },
        )
        await connection.execute(statement)
    await session.commit()
    return len(rows)
