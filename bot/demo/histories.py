"""Request histories for the demo, walked through the lifecycle's own transitions.

Every step is planned by `bot.requests.lifecycle.plan_transition` from the state the previous
step left, with the permissions of whoever takes it, so the demo can never show a history the
bot would refuse (a delivery of an open request, a claim by the requester). The request row's
own fields are then folded from the events by `bot.requests.lifecycle.request_changes`, the
same rule `bot.requests.queue.apply_action` writes them by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.core.models import RequestStatus, Role
from bot.requests.lifecycle import Action, Actor, RequestState, plan_transition, request_changes

if TYPE_CHECKING:
    from bot.demo.state import Demo

__all__ = [
    "CANCEL_NOTES",
    "DECLINE_NOTES",
    "Event",
    "History",
    "RequestFields",
    "lifecycle_history",
    "request_fields",
    "scripted_history",
]

S = RequestStatus
A = Action

DECLINE_NOTES: Final = (
    "Out of scope: the self-serve template library has this",
    "Duplicate of an earlier request",
    "Not enough detail to start; please refile with the brief",
)
CANCEL_NOTES: Final = ("Deal slipped to next quarter", "Found it in the content hub", None)

_SALES: Final = frozenset({Role.SALES})
_SUPPORT: Final = frozenset({Role.SUPPORT})


@dataclass
class Event:
    """One recorded transition, as a `request_event` row holds it."""

    at: datetime
    action: Action
    from_status: RequestStatus
    to_status: RequestStatus
    actor: str
    assignee: str | None
    note: str | None = None


class History:
    """A request's transitions so far; `take` refuses (UserError) what the lifecycle refuses.

    In the demo the requester is a sales rep and everyone else is in Marketing Support.
    """

    def __init__(self, requester: str) -> None:
        self.state = RequestState(S.OPEN, requester, None)
        self.events: list[Event] = []

    @property
    def status(self) -> RequestStatus:
        return self.state.status

    def take(
        self,
        at: datetime,
        action: Action,
        actor_id: str,
        note: str | None = None,
        *,
        to: str | None = None,
    ) -> datetime:
        """Record `action` by `actor_id` at `at` (handing the request `to` someone for a
        reassignment) and return `at`."""
        if self.events and at < self.events[-1].at:
            raise ValueError(f"{action.value} at {at} comes before the step it follows")
        roles = _SALES if actor_id == self.state.requester_id else _SUPPORT
        transition = plan_transition(
            action,
            self.state,
            Actor(actor_id, roles),
            new_assignee=None if to is None else Actor(to, _SUPPORT),
        )
        self.events.append(
            Event(
                at,
                action,
                transition.from_status,
                transition.to_status,
                actor_id,
                transition.assignee_id,
                note,
            )
        )
        self.state = RequestState(
            transition.to_status, self.state.requester_id, transition.assignee_id
        )
        return at


@dataclass
class RequestFields:
    """The request row's fields that follow from its events."""

    status: RequestStatus = S.OPEN
    assignee_id: str | None = None
    claimed_at: datetime | None = None
    delivered_at: datetime | None = None
    deliverable_url: str | None = None
    outcome_note: str | None = None


def request_fields(events: list[Event]) -> RequestFields:
    """Fold events into the request row by `request_changes`, as `apply_action` updates it
    (the demo's delivery events carry the deliverable URL as their note, and no outcome note)."""
    fields = RequestFields()
    for event in events:
        changes = request_changes(
            event.action,
            event.to_status,
            event.assignee,
            at=event.at,
            claimed_at=fields.claimed_at,
            note=None if event.to_status == S.DELIVERED else event.note,
            deliverable_url=event.note,
        )
        for name, value in changes.items():
            setattr(fields, name, value)
    return fields


