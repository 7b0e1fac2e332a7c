"""A scheduled roster sync never undoes a newer sync or settings save (the uninstall side of
"a newer write wins" is in test_oauth_installs.py).

Races are ordered with the fake Slack's `hold`: the older writer's Slack call is answered but
kept waiting while the newer write completes, then released. No sleeps, no timing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import RequestEscalation, RequestStatus, RequestType, Role, SupportRequest
from bot.requests.reminders import claim_escalation
from bot.requests.sla import EscalationStep
from bot.workspace.roster import begin_roster_sync, replace_role_members, roles_of
from jobs.roster_sync import sync_all_rosters
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, view_submission
from tests.support.workspace import (
    ADMIN,
    DEMANDGEN,
    DEMANDGEN_GROUP,
    INTAKE,
    MARKETER,
    REP,
    SALES_GROUP,
    SUPPORT_GROUP,
    TEAM_ID,
    configure,
)


def settings_form(**groups: str | None) -> dict[str, Any]:
    """The settings modal's state as Slack submits it: an intake channel and these groups."""
    state: dict[str, Any] = {
        key: {"value": {"type": "conversations_select", "selected_conversation": channel}}
        for key, channel in (
            ("intake_channel", INTAKE),
            ("support_digest_channel", None),
            ("demandgen_digest_channel", None),
        )
    }
    for key in ("sales_usergroup", "support_usergroup", "demandgen_usergroup"):
        chosen = groups.get(key)
        option = {"text": {"type": "plain_text", "text": "g"}, "value": chosen} if chosen else None
        state[key] = {"value": {"type": "static_select", "selected_option": option}}
    state["admins"] = {"value": {"type": "multi_users_select", "selected_users": []}}
    state["timezone"] = {"value": {"type": "plain_text_input", "value": "UTC"}}
    return state


async def roles(deps: Deps, user_id: str) -> set[Role]:
    async with deps.sessions() as session:
        return await roles_of(session, team_id=TEAM_ID, user_id=user_id)


async def test_a_scheduled_sync_that_read_the_settings_before_a_save_does_not_undo_it(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await configure(deps, sales_usergroup=SALES_GROUP)  # Marketing Support not chosen yet
    held = fake_slack.hold("usergroups.users.list")
    scheduled = asyncio.create_task(sync_all_rosters(deps, make_client(deps), deps.clock()))
    await held.arrived()  # it has read the settings: no support group

    await slack.submit(
        view_submission(
            "align_settings",
            settings_form(
                sales_usergroup=SALES_GROUP,
                support_usergroup=SUPPORT_GROUP,
                demandgen_usergroup=DEMANDGEN_GROUP,
            ),
            user_id=ADMIN,
        )
    )
    [saved] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == ADMIN)
    assert "support: 1" in saved.params["text"]
    held.release()
    await scheduled

    assert await roles(deps, MARKETER) == {Role.SUPPORT}
    assert await roles(deps, DEMANDGEN) == {Role.DEMAND_GEN}
    assert await roles(deps, REP) == {Role.SALES}


async def test_of_two_overlapping_syncs_the_one_that_started_later_wins(
    fake_slack: FakeSlack, deps: Deps
) -> None:
    await configure(deps, sales_usergroup=SALES_GROUP)
    held = fake_slack.hold("usergroups.users.list")
    older = asyncio.create_task(sync_all_rosters(deps, make_client(deps), deps.clock()))
    await held.arrived()  # Slack answered "REP", slowly
    fake_slack.add_usergroup(SALES_GROUP, handle="sales", name="Sales", members=[MARKETER])

    await sync_all_rosters(deps, make_client(deps), deps.clock())
    held.release()
    await older

    assert await roles(deps, MARKETER) == {Role.SALES}
    assert await roles(deps, REP) == set()


async def test_a_save_that_changes_a_group_supersedes_a_sync_already_running(deps: Deps) -> None:
    await configure(deps, sales_usergroup=SALES_GROUP)
    async with deps.sessions() as session:
        running = await begin_roster_sync(session, team_id=TEAM_ID, now=deps.clock())

    await configure(deps, timezone="Europe/Berlin")  # no group changed: the sync stays current
    async with deps.sessions() as session:
        kept = await replace_role_members(
            session,
            team_id=TEAM_ID,
            role=Role.SALES,
            user_ids=[REP],
            now=deps.clock(),
            generation=running,
        )
    await configure(deps, support_usergroup=SUPPORT_GROUP)  # e.g. from the CLI, no sync after
    async with deps.sessions() as session:
        dropped = await replace_role_members(
            session,
            team_id=TEAM_ID,
            role=Role.SUPPORT,
            user_ids=[],
            now=deps.clock(),
            generation=running,
        )

    assert kept == 1
    assert dropped is None
    assert await roles(deps, REP) == {Role.SALES}


async def test_an_escalation_decided_on_a_stale_read_is_not_claimed_after_the_request_changed(
    configured: Deps,
) -> None:
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    request = SupportRequest(
        team_id=TEAM_ID,
        number=1,
        request_type=RequestType.DEAL_DECK,
        status=RequestStatus.OPEN,
        requester_id="U0REP",
        requester_in_sales=True,
        source="command",
        source_key="stale-read",
        created_at=now,
        updated_at=now,
    )
    async with configured.sessions() as session:
        session.add(request)
        await session.commit()
        assert request.id is not None
        read_version = request.version
        request.version += 1  # someone claimed it after the job read it
        await session.commit()

    async with configured.sessions() as session:
        stale = await claim_escalation(
            session,
            request_id=request.id,
            step=EscalationStep.UNCLAIMED_4H,
            cycle=0,
            now=now,
            version=read_version,
        )
        fresh = await claim_escalation(
            session,
            request_id=request.id,
            step=EscalationStep.UNCLAIMED_4H,
            cycle=0,
            now=now,
            version=read_version + 1,
        )
        rows = (await session.exec(select(RequestEscalation))).all()

    assert (stale, fresh) == (False, True)
    assert len(rows) == 1
