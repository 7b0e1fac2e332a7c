"""The test workspace: its ids, the test database, a clock tests move, and setting it up.

Every test's Slack workspace has the same people, channels and user groups (the fake Slack in
`conftest.fake_slack` is built from these ids); `configure` stores workspace settings the way
an admin would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.core.db import make_engine
from bot.core.deps import Deps
from bot.workspace.installs import ensure_workspace
from bot.workspace.settings import save_settings

TEAM_ID = "T0TEAM"
REP = "U0REP"
REP_OUTSIDER = "U0STRANGER"
MARKETER = "U0MKT"
DEMANDGEN = "U0DG"
ADMIN = "U0ADMIN"
INTAKE = "C0INTAKE"
GENERAL = "C0GENERAL"
SALES_GROUP = "S0SALES"
SUPPORT_GROUP = "S0SUPPORT"
DEMANDGEN_GROUP = "S0DEMAND"

TEST_DATABASE_URL = os.environ.get("ALIGNBOT_TEST_DATABASE_URL")
# slack_sdk's installation and state stores: created by our migrations, not in SQLModel's metadata.
OAUTH_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


@dataclass
class FixedClock:
    """Time that moves only when a test says so."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def wipe_postgres(url: str) -> None:
    """Empty every table of the PostgreSQL test database (ours and slack_sdk's)."""
    engine = make_engine(url)
    names = [table.name for table in SQLModel.metadata.sorted_tables] + list(OAUTH_TABLES)
    tables = ", ".join(f'"{name}"' for name in names)
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def configure(deps: Deps, team_id: str = TEAM_ID, **changes: Any) -> None:
    """Store workspace settings directly, as an admin would with /align settings."""
    async with deps.sessions() as session:
        await ensure_workspace(session, team_id=team_id, enterprise_id=None, now=deps.clock())
        await save_settings(
            session, team_id=team_id, changes=changes, updated_by=ADMIN, now=deps.clock()
        )
