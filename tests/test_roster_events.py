"""Roster changes arrive live as Slack events; the daily full sync writes only what changed.

Events go to the real Bolt app as signed HTTP requests, built from Slack's documented samples
(tests/fixtures/slack/samples/event.subteam_members_changed.json, event.user_change.json); the
sync they start talks to the fake Slack over HTTP. Bolt acknowledges an event before its
listener runs, so tests that look for an effect wait for it in the database; tests that must
show something did *not* happen use an app built with `process_before_response`, whose answer
comes only once the listener has finished, so "nothing happened" is checked after the fact,
not after a delay.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlmodel import select

from bot.app import create_app, create_web_app, make_client
from bot.core.deps import Deps
from bot.core.models import Role, RosterMember, SlackUser, Workspace
from bot.workspace.roster import roles_of
from jobs.roster_sync import sync_all_rosters, sync_team_roster
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, event_callback
from tests.support.workspace import (
    ADMIN,
    DEMANDGEN,
    DEMANDGEN_GROUP,
    MARKETER,
    REP,
    REP_OUTSIDER,
    SALES_GROUP,
    SUPPORT_GROUP,
    TEAM_ID,
    FixedClock,
    configure,
)

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "slack" / "samples"
OTHER_GROUP = "S0OTHER"  # a user group the workspace does not mirror


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((SAMPLES / name).read_text())["event"]
    return event


def members_changed(
    subteam_id: str,
    *,
    added: list[str] | None = None,
    removed: list[str] | None = None,
    sent: datetime,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A subteam_members_changed event_callback, shaped like Slack's documented sample."""
    event = sample_event("event.subteam_members_changed.json")
    added, removed = added or [], removed or []
    event.update(
        subteam_id=subteam_id,
        team_id=TEAM_ID,
        date_previous_update=int(sent.timestamp()) - 3600,
        date_update=int(sent.timestamp()),
        added_users=added,
        added_users_count=str(len(added)),
        removed_users=removed,
        removed_users_count=str(len(removed)),
    )
    return event_callback(event, event_id=event_id, event_time=int(sent.timestamp()))


def user_change(user_id: str, *, tz: str, sent: datetime, deleted: bool = False) -> dict[str, Any]:
    """A user_change event_callback, shaped like Slack's documented sample."""
    event = sample_event("event.user_change.json")
    user = copy.deepcopy(event["user"])
    user.update(id=user_id, team_id=TEAM_ID, tz=tz, deleted=deleted, updated=int(sent.timestamp()))
    event.update(user=user, event_ts=f"{sent.timestamp():.6f}")
    return event_callback(event, event_time=int(sent.timestamp()))


@pytest.fixture
async def slack_after_listener(deps: Deps) -> AsyncIterator[SlackSender]:
    """The real app behind the real server, answering an event once its listener finished."""
    app = create_app(deps, client=make_client(deps), process_before_response=True)
    runner = web.AppRunner(create_web_app(app, deps))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
    try:
        yield sender
    finally:
        await sender.close()
        await runner.cleanup()


async def roles(deps: Deps, user_id: str) -> set[Role]:
    async with deps.sessions() as session:
        return await roles_of(session, team_id=TEAM_ID, user_id=user_id)


async def slack_user(deps: Deps, user_id: str) -> SlackUser | None:
    async with deps.sessions() as session:
        return await session.get(SlackUser, (TEAM_ID, user_id))


