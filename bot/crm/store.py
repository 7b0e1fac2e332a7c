"""Writing imported rows: batched upserts that work on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.db import dialect_insert

__all__ = ["BATCH_ROWS", "chunks", "upsert"]

# trip short, while 100k rows still take only 200 statements.
BATCH_ROWS: Final = 500


async def upsert(
    session: AsyncSession,
    table: type[SQLModel],
    rows: Sequence[dict[str, object]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert-or-update in batches: one statement per BATCH_ROWS rows, on both backends, and
    safe if another import writes the same keys at the same time."""
    if not rows:
        return
    connection = await session.connection()
    statement = dialect_insert(connection)(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )
    for start in range(0, len(rows), BATCH_ROWS):
        await connection.execute(statement, list(rows[start : start + BATCH_ROWS]))


def chunks(items: Sequence[Any], size: int = BATCH_ROWS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
