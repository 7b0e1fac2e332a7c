"""Column types every table uses: aware UTC datetimes and VARCHAR-backed enums."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["UTCDateTime", "enum_column", "utc_column"]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass aware UTC datetimes to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum: type[StrEnum], *, nullable: bool = False, **kwargs: Any) -> Any:
    """A VARCHAR enum column that loads back as the Python enum (no native PG enum types)."""
    return sa.Column(
        sa.Enum(
            enum,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=lambda members: [member.value for member in members],
        ),
        nullable=nullable,
        **kwargs,
    )


def utc_column(*, nullable: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)