async def generation(deps: Deps) -> int:
    async with deps.sessions() as session:
        workspace = await session.get(Workspace, TEAM_ID)
        assert workspace is not None
        return workspace.roster_generation


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Until `check` holds (an event's listener runs after Bolt's ack); fails after 5 s."""
    async with asyncio.timeout(5):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)


@contextmanager
def roster_writes(deps: Deps) -> Iterator[list[tuple[str, str, int]]]:
    """(verb, table, rows) of every INSERT, UPDATE or DELETE on roster_member or slack_user
    the engine runs inside the block."""
    writes: list[tuple[str, str, int]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb not in {"INSERT", "UPDATE", "DELETE"}:
            return
        for table in ("roster_member", "slack_user"):
            if f" {table}" in statement.split("(", 1)[0].split(" SET ", 1)[0]:
                writes.append((verb, table, len(parameters) if many else 1))

    engine = deps.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield writes
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


async def test_someone_added_to_the_sales_group_is_in_sales_after_the_event(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[REP, REP_OUTSIDER])

    response = await slack.event(
        members_changed(SALES_GROUP, added=[REP_OUTSIDER], sent=configured.clock())
    )

    assert response.status == 200
    await eventually(lambda: _has_roles(configured, REP_OUTSIDER, {Role.SALES}))
    assert await roles(configured, REP) == {Role.SALES}
    assert SALES_GROUP in {
        c.params["usergroup"] for c in fake_slack.calls_to("usergroups.users.list")
    }


async def test_someone_removed_from_the_sales_group_leaves_sales_after_the_event(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[])

    await slack.event(members_changed(SALES_GROUP, removed=[REP], sent=configured.clock()))

    await eventually(lambda: _has_roles(configured, REP, set()))
    assert await roles(configured, MARKETER) == {Role.SUPPORT}


async def _has_roles(deps: Deps, user_id: str, wanted: set[Role]) -> bool:
    return await roles(deps, user_id) == wanted


async def test_a_change_to_a_group_the_bot_does_not_mirror_calls_no_slack_method(
    configured: Deps, slack_after_listener: SlackSender, fake_slack: FakeSlack
) -> None:
    before = await generation(configured)

    response = await slack_after_listener.event(
        members_changed(OTHER_GROUP, added=[REP_OUTSIDER], sent=configured.clock())
    )

    assert response.status == 200
    await fake_slack.assert_no_call("usergroups.users.list")
    await fake_slack.assert_no_call("users.list")
    assert await generation(configured) == before
    assert await roles(configured, REP_OUTSIDER) == set()


async def test_a_retried_event_syncs_once(
    configured: Deps, slack_after_listener: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[REP, REP_OUTSIDER])
    before = await generation(configured)
    delivery = members_changed(
        SALES_GROUP, added=[REP_OUTSIDER], sent=configured.clock(), event_id="Ev0ROSTER1"
    )

    first = await slack_after_listener.event(delivery)
    retry = await slack_after_listener.event(delivery, retry_num=1, retry_reason="http_timeout")

    assert (first.status, retry.status) == (200, 200)
    assert await roles(configured, REP_OUTSIDER) == {Role.SALES}
    assert len(fake_slack.calls_to("usergroups.users.list")) == 3  # one sync: three groups
    assert len(fake_slack.calls_to("users.list")) == 1
    assert await generation(configured) == before + 1


async def test_a_user_change_stores_that_users_time_zone_and_deactivation(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await sync_all_rosters(configured, make_client(configured), configured.clock())
    synced = (
        len(fake_slack.calls_to("usergroups.users.list")),
        len(fake_slack.calls_to("users.list")),
    )

    await slack.event(user_change(REP, tz="Europe/Paris", deleted=True, sent=configured.clock()))

    async def stored() -> bool:
        user = await slack_user(configured, REP)
        return user is not None and (user.tz, user.deleted) == ("Europe/Paris", True)

    await eventually(stored)
    other = await slack_user(configured, MARKETER)
    assert other is not None
    assert other.tz == "America/New_York"
    # no sync started
    assert (
        len(fake_slack.calls_to("usergroups.users.list")),
        len(fake_slack.calls_to("users.list")),
    ) == synced


async def test_a_user_change_sent_before_a_newer_sync_does_not_undo_it_nor_the_reverse(
    deps: Deps, clock: FixedClock, slack_after_listener: SlackSender, fake_slack: FakeSlack
) -> None:
    await configure(deps, sales_usergroup=SALES_GROUP)
    started = clock()
    client = make_client(deps)
    # The rep moves to London at +8 min; the sync starting at +10 min stores it.
    fake_slack.add_user(REP, name="rita.rep", tz="Europe/London")
    clock.advance(minutes=10)
    await sync_all_rosters(deps, client, clock())

    # The event of an earlier move (+5 min) arrives late: the sync saw Slack after it.
    await slack_after_listener.event(
        user_change(REP, tz="America/Chicago", sent=started + timedelta(minutes=5))
    )
    kept = await slack_user(deps, REP)
    assert kept is not None
    assert kept.tz == "Europe/London"

    # A move at +15 min, then a sync that had started at +12 min, before it, finishes.
    clock.advance(minutes=10)
    await slack_after_listener.event(
        user_change(REP, tz="Asia/Tokyo", sent=started + timedelta(minutes=15))
    )
    await sync_team_roster(deps, client, team_id=TEAM_ID, now=started + timedelta(minutes=12))
    moved = await slack_user(deps, REP)
    assert moved is not None
    assert moved.tz == "Asia/Tokyo"

    # The next sync after it, reading the same London answer, is the newer word again.
    await sync_all_rosters(deps, client, clock())
    back = await slack_user(deps, REP)
    assert back is not None
    assert back.tz == "Europe/London"


async def test_the_daily_sync_writes_correct_rosters_and_nothing_when_nothing_changed(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await configure(
        deps,
        sales_usergroup=SALES_GROUP,
        support_usergroup=SUPPORT_GROUP,
        demandgen_usergroup=DEMANDGEN_GROUP,
    )
    client = make_client(deps)
    await sync_all_rosters(deps, client, clock())
    assert [await roles(deps, user) for user in (REP, MARKETER, DEMANDGEN, ADMIN)] == [
        {Role.SALES},
        {Role.SUPPORT},
        {Role.DEMAND_GEN},
        set(),
    ]
    first_synced = await _synced_at(deps)

    clock.advance(days=1)
    with roster_writes(deps) as unchanged:
        counts = await sync_team_roster(deps, client, team_id=TEAM_ID, now=clock())

    assert unchanged == []
    assert counts == {"sales": 1, "support": 1, "demandgen": 1}
    assert await _synced_at(deps) == first_synced


async def test_the_sync_inserts_who_joined_deletes_who_left_and_updates_changed_facts_only(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await configure(deps, sales_usergroup=SALES_GROUP, support_usergroup=SUPPORT_GROUP)
    client = make_client(deps)
    await sync_all_rosters(deps, client, clock())
    first_synced = await _synced_at(deps)
    fake_slack.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[REP_OUTSIDER])
    fake_slack.add_user(MARKETER, name="mia.marketing", tz="Europe/Berlin")

    clock.advance(days=1)
    with roster_writes(deps) as writes:
        counts = await sync_team_roster(deps, client, team_id=TEAM_ID, now=clock())

    assert counts == {"sales": 1, "support": 1, "demandgen": 0}
    assert sorted(writes) == [
        ("DELETE", "roster_member", 1),
        ("INSERT", "roster_member", 1),
        ("INSERT", "slack_user", 1),  # the upsert of the one user whose time zone changed
    ]
    assert await roles(deps, REP) == set()
    assert await roles(deps, REP_OUTSIDER) == {Role.SALES}
    synced = await _synced_at(deps)
    assert synced[(MARKETER, Role.SUPPORT)] == first_synced[(MARKETER, Role.SUPPORT)]  # kept
    assert synced[(REP_OUTSIDER, Role.SALES)] == clock()
    moved = await slack_user(deps, MARKETER)
    assert moved is not None
    assert (moved.tz, moved.updated_at) == ("Europe/Berlin", clock())


async def _synced_at(deps: Deps) -> dict[tuple[str, Role], datetime]:
    async with deps.sessions() as session:
        rows = (await session.exec(select(RosterMember))).all()
    return {(row.user_id, Role(row.role)): row.synced_at for row in rows}
