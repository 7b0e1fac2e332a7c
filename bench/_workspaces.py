"""Many OAuth workspaces for the benchmarks: a fake Slack in a process of its own that knows every
workspace's token and limits calls per workspace, and a bulk copy of one installed workspace.

`FakeProcess` runs a `PerWorkspaceFake` (sandbox.fakeslack.FakeSlack whose rate limits are
counted per workspace, as Slack's are, instead of per method across all tokens) in a spawned
child process, so the fake's CPU is not the bot's. The parent talks to it over a pipe: register
OAuth codes (`add_install`, what tests.support.installs.Installer calls), accept a batch of
install tokens at once (`grant`), and read what it received (`stats`, counted as calls arrive:
the child keeps no call log and drops DM messages once counted, so 200,000 DMs fit in memory).

`clone_workspace` copies one workspace installed and configured through the bot's own code
(OAuth install, settings saved, roster synced) to many more team ids in bulk, table by table,
through the tables' own SQLAlchemy definitions (the models and slack_sdk's installation store):
workspace, team_setting, roster_member, slack_user, slack_installations, slack_bots.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from sandbox.fakeslack import Call, FakeSlack

# Slack's per-workspace limits (per app), roughly: chat.postMessage "several hundred a minute"
# across a workspace (and about one a second per channel), Tier 2 and Tier 3 methods.
SLACK_LIMITS: dict[str, int] = {
    "chat.postMessage": 300,
    "users.list": 20,
    "usergroups.users.list": 20,
    "conversations.history": 50,
}

CLONED_TABLES = ("workspace", "team_setting", "roster_member", "slack_user")
INSERT_CHUNK = 500


class PerWorkspaceFake(FakeSlack):
    """FakeSlack whose sliding-window limits (`enforce_rate_limits`) count each workspace's
    calls apart: the workspace is the team of the token the call was made with."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._team_windows: dict[tuple[str, str], deque[float]] = {}

    def _check_rate_limit(self, method: str) -> int | None:
        queued = self._ratelimits.get(method)
        if queued:
            return queued.popleft()
        limit = self._limits.get(method, self._limits.get("*"))
        if limit is None:
            return None
        team = self.tokens.get(self._current_token, "")
        now = time.monotonic()
        window = self._team_windows.setdefault((team, method), deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + 60.0 - now))
        window.append(now)
        return None


@dataclass
class FakeStats:
    """What the fake received since the last `stats` call."""

    calls: Counter[str] = field(default_factory=Counter)  # "method status outcome" -> count
    dms_by_team: Counter[str] = field(default_factory=Counter)  # DMs accepted, per workspace
    limited_by_team: Counter[str] = field(default_factory=Counter)  # 429s per workspace

    def count(self, method: str, *, status: int | None = None, ok: bool | None = None) -> int:
        total = 0
        for key, n in self.calls.items():
            name, code, outcome = key.split(" ", 2)
            if name != method:
                continue
            if status is not None and int(code) != status:
                continue
            if ok is not None and (outcome == "ok") != ok:
                continue
            total += n
        return total

    def by_method(self) -> Counter[str]:
        methods: Counter[str] = Counter()
        for key, n in self.calls.items():
            methods[key.split(" ", 1)[0]] += n
        return methods

    def errors(self) -> Counter[str]:
        return Counter({key: n for key, n in self.calls.items() if not key.endswith(" ok")})


def _observe(fake: PerWorkspaceFake, stats: FakeStats, call: Call) -> None:
    outcome = "ok" if call.ok else str(call.response.get("error"))
    stats.calls[f"{call.method} {call.status} {outcome}"] += 1
    if call.method == "chat.postMessage":
        team = fake.tokens.get(call.token, "?")
        channel = str(call.response.get("channel") or "")
        if call.ok and channel.startswith("D"):
            stats.dms_by_team[team] += 1
            fake.messages.pop(channel, None)  # nothing reads a survey DM back here
        elif call.status == 429:
            stats.limited_by_team[team] += 1
    fake.calls.clear()  # counted: a call log of 200,000 DMs would only fill memory


def _serve(conn: Connection, spec: dict[str, Any]) -> None:  # pragma: no cover - child process
    async def serve() -> None:
        fake = PerWorkspaceFake(team_id=spec["team_id"])
        for user in spec["users"]:
            fake.add_user(**user)
        for channel in spec["channels"]:
            fake.add_channel(**channel)
        for group in spec["usergroups"]:
            fake.add_usergroup(**group)
        fake.enforce_rate_limits(spec["limits"])
        stats = FakeStats()
        fake.observers.append(lambda call: _observe(fake, stats, call))
        await fake.start()
        conn.send((fake.url, fake.origin, fake.client_id, fake.client_secret))
        loop = asyncio.get_running_loop()
        while True:
            command, argument = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            if command == "add_install":
                code, install = argument
                fake.add_install(code, **install)
                conn.send(None)
            elif command == "grant":
                for team_id, token in argument:
                    fake.add_install(f"code-{team_id}", team_id=team_id, bot_token=token)
                    fake._oauth_codes.pop(f"code-{team_id}", None)
                    fake.tokens[token] = team_id  # as oauth.v2.access grants it
                conn.send(len(argument))
            elif command == "stats":
                conn.send((stats, time.process_time()))
                stats = FakeStats()  # the observer reads this variable: it counts afresh
            else:
                conn.send(ValueError(f"unknown command {command!r}"))
        await fake.stop()
        conn.send(time.process_time())

    asyncio.run(serve())


