"""The demo workspace (`alignbot demo`, bot.demo.workspace) is complete, consistent and reads well."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter as Tally
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from bot.calendar.periods import period_of
from bot.calendar.windows import quarter_of
from bot.core.deps import Deps
from bot.core.models import (
    Counter,
    DeliveryRating,
    DeliveryStatus,
    FeedbackAction,
    Function,
    Goal,
    LeadCount,
    Opportunity,
    Quota,
    RequestEvent,
    RequestStatus,
    RosterMember,
    RunStatus,
    SlackUser,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyResponseHistory,
    SurveyRun,
    TeamSetting,
    Workspace,
)
from bot.demo.people import DEMO_TIMEZONE
from bot.demo.workspace import generate_demo
from bot.kpis.digests import demandgen_digest, scorecard_for, support_digest
from bot.requests.lifecycle import Action
from bot.workspace.settings import load_settings
from tests.support.process import ROOT, alignbot_command

TEAM = "TDEMO"
FILLED_TABLES = (
    Workspace,
    TeamSetting,
    RosterMember,
    SlackUser,
    Counter,
    SupportRequest,
    RequestEvent,
    DeliveryRating,
    SurveyRun,
    SurveyDelivery,
    SurveyResponse,
    SurveyResponseHistory,
    Opportunity,
    LeadCount,
    Quota,
    Goal,
    FeedbackAction,
)


async def _demo(deps: Deps) -> None:
    async with deps.sessions() as session:
        assert await generate_demo(session, now=deps.clock()) == TEAM


async def _count(deps: Deps, model: type[SQLModel]) -> int:
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    async with deps.sessions() as session:
        return int((await session.exec(select(sa.func.count()).select_from(table))).one())


async def test_every_table_is_filled(deps: Deps) -> None:
    await _demo(deps)

    counts = {model.__name__: await _count(deps, model) for model in FILLED_TABLES}

    assert {name: count for name, count in counts.items() if count == 0} == {}
    assert counts["SurveyRun"] == 24  # 12 weeks x 2 surveys
    assert counts["LeadCount"] == 12
    assert counts["FeedbackAction"] == 2
    assert counts["RosterMember"] == 12 + 4 + 2


async def test_requests_go_through_every_state_with_matching_events(deps: Deps) -> None:
    await _demo(deps)

    async with deps.sessions() as session:
        requests = list((await session.exec(select(SupportRequest))).all())
        events = list(
            (
                await session.exec(
                    select(RequestEvent).order_by(
                        col(RequestEvent.request_id), col(RequestEvent.created_at)
                    )
                )
            ).all()
        )
        counter = await session.get(Counter, (TEAM, "request"))

    assert {request.status for request in requests} == set(RequestStatus)
    by_request: dict[int, list[RequestEvent]] = defaultdict(list)
    for event in events:
        by_request[event.request_id].append(event)
    now = deps.clock()
    for request in requests:
        assert request.id is not None
        history = by_request[request.id]
        assert request.version == 1 + len(history)
        assert all(request.created_at <= event.created_at <= now for event in history)
        previous = RequestStatus.OPEN
        for event in history:
            assert event.from_status == previous, request.number
            previous = event.to_status
        assert previous == request.status
        if request.status == RequestStatus.DELIVERED:
            assert history[-1].action == Action.DELIVER.value
            assert request.delivered_at == history[-1].created_at
            assert request.claimed_at is not None
            assert request.claimed_at <= request.delivered_at
        if request.status in (RequestStatus.CLAIMED, RequestStatus.IN_PROGRESS):
            assert request.assignee_id is not None
            assert request.claimed_at is not None
        if request.status == RequestStatus.OPEN:
            assert request.assignee_id is None
            assert not history
        assert request.due_date is not None
        assert request.sla_deadline is not None
    overdue = [
        request
        for request in requests
        if request.status.is_open and request.sla_deadline and request.sla_deadline < now
    ]
    assert overdue
    assert counter is not None
    assert counter.value == max(request.number for request in requests)


async def test_ratings_point_at_delivery_events(deps: Deps) -> None:
    await _demo(deps)

    async with deps.sessions() as session:
        rows = (
            await session.exec(
                select(DeliveryRating, RequestEvent).join(
                    RequestEvent, col(RequestEvent.id) == col(DeliveryRating.delivery_event_id)
                )
            )
        ).all()

    assert rows
    for rating, event in rows:
        assert event.action == Action.DELIVER.value
        assert event.request_id == rating.request_id
        assert rating.created_at >= event.created_at
        assert rating.score is not None
        assert 1 <= rating.score <= 5


async def test_survey_answers_are_consistent(deps: Deps) -> None:
    await _demo(deps)

    async with deps.sessions() as session:
        runs = {run.id: run for run in (await session.exec(select(SurveyRun))).all()}
        responses = list((await session.exec(select(SurveyResponse))).all())
        deliveries = list((await session.exec(select(SurveyDelivery))).all())
        settings = await load_settings(session, TEAM)

    assert settings.timezone == DEMO_TIMEZONE
    current = period_of(deps.clock(), settings.zone).start
    for run in runs.values():
        assert run.team_id == TEAM
        assert run.status == (RunStatus.OPEN if run.period_start == current else RunStatus.CLOSED)
    statuses = Tally(delivery.status for delivery in deliveries)
    assert statuses[DeliveryStatus.ANSWERED] > statuses[DeliveryStatus.SENT] > 0
    assert statuses[DeliveryStatus.FAILED] >= 2
    answered = {
        (delivery.run_id, delivery.user_id)
        for delivery in deliveries
        if delivery.status == DeliveryStatus.ANSWERED
    }
    assert {(response.run_id, response.user_id) for response in responses} == answered
    for response in responses:
        run = runs[response.run_id]
        assert run.team_id == response.team_id
        assert run.kind == response.kind
        assert run.opens_at <= response.created_at < run.closes_at
        if response.kind == SurveyKind.ENABLEMENT:
            assert response.score is not None
            assert 1 <= response.score <= 5
            continue
        assert response.opportunities is not None
        assert response.pipeline_cents is not None
        assert response.sourced_count is not None
        assert response.influenced_count is not None
        assert response.sourced_cents is not None
        assert response.influenced_cents is not None
        assert response.sourced_count + response.influenced_count <= response.opportunities
        assert response.sourced_cents + response.influenced_cents <= response.pipeline_cents
        assert isinstance(json.loads(response.activities or "null"), list)
    pipeline = [response for response in responses if response.kind == SurveyKind.PIPELINE]
    assert any(response.sourced_cents for response in pipeline)
    assert any(response.influenced_cents for response in pipeline)
    assert any(response.comment for response in responses)
    assert any(response.help_with for response in responses)


async def test_the_digests_and_scorecards_have_figures(deps: Deps) -> None:
    await _demo(deps)

    async with deps.sessions() as session:
        settings = await load_settings(session, TEAM)
        week = period_of(deps.clock(), settings.zone).start
        support = await support_digest(
            session, team_id=TEAM, week_start=week, settings=settings, now=deps.clock()
        )
        demandgen = await demandgen_digest(
            session, team_id=TEAM, week_start=week, settings=settings, now=deps.clock()
        )
        last_week = await support_digest(
            session,
            team_id=TEAM,
            week_start=week - timedelta(days=7),
            settings=settings,
            now=deps.clock(),
        )
        last_dg = await demandgen_digest(
            session,
            team_id=TEAM,
            week_start=week - timedelta(days=7),
            settings=settings,
            now=deps.clock(),
        )
        quarter = quarter_of(deps.clock().astimezone(settings.zone).date())
        cards = {
            function: await scorecard_for(
                session,
                team_id=TEAM,
                quarter=quarter,
                function=function,
                settings=settings,
                now=deps.clock(),
            )
            for function in Function
        }

    assert support.this.filed > 0
    assert support.satisfaction.mean.withheld is False
    assert support.satisfaction.mean.value is not None
    assert support.satisfaction.response_rate is not None
    assert support.goals
    assert len(support.actions) == 2
    assert last_week.this.filed > 0
    assert last_week.this.delivered > 0
    assert last_week.this.ratings > 0
    assert last_week.this.time_to_claim.count > 0
    assert support.quarter_delivered > 0
    assert demandgen.coverage.ratio is not None
    assert 2 <= demandgen.coverage.ratio < 3
    assert demandgen.quarter_to_date.crm_sourced_cents > 0
    assert demandgen.quarter_to_date.lead_to_opportunity_rate is not None
    assert last_dg.this.activities
    for card in cards.values():
        assert card.complete
        assert card.total is not None
        assert card.total > 0


async def test_the_same_seed_makes_the_same_workspace_next_to_another(deps: Deps) -> None:
    await _demo(deps)

    async with deps.sessions() as session:
        await generate_demo(session, now=deps.clock(), team_id="TDEMOTWO")
        rows = (
            await session.exec(
                select(SupportRequest.team_id, SupportRequest.status, sa.func.count()).group_by(
                    col(SupportRequest.team_id), col(SupportRequest.status)
                )
            )
        ).all()

    by_team: dict[str, dict[str, int]] = defaultdict(dict)
    for team, status, count in rows:
        by_team[team][status] = count
    assert by_team[TEAM] == by_team["TDEMOTWO"]


def test_the_demo_command_prints_both_digests_and_scorecards(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_URL", "ALIGNBOT_"))
    }
    env["PYTHONPATH"] = str(ROOT)

    result = subprocess.run(
        alignbot_command("demo", "--database", str(tmp_path / "demo.db")),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Marketing Support ·" in result.stdout
    assert "Demand Gen ·" in result.stdout
    assert result.stdout.count("Bonus attainment") == 2
