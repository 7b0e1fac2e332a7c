"""`alignbot run` as a real process: start-up, config errors, health, Slack traffic, SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import create_app, create_web_app
from bot.core.config import Settings
from bot.core.deps import Deps
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SIGNING_SECRET, SlackSender
from tests.support.process import (
    alignbot,
    alignbot_async,
    bot_env,
    free_port,
    start_alignbot,
    wait_until_answering,
)
from tests.support.workspace import INTAKE, TEAM_ID


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"PORT": "http"}, "PORT"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line_naming_the_variable(
    tmp_path: Path, overrides: dict[str, str], variable: str
) -> None:
    env = bot_env(tmp_path, **overrides)
    if overrides.get("SLACK_BOT_TOKEN") == "":
        del env["SLACK_BOT_TOKEN"]
    if overrides.get("SLACK_SIGNING_SECRET") == "":
        del env["SLACK_SIGNING_SECRET"]

    result = alignbot("run", env=env, cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_config_set_and_get_from_the_command_line(tmp_path: Path) -> None:
    env = bot_env(tmp_path)

    set_result = alignbot(
        "config", "set", "intake_channel", INTAKE, "--team", TEAM_ID, env=env, cwd=tmp_path
    )
    get_result = alignbot("config", "get", "intake_channel", env=env, cwd=tmp_path)
    bad = alignbot("config", "set", "timezone", "Mars/Olympus", env=env, cwd=tmp_path)

    assert set_result.returncode == 0, set_result.stderr
    assert get_result.stdout.strip() == f"intake_channel={INTAKE}"
    assert bad.returncode == 2
    assert "time zone" in bad.stderr


@pytest.fixture
async def running_bot(
    tmp_path: Path, fake_slack: FakeSlack
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    port = free_port()
    env = bot_env(tmp_path, SLACK_API_URL=fake_slack.url, PORT=str(port))
    configured = alignbot(
        "config", "set", "intake_channel", INTAKE, "--team", TEAM_ID, env=env, cwd=tmp_path
    )
    assert configured.returncode == 0, configured.stderr
    process = await start_alignbot("run", env=env, cwd=tmp_path)
    await wait_until_answering(process, port)
    yield process, port
    if process.returncode is None:
        process.kill()
        await process.wait()


async def test_the_real_server_answers_health_checks_files_requests_and_stops_on_sigterm(
    running_bot: tuple[asyncio.subprocess.Process, int], fake_slack: FakeSlack
) -> None:
    process, port = running_bot
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as health,
    ):
        assert health.status == 200
        assert (await health.json())["database"] == "ok"

    response = await sender.command(
        "/mktg",
        "deck Acme Corp $250k due 2026-12-04 Renewal pitch",
        response_url=fake_slack.response_url(),
    )
    await sender.close()

    assert response.status == 200
    [post] = await fake_slack.wait_for("chat.postMessage", timeout=10)
    assert post.params["channel"] == INTAKE
    await fake_slack.wait_for("response_url", timeout=10)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), timeout=15) == 0


async def test_health_check_reports_503_when_the_database_does_not_answer(
    tmp_path: Path, fake_slack: FakeSlack, clock: object
) -> None:
    broken = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test-token",  # type: ignore[arg-type]
        slack_signing_secret=SIGNING_SECRET,  # type: ignore[arg-type]
        slack_api_url=fake_slack.url,
        database_url=f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}",
    )
    deps = Deps.from_settings(broken)
    web_app = create_web_app(create_app(deps), deps)
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(web_app)) as client:
        response = await client.get("/healthz")

        assert response.status == 503
        assert (await response.json())["database"] == "down"
    await deps.engine.dispose()


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = bot_env(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")

    result = alignbot("db", "upgrade", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def job_claims(tmp_path: Path) -> list[str]:
    """The jobs some process has claimed a period of, read straight from the bot's SQLite file."""
    with contextlib.closing(sqlite3.connect(tmp_path / "e2e.db")) as database:
        return [job for (job,) in database.execute("SELECT job FROM job_claim")]


async def test_web_and_jobs_roles_split_the_bot_into_two_processes_on_one_database(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """`--role web` answers Slack and runs no job; `--role jobs` runs the schedule (here the
    surveys tick that opens the week's runs) and serves no HTTP; both stop on SIGTERM."""
    web_port, jobs_port = free_port(), free_port()
    env = bot_env(tmp_path, SLACK_API_URL=fake_slack.url)
    await alignbot_async(
        "config", "set", "sales_usergroup", "S0SALES", "--team", TEAM_ID, env=env, cwd=tmp_path
    )
    await alignbot_async(
        "config", "set", "intake_channel", INTAKE, "--team", TEAM_ID, env=env, cwd=tmp_path
    )
    web = await start_alignbot(
        "run", "--role", "web", env={**env, "PORT": str(web_port)}, cwd=tmp_path
    )
    await wait_until_answering(web, web_port)
    sender = SlackSender(f"http://127.0.0.1:{web_port}/slack/events")
    response = await sender.command("/mktg", "deck Acme Corp $250k Renewal pitch")
    await sender.close()
    assert response.status == 200
    await fake_slack.wait_for("chat.postMessage", timeout=10)
    assert job_claims(tmp_path) == []  # the web process started no scheduled job

    jobs = await start_alignbot(
        "run", "--role", "jobs", env={**env, "PORT": str(jobs_port)}, cwd=tmp_path
    )
    for _ in range(600):
        if "surveys" in job_claims(tmp_path):
            break
        await asyncio.sleep(0.05)
    assert "surveys" in job_claims(tmp_path)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{jobs_port}/healthz")

    for process in (web, jobs):
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0


def test_jobs_list_shows_the_schedule(tmp_path: Path) -> None:
    result = alignbot("jobs", "list", env=bot_env(tmp_path), cwd=tmp_path)

    assert "roster-sync" in result.stdout
    assert "surveys" in result.stdout


async def test_an_operator_runs_the_survey_job_as_if_at_a_given_time(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = bot_env(tmp_path, SLACK_API_URL=fake_slack.url)
    await alignbot_async(
        "config", "set", "sales_usergroup", "S0SALES", "--team", TEAM_ID, env=env, cwd=tmp_path
    )
    await alignbot_async("jobs", "run", "roster-sync", env=env, cwd=tmp_path)

    code, out, err = await alignbot_async(
        "jobs", "run", "surveys", "--at", "2026-11-23T15:05:00Z", env=env, cwd=tmp_path
    )
    again = await alignbot_async(
        "jobs", "run", "surveys", "--at", "2026-11-23T15:10:00Z", env=env, cwd=tmp_path
    )

    assert code == 0, err
    assert again[0] == 0
    assert "surveys done at 2026-11-23T15:05:00+00:00" in out
    dms = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.ok and "Weekly pulse" in str(c.params.get("text"))
    ]
    assert len(dms) == 2  # the one sales rep, both surveys, once


def test_a_quota_is_set_from_the_command_line(tmp_path: Path) -> None:
    result = alignbot(
        "quota", "2026-Q4", "$4m", "--team", TEAM_ID, env=bot_env(tmp_path), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "Quota for 2026-Q4 (whole team): $4,000,000" in result.stdout
