"""Ack latency of `/mktg`: 100 sequential signed one-line commands against `alignbot run`.

Starts the real server as a subprocess (HTTP mode, SQLite in a temp dir) against the local fake
Slack, sends each command over HTTP, and prints the time until the HTTP answer (Slack's 3-second
ack budget). Usage: `make bench` or `.venv/bin/python bench/ack_latency.py [--count N]
[--database-url postgresql://…]`. For concurrent load see bench/ack_concurrency.py.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import alignbot_server, backend_name, percentile, run_counted
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender

TEAM_ID = "T0TEAM"
INTAKE = "C0INTAKE"


async def main(count: int, database_url: str | None) -> None:
    fake = FakeSlack(team_id=TEAM_ID)
    fake.add_user("U0REP", name="rep")
    fake.add_channel(INTAKE, name="mktg-intake")
    await fake.start()
    setup = [("config", "set", "intake_channel", INTAKE, "--team", TEAM_ID)]
    try:
        async with alignbot_server(fake, database_url=database_url, setup=setup) as server:
            sender = SlackSender(server.events_url)
            try:
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
            finally:
                await sender.close()
    finally:
        await fake.stop()
    latencies.sort()
    print(f"/mktg ack latency over {count} sequential commands (HTTP round trip, ms)")
    print(f"  database: {backend_name(database_url)}")
    print(
        f"  median {statistics.median(latencies):.1f}  p90 {percentile(latencies, 0.9):.1f}"
        f"  worst {latencies[-1]:.1f}  (Slack's budget: 3000)"
    )


if __name__ == "__main__":
    run_counted(main, __doc__)
