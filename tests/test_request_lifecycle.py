"""The request lifecycle as a pure state machine: every move, every refusal, who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.reminders import build_reminder, build_reminder_message
from bot.core.errors import UserError
from bot.core.models import RequestEvent, RequestStatus, Role, SupportRequest
from bot.requests.lifecycle import (
    ALLOWED_FROM,
    STATUS_WORDS,
    SUPPORT_ACTIONS,
    Action,
    Actor,
    RequestState,
    check_permission,
    plan_transition,
)
from bot.requests.queue import paused_intervals
from bot.requests.reminders import (
    DueEscalation,
    ReminderKind,
    assignee_to_check,
    reminders_for,
    superseded,
)
from bot.requests.sla import EscalationStep
from bot.workspace.settings import WorkspaceSettings

S = RequestStatus

REQUESTER = "U0REP"
OTHER_REP = "U0STRANGER"
HOLDER = "U0HOLDER"  # the Marketing Support member who has the request
MARKETER = "U0MKT"  # another Marketing Support member, the one clicking
TARGET = "U0MKT2"  # a Marketing Support member a request is handed to
DEMANDGEN = "U0DG"
ADMIN = "U0ADMIN"

CLOSED = (S.DELIVERED, S.DECLINED, S.CANCELLED)

ALL_PAIRS = [(action, status) for action in Action for status in S]
LEGAL_PAIRS = [
    (action, status) for action in Action for status in S if status in ALLOWED_FROM[action]
]
ILLEGAL_PAIRS = [pair for pair in ALL_PAIRS if pair not in LEGAL_PAIRS]

# The documented result of every legal move, when MARKETER (support) or the requester clicks
# on a request held by HOLDER (unassigned while open): (to-status, assignee afterwards).
EXPECTED: dict[tuple[Action, RequestStatus], tuple[RequestStatus, str | None]] = {
    (Action.CLAIM, S.OPEN): (S.CLAIMED, MARKETER),
    (Action.START, S.OPEN): (S.IN_PROGRESS, MARKETER),
    (Action.START, S.CLAIMED): (S.IN_PROGRESS, HOLDER),
    (Action.START, S.WAITING): (S.IN_PROGRESS, HOLDER),
    (Action.NEED_INFO, S.CLAIMED): (S.WAITING, HOLDER),
    (Action.NEED_INFO, S.IN_PROGRESS): (S.WAITING, HOLDER),
    (Action.RESUME, S.WAITING): (S.IN_PROGRESS, HOLDER),
    (Action.DELIVER, S.CLAIMED): (S.DELIVERED, HOLDER),
    (Action.DELIVER, S.IN_PROGRESS): (S.DELIVERED, HOLDER),
    (Action.DELIVER, S.WAITING): (S.DELIVERED, HOLDER),
    (Action.DECLINE, S.OPEN): (S.DECLINED, None),
    (Action.DECLINE, S.CLAIMED): (S.DECLINED, HOLDER),
    (Action.DECLINE, S.IN_PROGRESS): (S.DECLINED, HOLDER),
    (Action.DECLINE, S.WAITING): (S.DECLINED, HOLDER),
    (Action.CANCEL, S.OPEN): (S.CANCELLED, None),
    (Action.CANCEL, S.CLAIMED): (S.CANCELLED, HOLDER),
    (Action.CANCEL, S.IN_PROGRESS): (S.CANCELLED, HOLDER),
    (Action.CANCEL, S.WAITING): (S.CANCELLED, HOLDER),
    (Action.REOPEN, S.DELIVERED): (S.CLAIMED, HOLDER),
    (Action.REOPEN, S.DECLINED): (S.OPEN, None),
    (Action.REASSIGN, S.OPEN): (S.CLAIMED, TARGET),
    (Action.REASSIGN, S.CLAIMED): (S.CLAIMED, TARGET),
    (Action.REASSIGN, S.IN_PROGRESS): (S.IN_PROGRESS, TARGET),
    (Action.REASSIGN, S.WAITING): (S.WAITING, TARGET),
}


def support(user_id: str = MARKETER) -> Actor:
    return Actor(user_id, frozenset({Role.SUPPORT}))


def sales(user_id: str = REQUESTER) -> Actor:
    return Actor(user_id, frozenset({Role.SALES}))


def admin(*roles: Role) -> Actor:
    return Actor(ADMIN, frozenset(roles), is_admin=True)


def state(status: RequestStatus, assignee_id: str | None = HOLDER) -> RequestState:
    return RequestState(
        status=status,
        requester_id=REQUESTER,
        assignee_id=None if status == S.OPEN else assignee_id,
    )


def clicker_for(action: Action) -> Actor:
    """Someone who is allowed to try `action`, so only the request's state can refuse it."""
    return (
        sales(REQUESTER) if action in (Action.CANCEL, Action.REOPEN, Action.RESUME) else support()
    )