class FakeProcess:
    """The fake Slack in a spawned child process (see the module docstring)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, spec), daemon=True)
        self.url = ""
        self.origin = ""
        self.client_id = ""
        self.client_secret = ""

    async def start(self) -> None:
        self.process.start()
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, self.conn.recv)
        self.url, self.origin, self.client_id, self.client_secret = answer

    def response_url(self, name: str) -> str:
        return f"{self.origin}/response_url/{name}"

    def add_install(self, code: str, **install: Any) -> None:
        """What tests.support.installs.Installer asks of the fake before the browser's visit."""
        self.conn.send(("add_install", (code, install)))
        self.conn.recv()

    async def _ask(self, command: str, argument: Any = None) -> Any:
        loop = asyncio.get_running_loop()
        self.conn.send((command, argument))
        answer = await loop.run_in_executor(None, self.conn.recv)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def grant(self, installs: Sequence[tuple[str, str]]) -> None:
        """Slack accepts each (team id, bot token) from now on, as after its OAuth exchange."""
        for start in range(0, len(installs), 5000):
            await self._ask("grant", list(installs[start : start + 5000]))

    async def stats(self) -> tuple[FakeStats, float]:
        """The calls received since the last call, and the fake process's CPU seconds so far."""
        stats, cpu = await self._ask("stats")
        return stats, float(cpu)

    async def stop(self) -> float | None:
        """Stop the child; returns its CPU seconds (None if it had to be killed)."""
        loop = asyncio.get_running_loop()
        cpu: float | None = None
        if self.process.is_alive():
            self.conn.send(("stop", None))
            try:
                if await loop.run_in_executor(None, self.conn.poll, 20):
                    cpu = float(self.conn.recv())
            except (EOFError, OSError):
                pass
            await loop.run_in_executor(None, self.process.join, 20)
        if self.process.is_alive():
            self.process.kill()
        return cpu


# ----------------------------------------------------------------------------- bulk copies


def _tables(store: AsyncSQLAlchemyInstallationStore) -> list[sa.Table]:
    return [SQLModel.metadata.tables[name] for name in CLONED_TABLES] + [
        store.installations,
        store.bots,
    ]


async def clone_workspace(
    engine: AsyncEngine,
    store: AsyncSQLAlchemyInstallationStore,
    *,
    template: str,
    teams: Iterable[tuple[str, str]],
) -> dict[str, int]:
    """Copy `template`'s rows to every (team id, bot token) of `teams`; returns rows per table.

    The install rows keep everything but the team, its name, the bot token and the bot's ids
    (and the autoincrement id, given anew)."""
    team_list = list(teams)
    written: dict[str, int] = {}
    async with engine.begin() as connection:
        for table in _tables(store):
            source = (
                (await connection.execute(sa.select(table).where(table.c.team_id == template)))
                .mappings()
                .all()
            )
            rows: list[dict[str, Any]] = []
            for team_id, token in team_list:
                for row in source:
                    copy = dict(row)
                    copy["team_id"] = team_id
                    if table is store.installations or table is store.bots:
                        copy.pop("id", None)
                        copy["team_name"] = f"Workspace {team_id}"
                        copy["bot_token"] = token
                        copy["bot_id"] = f"B{team_id}"
                        copy["bot_user_id"] = f"UBOT{team_id}"
                    rows.append(copy)
            for start in range(0, len(rows), INSERT_CHUNK):
                await connection.execute(table.insert(), rows[start : start + INSERT_CHUNK])
            written[table.name] = len(rows)
    return written


async def clone_surveys(engine: AsyncEngine, *, template: str, teams: Sequence[str]) -> int:
    """Copy `template`'s survey runs and deliveries (as they are: sent, say) to `teams`, so a
    size too big to run its Monday tick still has this week's surveys behind it. Runs get ids
    after the largest one; returns the deliveries written."""
    runs_table = SQLModel.metadata.tables["survey_run"]
    deliveries_table = SQLModel.metadata.tables["survey_delivery"]
    async with engine.begin() as connection:
        runs = (
            (
                await connection.execute(
                    sa.select(runs_table).where(runs_table.c.team_id == template)
                )
            )
            .mappings()
            .all()
        )
        deliveries = (
            (
                await connection.execute(
                    sa.select(deliveries_table).where(deliveries_table.c.team_id == template)
                )
            )
            .mappings()
            .all()
        )
        next_id = int(
            (await connection.execute(sa.select(sa.func.max(runs_table.c.id)))).scalar() or 0
        )
        run_rows: list[dict[str, Any]] = []
        delivery_rows: list[dict[str, Any]] = []
        for team in teams:
            new_ids: dict[int, int] = {}
            for run in runs:
                next_id += 1
                new_ids[int(run["id"])] = next_id
                run_rows.append({**run, "id": next_id, "team_id": team})
            for delivery in deliveries:
                row = {**delivery, "team_id": team, "run_id": new_ids[int(delivery["run_id"])]}
                row.pop("id")
                delivery_rows.append(row)
        for table, rows in ((runs_table, run_rows), (deliveries_table, delivery_rows)):
            for start in range(0, len(rows), INSERT_CHUNK):
                await connection.execute(table.insert(), rows[start : start + INSERT_CHUNK])
        if engine.dialect.name == "postgresql":
            await connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('survey_run', 'id'), :id)"),
                {"id": next_id},
            )
    return len(delivery_rows)
