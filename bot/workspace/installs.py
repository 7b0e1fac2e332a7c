"""Which workspaces the bot serves: the workspace row, installed or uninstalled.

An uninstall wins over every request that arrives or is still being handled after it: requests
only insert a missing row (`ensure_workspace`, insert-or-ignore), only an install clears
`uninstalled_at` (`mark_installed`), and the uninstall is `UPDATE … WHERE uninstalled_at IS
NULL` (see `bot.workspace.settings` for the whole list of which writer wins).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import Workspace

# A rotating bot token (Slack's token rotation: it lasts 12 hours) is refreshed once it expires
# within this many minutes, by requests and jobs alike (Bolt's default).
TOKEN_REFRESH_MINUTES = 120


async def _record_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> None:
    """Insert the workspace's row unless it exists (another process may insert it at once)."""
    insert = dialect_insert(session)
    connection = await session.connection()
    await connection.execute(
        insert(Workspace)
        .values(team_id=team_id, enterprise_id=enterprise_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["team_id"])
    )
    if enterprise_id is not None:
        # A row first written without its org (the CLI) learns it: the org's bot speaks for it.
        await session.exec(
            update(Workspace)
            .where(col(Workspace.team_id) == team_id, col(Workspace.enterprise_id).is_(None))
            .values(enterprise_id=enterprise_id)
        )


async def ensure_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> None:
    """Record a workspace the first time it is seen. Never marks it installed again: a request
    still arriving after an uninstall must not undo it (only `mark_installed` does)."""
    await _record_workspace(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
    await session.commit()


async def list_team_ids(session: AsyncSession, *, installed_only: bool = True) -> list[str]:
    """Workspaces the scheduled jobs serve: every one seen, less those that uninstalled us."""
    query = select(Workspace.team_id).order_by(Workspace.team_id)
    if installed_only:
        query = query.where(col(Workspace.uninstalled_at).is_(None))
    result = await session.exec(query)
    return list(result.all())


async def workspace_enterprise(session: AsyncSession, team_id: str) -> str | None:
    workspace = await session.get(Workspace, team_id)
    return workspace.enterprise_id if workspace is not None else None


async def mark_installed(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> None:
    """An install or reinstall (OAuth, or a bot token Slack accepted at start-up): the
    workspace is served again, its data intact. Requests call `ensure_workspace` instead."""
    await _record_workspace(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
    await session.exec(
        update(Workspace).where(col(Workspace.team_id) == team_id).values(uninstalled_at=None)
    )
    await session.commit()


async def mark_enterprise_installed(session: AsyncSession, *, enterprise_id: str) -> int:
    """An org-wide (re)install: every workspace of the org already seen is served again."""
    result = await session.exec(
        update(Workspace)
        .where(
            col(Workspace.enterprise_id) == enterprise_id,
            col(Workspace.uninstalled_at).is_not(None),
        )
        .values(uninstalled_at=None)
    )
    await session.commit()
    return int(result.rowcount)


async def record_org_workspaces(
    session: AsyncSession,
    *,
    enterprise_id: str,
    team_ids: list[str],
    now: datetime,
    serve_again: bool,
) -> list[str]:
    """The workspaces an org-wide install was approved for (Slack's auth.teams.list), each
    recorded with its org so jobs serve it before anyone there writes to the bot.

    `serve_again` is for the org's (re)install, which serves them all again; a later
    re-enumeration (start-up) only adds the missing ones and, like a request, never undoes an
    uninstall. Returns the team ids newly recorded."""
    if not team_ids:
        return []
    known = await session.exec(
        select(Workspace.team_id).where(col(Workspace.team_id).in_(team_ids))
    )
    existing = set(known.all())
    for team_id in team_ids:
        await _record_workspace(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
    if serve_again:
        await session.exec(
            update(Workspace)
            .where(col(Workspace.team_id).in_(team_ids))
            .values(uninstalled_at=None)
        )
    await session.commit()
    return [team_id for team_id in team_ids if team_id not in existing]


async def mark_uninstalled(session: AsyncSession, *, team_id: str, now: datetime) -> bool:
    """app_uninstalled: jobs stop serving the workspace; its data stays until retention.
    False when it was not installed (unknown, or already uninstalled)."""
    result = await session.exec(
        update(Workspace)
        .where(col(Workspace.team_id) == team_id, col(Workspace.uninstalled_at).is_(None))
        .values(uninstalled_at=now)
    )
    await session.commit()
    return int(result.rowcount) == 1


async def mark_enterprise_uninstalled(
    session: AsyncSession, *, enterprise_id: str, now: datetime
) -> list[str]:
    """An org-wide uninstall (its event names no workspace): every workspace of the org that
    was served stops being served. Returns their team ids."""
    result = await session.exec(
        update(Workspace)
        .where(
            col(Workspace.enterprise_id) == enterprise_id,
            col(Workspace.uninstalled_at).is_(None),
        )
        .values(uninstalled_at=now)
        .returning(col(Workspace.team_id))
    )
    teams = [str(team_id) for team_id in result.scalars().all()]
    await session.commit()
    return teams
