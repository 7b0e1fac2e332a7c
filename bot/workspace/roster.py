"""Who plays which part, mirrored from Slack user groups, and what each part may do.

Two syncs of one workspace may overlap: the scheduled one, and the one a settings save starts
at once. The latest wins. A sync takes the workspace's next generation when it starts
(`begin_roster_sync`; a settings save changing a group takes one too), and each of its writes
checks, in the write's own transaction, that the generation is still its own; a superseded
sync writes nothing more. So a sync that read the settings before a save can never put back
the groups the save replaced.

Live changes arrive as Slack events between syncs (handlers/roster_events.py): a change to a
configured group's members starts a sync (so the rule above applies to it), and a `user_change`
stores that one user's facts (`store_slack_user_change`). Users' facts follow a second rule,
per row, because an event carries no generation: every write of facts says as of when they
were true (a sync: the moment it started, before it asked Slack; an event: when Slack sent
it), a row keeps that moment in `updated_at`, and a write only replaces a row holding facts
as of the same moment or earlier. So whichever of a sync and an event saw Slack later wins,
whatever order they reach the database in.

Every write is change-only: members who joined are inserted, members who left deleted, facts
that differ updated; an unchanged roster writes no row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import Role, RosterMember, SlackUser, Workspace
from bot.workspace.installs import ensure_workspace
from bot.workspace.settings import WorkspaceSettings, next_roster_generation

# Rows per statement: well under SQLite's bound-parameter limit, whatever its build.
CHUNK = 500


def usergroup_roles(settings: WorkspaceSettings) -> dict[Role, str | None]:
    return {
        Role.SALES: settings.sales_usergroup,
        Role.SUPPORT: settings.support_usergroup,
        Role.DEMAND_GEN: settings.demandgen_usergroup,
    }


def is_roster_usergroup(settings: WorkspaceSettings, usergroup_id: str | None) -> bool:
    """Whether `usergroup_id` is one of the groups the roster mirrors (a change to any other
    group's members is none of the bot's business)."""
    return bool(usergroup_id) and usergroup_id in usergroup_roles(settings).values()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


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
    """Make the stored members of `role` exactly `user_ids`, atomically; returns how many
    members the role has now.

    Change-only: inserts the members who joined (`synced_at` = `now`), deletes those who
    left, and leaves everyone else's row alone, all in one transaction.

    With `generation` (a sync's), only while that sync is still the latest: returns None and
    writes nothing when a newer sync or settings save has begun since. The check comes first,
    so on PostgreSQL the stored members are read with the workspace row already held."""
    members = set(user_ids)
    if generation is not None and not await _still_latest(
        session, team_id=team_id, generation=generation
    ):
        await session.rollback()
        return None
    stored = set(
        (
            await session.exec(
                select(RosterMember.user_id).where(
                    col(RosterMember.team_id) == team_id, col(RosterMember.role) == role
                )
            )
        ).all()
    )
    for gone in _chunks(sorted(stored - members)):
        await session.exec(
            delete(RosterMember).where(
                col(RosterMember.team_id) == team_id,
                col(RosterMember.role) == role,
                col(RosterMember.user_id).in_(gone),
            )
        )
    joined = sorted(members - stored)
    if joined:
        insert = dialect_insert(session)
        connection = await session.connection()
        for chunk in _chunks(joined):
            rows = [
                {"team_id": team_id, "user_id": user_id, "role": role, "synced_at": now}
                for user_id in chunk
            ]
            # Insert-or-ignore: a writer without a generation (an operator's tool) may have
            # added the same member meanwhile; the row is the same either way.
            await connection.execute(
                insert(RosterMember)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["team_id", "user_id", "role"])
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


def slack_user_facts(user: Mapping[str, Any]) -> SlackUserFacts | None:
    """What we keep of a Slack user object (a users.list member, a user_change's `user`);
    None when it names no user."""
    user_id = user.get("id")
    if not user_id:
        return None
    tz = user.get("tz")
    return SlackUserFacts(
        user_id=str(user_id),
        tz=str(tz) if tz else None,
        deleted=bool(user.get("deleted")),
        is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
    )


async def _write_changed_facts(
    session: AsyncSession, *, team_id: str, users: Sequence[SlackUserFacts], as_of: datetime
) -> int:
    """Insert unknown users and update those whose facts differ, in the caller's transaction;
    the number of rows written.

    A row is replaced only by facts as of the same moment or later (`updated_at <= as_of`):
    the database re-checks it in the upsert itself, so a newer write committed between the
    read below and this write still wins."""
    latest: dict[str, SlackUserFacts] = {user.user_id: user for user in users}
    stored: dict[str, tuple[SlackUserFacts, datetime]] = {}
    for chunk in _chunks(sorted(latest)):
        result = await session.exec(
            select(SlackUser).where(
                col(SlackUser.team_id) == team_id, col(SlackUser.user_id).in_(chunk)
            )
        )
        for row in result.all():
            stored[row.user_id] = (
                SlackUserFacts(row.user_id, row.tz, row.deleted, row.is_bot),
                row.updated_at,
            )
    rows = [
        {
            "team_id": team_id,
            "user_id": user.user_id,
            "tz": user.tz,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "updated_at": as_of,
        }
        for user in latest.values()
        if user.user_id not in stored
        or (stored[user.user_id][0] != user and stored[user.user_id][1] <= as_of)
    ]
    if not rows:
        return 0
    insert = dialect_insert(session)
    connection = await session.connection()
    table = SlackUser.__table__  # type: ignore[attr-defined]
    written = 0
    for chunk in _chunks(rows):
        statement = insert(SlackUser).values(list(chunk))
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={
                "tz": excluded.tz,
                "deleted": excluded.deleted,
                "is_bot": excluded.is_bot,
                "updated_at": excluded.updated_at,
            },
            where=sa.and_(
                table.c.updated_at <= excluded.updated_at,
                sa.or_(
                    table.c.tz.is_distinct_from(excluded.tz),
                    table.c.deleted != excluded.deleted,
                    table.c.is_bot != excluded.is_bot,
                ),
            ),
        )
        upserted = await connection.execute(statement)
        written += max(int(upserted.rowcount or 0), 0)
    return written


async def store_slack_users(
    session: AsyncSession,
    *,
    team_id: str,
    users: Iterable[SlackUserFacts],
    now: datetime,
    generation: int | None = None,
) -> int | None:
    """Remember users' time zones and whether they left, for scheduling DMs; returns how many
    users were given.

    Change-only: writes only users not stored yet or whose facts differ, and never over facts
    as of a later moment than `now` (a `user_change` that arrived after this sync began; see
    the module's docstring). So the sync passes the moment it started, before reading Slack.

    With `generation`, like `replace_role_members`: None, and nothing written, once superseded."""
    given = list(users)
    if not given:
        return 0
    if generation is not None and not await _still_latest(
        session, team_id=team_id, generation=generation
    ):
        await session.rollback()
        return None
    await _write_changed_facts(session, team_id=team_id, users=given, as_of=now)
    await session.commit()
    return len(given)


async def store_slack_user_change(
    session: AsyncSession, *, team_id: str, user: SlackUserFacts, as_of: datetime
) -> bool:
    """One user's facts from a `user_change` event, without a sync: True when stored, False
    when nothing changed or the stored facts are newer.

    Which wins between an event and a sync: the one that saw Slack later. `as_of` is when Slack
    sent the event; a sync's facts are as of the moment it started. An event sent after a sync
    began is therefore never undone by that sync's (older) read, and a late or retried event
    sent before a sync began never undoes what that sync stored. No generation is involved: an
    event neither supersedes a running sync nor waits for one."""
    written = await _write_changed_facts(session, team_id=team_id, users=[user], as_of=as_of)
    await session.commit()
    return written > 0
