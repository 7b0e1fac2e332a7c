"""A double click whose second insert clashes with the first: the domain edits the row the first
click wrote instead of failing. The clash is made deterministic here: just before the domain's
own insert is flushed, the same unique row is written in the same transaction, so the flush
fails exactly as when another process committed it first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import period_of
from bot.core.deps import Deps
from bot.core.models import DeliveryRating, SurveyKind, SurveyResponse
from bot.requests.queue import latest_delivery_event, rate_delivery
from bot.surveys.responses import record_enablement
from bot.surveys.runs import get_or_create_run
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.ratings import delivered_request
from tests.support.workspace import REP, TEAM_ID, FixedClock


@contextmanager
def a_clashing_insert_before_the_first_flush(
    session: AsyncSession, table: sa.Table, row: Callable[[], dict[str, Any]]
) -> Iterator[None]:
    fired = False

    def clash(sync_session: Session, _context: Any, _instances: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        sync_session.connection().execute(sa.insert(table).values(**row()))

    sa.event.listen(session.sync_session, "before_flush", clash)
    try:
        yield
    finally:
        sa.event.remove(session.sync_session, "before_flush", clash)
    assert fired


async def test_a_rating_whose_insert_clashes_edits_the_one_row(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request, _dm = await delivered_request(slack, fake_slack, configured)
    assert request.id is not None
    async with configured.sessions() as session:
        delivery = await latest_delivery_event(session, request_id=request.id)
        assert delivery is not None
        assert delivery.id is not None
        delivery_id = delivery.id
        clashing_row = {
            "request_id": request.id,
            "delivery_event_id": delivery_id,
            "team_id": TEAM_ID,
            "rater_id": REP,
            "discarded": False,
            "created_at": clock.now,
            "updated_at": clock.now,
        }
        table = DeliveryRating.__table__  # type: ignore[attr-defined]
        with a_clashing_insert_before_the_first_flush(session, table, lambda: clashing_row):
            rating = await rate_delivery(
                session,
                team_id=TEAM_ID,
                request_id=request.id,
                rater_id=REP,
                now=clock.now,
                score=4,
            )
        assert rating.score == 4

    async with configured.sessions() as session:
        stored = (await session.exec(select(DeliveryRating))).all()
    assert [(row.delivery_event_id, row.score) for row in stored] == [(delivery_id, 4)]


async def test_a_survey_answer_whose_insert_clashes_edits_the_one_row(
    configured: Deps, clock: FixedClock
) -> None:
    async with configured.sessions() as session:
        run = await get_or_create_run(
            session,
            team_id=TEAM_ID,
            kind=SurveyKind.ENABLEMENT,
            period=period_of(clock.now, ZoneInfo("UTC")),
            now=clock.now,
        )
        assert run.id is not None
        run_id = run.id
    async with configured.sessions() as session:
        clashing_row = {
            "run_id": run_id,
            "team_id": TEAM_ID,
            "kind": SurveyKind.ENABLEMENT.value,
            "user_id": REP,
            "created_at": clock.now,
            "updated_at": clock.now,
        }
        table = SurveyResponse.__table__  # type: ignore[attr-defined]
        with a_clashing_insert_before_the_first_flush(session, table, lambda: clashing_row):
            response = await record_enablement(
                session, team_id=TEAM_ID, run_id=run_id, user_id=REP, now=clock.now, score=5
            )
        assert response.score == 5

    async with configured.sessions() as session:
        stored = (
            await session.exec(select(SurveyResponse).where(col(SurveyResponse.run_id) == run_id))
        ).all()
    assert [(row.user_id, row.score) for row in stored] == [(REP, 5)]
