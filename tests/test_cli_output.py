"""What `alignbot` prints: answers without migration noise, Slack mrkdwn made readable, and
`jobs run NAME --team T` for one workspace of several.

The renderer is tested on its own; the commands through the real command line in a child
process (as in tests/test_cli_dates.py), against a real SQLite file, with LOG_LEVEL=INFO.
"""

from __future__ import annotations

import asyncio
import os
import pty
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.blocks.common import context, divider, header, section
from bot.blocks.terminal import BOLD, ITALIC, RESET, blocks_to_terminal, mrkdwn_to_terminal
from bot.core.db import make_engine, make_session_factory
from bot.core.models import RequestStatus, SupportRequest
from bot.requests.types import RequestType
from tests.support.process import alignbot, alignbot_command, bot_env

TEAM = "T0OUTPUT"
OTHER = "T0OTHER"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MRKDWN_BOLD = re.compile(r"(?<![\w*])\*\S[^*\n]*\*(?![\w*])")

# --- the renderer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrkdwn", "plain", "ansi"),
    [
        ("*Bonus attainment: 87%*", "Bonus attainment: 87%", f"{BOLD}Bonus attainment: 87%{RESET}"),
        (
            "• *Deal deck* (30%): done _(incomplete)_",
            "• Deal deck (30%): done (incomplete)",
            f"• {BOLD}Deal deck{RESET} (30%): done {ITALIC}(incomplete){RESET}",
        ),
        ("2 * 3 * 4 and snake_case_name", "2 * 3 * 4 and snake_case_name", None),
        ("~gone~ and `▂▅▂` trend", "gone and ▂▅▂ trend", None),
    ],
)
def test_emphasis_is_ansi_at_a_terminal_and_plain_elsewhere(
    mrkdwn: str, plain: str, ansi: str | None
) -> None:
    assert mrkdwn_to_terminal(mrkdwn, ansi=False) == plain
    assert mrkdwn_to_terminal(mrkdwn, ansi=True) == (ansi or plain)


@pytest.mark.parametrize(
    ("mrkdwn", "shown"),
    [
        ("due <!date^1764806400^{date_short_pretty}|Fri, Dec 4>", "due Fri, Dec 4"),
        ("<!date^1764806400^{date}>", "1764806400"),
        ("<@U0REP> asked", "@U0REP asked"),
        ("in <#C0INTAKE|mktg-intake> or <#C0OTHER>", "in #mktg-intake or #C0OTHER"),
        ("<!subteam^S0SALES|@sales> and <!here>", "@sales and @here"),
        (
            "<https://x.test/deck|the deck>, <https://x.test/a>",
            "the deck (https://x.test/deck), https://x.test/a",
        ),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        # Typed by a person and escaped: shown as typed, never taken for a mention or bold.
        ("&lt;@U0ADMIN&gt; &amp;lt;", "<@U0ADMIN> &lt;"),
    ],
)
def test_slacks_special_forms_are_shown_as_slack_shows_them(mrkdwn: str, shown: str) -> None:
    assert mrkdwn_to_terminal(mrkdwn, ansi=False) == shown


def test_blocks_become_lines_with_bold_headers_only_at_a_terminal() -> None:
    blocks = [
        header("Marketing Support · 2026-W49"),
        section("*Filed*: 4", fields=["*Open now*\n5", "*Overdue*\n1"]),
        divider(),
        context("as of <!date^1764806400^{date_short}|Dec 4>"),
    ]

    plain = blocks_to_terminal(blocks, ansi=False)
    bold = blocks_to_terminal(blocks, ansi=True)

    assert plain.splitlines() == [
        "",
        "== Marketing Support · 2026-W49 ==",
        "Filed: 4",
        "  Open now: 5",
        "  Overdue: 1",
        "-" * 40,
        "  as of Dec 4",
    ]
    assert f"== {BOLD}Marketing Support · 2026-W49{RESET} ==" in bold
    assert ANSI.sub("", bold) == plain


# --- one-shot commands -----------------------------------------------------------------------


def a_request(account: str, number: int, *, team: str = TEAM) -> SupportRequest:
    at = datetime.now(UTC)
    return SupportRequest(
        team_id=team,
        number=number,
        request_type=RequestType.DEAL_DECK,
        status=RequestStatus.OPEN,
        account=account,
        details=f"Deck for {account}",
        requester_id="U0REP",
        source="command",
        source_key=f"cli-output-{team}-{number}",
        created_at=at,
        updated_at=at,
    )


def workspace(tmp_path: Path, team: str = TEAM, **settings: str) -> dict[str, str]:
    env = bot_env(tmp_path)
    for key, value in {"timezone": "America/New_York", **settings}.items():
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


def details(env: dict[str, str]) -> dict[str, str | None]:
    async def read() -> dict[str, str | None]:
        engine = make_engine(env["DATABASE_URL"])
        async with make_session_factory(engine)() as session:
            found = (await session.exec(select(SupportRequest))).all()
        await engine.dispose()
        return {request.account or "": request.details for request in found}

    return asyncio.run(read())


