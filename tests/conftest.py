"""Fixtures only: a real database, a fake Slack over HTTP, and the real app over HTTP.

What tests share besides fixtures (ids, helpers, the fake Slack itself) is in `tests/support/`.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt.async_app import AsyncApp

from bot.core.config import Settings
from bot.core.db import make_engine, upgrade
from bot.core.deps import Deps
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SIGNING_SECRET, SlackSender
from tests.support.installs import app_server, oauth_settings
from tests.support.workspace import (
    ADMIN,
    DEMANDGEN,
    DEMANDGEN_GROUP,
    GENERAL,
    INTAKE,
    MARKETER,
    REP,
    REP_OUTSIDER,
    SALES_GROUP,
    SUPPORT_GROUP,
    TEAM_ID,
    TEST_DATABASE_URL,
    FixedClock,
    configure,
    wipe_postgres,
)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session; each test then starts from a copy (SQLite) or a wipe (PG)."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"

    async def migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return url


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if TEST_DATABASE_URL:
        yield migrated_template
        return
    source = Path(migrated_template.removeprefix("sqlite:///"))
    target = tmp_path / "alignbot.db"
    shutil.copyfile(source, target)
    yield f"sqlite:///{target}"


@pytest.fixture
def clock() -> FixedClock:
    # Tuesday 24 November 2026, 15:00 UTC: a working afternoon in Europe and the US.
    return FixedClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(team_id=TEAM_ID)
    for user_id, name, admin in [
        (REP, "rita.rep", False),
        (REP_OUTSIDER, "sam.stranger", False),
        (MARKETER, "mia.marketing", False),
        (DEMANDGEN, "dan.demandgen", False),
        (ADMIN, "ada.admin", True),
    ]:
        fake.add_user(user_id, name=name, real_name=name.replace(".", " ").title(), is_admin=admin)
    fake.add_channel(INTAKE, name="mktg-intake")
    fake.add_channel(GENERAL, name="general")
    fake.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[REP])
    fake.add_usergroup(
        SUPPORT_GROUP, handle="mktg-support", name="Marketing Support", members=[MARKETER]
    )
    fake.add_usergroup(DEMANDGEN_GROUP, handle="demand-gen", name="Demand Gen", members=[DEMANDGEN])
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(fake_slack: FakeSlack, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test-token",  # type: ignore[arg-type]
        slack_signing_secret=SIGNING_SECRET,  # type: ignore[arg-type]
        slack_app_token=None,
        slack_api_url=fake_slack.url,
        database_url=database_url,
        scheduler_enabled=False,
    )


@pytest.fixture
async def deps(settings: Settings, clock: FixedClock) -> AsyncIterator[Deps]:
    if TEST_DATABASE_URL:
        await wipe_postgres(settings.database_url)
    deps = Deps.from_settings(settings, clock=clock)
    yield deps
    await deps.engine.dispose()


@pytest.fixture
async def slack(deps: Deps) -> AsyncIterator[SlackSender]:
    """The real Bolt app behind the real aiohttp server, on a free port; sends signed requests."""
    async with app_server(deps) as (base_url, _app):
        sender = SlackSender(f"{base_url}/slack/events")
        yield sender
        await sender.close()


@pytest.fixture
async def configured(deps: Deps) -> Deps:
    """A workspace with an intake channel and the three user groups, roster synced."""
    await configure(
        deps,
        intake_channel=INTAKE,
        sales_usergroup=SALES_GROUP,
        support_usergroup=SUPPORT_GROUP,
        demandgen_usergroup=DEMANDGEN_GROUP,
    )
    from bot.core.models import Role
    from bot.workspace.roster import replace_role_members

    async with deps.sessions() as session:
        for role, members in [
            (Role.SALES, [REP]),
            (Role.SUPPORT, [MARKETER]),
            (Role.DEMAND_GEN, [DEMANDGEN]),
        ]:
            await replace_role_members(
                session, team_id=TEAM_ID, role=role, user_ids=members, now=deps.clock()
            )
    return deps


@pytest.fixture
async def oauth_deps(fake_slack: FakeSlack, database_url: str, deps: Deps) -> AsyncIterator[Deps]:
    """Deps in OAuth mode on the test's database. `deps` wipes PostgreSQL between tests; these
    share its clock."""
    oauth = Deps.from_settings(oauth_settings(fake_slack, database_url), clock=deps.clock)
    yield oauth
    await oauth.engine.dispose()


@pytest.fixture
async def server(oauth_deps: Deps, fake_slack: FakeSlack) -> AsyncIterator[tuple[str, AsyncApp]]:
    """The app in OAuth mode behind the real aiohttp server: (its base URL, the Bolt app)."""
    async with app_server(oauth_deps) as running:
        yield running
