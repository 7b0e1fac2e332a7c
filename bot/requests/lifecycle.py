"""The request lifecycle as an explicit state machine: pure, with who-may-do-what.

    open ─claim─▶ claimed ─start─▶ in progress ⇄ waiting on requester ─┐
      │              │                 │                                ├─deliver─▶ delivered
      └──────────────┴──── decline / cancel (from any open state) ──────┘           │
    delivered / declined ─reopen─▶ claimed (if it has an assignee) or open ◀────────┘

"Waiting on requester" pauses the SLA clock; the requester's answer in the thread resumes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.errors import UserError
from bot.core.models import RequestStatus, Role

S = RequestStatus
OPEN_STATES = frozenset({S.OPEN, S.CLAIMED, S.IN_PROGRESS, S.WAITING})


class Action(StrEnum):
    CLAIM = "claim"
    START = "start"
    NEED_INFO = "need_info"
    RESUME = "resume"
    DELIVER = "deliver"
    DECLINE = "decline"
    CANCEL = "cancel"
    REOPEN = "reopen"
    REASSIGN = "reassign"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.CLAIM: "claim",
    Action.START: "start",
    Action.NEED_INFO: "ask the requester for information on",
    Action.RESUME: "resume",
    Action.DELIVER: "deliver",
    Action.DECLINE: "decline",
    Action.CANCEL: "cancel",
    Action.REOPEN: "reopen",
    Action.REASSIGN: "reassign",
}

# action -> the states it may start from
ALLOWED_FROM: dict[Action, frozenset[RequestStatus]] = {
    Action.CLAIM: frozenset({S.OPEN}),
    Action.START: frozenset({S.OPEN, S.CLAIMED, S.WAITING}),
    Action.NEED_INFO: frozenset({S.CLAIMED, S.IN_PROGRESS}),
    Action.RESUME: frozenset({S.WAITING}),
    Action.DELIVER: frozenset({S.CLAIMED, S.IN_PROGRESS, S.WAITING}),
    Action.DECLINE: OPEN_STATES,
    Action.CANCEL: OPEN_STATES,
    Action.REOPEN: frozenset({S.DELIVERED, S.DECLINED}),
    Action.REASSIGN: OPEN_STATES,
}

SUPPORT_ACTIONS = frozenset(
    {Action.CLAIM, Action.START, Action.NEED_INFO, Action.DELIVER, Action.DECLINE, Action.REASSIGN}
)
REQUESTER_ACTIONS = frozenset({Action.CANCEL, Action.REOPEN, Action.RESUME})


@dataclass(frozen=True)
class Actor:
    """Who clicked: their Slack id, roster roles and admin standing."""

    user_id: str
    roles: frozenset[Role]
    is_admin: bool = False

    @property
    def in_support(self) -> bool:
        return Role.SUPPORT in self.roles

    @property
    def in_demand_gen(self) -> bool:
        return Role.DEMAND_GEN in self.roles


@dataclass(frozen=True)
class RequestState:
    status: RequestStatus
    requester_id: str
    assignee_id: str | None


@dataclass(frozen=True)
class Transition:
    action: Action
    from_status: RequestStatus
    to_status: RequestStatus
    assignee_id: str | None


def request_changes(
    action: Action,
    to_status: RequestStatus,
    assignee_id: str | None,
    *,
    at: datetime,
    claimed_at: datetime | None,
    note: str | None = None,
    deliverable_url: str | None = None,
) -> dict[str, object]:
    """The request row's fields a transition sets, by column name, given when the request was
    first claimed: one rule for the live queue and the demo's made-up histories alike."""
    changes: dict[str, object] = {"status": to_status, "assignee_id": assignee_id}
    if assignee_id and claimed_at is None:
        changes["claimed_at"] = at
    if to_status == S.DELIVERED:
        changes.update(delivered_at=at, deliverable_url=deliverable_url, outcome_note=note)
    elif to_status == S.DECLINED:
        changes["outcome_note"] = note
    elif action == Action.REOPEN:
        changes["delivered_at"] = None
        if assignee_id is None:
            changes["claimed_at"] = None  # back in the queue: the next claim is a new pickup
    return changes


STATUS_WORDS: dict[RequestStatus, str] = {
    S.OPEN: "open",
    S.CLAIMED: "claimed",
    S.IN_PROGRESS: "in progress",
    S.WAITING: "waiting on the requester",
    S.DELIVERED: "delivered",
    S.DECLINED: "declined",
    S.CANCELLED: "cancelled",
}


