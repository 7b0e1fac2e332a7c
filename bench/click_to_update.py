"""Claim click → intake post update: 100 sequential Claim clicks against `alignbot run`.

Starts the real server as a subprocess (HTTP mode, SQLite in a temp dir) against the local fake
Slack, configures the intake channel and the Marketing Support user group (synced into the roster
with `alignbot jobs run roster-sync`), files the requests with one-line `/mktg deck …` commands,
then clicks Claim on each intake post in turn and times how long until the bot's `chat.update` of
that post reaches Slack, plus the HTTP ack of the click. One warm-up request is filed and claimed
first and not counted. Usage: `.venv/bin/python bench/click_to_update.py [--count N]`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import alignbot_server, backend_name, percentile, run_counted
from sandbox.fakeslack import Call, FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions

TEAM_ID = "T0TEAM"
INTAKE = "C0INTAKE"
REP = "U0REP"
MARKETER = "U0MKT"
SUPPORT_GROUP = "S0SUPPORT"
CLAIM = "request_claim"
UPDATE_TIMEOUT = 10.0


def claim_value(blocks: Any) -> str | None:
    """The Claim button's value (the request's database id) in an intake post's blocks."""
    for block in blocks or []:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id") == CLAIM:
                return str(element["value"])
    return None


def is_intake_post(call: Call) -> bool:
    return (
        call.ok
        and call.params["channel"] == INTAKE
        and not call.params.get("thread_ts")
        and claim_value(call.params.get("blocks")) is not None
    )


def answered(fake: FakeSlack, name: str) -> str:
    """What the bot told the clicker on the click's response_url, if anything."""
    texts = [str(c.params.get("text")) for c in fake.calls_to("response_url") if c.path == name]
    return f"; the bot answered the click with: {' / '.join(texts)}" if texts else ""


async def click_and_wait(
    sender: SlackSender, fake: FakeSlack, request_id: str, ts: str
) -> tuple[float, float]:
    """Click Claim on one intake post; (ack ms, click→chat.update ms). Exits if no update."""
    name = f"claim-{request_id}"
    payload = block_actions(
        CLAIM,
        request_id,
        user_id=MARKETER,
        team_id=TEAM_ID,
        channel_id=INTAKE,
        message_ts=ts,
        response_url=fake.response_url(name),
        user_name="mia.marketing",
    )

    async def update_arrives() -> tuple[Call, float]:
        [call] = await fake.wait_for(
            "chat.update",
            lambda c: c.params["channel"] == INTAKE and c.params["ts"] == ts,
            timeout=UPDATE_TIMEOUT,
        )
        return call, time.perf_counter()

    # Watch for the update while the click is in flight: Bolt answers the HTTP request only
    # after noticing ack() (it polls every 10 ms), so the update may land before the ack does.
    started = time.perf_counter()
    watcher = asyncio.create_task(update_arrives())
    response = await sender.action(payload)
    if response.status != 200:
        watcher.cancel()
        raise SystemExit(f"click on request {request_id}: HTTP {response.status} {response.body}")
    try:
        update, arrived = await watcher
    except AssertionError:
        raise SystemExit(
            f"FAIL: Claim click on request {request_id} (intake ts {ts}) was not followed by a "
            f"chat.update of its intake post within {UPDATE_TIMEOUT:g}s" + answered(fake, name)
        ) from None
    elapsed = arrived - started
    shown = json.dumps(update.params.get("blocks"))
    if not update.ok or CLAIM in shown or f"<@{MARKETER}>" not in shown:
        problem = update.response.get("error") or "the post still offers Claim / shows no claimer"
        raise SystemExit(
            f"FAIL: the chat.update after the Claim click on request {request_id} does not show "
            f"it claimed by {MARKETER} ({problem})" + answered(fake, name)
        )
    return response.elapsed * 1000, elapsed * 1000


async def measure(
    fake: FakeSlack, count: int, database_url: str | None
) -> tuple[list[float], list[float]]:
    """Set up, file count + 1 requests, claim them one by one; (ack ms, click→update ms)."""
    setup = [
        ("config", "set", "intake_channel", INTAKE, "--team", TEAM_ID),
        ("config", "set", "support_usergroup", SUPPORT_GROUP, "--team", TEAM_ID),
        ("jobs", "run", "roster-sync"),
    ]
    async with alignbot_server(fake, database_url=database_url, setup=setup) as server:
        synced = [
            c
            for c in fake.calls_to("usergroups.users.list")
            if c.ok and c.params.get("usergroup") == SUPPORT_GROUP
        ]
        if not synced:
            raise SystemExit("roster-sync did not read the Marketing Support user group")
        sender = SlackSender(server.events_url)
        try:
            # Request 0 is a warm-up (auth.test, DB connections, users.info of the marketer).
            for index in range(count + 1):
                response = await sender.command(
                    "/mktg",
                    f"deck Acme {index} $250k due in 5 days Renewal pitch for the CFO",
                    user_id=REP,
                    response_url=fake.response_url(f"file-{index}"),
                )
                if response.status != 200 or response.body:
                    raise SystemExit(f"unexpected answer {response.status}: {response.body}")
            posts = await fake.wait_for(
                "chat.postMessage", is_intake_post, count=count + 1, timeout=60
            )
            targets = [(str(claim_value(c.params["blocks"])), str(c.response["ts"])) for c in posts]
            await click_and_wait(sender, fake, *targets[0])
            acks, updates = [], []
            for request_id, ts in targets[1:]:
                ack_ms, update_ms = await click_and_wait(sender, fake, request_id, ts)
                acks.append(ack_ms)
                updates.append(update_ms)
        finally:
            await sender.close()
    return sorted(acks), sorted(updates)


async def main(count: int, database_url: str | None) -> None:
    run_started = time.perf_counter()
    fake = FakeSlack(team_id=TEAM_ID)
    fake.add_user(REP, name="rep")
    fake.add_user(MARKETER, name="mia.marketing")
    fake.add_channel(INTAKE, name="mktg-intake")
    fake.add_usergroup(
        SUPPORT_GROUP, handle="mktg-support", name="Marketing Support", members=[MARKETER]
    )
    await fake.start()
    try:
        acks, updates = await measure(fake, count, database_url)
    finally:
        await fake.stop()
    print(f"Claim click → chat.update of the intake post over {count} sequential clicks (ms)")
    print(f"  database: {backend_name(database_url)}")
    print(
        f"  click→chat.update  median {statistics.median(updates):.1f}"
        f"  p90 {percentile(updates, 0.9):.1f}  worst {updates[-1]:.1f}"
    )
    print(
        f"  click HTTP ack     median {statistics.median(acks):.1f}  worst {acks[-1]:.1f}"
        "  (Slack's budget: 3000)"
    )
    print(f"  whole run: {time.perf_counter() - run_started:.1f} s")


if __name__ == "__main__":
    run_counted(main, __doc__)
