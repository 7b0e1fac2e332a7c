"""Ack latency of `/mktg`: 100 sequential signed one-line commands against `alignbot run`.

Starts the real server as a subprocess (HTTP mode, SQLite in a temp dir) against the local fake
Slack, sends each command over HTTP, and prints the time until the HTTP answer (Slack's 3-second
ack budget). Usage: `make bench` or `.venv/bin/python bench/ack_latency.py [--count N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slack_payloads import SIGNING_SECRET, SlackSender  # noqa: E402

TEAM_ID = "T0TEAM"
INTAKE = "C0INTAKE"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("alignbot run did not become healthy")


async def main(count: int, database_url: str | None) -> None:
    fake = FakeSlack(team_id=TEAM_ID)
    fake.add_user("U0REP", name="rep")
    fake.add_channel(INTAKE, name="mktg-intake")
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.url,
            "DATABASE_URL": database_url or f"sqlite:///{workdir}/bench.db",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("SLACK_APP_TOKEN", None)
        subprocess.run(  # noqa: ASYNC221 (one-off setup before the clock starts)
            [
                sys.executable,
                "-m",
                "bot",
                "config",
                "set",
                "intake_channel",
                INTAKE,
                "--team",
                TEAM_ID,
            ],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=workdir,
        )
        try:
            await wait_healthy(port)
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
            # One warm-up command (first request runs auth.test and opens DB connections).
            await sender.command(
                "/mktg", "deck Warmup $1k warm up", response_url=fake.response_url()
            )
            latencies = []
            for index in range(count):
                response = await sender.command(
                    "/mktg",
                    f"deck Acme {index} $250k due in 5 days Renewal pitch for the CFO",
                    response_url=fake.response_url(),
                )
                if response.status != 200 or response.body:
                    raise SystemExit(f"unexpected answer {response.status}: {response.body}")
                latencies.append(response.elapsed * 1000)
            await fake.wait_for("chat.postMessage", count=count + 1, timeout=60)
            await sender.close()
        finally:
            server.send_signal(signal.SIGTERM)
            await server.wait()
    await fake.stop()
    latencies.sort()
    print(f"/mktg ack latency over {count} sequential commands (HTTP round trip, ms)")
    print(f"  database: {'PostgreSQL' if database_url else 'SQLite'}")
    print(
        f"  median {statistics.median(latencies):.1f}  p90 {latencies[int(count * 0.9) - 1]:.1f}"
        f"  worst {latencies[-1]:.1f}  (Slack's budget: 3000)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--database-url", help="e.g. postgresql://… (default: a temp SQLite file)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.database_url))
