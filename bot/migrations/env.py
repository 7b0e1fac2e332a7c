"""Alembic environment: runs on the connection bot.core.db hands it (async engines via run_sync)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.core.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `alignbot db upgrade`, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
