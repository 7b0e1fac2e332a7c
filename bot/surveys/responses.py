"""Survey answers: the options people pick from, one response per person and run (saved with
its history, last write wins, never into a closed week), the pipeline form's validation, and
reading back a person's own answer.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.models import (
    DeliveryStatus,
    RequestStatus,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyResponseHistory,
    SurveyRun,
)
from bot.core.text import format_money, parse_amount, storable
from bot.surveys.runs import check_open, find_run

__all__ = [
    "ACTIVITY_OPTIONS",
    "COMMENT_MAX_CHARS",
    "FIELD_ACTIVITIES",
    "FIELD_INFLUENCED_COUNT",
    "FIELD_INFLUENCED_VALUE",
    "FIELD_NEW_COUNT",
    "FIELD_NEW_VALUE",
    "FIELD_SOURCED_COUNT",
    "FIELD_SOURCED_VALUE",
    "HELP_OPTIONS",
    "MAX_COUNT",
    "NO_NEW_PIPELINE",
    "RESPONSE_COLUMNS",
    "PipelineAnswer",
    "PipelineForm",
    "recent_deliveries_for",
    "record_enablement",
    "record_pipeline",
    "response_of",
    "validate_pipeline_form",
]

HELP_OPTIONS: dict[str, str] = {
    "case_studies": "Case studies",
    "roi": "ROI material",
    "competitive": "Competitive material",
    "objections": "Objection handling",
    "other": "Something else",
}
ACTIVITY_OPTIONS: dict[str, str] = {
    "webinar": "Webinar",
    "event": "Event",
    "content": "Content",
    "email": "Email",
    "paid": "Paid",
    "seo": "SEO",
    "support_request": "A delivered support request",
    "other": "Other",
}
MAX_COUNT = 100_000
COMMENT_MAX_CHARS = 3000

FIELD_NEW_COUNT = "new_count"
FIELD_NEW_VALUE = "new_value"
FIELD_SOURCED_COUNT = "sourced_count"
FIELD_SOURCED_VALUE = "sourced_value"
FIELD_INFLUENCED_COUNT = "influenced_count"
FIELD_INFLUENCED_VALUE = "influenced_value"
FIELD_ACTIVITIES = "activities"

# The answer columns of a response, in the order its history snapshots list them.
RESPONSE_COLUMNS: Final = (
    "score",
    "comment",
    "help_with",
    "opportunities",
    "pipeline_cents",
    "sourced_count",
    "sourced_cents",
    "influenced_count",
    "influenced_cents",
    "activities",
)


async def _save_response(
    session: AsyncSession,
    *,
    run: SurveyRun,
    user_id: str,
    now: datetime,
    values: dict[str, Any],
) -> SurveyResponse:
    """Upsert one person's answer (last write wins), keep its history, mark the delivery."""
    assert run.id is not None
    # Plain values: the rollback after a double click's clash expires every loaded row, and
    # reading an expired attribute would be I/O outside the async context.
    run_id, team_id, kind = run.id, run.team_id, run.kind
    for _attempt in range(2):
        # The run row, locked: on PostgreSQL the week's close (an UPDATE of this row) then
        # waits for this answer's commit, or this answer sees the close and is refused. An
        # answer never lands in a week that has already been closed (SQLite's write lock
        # gives the same order).
        locked = (
            await session.exec(
                select(SurveyRun)
                .where(SurveyRun.id == run_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).one()
        check_open(locked, now)
        response = (
            await session.exec(
                select(SurveyResponse).where(
                    SurveyResponse.run_id == run_id, SurveyResponse.user_id == user_id
                )
            )
        ).first()
        if response is None:
            response = SurveyResponse(
                run_id=run_id,
                team_id=team_id,
                kind=kind,
                user_id=user_id,
                created_at=now,
                updated_at=now,
            )
            session.add(response)
        for key, value in values.items():
            setattr(response, key, value)
        response.updated_at = now
        try:
            await session.flush()
        except sa.exc.IntegrityError:
            await session.rollback()  # a double click inserted it first: update that one
            continue
        assert response.id is not None
        snapshot = {key: getattr(response, key) for key in RESPONSE_COLUMNS}
        session.add(
            SurveyResponseHistory(
                response_id=response.id, saved_at=now, payload=json.dumps(snapshot)
            )
        )
        await session.exec(
            update(SurveyDelivery)
            .where(col(SurveyDelivery.run_id) == run_id, col(SurveyDelivery.user_id) == user_id)
            .values(status=DeliveryStatus.ANSWERED, answered_at=now)
        )
        await session.commit()
        return response
    raise UserError("That answer clashed with another click; try again.")


async def record_enablement(
    session: AsyncSession,
    *,
    team_id: str,
    run_id: int,
    user_id: str,
    now: datetime,
    score: int | None = None,
    comment: str | None = None,
    help_with: str | None = None,
) -> SurveyResponse:
    run = await find_run(session, team_id=team_id, run_id=run_id)
    if run.kind != SurveyKind.ENABLEMENT:
        raise UserError("That answer belongs to another survey.")
    check_open(run, now)
    values: dict[str, Any] = {}
    if score is not None:
        if not 1 <= score <= 5:
            raise UserError("Scores go from 1 to 5.", field="score")
        values["score"] = score
    if comment is not None:
        values["comment"] = storable(comment).strip()[:COMMENT_MAX_CHARS] or None
    if help_with is not None:
        if help_with not in HELP_OPTIONS:
            raise UserError("Pick one of the listed options.", field="help_with")
        values["help_with"] = help_with
    return await _save_response(session, run=run, user_id=user_id, now=now, values=values)


@dataclass(frozen=True)
class PipelineForm:
    """The pipeline survey modal's raw text."""

    new_count: str | None = None
    new_value: str | None = None
    sourced_count: str | None = None
    sourced_value: str | None = None
    influenced_count: str | None = None
    influenced_value: str | None = None
    activities: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineAnswer:
    opportunities: int
    pipeline_cents: int
    sourced_count: int
    sourced_cents: int
    influenced_count: int
    influenced_cents: int
    activities: tuple[str, ...]


NO_NEW_PIPELINE = PipelineAnswer(0, 0, 0, 0, 0, 0, ())


def _count(text: str | None, field: str) -> int:
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        return 0
    if not cleaned.isdigit():
        raise UserError(f"Write a whole number, like 3 (not {text!r}).", field=field)
    value = int(cleaned)
    if value > MAX_COUNT:
        raise UserError("That's more opportunities than one week can hold; check it.", field=field)
    return value


def _money(text: str | None, field: str) -> int:
    cleaned = (text or "").strip()
    return parse_amount(cleaned, field=field) if cleaned else 0


def validate_pipeline_form(form: PipelineForm) -> PipelineAnswer:
    """Field-by-field checks; sourced and influenced never add up to more than the total."""
    answer = PipelineAnswer(
        opportunities=_count(form.new_count, FIELD_NEW_COUNT),
        pipeline_cents=_money(form.new_value, FIELD_NEW_VALUE),
        sourced_count=_count(form.sourced_count, FIELD_SOURCED_COUNT),
        sourced_cents=_money(form.sourced_value, FIELD_SOURCED_VALUE),
        influenced_count=_count(form.influenced_count, FIELD_INFLUENCED_COUNT),
        influenced_cents=_money(form.influenced_value, FIELD_INFLUENCED_VALUE),
        activities=tuple(dict.fromkeys(form.activities)),
    )
    if answer.sourced_count + answer.influenced_count > answer.opportunities:
        raise UserError(
            f"Sourced plus influenced ({answer.sourced_count + answer.influenced_count}) can't be "
            f"more than your new opportunities ({answer.opportunities}).",
            field=FIELD_INFLUENCED_COUNT,
        )
    if answer.sourced_cents + answer.influenced_cents > answer.pipeline_cents:
        raise UserError(
            f"Sourced plus influenced ({format_money(answer.sourced_cents + answer.influenced_cents)}) "
            f"can't be more than the total value ({format_money(answer.pipeline_cents)}).",
            field=FIELD_INFLUENCED_VALUE,
        )
    for activity in answer.activities:
        if activity not in ACTIVITY_OPTIONS and not activity.startswith("ms:"):
            raise UserError("Pick activities from the list.", field=FIELD_ACTIVITIES)
    return answer


async def record_pipeline(
    session: AsyncSession,
    *,
    team_id: str,
    run_id: int,
    user_id: str,
    now: datetime,
    answer: PipelineAnswer,
) -> SurveyResponse:
    run = await find_run(session, team_id=team_id, run_id=run_id)
    if run.kind != SurveyKind.PIPELINE:
        raise UserError("That answer belongs to another survey.")
    check_open(run, now)
    values = asdict(answer)
    values["activities"] = json.dumps(list(answer.activities))
    return await _save_response(session, run=run, user_id=user_id, now=now, values=values)


async def response_of(session: AsyncSession, *, run_id: int, user_id: str) -> SurveyResponse | None:
    """The person's own answer, for showing back to them only."""
    return (
        await session.exec(
            select(SurveyResponse).where(
                SurveyResponse.run_id == run_id, SurveyResponse.user_id == user_id
            )
        )
    ).first()


async def recent_deliveries_for(
    session: AsyncSession, *, team_id: str, user_id: str, now: datetime, days: int = 30
) -> list[SupportRequest]:
    """The rep's requests delivered lately, offered as 'a delivered support request' activity."""
    result = await session.exec(
        select(SupportRequest)
        .where(
            SupportRequest.team_id == team_id,
            SupportRequest.requester_id == user_id,
            col(SupportRequest.status) == RequestStatus.DELIVERED,
            col(SupportRequest.delivered_at) >= now - timedelta(days=days),
        )
        .order_by(col(SupportRequest.delivered_at).desc())
        .limit(20)
    )
    return list(result.all())
