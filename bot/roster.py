"""Who plays which part, mirrored from Slack user groups, and what each part may do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Role, RosterMember, SlackUser
from bot.workspace import WorkspaceSettings


def usergroup_roles(settings: WorkspaceSettings) -> dict[Role, str | None]:
    return {
        Role.SALES: settings.sales_usergroup,
        Role.SUPPORT: settings.support_usergroup,
        Role.DEMAND_GEN: settings.demandgen_usergroup,
    }


async def replace_role_members(
    session: AsyncSession, *, team_id: str, role: Role, user_ids: Iterable[str], now: datetime
) -> int:
    """Make the stored members of `role` exactly `user_ids`, atomically."""
    members = sorted(set(user_ids))
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
    session: AsyncSession, *, team_id: str, users: Iterable[SlackUserFacts], now: datetime
) -> int:
    """Remember users' time zones and whether they left, for scheduling DMs (upsert)."""
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
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
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


def is_admin(settings: WorkspaceSettings, *, user_id: str, slack_admin: bool) -> bool:
    """Workspace admins and owners, plus anyone listed in the `admins` setting."""
    return slack_admin or user_id in settings.admins
