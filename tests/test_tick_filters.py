"""A scheduled tick runs only the workspaces with work (jobs.runner.run_tick), and its filters
never hide work: whatever a job would do for a workspace, the filter lets it through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import JobClaim, RequestStatus, SupportRequest
from bot.kpis.digest_schedule import teams_with_digest_due
from jobs.clients import SingleTokenClients
from jobs.digests import post_team_digests
from jobs.runner import by_settings
from jobs.scheduler import run_scheduled
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.queue_helpers import file_one
from tests.support.workspace import GENERAL, TEAM_ID, configure

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DG_CHANNEL = "C0DEMAND"


async def claims(deps: Deps) -> list[tuple[str, str]]:
    async with deps.sessions() as session:
        rows = await session.exec(select(JobClaim.job, JobClaim.team_id))
        return sorted((str(job), str(team)) for job, team in rows.all())


async def test_an_idle_tick_claims_nothing_and_calls_slack_for_nothing(
    configured: Deps, fake_slack: FakeSlack
) -> None:
    await configure(configured, support_digest_channel=GENERAL)
    clients = SingleTokenClients(make_client(configured))
    before = len(fake_slack.calls)

    for name in ("sla-reminders", "weekly-digest"):
        await run_scheduled(configured, clients, name, WEDNESDAY_NOON)

    assert await claims(configured) == []  # no row per workspace per tick either
    assert len(fake_slack.calls) == before


async def test_the_sla_tick_serves_a_workspace_while_it_has_open_requests(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    from bot.requests.reminders import teams_with_open_requests

    async def due() -> set[str]:
        async with configured.sessions() as session:
            return await teams_with_open_requests(session, [TEAM_ID, "T0OTHER"], WEDNESDAY_NOON)

    assert await due() == set()
    request = await file_one(slack, fake_slack, configured)
    assert await due() == {TEAM_ID}

    async with configured.sessions() as session:
        await session.exec(
            sa.update(SupportRequest)  # type: ignore[call-overload]
            .where(SupportRequest.id == request.id)
            .values(status=RequestStatus.DELIVERED.value)
        )
        await session.commit()
    assert await due() == set()


async def test_the_digest_filter_says_exactly_who_would_post_over_a_week(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    """Hour by hour over eight days, three workspaces in different zones and schedules: the
    filter's answer is exactly the workspaces for which the digest job posts something."""
    fake_slack.add_channel(DG_CHANNEL, name="demand-gen")
    teams = {
        "T0NEWYORK": {"timezone": "America/New_York", "support_digest_channel": GENERAL},
        "T0TOKYO": {
            "timezone": "Asia/Tokyo",
            "digest_schedule": "mon 09:00",
            "support_digest_channel": GENERAL,
            "demandgen_digest_channel": DG_CHANNEL,
        },
        "T0QUIET": {"timezone": "Europe/London"},  # no digest channel: never due
    }
    for team, changes in teams.items():
        await configure(deps, team_id=team, **changes)
    clients = SingleTokenClients(make_client(deps))
    client = await clients.for_team(TEAM_ID)
    assert client is not None

    moment = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    posted_by: dict[str, int] = dict.fromkeys(teams, 0)
    while moment < datetime(2026, 12, 1, 0, 30, tzinfo=UTC):
        async with deps.sessions() as session:
            due = await by_settings(teams_with_digest_due)(session, list(teams), moment)
        for team in teams:
            posted = await post_team_digests(deps, client, team_id=team, now=moment)
            assert bool(posted) == (team in due), (team, moment, due)
            posted_by[team] += len(posted)
        moment += timedelta(hours=1)

    # New York: Sunday evening there at the start, so the week before's digest is still due,
    # then Friday's. Tokyo: two kinds on each of two Mondays.
    assert posted_by == {"T0NEWYORK": 2, "T0TOKYO": 4, "T0QUIET": 0}