def why_refused(action: Action, status: RequestStatus) -> str:
    """The part of the refusal that explains it, for an illegal (action, status) pair."""
    word = STATUS_WORDS[status]
    if status in CLOSED and action != Action.REOPEN:
        return f"already {word}"
    if action == Action.CLAIM:
        return f"<@{HOLDER}> already has this request"
    if action == Action.DELIVER and status == S.OPEN:
        return "Claim or start the request before delivering it"
    if action == Action.NEED_INFO and status == S.OPEN:
        return "Claim the request first"
    if action == Action.RESUME:
        return "isn't waiting on the requester"
    return f"a request that is {word}"


def event(
    action: Action, from_status: RequestStatus, to_status: RequestStatus, at: datetime
) -> RequestEvent:
    return RequestEvent(
        request_id=1,
        team_id="T0TEAM",
        actor_id=MARKETER,
        action=action.value,
        from_status=from_status,
        to_status=to_status,
        assignee_id=HOLDER,
        created_at=at,
    )


MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return MONDAY + timedelta(hours=n)


# --------------------------------------------------------------------------- legal moves


def test_every_legal_move_has_a_documented_outcome() -> None:
    assert set(EXPECTED) == set(LEGAL_PAIRS)


@pytest.mark.parametrize(("action", "status"), LEGAL_PAIRS, ids=str)
def test_every_legal_move_gives_the_documented_status_and_assignee(
    action: Action, status: RequestStatus
) -> None:
    new_assignee = support(TARGET) if action == Action.REASSIGN else None

    transition = plan_transition(
        action, state(status), clicker_for(action), new_assignee=new_assignee
    )

    assert (transition.action, transition.from_status) == (action, status)
    assert (transition.to_status, transition.assignee_id) == EXPECTED[(action, status)]


def test_reopening_a_delivered_request_gives_it_back_to_whoever_delivered_it() -> None:
    delivered = state(S.DELIVERED, assignee_id=HOLDER)

    transition = plan_transition(Action.REOPEN, delivered, sales(REQUESTER))

    assert (transition.to_status, transition.assignee_id) == (S.CLAIMED, HOLDER)


@pytest.mark.parametrize("assignee", [HOLDER, None])
def test_reopening_a_declined_request_puts_it_back_in_the_queue_unassigned(
    assignee: str | None,
) -> None:
    declined = state(S.DECLINED, assignee_id=assignee)

    transition = plan_transition(Action.REOPEN, declined, sales(REQUESTER))

    assert (transition.to_status, transition.assignee_id) == (S.OPEN, None)


def test_starting_a_request_someone_else_claimed_leaves_it_with_them() -> None:
    claimed = state(S.CLAIMED, assignee_id=HOLDER)

    transition = plan_transition(Action.START, claimed, support(MARKETER))

    assert (transition.to_status, transition.assignee_id) == (S.IN_PROGRESS, HOLDER)


# --------------------------------------------------------------------------- illegal moves