def check_assignable(target: Actor) -> None:
    """Only Marketing Support may hold a request, and never someone in Demand Gen."""
    if target.in_demand_gen:
        raise UserError(
            f"<@{target.user_id}> is in Demand Gen, and Demand Gen is never assigned support "
            "requests (it is measured on pipeline). Pick someone from Marketing Support."
        )
    if not target.in_support:
        raise UserError(
            f"<@{target.user_id}> is not in the Marketing Support group, so they can't take "
            "requests. Pick someone from Marketing Support."
        )


def check_permission(action: Action, state: RequestState, actor: Actor) -> None:
    """Raise UserError saying why `actor` may not do `action`; return quietly if they may."""
    if action in SUPPORT_ACTIONS:
        if actor.in_demand_gen and action in (Action.CLAIM, Action.START):
            raise UserError(
                "Demand Gen members can't take support requests: Demand Gen is measured on "
                "pipeline, and the queue belongs to Marketing Support."
            )
        if not (actor.in_support or actor.is_admin):
            raise UserError(
                f"Only Marketing Support can {action.label} requests. If you should be able to, "
                "ask an admin to add you to the Marketing Support user group."
            )
    elif action in (Action.CANCEL, Action.REOPEN) and not (
        actor.user_id == state.requester_id or actor.is_admin
    ):
        raise UserError(
            f"Only the person who asked (<@{state.requester_id}>) or an admin can "
            f"{action.label} this request."
        )
    elif action == Action.RESUME and actor.user_id != state.requester_id:
        raise UserError("Only the requester's answer resumes a request waiting on them.")


def plan_transition(
    action: Action, state: RequestState, actor: Actor, *, new_assignee: Actor | None = None
) -> Transition:
    """Decide what `action` does to a request in `state`, or raise UserError saying why not."""
    check_permission(action, state, actor)
    if state.status not in ALLOWED_FROM[action]:
        raise UserError(refusal(action, state))
    assignee = state.assignee_id
    to_status = state.status
    if action == Action.CLAIM:
        to_status, assignee = S.CLAIMED, actor.user_id
    elif action == Action.START:
        to_status = S.IN_PROGRESS
        if assignee is None:
            assignee = actor.user_id  # starting an unclaimed request claims it
    elif action == Action.NEED_INFO:
        to_status = S.WAITING
    elif action == Action.RESUME:
        to_status = S.IN_PROGRESS
    elif action == Action.DELIVER:
        to_status = S.DELIVERED
        assignee = assignee or actor.user_id
    elif action == Action.DECLINE:
        to_status = S.DECLINED
    elif action == Action.CANCEL:
        to_status = S.CANCELLED
    elif action == Action.REOPEN:
        to_status = S.CLAIMED if assignee and state.status == S.DELIVERED else S.OPEN
        if to_status == S.OPEN:
            assignee = None
    elif action == Action.REASSIGN:
        if new_assignee is None:
            raise UserError("Pick who should take this request.")
        check_assignable(new_assignee)
        if new_assignee.user_id == state.assignee_id:
            raise UserError(f"<@{new_assignee.user_id}> already has this request.")
        assignee = new_assignee.user_id
        if state.status == S.OPEN:
            to_status = S.CLAIMED
    if action in (Action.CLAIM, Action.START) and assignee == actor.user_id:
        check_assignable(actor)
    return Transition(action, state.status, to_status, assignee)


def refusal(action: Action, state: RequestState) -> str:
    """Why an action doesn't fit the request's current state, in the clicker's words."""
    if action == Action.CLAIM and state.assignee_id and state.status in OPEN_STATES:
        return f"<@{state.assignee_id}> already has this request."
    word = STATUS_WORDS[state.status]
    if state.status in (S.DELIVERED, S.DECLINED, S.CANCELLED) and action != Action.REOPEN:
        hint = " The requester or an admin can reopen it." if state.status != S.CANCELLED else ""
        return f"This request is already {word}, so there is nothing to {action.label}.{hint}"
    if action == Action.NEED_INFO and state.status == S.OPEN:
        return "Claim the request first, then ask the requester for what you need."
    if action == Action.DELIVER and state.status == S.OPEN:
        return "Claim or start the request before delivering it."
    if action == Action.RESUME:
        return "This request isn't waiting on the requester."
    return f"You can't {action.label} a request that is {word}."
