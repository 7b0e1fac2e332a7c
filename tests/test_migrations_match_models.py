"""The migrations build exactly the schema the code declares, and the install tables slack_sdk's
stores expect: a model change without its migration (or the reverse) fails here."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlmodel import SQLModel

import bot.core.models  # noqa: F401  (registers the tables)
from bot.core.deps import Deps
from tests.support.workspace import OAUTH_TABLES


def _table_name(change: Any) -> str | None:
    item = change[0] if isinstance(change, list) else change
    for part in item[1:]:
        if isinstance(part, sa.Table):
            return part.name
        table = getattr(part, "table", None)
        if isinstance(table, sa.Table):
            return table.name
        if isinstance(part, str):
            return part
    return None


async def test_migrated_schema_matches_the_models(deps: Deps) -> None:
    async with deps.engine.connect() as connection:
        changes = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )

    unexplained = [change for change in changes if _table_name(change) not in OAUTH_TABLES]
    assert unexplained == []


async def test_install_tables_have_every_column_slack_sdk_uses(deps: Deps) -> None:
    expected = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(expected, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(expected, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(expected, "slack_oauth_states")

    async with deps.engine.connect() as connection:
        actual = await connection.run_sync(
            lambda sync: {
                name: {column["name"] for column in sa.inspect(sync).get_columns(name)}
                for name in OAUTH_TABLES
            }
        )

    assert actual == {
        name: {column.name for column in table.columns} for name, table in expected.tables.items()
    }