@pytest.mark.parametrize(("action", "status"), ILLEGAL_PAIRS, ids=str)
def test_every_illegal_move_is_refused_saying_why(action: Action, status: RequestStatus) -> None:
    new_assignee = support(TARGET) if action == Action.REASSIGN else None

    with pytest.raises(UserError) as refused:
        plan_transition(action, state(status), clicker_for(action), new_assignee=new_assignee)

    assert why_refused(action, status) in refused.value.message


@pytest.mark.parametrize("status", [S.CLAIMED, S.IN_PROGRESS, S.WAITING])
def test_claiming_a_request_someone_has_names_who_has_it(status: RequestStatus) -> None:
    taken = state(status, assignee_id=HOLDER)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.CLAIM, taken, support(MARKETER))

    assert refused.value.message == f"<@{HOLDER}> already has this request."


@pytest.mark.parametrize(
    "action", [Action.CLAIM, Action.START, Action.DELIVER, Action.DECLINE, Action.REASSIGN]
)
def test_working_on_a_delivered_request_says_it_is_already_delivered_and_can_be_reopened(
    action: Action,
) -> None:
    delivered = state(S.DELIVERED)

    with pytest.raises(UserError) as refused:
        plan_transition(action, delivered, support(), new_assignee=support(TARGET))

    assert refused.value.message.startswith("This request is already delivered")
    assert "reopen" in refused.value.message


@pytest.mark.parametrize("action", [Action.CLAIM, Action.DELIVER, Action.CANCEL, Action.REASSIGN])
def test_acting_on_a_cancelled_request_says_it_is_already_cancelled(action: Action) -> None:
    cancelled = state(S.CANCELLED)
    clicker = sales(REQUESTER) if action == Action.CANCEL else support()

    with pytest.raises(UserError) as refused:
        plan_transition(action, cancelled, clicker, new_assignee=support(TARGET))

    assert refused.value.message == (
        f"This request is already cancelled, so there is nothing to {action.label}."
    )


def test_reopening_a_cancelled_request_is_refused_because_it_was_cancelled() -> None:
    cancelled = state(S.CANCELLED)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.REOPEN, cancelled, sales(REQUESTER))

    assert refused.value.message == "You can't reopen a request that is cancelled."


def test_a_cancelled_request_is_not_offered_a_reopen() -> None:
    cancelled = state(S.CANCELLED)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.CLAIM, cancelled, support())

    assert "reopen" not in refused.value.message


def test_delivering_an_open_request_says_to_claim_it_first() -> None:
    unclaimed = state(S.OPEN)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.DELIVER, unclaimed, support())

    assert refused.value.message == "Claim or start the request before delivering it."


def test_asking_for_information_on_an_open_request_says_to_claim_it_first() -> None:
    unclaimed = state(S.OPEN)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.NEED_INFO, unclaimed, support())

    assert "Claim the request first" in refused.value.message


# --------------------------------------------------------------------------- permissions


def legal_state_for(action: Action) -> RequestState:
    return state(min(ALLOWED_FROM[action], key=list(S).index))


@pytest.mark.parametrize("action", sorted(SUPPORT_ACTIONS))
def test_support_only_actions_are_refused_for_sales_reps(action: Action) -> None:
    rep = sales(OTHER_REP)

    with pytest.raises(UserError) as refused:
        plan_transition(action, legal_state_for(action), rep, new_assignee=support(TARGET))

    assert f"Only Marketing Support can {action.label} requests" in refused.value.message


@pytest.mark.parametrize("action", sorted(SUPPORT_ACTIONS))
def test_support_only_actions_are_permitted_for_admins(action: Action) -> None:
    outsider_admin = admin()

    check_permission(action, legal_state_for(action), outsider_admin)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (Action.START, S.CLAIMED),
        (Action.NEED_INFO, S.IN_PROGRESS),
        (Action.DELIVER, S.IN_PROGRESS),
        (Action.DECLINE, S.OPEN),
        (Action.REASSIGN, S.CLAIMED),
    ],
    ids=str,
)
def test_an_admin_outside_marketing_support_can_work_someone_elses_request(
    action: Action, status: RequestStatus
) -> None:
    request = state(status)

    transition = plan_transition(action, request, admin(), new_assignee=support(TARGET))

    assert transition.to_status == EXPECTED[(action, status)][0]


