"""Bulk writing for the demo: rows buffered per table and inserted in chunks with core
executemany, parents before children, so a million-response workspace takes minutes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["BulkWriter", "Row"]

CHUNK: Final = 1000
Row = dict[str, Any]

# A child table's rows are only written after its parents' (foreign keys are enforced).
PARENTS: Final[dict[str, tuple[str, ...]]] = {
    "request_event": ("support_request",),
    "delivery_rating": ("support_request", "request_event"),
    "survey_delivery": ("survey_run",),
    "survey_response": ("survey_run",),
    "survey_response_history": ("survey_response",),
}


class BulkWriter:
    """Buffers rows per table and writes them with core executemany inserts in chunks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.buffers: dict[str, list[Row]] = defaultdict(list)
        self.written: dict[str, int] = defaultdict(int)

    @staticmethod
    def table(name: str) -> sa.Table:
        return SQLModel.metadata.tables[name]

    async def add(self, name: str, row: Row) -> None:
        buffer = self.buffers[name]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            await self.flush(name)

    async def flush(self, name: str) -> None:
        for parent in PARENTS.get(name, ()):
            await self.flush(parent)
        rows = self.buffers.pop(name, None)
        if not rows:
            return
        connection = await self.session.connection()
        await connection.execute(sa.insert(self.table(name)), rows)
        self.written[name] += len(rows)

    async def flush_all(self) -> None:
        for name in list(self.buffers):
            await self.flush(name)

    async def next_id(self, name: str) -> int:
        table = self.table(name)
        current = (
            await (await self.session.connection()).execute(sa.select(sa.func.max(table.c.id)))
        ).scalar()
        return int(current or 0) + 1

    async def fix_sequences(self, names: Sequence[str]) -> None:
        """PostgreSQL: move each serial past the ids assigned here, so later inserts work."""
        connection = await self.session.connection()
        if connection.dialect.name != "postgresql":
            return
        for name in names:
            await connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"GREATEST((SELECT MAX(id) FROM {name}), 1))"
                )
            )