def at_a_terminal(*args: str, env: dict[str, str], cwd: Path) -> str:
    """What `alignbot ARGS` shows when its stdout is a terminal (a pseudo-terminal here)."""
    reader, writer = pty.openpty()
    try:
        done = subprocess.run(
            alignbot_command(*args),
            env=env,
            cwd=cwd,
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    chunks = []
    while True:
        try:
            chunk = os.read(reader, 65536)
        except OSError:  # EIO: the terminal's other end is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(reader)
    assert done.returncode == 0, done.stderr
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize(
    "command",
    [
        ("config", "get", "timezone"),
        ("config", "set", "retention_days", "90"),
        ("digest",),
        ("scorecard",),
        ("export", "--out", "out.xlsx"),
        ("goals", "list"),
    ],
)
def test_one_shot_commands_print_no_migration_lines(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = bot_env(tmp_path)  # LOG_LEVEL=INFO, and a database not migrated yet
    created = alignbot("config", "set", "timezone", "UTC", "--team", TEAM, env=env, cwd=tmp_path)

    result = alignbot(*command, env=env, cwd=tmp_path)

    assert created.returncode == 0, created.stderr
    assert "alembic" not in created.stderr  # migrating the new database said nothing
    assert result.returncode == 0, result.stderr
    assert "alembic" not in result.stderr


def test_importing_prints_its_report_and_no_migration_lines(tmp_path: Path) -> None:
    env = workspace(tmp_path)
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("Quarter,Quota\n2026-Q4,4000000\n")

    result = alignbot("import", "quotas", str(quotas), env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip()
    assert "alembic" not in result.stderr


def test_db_upgrade_and_the_server_keep_their_migration_lines(tmp_path: Path) -> None:
    result = alignbot("db", "upgrade", env=bot_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "alembic.runtime.migration" in result.stderr
    assert "Running upgrade" in result.stderr


def test_demo_prints_slack_text_readably_into_a_file(tmp_path: Path) -> None:
    env = bot_env(tmp_path)

    result = alignbot("demo", "--database", str(tmp_path / "demo.db"), env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "alembic" not in result.stderr
    assert "Bonus attainment" in result.stdout
    assert MRKDWN_BOLD.findall(result.stdout) == []
    assert "\x1b[" not in result.stdout  # not a terminal: no escape codes in the file
    for form in ("<!date^", "<@U", "<#C", "&lt;", "&amp;"):
        assert form not in result.stdout


def test_digest_and_scorecard_are_bold_at_a_terminal_and_plain_in_a_pipe(tmp_path: Path) -> None:
    env = workspace(tmp_path)
    store(env, a_request("Acme", 1), a_request("Globex", 2))

    piped = {name: alignbot(name, env=env, cwd=tmp_path).stdout for name in ("digest", "scorecard")}
    shown = {name: at_a_terminal(name, env=env, cwd=tmp_path) for name in ("digest", "scorecard")}

    for name in ("digest", "scorecard"):
        assert "\x1b[" not in piped[name]
        assert MRKDWN_BOLD.findall(piped[name]) == []
        assert BOLD in shown[name]
        assert MRKDWN_BOLD.findall(ANSI.sub("", shown[name])) == []
        assert ANSI.sub("", shown[name]).strip() == piped[name].strip()
    assert "Bonus attainment" in piped["scorecard"]
    assert "Marketing Support" in piped["digest"]


# --- jobs run --team -------------------------------------------------------------------------


def test_jobs_run_with_team_runs_that_workspace_only(tmp_path: Path) -> None:
    env = workspace(tmp_path, retention_days="30")
    workspace(tmp_path, OTHER, timezone="Pacific/Auckland", retention_days="30")
    old = datetime(2026, 1, 5, 12, tzinfo=UTC)
    mine, theirs = a_request("Mine", 1), a_request("Theirs", 1, team=OTHER)
    for request in (mine, theirs):
        request.status, request.delivered_at = RequestStatus.DELIVERED, old
        request.created_at = request.updated_at = old
    store(env, mine, theirs)

    # A local --at is fine for one workspace, even though the two are in different zones.
    result = alignbot(
        "jobs",
        "run",
        "retention",
        "--team",
        TEAM,
        "--at",
        "2026-12-04T10:00",
        env=env,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert f"retention done for {TEAM} at 2026-12-04T10:00:00-05:00" in result.stdout
    assert details(env) == {"Mine": None, "Theirs": "Deck for Theirs"}


def test_jobs_run_for_an_unknown_team_is_one_line(tmp_path: Path) -> None:
    env = workspace(tmp_path)

    result = alignbot("jobs", "run", "retention", "--team", "T0NOBODY", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"alignbot: No workspace T0NOBODY for retention. Known: {TEAM}"
    ]
