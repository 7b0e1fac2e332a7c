"""Pipeline coverage for a quarter (PRODUCT.md §4): open pipeline against what is left of the
quota, from imported CRM opportunities and quotas, with the 2–3x rule's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import parse_quarter_label, quarter_window
from bot.core.models import Opportunity, Quota

__all__ = [
    "COVERAGE_STATUSES",
    "STATUS_3X_OR_MORE",
    "STATUS_BELOW_2X",
    "STATUS_BETWEEN_2X_AND_3X",
    "STATUS_NO_QUOTA",
    "STATUS_QUOTA_MET",
    "Coverage",
    "coverage",
    "coverage_status",
]

STATUS_NO_QUOTA: Final = "no quota set"
STATUS_QUOTA_MET: Final = "quota met"
STATUS_BELOW_2X: Final = "below 2x"
STATUS_BETWEEN_2X_AND_3X: Final = "between 2x and 3x"
STATUS_3X_OR_MORE: Final = "3x or more"
COVERAGE_STATUSES: Final = (
    STATUS_NO_QUOTA,
    STATUS_QUOTA_MET,
    STATUS_BELOW_2X,
    STATUS_BETWEEN_2X_AND_3X,
    STATUS_3X_OR_MORE,
)


@dataclass(frozen=True)
class Coverage:
    """Open pipeline against what is left of the quarter's quota (see `coverage`)."""

    quarter: str
    open_pipeline_cents: int
    quota_cents: int | None
    booked_cents: int
    remaining_quota_cents: int | None
    ratio: float | None
    status: str
    quota_attainment: float | None
    # The last local date the figures include, and the day the CRM data was last imported when
    # that is after it (amounts and stages have no history: they are as of that import).
    as_of: date | None = None
    imported_on: date | None = None


def coverage_status(*, open_pipeline_cents: int, remaining_quota_cents: int | None) -> str:
    """The 2–3x coverage rule: "no quota set" without a quota; "quota met" when nothing is
    left to book; else "below 2x" (< 2), "between 2x and 3x" (2 inclusive to 3 exclusive) or
    "3x or more", compared in exact integer cents."""
    if remaining_quota_cents is None:
        return STATUS_NO_QUOTA
    if remaining_quota_cents <= 0:
        return STATUS_QUOTA_MET
    if open_pipeline_cents < 2 * remaining_quota_cents:
        return STATUS_BELOW_2X
    if open_pipeline_cents < 3 * remaining_quota_cents:
        return STATUS_BETWEEN_2X_AND_3X
    return STATUS_3X_OR_MORE


async def coverage(
    session: AsyncSession,
    *,
    team_id: str,
    quarter: str,
    tz: ZoneInfo,
    now: datetime | None = None,
    until: datetime | None = None,
) -> Coverage:
    """Pipeline coverage for a quarter ("2026-Q4"), from imported CRM opportunities, as it
    stood at the measuring instant: the earliest of the quarter's end, `until` (a past week's
    end, for its digest) and `now` (without `now`, the quarter's end). A malformed quarter
    raises `UserError`.

    CRM dates are calendar dates as the CRM reported them (already local); "before the
    measuring instant" means on a local date the quarter up to that instant covers
    (`Window.local_dates`), so today's deals count in the quarter to date.

    * booked_cents: amounts of won opportunities whose close date is in the quarter, up to the
      measuring date.
    * open_pipeline_cents: amounts of opportunities created by the measuring date (or
      undated) that were still open then — not closed, or closed after it — and whose close
      date is in the quarter or unset (past-due open deals from earlier quarters are not
      counted).
    * quota_cents: the quarter's workspace quota (owner "*"); without one, the sum of the
      per-owner quotas; `None` when there is no quota row at all.
    * remaining_quota_cents: max(quota − booked, 0); `None` without a quota.
    * ratio: open_pipeline / remaining_quota; `None` without a quota or with nothing left.
    * status: `coverage_status` ("no quota set" also for a quota of 0).
    * quota_attainment: booked / quota; `None` without a (non-zero) quota.
    * as_of: the last date included; imported_on: the latest import's date when it is after
      `as_of` — amounts, stages and expected close dates carry no history, so a past period
      is judged with them as imported then ("as of import <date>").
    """
    first, end, label = parse_quarter_label(quarter)
    whole = quarter_window(label, tz)
    measured = whole.up_to(min(whole.end, until or whole.end, now or whole.end))
    after = measured.local_dates(tz)[1]
    in_quarter = sa.and_(col(Opportunity.close_date) >= first, col(Opportunity.close_date) < end)
    team = col(Opportunity.team_id) == team_id
    close_date = col(Opportunity.close_date)
    still_open_then = sa.or_(
        col(Opportunity.is_closed).is_(False), sa.and_(close_date.is_not(None), close_date >= after)
    )
    created_by_then = sa.or_(
        col(Opportunity.created_date).is_(None), col(Opportunity.created_date) < after
    )

    open_cents = (
        await session.exec(
            select(sa.func.sum(col(Opportunity.amount_cents))).where(
                team,
                still_open_then,
                created_by_then,
                sa.or_(in_quarter, close_date.is_(None)),
            )
        )
    ).one()
    booked_cents = (
        await session.exec(
            select(sa.func.sum(col(Opportunity.amount_cents))).where(
                team, col(Opportunity.is_won).is_(True), in_quarter, close_date < after
            )
        )
    ).one()
    # Only a period that ended before now can have been imported after: skip the read else.
    last_import = None
    if now is not None and measured.end < now:
        last_import = (
            await session.exec(
                select(col(Opportunity.updated_at))
                .where(team)
                .order_by(col(Opportunity.updated_at).desc())
                .limit(1)
            )
        ).first()
    as_of = after - timedelta(days=1)
    imported_on = None
    if last_import is not None:
        imported_day = last_import.astimezone(tz).date()
        imported_on = imported_day if imported_day > as_of else None
    quota_rows = (
        await session.exec(
            select(Quota.owner, Quota.amount_cents).where(
                col(Quota.team_id) == team_id, col(Quota.quarter) == label
            )
        )
    ).all()
    quotas = {owner: int(amount) for owner, amount in quota_rows}
    quota: int | None = quotas["*"] if "*" in quotas else (sum(quotas.values()) if quotas else None)

    open_pipeline = int(open_cents or 0)
    booked = int(booked_cents or 0)
    if quota is None or quota <= 0:
        return Coverage(
            quarter=label,
            open_pipeline_cents=open_pipeline,
            quota_cents=quota,
            booked_cents=booked,
            remaining_quota_cents=None if quota is None else 0,
            ratio=None,
            status=STATUS_NO_QUOTA,
            quota_attainment=None,
            as_of=as_of,
            imported_on=imported_on,
        )
    remaining = max(quota - booked, 0)
    return Coverage(
        quarter=label,
        open_pipeline_cents=open_pipeline,
        quota_cents=quota,
        booked_cents=booked,
        remaining_quota_cents=remaining,
        ratio=open_pipeline / remaining if remaining else None,
        status=coverage_status(open_pipeline_cents=open_pipeline, remaining_quota_cents=remaining),
        quota_attainment=booked / quota,
        as_of=as_of,
        imported_on=imported_on,
    )
