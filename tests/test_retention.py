"""Retention: free text older than retention_days is erased; numbers, open work and other
workspaces are untouched; the daily job runs once a day and also serves uninstalled workspaces."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import (
    DeliveryRating,
    RequestEvent,
    RequestStatus,
    RequestType,
    RunStatus,
    SupportRequest,
    SurveyKind,
    SurveyResponse,
    SurveyResponseHistory,
    SurveyRun,
)
from bot.workspace.installs import mark_uninstalled
from bot.workspace.retention import erase_old_free_text
from jobs.clients import SingleTokenClients
from jobs.scheduler import run_scheduled
from tests.support.process import alignbot_async, bot_env
from tests.support.workspace import REP, TEAM_ID, configure

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
# The daily job serves each workspace from its own point in the UTC day; its last tick, all.
DAY_END = NOW.replace(hour=23, minute=30)
LONG_AGO = NOW - timedelta(days=400)
RECENTLY = NOW - timedelta(days=60)
OTHER_TEAM = "T0OTHER"


def support_request(
    team_id: str, number: int, status: RequestStatus, updated_at: datetime
) -> SupportRequest:
    return SupportRequest(
        team_id=team_id,
        number=number,
        request_type=RequestType("deal_deck"),
        status=status,
        account="Acme",
        amount_cents=25_000_000,
        details=f"secret plan {number}",
        outcome_note="delivered the deck" if status == RequestStatus.DELIVERED else None,
        requester_id=REP,
        source="command",
        source_key=f"key-{team_id}-{number}",
        created_at=updated_at,
        updated_at=updated_at,
    )


async def seed(deps: Deps) -> dict[str, int]:
    """Old and recent text in two workspaces; returns the ids the tests look at."""
    for team in (TEAM_ID, OTHER_TEAM):
        await configure(deps, team_id=team)
    ids: dict[str, int] = {}
    async with deps.sessions() as session:
        rows = {
            "old_delivered": support_request(TEAM_ID, 1, RequestStatus.DELIVERED, LONG_AGO),
            "old_open": support_request(TEAM_ID, 2, RequestStatus.IN_PROGRESS, LONG_AGO),
            "recent_delivered": support_request(TEAM_ID, 3, RequestStatus.DELIVERED, RECENTLY),
            "other_team_old": support_request(OTHER_TEAM, 1, RequestStatus.DELIVERED, LONG_AGO),
        }
        session.add_all(rows.values())
        await session.flush()
        for name, row in rows.items():
            assert row.id is not None
            ids[name] = row.id
        event = RequestEvent(
            request_id=ids["old_delivered"],
            team_id=TEAM_ID,
            actor_id="U0MKT",
            action="deliver",
            from_status=RequestStatus.IN_PROGRESS,
            to_status=RequestStatus.DELIVERED,
            note="here is the link and some private context",
            created_at=LONG_AGO,
        )
        session.add(event)
        await session.flush()
        assert event.id is not None
        session.add(
            DeliveryRating(
                request_id=ids["old_delivered"],
                delivery_event_id=event.id,
                team_id=TEAM_ID,
                rater_id=REP,
                score=2,
                helped="no",
                comment="the numbers were wrong",
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
        )
        run = SurveyRun(
            team_id=TEAM_ID,
            kind=SurveyKind.ENABLEMENT,
            period_start=date(2025, 10, 13),
            period_end=date(2025, 10, 19),
            opens_at=LONG_AGO,
            closes_at=LONG_AGO + timedelta(days=6),
            status=RunStatus.CLOSED,
            created_at=LONG_AGO,
        )
        session.add(run)
        await session.flush()
        assert run.id is not None
        response = SurveyResponse(
            run_id=run.id,
            team_id=TEAM_ID,
            kind=SurveyKind.ENABLEMENT,
            user_id=REP,
            score=4,
            comment="more case studies please",
            created_at=LONG_AGO,
            updated_at=LONG_AGO,
        )
        session.add(response)
        await session.flush()
        assert response.id is not None
        ids["response"] = response.id
        history = SurveyResponseHistory(
            response_id=response.id,
            saved_at=LONG_AGO,
            payload=json.dumps({"score": 3, "comment": "first thoughts"}),
        )
        session.add(history)
        await session.commit()
        assert history.id is not None
        ids["history"] = history.id
    return ids


async def fetch(deps: Deps, model: type, row_id: int):  # type: ignore[no-untyped-def]
    async with deps.sessions() as session:
        return await session.get(model, row_id)


async def test_old_free_text_is_erased_and_the_numbers_stay(deps: Deps) -> None:
    ids = await seed(deps)

    async with deps.sessions() as session:
        report = await erase_old_free_text(session, team_id=TEAM_ID, retention_days=365, now=NOW)

    old = await fetch(deps, SupportRequest, ids["old_delivered"])
    assert (old.details, old.outcome_note) == (None, None)
    assert (old.account, old.amount_cents, old.status) == (
        "Acme",
        25_000_000,
        RequestStatus.DELIVERED,
    )
    response = await fetch(deps, SurveyResponse, ids["response"])
    assert response.comment is None
    assert response.score == 4
    history = await fetch(deps, SurveyResponseHistory, ids["history"])
    assert json.loads(history.payload) == {"score": 3, "comment": None}
    assert (report.requests, report.events, report.ratings) == (1, 1, 1)
    assert (report.survey_responses, report.survey_history) == (1, 1)


async def test_open_work_recent_text_and_other_workspaces_are_kept(deps: Deps) -> None:
    ids = await seed(deps)

    async with deps.sessions() as session:
        await erase_old_free_text(session, team_id=TEAM_ID, retention_days=365, now=NOW)

    assert (await fetch(deps, SupportRequest, ids["old_open"])).details == "secret plan 2"
    assert (await fetch(deps, SupportRequest, ids["recent_delivered"])).details == "secret plan 3"
    assert (await fetch(deps, SupportRequest, ids["other_team_old"])).details == "secret plan 1"


async def test_erasing_twice_finds_nothing_left(deps: Deps) -> None:
    await seed(deps)
    async with deps.sessions() as session:
        await erase_old_free_text(session, team_id=TEAM_ID, retention_days=365, now=NOW)

    async with deps.sessions() as session:
        again = await erase_old_free_text(session, team_id=TEAM_ID, retention_days=365, now=NOW)

    assert again.total == 0
    assert again.describe() == "nothing to erase"


async def test_a_shorter_retention_setting_erases_more(deps: Deps) -> None:
    ids = await seed(deps)
    await configure(deps, retention_days=30)

    await run_scheduled(deps, SingleTokenClients(make_client(deps)), "retention", DAY_END)

    assert (await fetch(deps, SupportRequest, ids["recent_delivered"])).details is None


async def test_the_daily_job_runs_once_a_day_and_serves_uninstalled_workspaces(
    deps: Deps,
) -> None:
    ids = await seed(deps)
    async with deps.sessions() as session:
        await mark_uninstalled(session, team_id=OTHER_TEAM, now=NOW)
    clients = SingleTokenClients(make_client(deps))

    await run_scheduled(deps, clients, "retention", DAY_END)
    async with deps.sessions() as session:  # new text arrives, old enough to erase
        row = await session.get(SupportRequest, ids["old_delivered"])
        assert row is not None
        row.details = "written back later"
        await session.commit()
    await run_scheduled(deps, clients, "retention", DAY_END + timedelta(minutes=20))

    assert (await fetch(deps, SupportRequest, ids["other_team_old"])).details is None
    assert (await fetch(deps, SupportRequest, ids["old_delivered"])).details == (
        "written back later"
    )  # same day: the job's period was already claimed
    await run_scheduled(deps, clients, "retention", DAY_END + timedelta(days=1))
    assert (await fetch(deps, SupportRequest, ids["old_delivered"])).details is None


@pytest.mark.parametrize("days", ["7", "forever"])
def test_retention_days_out_of_range_is_refused_with_a_reason(days: str) -> None:
    from bot.core.errors import UserError
    from bot.workspace.settings import parse_setting_value, validated

    with pytest.raises(UserError):
        validated({"retention_days": parse_setting_value("retention_days", days)})


async def test_an_operator_runs_retention_from_the_command_line(
    tmp_path: Path, fake_slack: object
) -> None:
    env = bot_env(tmp_path)
    await alignbot_async(
        "config", "set", "retention_days", "90", "--team", TEAM_ID, env=env, cwd=tmp_path
    )

    code, out, err = await alignbot_async(
        "retention", "run", "--at", "2026-12-01T03:00:00Z", env=env, cwd=tmp_path
    )

    assert code == 0, err
    assert f"{TEAM_ID}: kept 90 days as of 2026-12-01T03:00:00+00:00; nothing to erase" in out
