"""When a request is late: the one rule behind "on time", "overdue" and the SLA reminders.

A request promises delivery by one instant, its deadline:

* a due date the requester typed promises the whole of that day in the workspace's zone: the
  request is late from the local midnight after it;
* a due date the bot derived from the type's SLA (`due_from_sla`), or no due date at all,
  promises the SLA deadline (`sla_deadline`, the business-hour instant the reminders use): the
  request is late from the first instant after it;
* with neither, nothing was promised and it is never late.

"On time" is delivered before the request became late; "overdue at t" is still open at t
after it became late. `Promise` answers both in Python and `late_at` in SQL; they say the same
thing, and every figure and list asks one of them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col

from bot.calendar.periods import local_midnight
from bot.core.models import SupportRequest

__all__ = ["PROMISE_COLUMNS", "Promise", "late_at"]

_INSTANT = timedelta(microseconds=1)

PROMISE_COLUMNS: Final = (
    col(SupportRequest.due_date),
    col(SupportRequest.due_from_sla),
    col(SupportRequest.sla_deadline),
)
"""The columns a `Promise` is made of, in its field order: select them, then `Promise(*row)`."""


class Promise(NamedTuple):
    """What a request promised: its due date, whether the SLA set it, and the SLA deadline."""

    due_date: date | None
    due_from_sla: bool
    sla_deadline: datetime | None

    @classmethod
    def of(cls, request: SupportRequest) -> Promise:
        return cls(request.due_date, request.due_from_sla, request.sla_deadline)

    def late_from(self, tz: ZoneInfo) -> datetime | None:
        """The first instant at which the request is late, or `None` when nothing was promised."""
        if self.due_date is not None and not self.due_from_sla:
            return local_midnight(self.due_date + timedelta(days=1), tz)
        if self.sla_deadline is not None:
            return self.sla_deadline + _INSTANT
        if self.due_date is not None:  # an SLA-derived date whose deadline was never stored
            return local_midnight(self.due_date + timedelta(days=1), tz)
        return None

    def kept_by(self, delivered_at: datetime, tz: ZoneInfo) -> bool:
        """Delivered on time: before the request became late (always, if nothing was promised)."""
        late = self.late_from(tz)
        return late is None or delivered_at < late

    def broken_at(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether a request still open at `moment` is overdue then."""
        late = self.late_from(tz)
        return late is not None and moment >= late


def late_at(moment: datetime, tz: ZoneInfo) -> Any:
    """`Promise.broken_at` as a SQL condition on `SupportRequest` (for counts and lists)."""
    local_day = moment.astimezone(tz).date()
    due_date, due_from_sla, sla_deadline = PROMISE_COLUMNS
    typed_due = sa.and_(due_date.is_not(None), due_from_sla.is_(False))
    # Midnight after the due date <= moment  <=>  the due date is before moment's local date.
    return sa.or_(
        sa.and_(typed_due, due_date < local_day),
        sa.and_(sa.not_(typed_due), sla_deadline.is_not(None), sla_deadline < moment),
        sa.and_(
            sa.not_(typed_due), sla_deadline.is_(None), due_date.is_not(None), due_date < local_day
        ),
    )
