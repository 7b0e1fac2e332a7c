"""Turnaround (SLA) rules for Marketing Support requests, counted in business time.

Marketing Support promises a turnaround per request type, in *business* days: a deck filed on
Friday afternoon is not late on Saturday, and the time a request spent "waiting on requester"
is not Marketing's. The business time itself comes from `bot.calendar.business`; this module
owns the rules on top of it:

* the default turnaround per type (`DEFAULT_SLA_BUSINESS_DAYS`; workspaces may override it);
* how much of the SLA has been used (`sla_progress`);
* which reminders are due (`due_escalations`: a nudge at 75%, an overdue alert at 100%, and
  an "unclaimed" alert to the intake channel after 4 business hours nobody picked it up).

Pure: no I/O and no clock; `now` is always an argument, so the reminder job and the tests
decide what time it is.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.calendar.business import BusinessCalendar, Pause, require_aware
from bot.requests.types import RequestType

__all__ = [
    "DEFAULT_SLA_BUSINESS_DAYS",
    "UNCLAIMED_ALERT_BUSINESS_SECONDS",
    "EscalationStep",
    "SlaProgress",
    "due_escalations",
    "sla_progress",
]

_ONE_SECOND: Final = timedelta(seconds=1)
_ZERO: Final = timedelta(0)

DEFAULT_SLA_BUSINESS_DAYS: dict[RequestType, int] = {
    RequestType.OBJECTION_HELP: 1,
    RequestType.COMPETITIVE_INTEL: 2,
    RequestType.DEAL_DECK: 3,
    RequestType.ROI_CASE: 5,
    RequestType.CASE_STUDY: 10,
    RequestType.CUSTOM_CONTENT: 5,
    RequestType.EVENT_SUPPORT: 5,
    RequestType.OTHER: 3,
}
"""Turnaround per request type in business days; workspaces may override these.

Objection help blocks a live conversation, so it is fastest; a case study needs a customer's
sign-off, so it is slowest.
"""

UNCLAIMED_ALERT_BUSINESS_SECONDS: Final = 4 * 3600
"""How long a request may sit in the queue, in business seconds, before the channel is told."""


@dataclass(frozen=True)
class SlaProgress:
    """How much of a request's SLA has been used, in business seconds."""

    elapsed_seconds: float
    """Business seconds since filing, not counting "waiting on requester" time."""
    budget_seconds: float
    """Business seconds between filing and the deadline."""

    @property
    def fraction(self) -> float:
        """Share of the budget used (1.0 = due now; above 1 = overdue).

        A zero budget (a requester's due date that had already closed when they filed) counts
        as fully used as soon as any business time passes, and unused until then.
        """
        if self.budget_seconds <= 0:
            return 1.0 if self.elapsed_seconds > 0 else 0.0
        return self.elapsed_seconds / self.budget_seconds


def _progress(
    calendar: BusinessCalendar,
    filed_at: datetime,
    deadline: datetime,
    now: datetime,
    paused: Sequence[Pause],
) -> tuple[timedelta, timedelta]:
    """Elapsed and budget as exact timedeltas, so thresholds can be compared without floats."""
    require_aware(now, "now")
    budget = calendar.business_time_between(filed_at, deadline)
    elapsed = calendar.business_time_between(filed_at, now, paused)
    return elapsed, budget


def sla_progress(
    calendar: BusinessCalendar,
    *,
    filed_at: datetime,
    deadline: datetime,
    now: datetime,
    paused: Sequence[Pause] = (),
) -> SlaProgress:
    """How far through its SLA a request is at `now`.

    The budget is the business time from filing to the deadline, computed without pauses;
    pauses are subtracted from the elapsed time instead. Pausing therefore stretches the
    real-world finish line without anyone recomputing the deadline, and a pause that is still
    open stops the clock at `now`.
    """
    elapsed, budget = _progress(calendar, filed_at, deadline, now, paused)
    return SlaProgress(elapsed_seconds=elapsed / _ONE_SECOND, budget_seconds=budget / _ONE_SECOND)


class EscalationStep(StrEnum):
    """Reminders the reminder job sends, each at most once per request."""

    NUDGE_75 = "nudge_75"
    """75% of the SLA used: remind the assignee."""
    OVERDUE_100 = "overdue_100"
    """The SLA is used up: tell the assignee it is overdue."""
    UNCLAIMED_4H = "unclaimed_4h"
    """Nobody has claimed it for more than 4 business hours: tell the intake channel."""


def due_escalations(
    calendar: BusinessCalendar,
    *,
    filed_at: datetime,
    deadline: datetime,
    now: datetime,
    claimed: bool,
    paused: Sequence[Pause] = (),
) -> list[EscalationStep]:
    """Every escalation whose threshold has passed at `now`, in the order they fall due.

    The caller records which steps it already sent and sends only new ones, so this returns
    all passed steps rather than "the" current one: a job that missed a run still catches up,
    and OVERDUE_100 always comes with NUDGE_75.

    An unclaimed request only ever gets UNCLAIMED_4H (once more than 4 business hours have
    passed since filing, pauses excluded): there is no assignee to nudge, and the intake
    channel has already been told. A claimed one gets NUDGE_75 at 75% and OVERDUE_100 at 100%
    of its SLA, both inclusive.
    """
    elapsed, budget = _progress(calendar, filed_at, deadline, now, paused)
    if not claimed:
        if elapsed > timedelta(seconds=UNCLAIMED_ALERT_BUSINESS_SECONDS):
            return [EscalationStep.UNCLAIMED_4H]
        return []
    if budget <= _ZERO:
        # Mirrors SlaProgress.fraction: a zero budget is used up by any business time at all.
        used_75 = used_100 = elapsed > _ZERO
    else:
        # Integer timedelta arithmetic: exactly 75% must count as 75%, not 74.99999%.
        used_75 = elapsed * 4 >= budget * 3
        used_100 = elapsed >= budget
    steps: list[EscalationStep] = []
    if used_75:
        steps.append(EscalationStep.NUDGE_75)
    if used_100:
        steps.append(EscalationStep.OVERDUE_100)
    return steps