def test_an_admin_outside_marketing_support_cannot_take_a_request_themselves() -> None:
    unclaimed = state(S.OPEN)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.CLAIM, unclaimed, admin())

    assert "not in the Marketing Support group" in refused.value.message


DEMAND_GEN_PEOPLE = {
    "demand gen only": Actor(DEMANDGEN, frozenset({Role.DEMAND_GEN})),
    "also in support": Actor(DEMANDGEN, frozenset({Role.DEMAND_GEN, Role.SUPPORT})),
    "also support and admin": Actor(
        DEMANDGEN, frozenset({Role.DEMAND_GEN, Role.SUPPORT}), is_admin=True
    ),
    "admin": Actor(DEMANDGEN, frozenset({Role.DEMAND_GEN}), is_admin=True),
}


@pytest.mark.parametrize("who", DEMAND_GEN_PEOPLE.values(), ids=DEMAND_GEN_PEOPLE.keys())
@pytest.mark.parametrize(
    ("action", "status"),
    [(Action.CLAIM, S.OPEN), (Action.START, S.OPEN), (Action.START, S.CLAIMED)],
    ids=str,
)
def test_demand_gen_members_can_never_claim_or_start_a_request(
    who: Actor, action: Action, status: RequestStatus
) -> None:
    request = state(status)

    with pytest.raises(UserError) as refused:
        plan_transition(action, request, who)

    assert "Demand Gen" in refused.value.message


@pytest.mark.parametrize("who", DEMAND_GEN_PEOPLE.values(), ids=DEMAND_GEN_PEOPLE.keys())
def test_a_request_can_never_be_reassigned_to_someone_in_demand_gen(who: Actor) -> None:
    claimed = state(S.CLAIMED)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.REASSIGN, claimed, support(), new_assignee=who)

    assert f"<@{DEMANDGEN}> is in Demand Gen" in refused.value.message


@pytest.mark.parametrize(
    "target",
    [sales(OTHER_REP), admin(), Actor("U0NOBODY", frozenset())],
    ids=["sales rep", "admin outside support", "no roles"],
)
def test_a_request_can_only_be_reassigned_to_marketing_support(target: Actor) -> None:
    claimed = state(S.CLAIMED)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.REASSIGN, claimed, support(), new_assignee=target)

    assert f"<@{target.user_id}> is not in the Marketing Support group" in refused.value.message


def test_reassigning_to_whoever_already_has_it_is_refused() -> None:
    claimed = state(S.CLAIMED, assignee_id=HOLDER)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.REASSIGN, claimed, support(), new_assignee=support(HOLDER))

    assert refused.value.message == f"<@{HOLDER}> already has this request."


def test_reassigning_without_saying_to_whom_is_refused() -> None:
    claimed = state(S.CLAIMED)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.REASSIGN, claimed, support(), new_assignee=None)

    assert "Pick who" in refused.value.message


@pytest.mark.parametrize(
    ("action", "status"), [(Action.CANCEL, S.IN_PROGRESS), (Action.REOPEN, S.DELIVERED)], ids=str
)
@pytest.mark.parametrize(
    "who",
    [support(MARKETER), support(HOLDER), sales(OTHER_REP)],
    ids=["support", "the assignee", "another rep"],
)
def test_only_the_requester_or_an_admin_may_cancel_or_reopen(
    action: Action, status: RequestStatus, who: Actor
) -> None:
    request = state(status)

    with pytest.raises(UserError) as refused:
        plan_transition(action, request, who)

    assert f"Only the person who asked (<@{REQUESTER}>) or an admin" in refused.value.message
    assert action.label in refused.value.message


