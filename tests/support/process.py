"""Running `alignbot` as a real process, for tests and benchmarks: one way to start it.

`alignbot_command` is the command line, `start_alignbot` starts it without blocking the event
loop the fake Slack answers on, `alignbot` / `alignbot_async` run one CLI command to the end,
and `wait_until_answering` waits for `alignbot run` to serve a health check.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import aiohttp

from sandbox.slack_payloads import SIGNING_SECRET

ROOT = Path(__file__).resolve().parent.parent.parent

PIPE = asyncio.subprocess.PIPE
STDOUT = asyncio.subprocess.STDOUT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a test's alignbot: this checkout, test Slack credentials, a SQLite
    file in `tmp_path`; none of the caller's SLACK_*, DATABASE_URL, PORT or LOG_LEVEL."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_URL", "PORT", "LOG_LEVEL"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path / 'e2e.db'}",
        LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def alignbot_command(*args: str, python_args: Sequence[str] = ()) -> list[str]:
    """The command line of `alignbot ARGS` from this checkout (`python_args` go before
    ``-m bot``, e.g. a profiler)."""
    return [sys.executable, *python_args, "-m", "bot", *args]


async def start_alignbot(
    *args: str,
    env: dict[str, str],
    cwd: Path | str,
    stdout: int | IO[Any] | None = PIPE,
    stderr: int | IO[Any] | None = STDOUT,
    python_args: Sequence[str] = (),
) -> asyncio.subprocess.Process:
    """Start `alignbot ARGS` (say ``"run"``) and return at once; output goes to a pipe
    (stderr merged into stdout) unless told otherwise."""
    return await asyncio.create_subprocess_exec(
        *alignbot_command(*args, python_args=python_args),
        env=env,
        cwd=cwd,
        stdout=stdout,
        stderr=stderr,
    )


def alignbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one CLI command to the end (blocking: only for commands that do not call the fake
    Slack running in this test's event loop)."""
    return subprocess.run(
        alignbot_command(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def alignbot_async(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run one CLI command without blocking the loop the fake Slack answers on:
    (exit code, stdout, stderr)."""
    process = await start_alignbot(*args, env=env, cwd=cwd, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def wait_until_answering(
    process: asyncio.subprocess.Process, port: int, path: str = "/healthz"
) -> None:
    """Poll `path` until it answers 200; fail with the process's output if it never does.

    Generous (60 s): interpreters starting together on a loaded 2-core machine take a while."""
    async with aiohttp.ClientSession() as http:
        for _ in range(1200):
            try:
                async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    output = (await process.communicate())[0].decode()
    raise AssertionError(f"alignbot run did not answer {path}:\n{output}")
