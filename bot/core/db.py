"""Engine, sessions and migrations; the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import logging
import os
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

READ_ONLY: Final = "alignbot_read_only"
"""Execution option marking a connection's transactions read-only (see `read_only`)."""


def async_database_url(url: str) -> str:
    """Map the URLs people write (sqlite:///x.db, postgres://…) to the async drivers we ship."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def dialect_insert(bind: AsyncSession | AsyncConnection) -> Any:
    """The dialect's own `insert` (SQLite's or PostgreSQL's), which has
    `on_conflict_do_nothing` / `on_conflict_do_update`: the one place that chooses it."""
    engine = bind.bind if isinstance(bind, AsyncSession) else bind
    dialect = engine.dialect.name if engine is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so two processes can share a file."""
    async_url = async_database_url(url)
    if async_url.startswith("sqlite"):
        engine = create_async_engine(
            async_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLAlchemy's BEGIN IMMEDIATE below owns transactions, not the sqlite3 module.
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the write lock at BEGIN: a deferred transaction that reads and then
            # writes fails with "database is locked" instead of waiting when another process
            # writes. Read-only transactions (`read_only`) start deferred, so they read beside
            # a writer (WAL) instead of holding the lock; `query_only` makes a write attempted
            # in one fail at once rather than, rarely, on a lock it could not upgrade.
            read_only = bool(conn.get_execution_options().get(READ_ONLY, False))
            state = conn.connection.info
            if state.get(READ_ONLY, False) != read_only:
                conn.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
                state[READ_ONLY] = read_only
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_async_engine(async_url, pool_pre_ping=True, **kwargs)


def read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (pool, events) whose transactions are read-only.

    SQLite: a plain deferred BEGIN under `PRAGMA query_only` instead of BEGIN IMMEDIATE, so a
    long KPI query never holds the write lock. PostgreSQL: `BEGIN READ ONLY` (reads there never
    block writers anyway; this only makes an accidental write fail). Writes inside fail on both.
    """
    options: dict[str, Any] = {READ_ONLY: True}
    if not is_sqlite(engine):
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def make_session_factory(engine: AsyncEngine, *, read_only: bool = False) -> SessionFactory:
    """Sessions on `engine`; with `read_only`, every transaction they begin is read-only
    (`read_only_engine`): for digests, exports and other read paths, never for claims."""
    bind = read_only_engine(engine) if read_only else engine
    maker = async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def sessions() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            yield session

    return sessions


@asynccontextmanager
async def read_only(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Run a block of reads in read-only transactions on an ordinary session.

    Every transaction the session begins inside the block is read-only (`read_only_engine`),
    including those after a `commit()` in it, so SQLite's write lock is not held while the
    block reads. When the session is already in a transaction (the caller wrote or read
    something not yet committed) the block simply joins it, as before. On leaving, the
    block's own transaction is committed (nothing to write; loaded objects stay loaded) or,
    after an error, rolled back, and the session's next transaction is an ordinary one:
    writes after the block take BEGIN IMMEDIATE again, so exactly-once claims are untouched.
    """
    sync_session = session.sync_session
    bind = sync_session.bind
    if session.in_transaction() or not isinstance(bind, sa.Engine):
        yield session
        return
    if bind.get_execution_options().get(READ_ONLY):
        yield session  # a read-only session factory's session already
        return
    options: dict[str, Any] = {READ_ONLY: True}
    if bind.dialect.name != "sqlite":
        options["postgresql_readonly"] = True
    sync_session.bind = bind.execution_options(**options)
    try:
        yield session
    except BaseException:
        sync_session.bind = bind
        await session.rollback()
        raise
    else:
        sync_session.bind = bind
        transaction = sync_session.get_transaction()
        if transaction is not None and not transaction.is_active:
            await session.rollback()  # a statement in the block failed and was handled there
        else:
            await session.commit()


P = ParamSpec("P")
R = TypeVar("R")


def reads_only(
    compute: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[R]]:
    """An entry point that does all its reading inside `read_only(session)`: on SQLite a
    digest, scorecard or export never holds the write lock while it computes."""

    async def entry(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with read_only(session):
            return await compute(session, *args, **kwargs)

    functools.update_wrapper(entry, compute)  # its name and docstring, for help() and logs
    return entry


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: sa.Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations; safe to call at every start-up and from several processes."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    return await connection.run_sync(_current_revision)


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception:
        logger.warning("database_ping_failed", exc_info=True)
        return False
    return True


def is_database_unavailable(error: BaseException | None) -> bool:
    """Whether a failure means the database is down, locked or unreachable (any backend),
    looking through the chain of causes: SQLAlchemy's connection errors, and the plain
    OSError or TimeoutError a driver lets through unwrapped while connecting (asyncpg's
    refused or reset connection), recognised by being raised from inside SQLAlchemy."""
    unavailable = (
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sa.exc.DisconnectionError,
        sa.exc.TimeoutError,
    )
    sqlalchemy_dir = os.path.dirname(sa.__file__) + os.sep
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, unavailable):
            return True
        if isinstance(error, OSError | TimeoutError) and any(
            frame.f_code.co_filename.startswith(sqlalchemy_dir)
            for frame, _line in traceback.walk_tb(error.__traceback__)
        ):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False