@pytest.mark.parametrize(
    ("action", "status"), [(Action.CANCEL, S.IN_PROGRESS), (Action.REOPEN, S.DELIVERED)], ids=str
)
@pytest.mark.parametrize("who", [sales(REQUESTER), admin()], ids=["requester", "admin"])
def test_the_requester_or_an_admin_may_cancel_or_reopen(
    action: Action, status: RequestStatus, who: Actor
) -> None:
    request = state(status)

    transition = plan_transition(action, request, who)

    assert transition.to_status == EXPECTED[(action, status)][0]


@pytest.mark.parametrize(
    "who",
    [support(HOLDER), admin(), admin(Role.SUPPORT), sales(OTHER_REP)],
    ids=["the assignee", "admin", "support admin", "another rep"],
)
def test_only_the_requesters_answer_resumes_a_waiting_request(who: Actor) -> None:
    waiting = state(S.WAITING)

    with pytest.raises(UserError) as refused:
        plan_transition(Action.RESUME, waiting, who)

    assert "Only the requester" in refused.value.message


def test_the_requesters_answer_resumes_a_waiting_request() -> None:
    waiting = state(S.WAITING)

    transition = plan_transition(Action.RESUME, waiting, sales(REQUESTER))

    assert (transition.to_status, transition.assignee_id) == (S.IN_PROGRESS, HOLDER)


# --------------------------------------------------------------------------- SLA pauses


def test_a_request_that_never_waited_has_no_pauses() -> None:
    events = [
        event(Action.CLAIM, S.OPEN, S.CLAIMED, hours(1)),
        event(Action.DELIVER, S.CLAIMED, S.DELIVERED, hours(5)),
    ]

    spans = paused_intervals(events)

    assert spans == []


def test_a_wait_the_requester_answered_is_a_closed_pause() -> None:
    events = [
        event(Action.CLAIM, S.OPEN, S.CLAIMED, hours(1)),
        event(Action.NEED_INFO, S.CLAIMED, S.WAITING, hours(2)),
        event(Action.RESUME, S.WAITING, S.IN_PROGRESS, hours(6)),
        event(Action.DELIVER, S.IN_PROGRESS, S.DELIVERED, hours(8)),
    ]

    spans = paused_intervals(events)

    assert spans == [(hours(2), hours(6))]


def test_a_wait_still_going_is_an_open_pause() -> None:
    events = [
        event(Action.CLAIM, S.OPEN, S.CLAIMED, hours(1)),
        event(Action.NEED_INFO, S.CLAIMED, S.WAITING, hours(2)),
    ]

    spans = paused_intervals(events)

    assert spans == [(hours(2), None)]


def test_each_wait_is_its_own_pause_and_only_the_last_may_be_open() -> None:
    events = [
        event(Action.START, S.OPEN, S.IN_PROGRESS, hours(1)),
        event(Action.NEED_INFO, S.IN_PROGRESS, S.WAITING, hours(2)),
        event(Action.RESUME, S.WAITING, S.IN_PROGRESS, hours(3)),
        event(Action.NEED_INFO, S.IN_PROGRESS, S.WAITING, hours(5)),
    ]

    spans = paused_intervals(events)

    assert spans == [(hours(2), hours(3)), (hours(5), None)]


@pytest.mark.parametrize(
    ("action", "to_status"),
    [
        (Action.START, S.IN_PROGRESS),
        (Action.DELIVER, S.DELIVERED),
        (Action.DECLINE, S.DECLINED),
        (Action.CANCEL, S.CANCELLED),
    ],
    ids=str,
)
def test_any_move_out_of_waiting_ends_the_pause(action: Action, to_status: RequestStatus) -> None:
    events = [
        event(Action.NEED_INFO, S.CLAIMED, S.WAITING, hours(2)),
        event(action, S.WAITING, to_status, hours(4)),
    ]

    spans = paused_intervals(events)

    assert spans == [(hours(2), hours(4))]


