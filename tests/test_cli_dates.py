"""Dates typed at `alignbot` are the workspace's dates, and times it prints are on its clock.

Each test runs the real command line in a child process against a real SQLite file, for a
workspace west of UTC (New York) and one far east of it (Auckland, UTC+13 in summer).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from bot.core.db import make_engine, make_session_factory
from bot.core.models import RequestStatus, SupportRequest
from bot.requests.types import RequestType
from tests.support.process import alignbot, bot_env

NEW_YORK = "America/New_York"
AUCKLAND = "Pacific/Auckland"
TEAM = "T0DATES"
_numbers = itertools.count(1)


def workspace(tmp_path: Path, zone: str, team: str = TEAM, **settings: str) -> dict[str, str]:
    """A workspace in `zone`, created the way an operator would: through `alignbot config`."""
    env = bot_env(tmp_path)
    for key, value in {"timezone": zone, **settings}.items():
        done = alignbot("config", "set", key, value, "--team", team, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    return env


def store(env: dict[str, str], *requests: SupportRequest) -> None:
    async def write() -> None:
        engine = make_engine(env["DATABASE_URL"])
        async with make_session_factory(engine)() as session:
            session.add_all(requests)
            await session.commit()
        await engine.dispose()

    asyncio.run(write())


def details_of(env: dict[str, str], account: str) -> str | None:
    async def read() -> str | None:
        engine = make_engine(env["DATABASE_URL"])
        async with make_session_factory(engine)() as session:
            found = (
                await session.exec(select(SupportRequest).where(SupportRequest.account == account))
            ).one()
        await engine.dispose()
        return found.details

    return asyncio.run(read())


def a_request(
    account: str,
    *,
    at: datetime,
    team: str = TEAM,
    status: RequestStatus = RequestStatus.OPEN,
    delivered_at: datetime | None = None,
) -> SupportRequest:
    number = next(_numbers)
    return SupportRequest(
        team_id=team,
        number=number,
        request_type=RequestType.DEAL_DECK,
        status=status,
        account=account,
        details=f"Deck for {account}",
        requester_id="U0REP",
        source="command",
        source_key=f"cli-dates-{number}",
        created_at=at,
        updated_at=at,
        delivered_at=delivered_at,
    )


def utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# --- digest --week ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "typed", "week"),
    [
        # Midnight UTC of Monday 23 Nov is still Sunday evening in New York: W47 by accident.
        (NEW_YORK, "2026-11-23", "2026-W48"),
        (NEW_YORK, "2026-11-29", "2026-W48"),  # the Sunday ending that week
        (NEW_YORK, "2026-11-30", "2026-W49"),
        (AUCKLAND, "2026-11-23", "2026-W48"),
        (AUCKLAND, "2026-11-29", "2026-W48"),
        (AUCKLAND, "2026-11-30", "2026-W49"),
    ],
)
def test_digest_week_is_the_week_of_that_local_date(
    tmp_path: Path, zone: str, typed: str, week: str
) -> None:
    env = workspace(tmp_path, zone)

    result = alignbot("digest", "--week", typed, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"Marketing Support · {week}" in result.stdout
    assert f"Demand Gen · {week}" in result.stdout


def test_digest_counts_requests_filed_in_the_local_week(tmp_path: Path) -> None:
    env = workspace(tmp_path, NEW_YORK)
    store(
        env,
        # Sunday 22 Nov 21:00 in New York: the week before, though Monday in UTC.
        a_request("Before", at=utc(2026, 11, 23, 2)),
        # Sunday 29 Nov 21:00 in New York: still this week, though Monday in UTC.
        a_request("Last evening", at=utc(2026, 11, 30, 2)),
        a_request("Midweek", at=utc(2026, 11, 25, 15)),
    )

    result = alignbot("digest", "--week", "2026-11-23", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    # This week: the midweek request and Sunday evening's; last week: Sunday evening's before.
    assert "Filed: 2 (▲ 1 vs last week)" in result.stdout


def test_a_week_that_is_not_a_date_is_refused_in_one_line(tmp_path: Path) -> None:
    env = workspace(tmp_path, NEW_YORK)

    result = alignbot("digest", "--week", "last tuesday", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "--week 'last tuesday' is not a date like 2026-11-23" in result.stderr
    assert "Traceback" not in result.stderr


# --- export --from/--to and quarters -----------------------------------------------------------


def exported_accounts(path: Path) -> set[str]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    return {
        str(value)
        for row in workbook["Requests"].iter_rows(values_only=True)
        for value in row
        if isinstance(value, str)
    }


@pytest.mark.parametrize(
    ("zone", "start", "end", "inside", "outside"),
    [
        # New York (UTC-4 then -5): 1 Oct starts at 04:00 UTC, 31 Oct ends at 04:00 UTC on 1 Nov.
        (
            NEW_YORK,
            "2026-10-01",
            "2026-10-31",
            [utc(2026, 10, 1, 5), utc(2026, 11, 1, 3)],
            [utc(2026, 10, 1, 3), utc(2026, 11, 1, 5)],
        ),
        # Auckland (UTC+13): 1 Oct starts at 11:00 UTC on 30 Sep, 31 Oct ends at 11:00 UTC.
        (
            AUCKLAND,
            "2026-10-01",
            "2026-10-31",
            [utc(2026, 9, 30, 12), utc(2026, 10, 31, 10)],
            [utc(2026, 9, 30, 10), utc(2026, 10, 31, 12)],
        ),
        # A quarter typed as --from alone is the whole local quarter.
        (
            AUCKLAND,
            "2026-Q4",
            None,
            [utc(2026, 9, 30, 12), utc(2026, 12, 31, 10)],
            [utc(2026, 9, 30, 10), utc(2026, 12, 31, 12)],
        ),
    ],
)
def test_export_covers_the_local_days_typed(
    tmp_path: Path,
    zone: str,
    start: str,
    end: str | None,
    inside: list[datetime],
    outside: list[datetime],
) -> None:
    env = workspace(tmp_path, zone)
    store(
        env,
        *(a_request(f"In {i}", at=at) for i, at in enumerate(inside)),
        *(a_request(f"Out {i}", at=at) for i, at in enumerate(outside)),
    )
    out = tmp_path / "export.xlsx"

    bounds = ["--from", start] + (["--to", end] if end else [])
    result = alignbot("export", *bounds, "--out", str(out), env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    last = end or "2026-12-31"
    assert f"(2026-10-01 to {last};" in result.stdout
    accounts = exported_accounts(out)
    assert {f"In {i}" for i in range(len(inside))} <= accounts
    assert not {f"Out {i}" for i in range(len(outside))} & accounts


@pytest.mark.parametrize("zone", [NEW_YORK, AUCKLAND])
def test_scorecard_quarter_is_the_quarter_typed(tmp_path: Path, zone: str) -> None:
    env = workspace(tmp_path, zone)

    result = alignbot("scorecard", "--quarter", "2026-Q4", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "scorecard · 2026-Q4" in result.stdout


# --- --at -----------------------------------------------------------------------------------


def delivered(account: str, at: datetime, team: str = TEAM) -> SupportRequest:
    return a_request(account, at=at, team=team, status=RequestStatus.DELIVERED, delivered_at=at)


@pytest.mark.parametrize(
    ("zone", "typed", "shown", "kept", "erased"),
    [
        # 10:00 in New York is 15:00 UTC; with 30 days kept, text written before
        # 4 Nov 15:00 UTC goes. Read as UTC, the 12:00 request would have stayed.
        (
            NEW_YORK,
            "2026-12-04T10:00",
            "2026-12-04T10:00:00-05:00",
            utc(2026, 11, 4, 16),
            utc(2026, 11, 4, 12),
        ),
        # 10:00 in Auckland is 21:00 UTC the day before; read as UTC, the 05:00 request would
        # have been erased.
        (
            AUCKLAND,
            "2026-12-04T10:00",
            "2026-12-04T10:00:00+13:00",
            utc(2026, 11, 4, 5),
            utc(2026, 11, 3, 20),
        ),
        # An explicit offset keeps its meaning, and is shown on the workspace's clock.
        (
            AUCKLAND,
            "2026-12-04T10:00:00Z",
            "2026-12-04T23:00:00+13:00",
            utc(2026, 11, 4, 11),
            utc(2026, 11, 4, 9),
        ),
    ],
)
@pytest.mark.parametrize("command", [("retention", "run"), ("jobs", "run", "retention")])
def test_at_without_an_offset_is_the_workspace_wall_clock(
    tmp_path: Path,
    command: tuple[str, ...],
    zone: str,
    typed: str,
    shown: str,
    kept: datetime,
    erased: datetime,
) -> None:
    env = workspace(tmp_path, zone, retention_days="30")
    store(env, delivered("Kept", kept), delivered("Erased", erased))

    result = alignbot(*command, "--at", typed, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert shown in result.stdout
    assert details_of(env, "Kept") == "Deck for Kept"
    assert details_of(env, "Erased") is None


def test_retention_reads_a_local_at_on_each_workspaces_own_clock(tmp_path: Path) -> None:
    env = workspace(tmp_path, NEW_YORK, retention_days="30")
    workspace(tmp_path, AUCKLAND, team="T0AKL", retention_days="30")
    # Both written 4 Nov 12:00 UTC: New York's 4 Dec 10:00 is 15:00 UTC (erase), Auckland's is
    # 21:00 UTC on 3 Dec (keep).
    store(
        env,
        delivered("New York", utc(2026, 11, 4, 12)),
        delivered("Auckland", utc(2026, 11, 4, 12), team="T0AKL"),
    )

    result = alignbot("retention", "run", "--at", "2026-12-04T10:00", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert details_of(env, "New York") is None
    assert details_of(env, "Auckland") == "Deck for Auckland"


def test_a_job_for_workspaces_in_several_zones_needs_an_offset(tmp_path: Path) -> None:
    env = workspace(tmp_path, NEW_YORK)
    workspace(tmp_path, AUCKLAND, team="T0AKL")

    local = alignbot("jobs", "run", "retention", "--at", "2026-12-04T10:00", env=env, cwd=tmp_path)
    exact = alignbot("jobs", "run", "retention", "--at", "2026-12-04T10:00Z", env=env, cwd=tmp_path)

    assert local.returncode == 2
    assert "different time zones" in local.stderr
    assert "2026-12-04T10:00Z" in local.stderr
    assert exact.returncode == 0, exact.stderr
    assert "retention done at 2026-12-04T10:00:00+00:00" in exact.stdout
