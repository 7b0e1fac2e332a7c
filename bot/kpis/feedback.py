"""'You said, we did': actions Marketing Support took because of what sales said."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.errors import UserError
from bot.core.models import FeedbackAction
from bot.core.text import storable

ACTION_MAX_CHARS = 500
THEMES = {
    "case_studies": "case studies",
    "roi": "ROI material",
    "competitive": "competitive material",
    "objections": "objection handling",
    "enablement": "enablement",
    "turnaround": "turnaround",
    "other": "other",
}
_HASHTAG = re.compile(r"(?:^|\s)#([a-z_]+)\b", re.IGNORECASE)


def parse_action_text(text: str) -> tuple[str, str | None]:
    """`Shipped 3 battlecards #competitive` -> ("Shipped 3 battlecards", "competitive")."""
    text = storable(text)
    theme: str | None = None
    for match in _HASHTAG.finditer(text):
        candidate = match.group(1).lower()
        if candidate in THEMES:
            theme = candidate
    cleaned = _HASHTAG.sub(lambda m: "" if m.group(1).lower() in THEMES else m.group(0), text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise UserError(
            "Say what you did, e.g. `/align wedid Published 3 new battlecards #competitive`."
        )
    if len(cleaned) > ACTION_MAX_CHARS:
        raise UserError(f"Keep it under {ACTION_MAX_CHARS} characters; link to the details.")
    return cleaned, theme


async def record_action(
    session: AsyncSession,
    *,
    team_id: str,
    text: str,
    week_start: date,
    created_by: str,
    now: datetime,
) -> FeedbackAction:
    cleaned, theme = parse_action_text(text)
    action = FeedbackAction(
        team_id=team_id,
        week_start=week_start,
        theme=theme,
        text=cleaned,
        created_by=created_by,
        created_at=now,
    )
    session.add(action)
    await session.commit()
    return action


async def recent_actions(
    session: AsyncSession, *, team_id: str, since: date, until: date, limit: int = 5
) -> list[FeedbackAction]:
    """Actions recorded for weeks in [since, until], newest first."""
    result = await session.exec(
        select(FeedbackAction)
        .where(
            FeedbackAction.team_id == team_id,
            col(FeedbackAction.week_start) >= since,
            col(FeedbackAction.week_start) <= until,
        )
        .order_by(col(FeedbackAction.created_at).desc(), col(FeedbackAction.id).desc())
        .limit(limit)
    )
    return list(result.all())
