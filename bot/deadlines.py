"""When a request is late: the one rule behind "on time", "overdue" and the SLA reminders.

A request promises delivery by one instant, its deadline:

* a due date the requester typed promises the whole of that day in the workspace's zone: the
  request is late from the local midnight after it;
* a due date the bot derived from the type's SLA (`due_from_sla`), or no due date at all,
  promises the SLA deadline (`sla_deadline`, the business-hour instant the reminders use): the
  request is late from the first instant after it;
* with neither, nothing was promised and it is never late.

"On time" is delivered before the request became late; "overdue at t" is still open at t
after it became late. Both the Python predicates here and the SQL expression `late_at` say the
same thing, and every figure and list asks them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col

from bot.models import SupportRequest
from bot.periods import local_midnight

__all__ = ["is_late_at", "is_on_time", "late_at", "late_from"]

_INSTANT = timedelta(microseconds=1)


def late_from(
    *, due_date: date | None, due_from_sla: bool, sla_deadline: datetime | None, tz: ZoneInfo
) -> datetime | None:
    """The first instant at which the request is late, or `None` when nothing was promised."""
    if due_date is not None and not due_from_sla:
        return local_midnight(due_date + timedelta(days=1), tz)
    if sla_deadline is not None:
        return sla_deadline + _INSTANT
    if due_date is not None:  # an SLA-derived date whose deadline was never stored
        return local_midnight(due_date + timedelta(days=1), tz)
    return None


def is_on_time(
    delivered_at: datetime,
    *,
    due_date: date | None,
    due_from_sla: bool,
    sla_deadline: datetime | None,
    tz: ZoneInfo,
) -> bool:
    """Delivered before the request became late (always, when nothing was promised)."""
    late = late_from(due_date=due_date, due_from_sla=due_from_sla, sla_deadline=sla_deadline, tz=tz)
    return late is None or delivered_at < late


def is_late_at(
    moment: datetime,
    *,
    due_date: date | None,
    due_from_sla: bool,
    sla_deadline: datetime | None,
    tz: ZoneInfo,
) -> bool:
    """Whether an open request is overdue at `moment`."""
    late = late_from(due_date=due_date, due_from_sla=due_from_sla, sla_deadline=sla_deadline, tz=tz)
    return late is not None and moment >= late


def late_at(moment: datetime, tz: ZoneInfo) -> Any:
    """`is_late_at` as a SQL condition on `SupportRequest` (for counts and lists)."""
    local_day = moment.astimezone(tz).date()
    due_date, sla_deadline = col(SupportRequest.due_date), col(SupportRequest.sla_deadline)
    typed_due = sa.and_(due_date.is_not(None), col(SupportRequest.due_from_sla).is_(False))
    # Midnight after the due date <= moment  <=>  the due date is before moment's local date.
    return sa.or_(
        sa.and_(typed_due, due_date < local_day),
        sa.and_(sa.not_(typed_due), sla_deadline.is_not(None), sla_deadline < moment),
        sa.and_(
            sa.not_(typed_due), sla_deadline.is_(None), due_date.is_not(None), due_date < local_day
        ),
    )