def test_reassigning_a_waiting_request_keeps_the_clock_paused() -> None:
    events = [
        event(Action.NEED_INFO, S.CLAIMED, S.WAITING, hours(2)),
        event(Action.REASSIGN, S.WAITING, S.WAITING, hours(3)),
        event(Action.RESUME, S.WAITING, S.IN_PROGRESS, hours(6)),
    ]

    spans = paused_intervals(events)

    assert spans == [(hours(2), hours(6))]


# ----------------------------------------------------------------------------- SLA reminders


LEAD = "U0LEAD"
REMINDER_SETTINGS = WorkspaceSettings(intake_channel="CINTAKE", support_leads=(LEAD, HOLDER))


def escalation(step: EscalationStep, assignee: str | None = HOLDER, id_: int = 1) -> DueEscalation:
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    request = SupportRequest(
        id=id_,
        team_id="T1",
        number=12,
        requester_id=REQUESTER,
        assignee_id=assignee,
        status=S.CLAIMED if assignee else S.OPEN,
        request_type="deal_deck",
        details="Renewal pitch",
        created_at=at,
        updated_at=at,
    )
    return DueEscalation(request, step, 1)


def told(step: EscalationStep, assignee: str | None = HOLDER) -> list[tuple[str, ReminderKind]]:
    found = reminders_for(escalation(step, assignee), REMINDER_SETTINGS)
    return [(reminder.channel, reminder.kind) for reminder in found]


def test_an_unclaimed_request_is_raised_in_the_intake_channel() -> None:
    assert told(EscalationStep.UNCLAIMED_4H, assignee=None) == [("CINTAKE", ReminderKind.UNCLAIMED)]
    assert reminders_for(escalation(EscalationStep.UNCLAIMED_4H, None), WorkspaceSettings()) == []
    assert assignee_to_check(escalation(EscalationStep.UNCLAIMED_4H)) is None


def test_the_assignee_is_nudged_at_75_percent() -> None:
    assert told(EscalationStep.NUDGE_75) == [(HOLDER, ReminderKind.NUDGE)]
    assert assignee_to_check(escalation(EscalationStep.NUDGE_75)) == HOLDER


def test_overdue_tells_the_assignee_and_every_other_support_lead() -> None:
    assert told(EscalationStep.OVERDUE_100) == [
        (HOLDER, ReminderKind.OVERDUE),
        (LEAD, ReminderKind.OVERDUE_TO_LEAD),
    ]


def test_a_departed_owner_is_reported_to_the_intake_channel_instead() -> None:
    found = reminders_for(
        escalation(EscalationStep.OVERDUE_100), REMINDER_SETTINGS, assignee_gone=True
    )

    assert [(r.channel, r.kind) for r in found] == [("CINTAKE", ReminderKind.ASSIGNEE_GONE)]
    assert "has left the workspace" in build_reminder(found[0])


def test_a_nudge_found_with_the_overdue_step_is_not_sent() -> None:
    nudge, overdue = escalation(EscalationStep.NUDGE_75), escalation(EscalationStep.OVERDUE_100)
    other = escalation(EscalationStep.OVERDUE_100, id_=2)

    assert superseded(nudge, [nudge, overdue])
    assert not superseded(nudge, [nudge, other])
    assert not superseded(overdue, [nudge, overdue])


def test_reminder_messages_say_what_is_due_and_what_to_do() -> None:
    [overdue, to_lead] = reminders_for(escalation(EscalationStep.OVERDUE_100), REMINDER_SETTINGS)
    [unclaimed] = reminders_for(escalation(EscalationStep.UNCLAIMED_4H, None), REMINDER_SETTINGS)

    assert build_reminder(overdue).endswith("Deliver it or tell the requester.")
    assert build_reminder(to_lead).endswith(f"It is with <@{HOLDER}>.")
    assert "*MS-12*" in build_reminder(overdue)
    assert build_reminder_message(unclaimed)["unfurl_links"] is False
    assert "Who can claim it?" in build_reminder_message(unclaimed)["text"]