def scripted_history(
    fate: RequestStatus, created: datetime, now: datetime, requester: str, member: str
) -> list[Event]:
    """Transitions that leave a request in `fate` at `now`, spread between filing and now."""
    span = now - created

    def at(share: float, hours: float = 1e6) -> datetime:
        return min(created + span * share, created + timedelta(hours=hours))

    history = History(requester)
    if fate == S.CANCELLED:
        history.take(at(0.3), A.CANCEL, requester, CANCEL_NOTES[0])
    elif fate != S.OPEN:
        history.take(at(0.2, 2), A.CLAIM, member)
        if fate == S.DECLINED:
            history.take(at(0.5), A.DECLINE, member, DECLINE_NOTES[0])
        elif fate in (S.IN_PROGRESS, S.WAITING):
            history.take(at(0.4, 4), A.START, member)
            if fate == S.WAITING:
                history.take(at(0.6), A.NEED_INFO, member)
    if history.status != fate:
        raise ValueError(f"no script leaves a request {fate.value}")
    return history.events


def lifecycle_history(
    demo: Demo, index: int, created: datetime, deadline: datetime, requester: str
) -> list[Event]:
    """The transitions a request went through up to now (a request filed recently is simply
    further behind); later weeks run late less often, as the playbook takes hold."""
    rng, calendar = demo.rng, demo.calendar

    def later(start: datetime, business_hours: float) -> datetime:
        return calendar.add_business_seconds(start, max(business_hours, 0.02) * 3600)

    history = History(requester)
    member = rng.choice(demo.support)
    fate = rng.random()
    claim_hours = min(rng.lognormvariate(math.log(1.8), 0.9), 30.0)
    if fate < 0.04:  # cancelled by the requester, sometimes after a claim
        cancel_at = later(created, rng.uniform(0.5, 12))
        claim_at = later(created, claim_hours)
        if claim_at < cancel_at:
            history.take(claim_at, A.CLAIM, member)
        history.take(cancel_at, A.CANCEL, requester, rng.choice(CANCEL_NOTES))
    elif fate < 0.09:  # declined by Marketing Support
        claim_at = history.take(later(created, claim_hours), A.CLAIM, member)
        history.take(
            later(claim_at, rng.uniform(0.3, 6)), A.DECLINE, member, rng.choice(DECLINE_NOTES)
        )
    else:
        stalled = fate > 0.975  # stuck in progress: these end up overdue
        if rng.random() < 0.15:  # starting an unclaimed request claims it
            start_at = history.take(later(created, claim_hours), A.START, member)
        else:
            claim_at = history.take(later(created, claim_hours), A.CLAIM, member)
            start_at = history.take(later(claim_at, rng.uniform(0.2, 6)), A.START, member)
        if rng.random() < 0.05 and len(demo.support) > 1:
            other = rng.choice([person for person in demo.support[:8] if person != member])
            start_at = history.take(
                later(start_at, rng.uniform(0.5, 4)), A.REASSIGN, member, to=other
            )
            member = other
        budget = calendar.business_seconds_between(created, deadline)
        # Most work lands inside the SLA; fewer requests run late as the weeks go by.
        late = rng.random() < 0.2 - 0.1 * index / max(demo.weeks - 1, 1)
        share = rng.uniform(1.05, 1.9) if late else rng.uniform(0.25, 0.95)
        deliver_at = max(
            calendar.add_business_seconds(created, share * budget), later(start_at, 0.5)
        )
        if rng.random() < 0.15:  # asked the requester for something first
            asked = start_at + (deliver_at - start_at) * rng.uniform(0.2, 0.6)
            answered = asked + timedelta(hours=rng.uniform(2, 30))
            work_left = calendar.business_seconds_between(asked, deliver_at)
            history.take(asked, A.NEED_INFO, member)
            history.take(answered, A.RESUME, requester)
            deliver_at = later(answered, work_left / 3600)
        if not stalled:
            url = f"https://docs.demo.example/d/{demo.request_number}"
            history.take(deliver_at, A.DELIVER, member, url)
            if rng.random() < 0.025:  # reopened by the requester, then delivered again
                reopened = history.take(
                    deliver_at + timedelta(hours=rng.uniform(4, 60)), A.REOPEN, requester
                )
                history.take(later(reopened, rng.uniform(1, 8)), A.DELIVER, member, url + "?v=2")
    return [event for event in history.events if event.at <= demo.now]
