"""Data retention: free text is erased once it is older than the workspace's retention_days.

What people wrote (request details, delivery and decline notes, thread notes, rating and survey
comments) goes; the numbers (counts, amounts, scores, dates, statuses) stay, so digests,
scorecards and exports of old periods still add up. Open requests keep their details: someone
is still working on them. Erasing is idempotent: a second run finds nothing left to erase."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import (
    DeliveryRating,
    RequestEvent,
    RequestStatus,
    SupportRequest,
    SurveyResponse,
    SurveyResponseHistory,
)

ERASED_TEXT_FIELDS = ("comment",)
OPEN_STATUSES = [status for status in RequestStatus if status.is_open]
HISTORY_BATCH = 1000


@dataclass(frozen=True)
class RetentionReport:
    requests: int = 0
    events: int = 0
    ratings: int = 0
    survey_responses: int = 0
    survey_history: int = 0

    @property
    def total(self) -> int:
        return (
            self.requests + self.events + self.ratings + self.survey_responses + self.survey_history
        )

    def describe(self) -> str:
        if not self.total:
            return "nothing to erase"
        return (
            f"erased free text from {self.requests} requests, {self.events} request notes, "
            f"{self.ratings} ratings, {self.survey_responses} survey answers and "
            f"{self.survey_history} earlier answer versions"
        )


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def erase_old_free_text(
    session: AsyncSession, *, team_id: str, retention_days: int, now: datetime
) -> RetentionReport:
    """Erase one workspace's free text older than `retention_days`, in one transaction."""
    cutoff = retention_cutoff(now, retention_days)
    requests = await session.exec(
        update(SupportRequest)
        .where(
            SupportRequest.team_id == team_id,  # type: ignore[arg-type]
            SupportRequest.updated_at < cutoff,  # type: ignore[arg-type]
            SupportRequest.status.not_in(OPEN_STATUSES),  # type: ignore[attr-defined]
            sa.or_(
                SupportRequest.details.is_not(None),  # type: ignore[union-attr]
                SupportRequest.outcome_note.is_not(None),  # type: ignore[union-attr]
            ),
        )
        .values(details=None, outcome_note=None)
    )
    closed_ids = (
        select(SupportRequest.id)
        .where(SupportRequest.team_id == team_id)
        .where(SupportRequest.status.not_in(OPEN_STATUSES))  # type: ignore[attr-defined]
    )
    events = await session.exec(
        update(RequestEvent)
        .where(
            RequestEvent.team_id == team_id,  # type: ignore[arg-type]
            RequestEvent.created_at < cutoff,  # type: ignore[arg-type]
            RequestEvent.note.is_not(None),  # type: ignore[union-attr]
            RequestEvent.request_id.in_(closed_ids),  # type: ignore[attr-defined]
        )
        .values(note=None)
    )
    ratings = await session.exec(
        update(DeliveryRating)
        .where(
            DeliveryRating.team_id == team_id,  # type: ignore[arg-type]
            DeliveryRating.updated_at < cutoff,  # type: ignore[arg-type]
            DeliveryRating.comment.is_not(None),  # type: ignore[union-attr]
        )
        .values(comment=None)
    )
    responses = await session.exec(
        update(SurveyResponse)
        .where(
            SurveyResponse.team_id == team_id,  # type: ignore[arg-type]
            SurveyResponse.updated_at < cutoff,  # type: ignore[arg-type]
            SurveyResponse.comment.is_not(None),  # type: ignore[union-attr]
        )
        .values(comment=None)
    )
    history = await _erase_history_comments(session, team_id=team_id, cutoff=cutoff)
    await session.commit()
    return RetentionReport(
        requests=_count(requests),
        events=_count(events),
        ratings=_count(ratings),
        survey_responses=_count(responses),
        survey_history=history,
    )


async def _erase_history_comments(session: AsyncSession, *, team_id: str, cutoff: datetime) -> int:
    """Earlier versions of survey answers are JSON: drop their comments, keep their numbers."""
    erased = 0
    last_id = 0
    while True:
        rows = (
            await session.exec(
                select(SurveyResponseHistory.id, SurveyResponseHistory.payload)
                .join(SurveyResponse, SurveyResponse.id == SurveyResponseHistory.response_id)  # type: ignore[arg-type]
                .where(
                    SurveyResponse.team_id == team_id,
                    SurveyResponseHistory.saved_at < cutoff,
                    SurveyResponseHistory.id > last_id,  # type: ignore[operator]
                    SurveyResponseHistory.payload.contains('"comment"'),  # type: ignore[attr-defined]
                )
                .order_by(SurveyResponseHistory.id)  # type: ignore[arg-type]
                .limit(HISTORY_BATCH)
            )
        ).all()
        if not rows:
            return erased
        for history_id, payload in rows:
            assert history_id is not None
            last_id = history_id
            try:
                values = json.loads(payload)
            except ValueError:
                continue
            if not isinstance(values, dict) or all(
                values.get(field) is None for field in ERASED_TEXT_FIELDS
            ):
                continue
            for field in ERASED_TEXT_FIELDS:
                values[field] = None
            await session.exec(
                update(SurveyResponseHistory)
                .where(SurveyResponseHistory.id == history_id)  # type: ignore[arg-type]
                .values(payload=json.dumps(values))
            )
            erased += 1


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
