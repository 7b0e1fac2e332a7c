"""Read paths (digests, scorecards, exports) read in read-only transactions (bot/core/db.py).

On SQLite every ordinary transaction starts with BEGIN IMMEDIATE, so exactly-once claims wait
for each other instead of failing; a long KPI query in such a transaction would hold the write
lock and make every bot write wait. Read-only blocks start a plain deferred BEGIN instead (WAL
lets them read beside a writer) and refuse writes; after the block, writes lock as before.

Whether SQLite's write lock is held is checked the way another process would see it: a second
plain sqlite3 connection with no busy timeout tries BEGIN IMMEDIATE and is refused at once
while the lock is held.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from bot.core.db import is_sqlite, make_session_factory, read_only
from bot.core.deps import Deps
from bot.core.models import FeedbackAction, SupportRequest
from bot.kpis.digests import support_digest
from bot.workspace.settings import load_settings
from tests.support.workspace import TEAM_ID

WEEK_48 = date(2026, 11, 23)


def an_action(text: str) -> FeedbackAction:
    return FeedbackAction(
        team_id=TEAM_ID,
        week_start=WEEK_48,
        text=text,
        created_by="U0ADMIN",
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
    )


def sqlite_path(deps: Deps) -> str:
    if not is_sqlite(deps.engine):
        pytest.skip("SQLite's write lock only")
    path = deps.engine.url.database
    assert path
    return path


@contextmanager
def another_process(path: str) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def write_lock_is_free(path: str) -> bool:
    """Whether another process could start writing right now (no waiting)."""
    with another_process(path) as other:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            return False
        other.execute("ROLLBACK")
        return True


async def test_an_ordinary_transaction_that_only_read_holds_the_write_lock(deps: Deps) -> None:
    path = sqlite_path(deps)

    async with deps.sessions() as session:
        await session.exec(select(SupportRequest.id))

        assert not write_lock_is_free(path)


async def test_a_digest_read_leaves_the_write_lock_to_other_writers(deps: Deps) -> None:
    path = sqlite_path(deps)
    async with deps.sessions() as session:
        settings = await load_settings(session, TEAM_ID)
        await session.commit()

    async with deps.sessions() as session, read_only(session):
        await session.exec(select(SupportRequest.id))
        free_while_reading = write_lock_is_free(path)
        await session.commit()  # the export commits after every page
        await session.exec(select(SupportRequest.id))
        free_after_a_commit = write_lock_is_free(path)
        digest = await support_digest(
            session, team_id=TEAM_ID, week_start=WEEK_48, settings=settings, now=deps.clock()
        )
        free_after_a_digest = write_lock_is_free(path)

    assert (free_while_reading, free_after_a_commit, free_after_a_digest) == (True, True, True)
    assert digest.this.filed == 0


async def test_a_read_only_block_reads_beside_a_writer_that_holds_the_lock(deps: Deps) -> None:
    path = sqlite_path(deps)
    with another_process(path) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO feedback_action (team_id, week_start, text, created_by, created_at) "
            "VALUES (?, '2026-11-23', 'uncommitted', 'U0ADMIN', '2026-11-24 00:00:00')",
            (TEAM_ID,),
        )

        async with deps.sessions() as session, read_only(session):
            seen = (await session.exec(select(FeedbackAction.text))).all()

        writer.execute("COMMIT")

    assert seen == []  # the writer's row was not committed yet; nothing waited


async def test_a_write_inside_a_read_only_block_is_refused(deps: Deps) -> None:
    async with deps.sessions() as session, read_only(session):
        session.add(an_action("not allowed here"))
        with pytest.raises(sa.exc.DBAPIError):
            await session.flush()

    async with deps.sessions() as session:
        assert (await session.exec(select(FeedbackAction))).all() == []


async def test_writes_after_a_read_only_block_take_the_write_lock_again(deps: Deps) -> None:
    async with deps.sessions() as session:
        async with read_only(session):
            await session.exec(select(SupportRequest.id))
        session.add(an_action("after the block"))
        await session.flush()
        if is_sqlite(deps.engine):
            assert not write_lock_is_free(sqlite_path(deps))
        await session.commit()

    async with deps.sessions() as session:
        assert (await session.exec(select(FeedbackAction.text))).all() == ["after the block"]


async def test_a_read_only_block_inside_a_transaction_joins_it(deps: Deps) -> None:
    async with deps.sessions() as session:
        session.add(an_action("pending"))
        await session.flush()

        async with read_only(session):
            seen = (await session.exec(select(FeedbackAction.text))).all()

        assert session.in_transaction()  # the block did not commit the caller's write
        await session.rollback()

    async with deps.sessions() as session:
        stored = (await session.exec(select(FeedbackAction))).all()
    assert (seen, stored) == (["pending"], [])


async def test_a_read_only_session_factory_never_takes_the_write_lock(deps: Deps) -> None:
    read_sessions = make_session_factory(deps.engine, read_only=True)
    await _store(deps, an_action("stored"))

    async with read_sessions() as session:
        texts = (await session.exec(select(FeedbackAction.text))).all()
        if is_sqlite(deps.engine):
            assert write_lock_is_free(sqlite_path(deps))
        session.add(an_action("refused"))
        with pytest.raises(sa.exc.DBAPIError):
            await session.flush()

    assert texts == ["stored"]
    async with deps.sessions() as session:
        count = (
            await session.exec(select(sa.func.count()).where(col(FeedbackAction.id).is_not(None)))
        ).one()
    assert count == 1


async def _store(deps: Deps, *rows: FeedbackAction) -> None:
    async with deps.sessions() as session:
        session.add_all(rows)
        await session.commit()
