"""Data retention: free text is erased once it is older than the workspace's retention_days.

What people wrote (request details, delivery and decline notes, thread notes, rating and survey
comments) goes; the numbers (counts, amounts, scores, dates, statuses) stay, so digests,
scorecards and exports of old periods still add up. Open requests keep their details: someone
is still working on them. Erasing is idempotent: a second run finds nothing left to erase.
A survey comment alone makes a respondent, so the closed weeks whose comments are erased are
counted again (`bot.surveys.tallies`) in the same transaction."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import (
    DeliveryRating,
    RequestEvent,
    RequestStatus,
    SupportRequest,
    SurveyResponse,
    SurveyResponseHistory,
    SurveyRun,
)
from bot.surveys.tallies import refresh_tallies

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


async def _erase(
    session: AsyncSession,
    team_id: str,
    cutoff: datetime,
    model: Any,
    written_at: Any,
    text_columns: tuple[str, ...],
    *also: Any,
) -> int:
    """Set `text_columns` to NULL on the team's rows written before `cutoff` (and matching
    `also`); returns the count."""
    columns = [getattr(model, name) for name in text_columns]
    result = await session.exec(
        update(model)
        .where(
            model.team_id == team_id,
            written_at < cutoff,
            sa.or_(*(column.is_not(None) for column in columns)),
            *also,
        )
        .values(dict.fromkeys(text_columns))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def erase_old_free_text(
    session: AsyncSession, *, team_id: str, retention_days: int, now: datetime
) -> RetentionReport:
    """Erase one workspace's free text older than `retention_days`, in one transaction."""
    cutoff = retention_cutoff(now, retention_days)
    closed = SupportRequest.status.not_in(OPEN_STATUSES)  # type: ignore[attr-defined]
    closed_ids = select(SupportRequest.id).where(SupportRequest.team_id == team_id, closed)
    erase = functools.partial(_erase, session, team_id, cutoff)
    report = RetentionReport(
        requests=await erase(
            SupportRequest, SupportRequest.updated_at, ("details", "outcome_note"), closed
        ),
        events=await erase(
            RequestEvent,
            RequestEvent.created_at,
            ("note",),
            RequestEvent.request_id.in_(closed_ids),  # type: ignore[attr-defined]
        ),
        ratings=await erase(DeliveryRating, DeliveryRating.updated_at, ("comment",)),
        survey_responses=await _erase_survey_comments(session, team_id, cutoff, now),
        survey_history=await _erase_history_comments(session, team_id=team_id, cutoff=cutoff),
    )
    await session.commit()
    return report


async def _erase_survey_comments(
    session: AsyncSession, team_id: str, cutoff: datetime, now: datetime
) -> int:
    """Erase old survey comments, and count the runs they belonged to again.

    A comment alone makes a respondent, so erasing one can change a closed week's tally
    (`bot.surveys.tallies`): the runs touched are locked first (a close running at the same
    moment then either rolls up after this erasure or has committed its tally before it),
    and their tallies are rolled up again from the erased responses in this transaction."""
    old_comments = sa.and_(
        col(SurveyResponse.team_id) == team_id,
        col(SurveyResponse.updated_at) < cutoff,
        col(SurveyResponse.comment).is_not(None),
    )
    touched = select(col(SurveyResponse.run_id)).where(old_comments).distinct()
    run_ids = [
        run_id
        for run_id in (
            await session.exec(
                select(col(SurveyRun.id))
                .where(col(SurveyRun.id).in_(touched))
                .order_by(col(SurveyRun.id))
                .with_for_update()
            )
        ).all()
        if run_id is not None
    ]
    erased = await _erase(
        session, team_id, cutoff, SurveyResponse, SurveyResponse.updated_at, ("comment",)
    )
    await refresh_tallies(session, run_ids, now)
    return erased


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
