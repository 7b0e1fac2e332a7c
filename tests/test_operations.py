"""Operating it: readiness, JSON logs, per-period job claims, graceful stop, token check."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app, create_web_app, make_client
from bot.core.claims import period_key, spread_offset
from bot.core.config import JsonLogFormatter
from bot.core.db import head_revision
from bot.core.deps import Deps
from bot.core.models import JobClaim
from jobs.clients import SingleTokenClients
from jobs.scheduler import JobScheduler, run_scheduled
from sandbox.fakeslack import FakeSlack
from tests.support.process import ROOT, alignbot_async, bot_env, free_port, start_alignbot
from tests.support.workspace import TEAM_ID, TEST_DATABASE_URL, configure

TUESDAY = datetime(2026, 11, 24, 15, 7, tzinfo=UTC)


@pytest.fixture
async def http(deps: Deps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(create_web_app(create_app(deps), deps))) as client:
        yield client


async def test_ready_when_the_database_is_at_the_code_migration_head(
    http: TestClient,  # type: ignore[type-arg]
) -> None:
    response = await http.get("/readyz")

    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": head_revision(),
    }


async def test_not_ready_while_migrations_are_behind_and_says_what_to_run(
    http: TestClient,  # type: ignore[type-arg]
    deps: Deps,
) -> None:
    async with deps.engine.begin() as connection:
        await connection.execute(sa.text("UPDATE alembic_version SET version_num = '0004'"))
    try:
        response = await http.get("/readyz")
        health = await http.get("/healthz")
    finally:
        async with deps.engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :head"),
                {"head": head_revision()},
            )

    assert response.status == 503
    assert "alignbot db upgrade" in (await response.json())["migrations"]
    assert health.status == 200  # alive, just not ready


def test_json_logs_are_one_object_a_line_with_event_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    log = logging.getLogger("alignbot.test.json")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("request_filed ref=%s team=%s", "MS-12", "T1")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("job_crashed job=%s", "surveys")
    finally:
        log.removeHandler(handler)

    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line[:1] == "{")
    assert first["event"] == "request_filed"
    assert (first["ref"], first["team"], first["level"]) == ("MS-12", "T1", "WARNING")
    assert second["event"] == "job_crashed"
    assert "ValueError: boom" in second["exception"]


@pytest.mark.parametrize(
    ("moment", "minutes", "expected"),
    [
        (datetime(2026, 11, 24, 15, 7, tzinfo=UTC), 15, "2026-11-24T15:00"),
        (datetime(2026, 11, 24, 15, 29, 59, tzinfo=UTC), 30, "2026-11-24T15:00"),
        (datetime(2026, 11, 24, 15, 30, tzinfo=UTC), 30, "2026-11-24T15:30"),
        (datetime(2026, 11, 24, 23, 59, tzinfo=UTC), 24 * 60, "2026-11-24T00:00"),
    ],
)
def test_job_periods_are_aligned_to_the_clock(
    moment: datetime, minutes: int, expected: str
) -> None:
    assert period_key(moment, minutes) == expected


async def test_a_period_already_claimed_by_another_replica_is_skipped(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    await configure(deps, sales_usergroup="S0SALES")
    other = Deps.from_settings(deps.settings, clock=deps.clock)

    await asyncio.gather(
        run_scheduled(deps, SingleTokenClients(make_client(deps)), "roster-sync", TUESDAY),
        run_scheduled(other, SingleTokenClients(make_client(other)), "roster-sync", TUESDAY),
    )
    await run_scheduled(deps, SingleTokenClients(make_client(deps)), "roster-sync", TUESDAY)
    await other.engine.dispose()

    assert len(fake_slack.calls_to("usergroups.users.list")) == 1  # one group, once
    async with deps.sessions() as session:
        claims = (await session.exec(sa.select(JobClaim.claimed_by))).all()  # type: ignore[call-overload]
    assert len(claims) == 1


async def test_the_next_period_runs_again(deps: Deps, fake_slack: FakeSlack) -> None:
    await configure(deps, sales_usergroup="S0SALES")
    clients = SingleTokenClients(make_client(deps))

    await run_scheduled(deps, clients, "roster-sync", TUESDAY)
    await run_scheduled(deps, clients, "roster-sync", TUESDAY.replace(minute=31))
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1  # once a day

    await run_scheduled(deps, clients, "roster-sync", TUESDAY + timedelta(days=1))
    assert len(fake_slack.calls_to("usergroups.users.list")) == 2


async def test_a_daily_job_serves_each_workspace_from_its_own_point_in_the_day(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    """Roster sync is daily per workspace, each from a fixed offset into the UTC day (so a
    thousand workspaces do not all sync at midnight); the day's last tick serves everyone."""
    await configure(deps, sales_usergroup="S0SALES")
    clients = SingleTokenClients(make_client(deps))
    midnight = TUESDAY.replace(hour=0, minute=0)
    offset = spread_offset("roster-sync", TEAM_ID, period_minutes=24 * 60, tick_minutes=30)
    assert offset < timedelta(hours=23, minutes=30)

    if offset > timedelta(0):
        await run_scheduled(deps, clients, "roster-sync", midnight + offset - timedelta(minutes=1))
        assert fake_slack.calls_to("usergroups.users.list") == []
    await run_scheduled(deps, clients, "roster-sync", midnight + offset)
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1
    await run_scheduled(deps, clients, "roster-sync", midnight + timedelta(hours=23, minutes=30))
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1

    offsets = {
        spread_offset("roster-sync", f"T{n:05d}", period_minutes=24 * 60, tick_minutes=30)
        for n in range(1000)
    }
    assert len({offset // timedelta(hours=1) for offset in offsets}) == 24  # spread over the day


async def test_a_graceful_stop_lets_a_short_job_finish_and_cancels_a_stuck_one(
    deps: Deps,
) -> None:
    scheduler = JobScheduler(deps, SingleTokenClients(make_client(deps)))
    finished: list[str] = []

    async def short() -> None:
        await asyncio.sleep(0.05)
        finished.append("short")

    async def stuck() -> None:
        await asyncio.sleep(3600)
        finished.append("stuck")

    tasks = [asyncio.create_task(short()), asyncio.create_task(stuck())]
    scheduler.running.update(tasks)

    await scheduler.shutdown_gracefully(0.5)

    assert finished == ["short"]
    assert tasks[1].cancelled()


@pytest.mark.skipif(TEST_DATABASE_URL is not None, reason="start-up check, database-agnostic")
async def test_a_token_slack_refuses_stops_start_up_with_one_line(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = bot_env(
        tmp_path,
        SLACK_API_URL=fake_slack.url,
        SLACK_BOT_TOKEN="xoxb-revoked-token",
        PORT=str(free_port()),
    )

    code, _out, err = await alignbot_async("run", env=env, cwd=tmp_path)

    assert code == 2
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in err
    assert "Traceback" not in err


async def test_sigterm_while_idle_stops_at_once(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    env = bot_env(tmp_path, SLACK_API_URL=fake_slack.url, PORT=str(port), LOG_FORMAT="json")
    process = await start_alignbot("run", env=env, cwd=tmp_path)
    assert process.stdout is not None
    while b"listening" not in (line := await asyncio.wait_for(process.stdout.readline(), 30)):
        assert line, "alignbot run exited before listening"
    json.loads(line)  # LOG_FORMAT=json: every line is an object

    process.send_signal(signal.SIGTERM)
    output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()

    assert process.returncode == 0
    assert '"event": "stopped"' in output


async def test_a_fresh_copy_of_env_example_names_the_variable_to_fill(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    env = {
        key: value
        for key, value in bot_env(tmp_path).items()
        if not key.startswith(("SLACK_", "DATABASE_URL"))
    }

    code, _out, err = await alignbot_async("run", env=env, cwd=tmp_path)

    assert code == 2
    assert err.startswith("alignbot: SLACK_BOT_TOKEN is not set")


async def test_the_daily_job_forgets_old_event_ids_and_job_claims_only(deps: Deps) -> None:
    from datetime import timedelta

    from bot.core.claims import claim_job_period, first_delivery_of_event
    from bot.core.models import SlackEvent
    from jobs.retention import run_team_retention

    await configure(deps)
    long_ago = TUESDAY - timedelta(days=40)
    async with deps.sessions() as session:
        await first_delivery_of_event(session, event_id="EvOLD", team_id=TEAM_ID, now=long_ago)
        await first_delivery_of_event(session, event_id="EvNEW", team_id=TEAM_ID, now=TUESDAY)
        await claim_job_period(session, job="surveys", team_id=TEAM_ID, period="old", now=long_ago)
        await claim_job_period(session, job="surveys", team_id=TEAM_ID, period="new", now=TUESDAY)

    await run_team_retention(deps, None, team_id=TEAM_ID, now=TUESDAY)

    async with deps.sessions() as session:
        events = (await session.exec(sa.select(SlackEvent.event_id))).all()  # type: ignore[call-overload]
        periods = (await session.exec(sa.select(JobClaim.period_key))).all()  # type: ignore[call-overload]
        replayed = await first_delivery_of_event(
            session, event_id="EvNEW", team_id=TEAM_ID, now=TUESDAY
        )
    assert [row[0] for row in events] == ["EvNEW"]
    assert [row[0] for row in periods] == ["new"]
    assert replayed is False  # a recent event is still recognised
