"""Who plays which part, mirrored from Slack user groups, and what each part may do."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Role, RosterMember
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


def is_admin(settings: WorkspaceSettings, *, user_id: str, slack_admin: bool) -> bool:
    """Workspace admins and owners, plus anyone listed in the `admins` setting."""
    return slack_admin or user_id in settings.admins
