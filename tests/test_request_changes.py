"""`request_changes`: the request row's fields a transition sets, for the queue and the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import RequestStatus as S
from bot.requests.lifecycle import Action, request_changes

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=5)


def test_a_first_claim_stamps_the_pickup():
    changes = request_changes(Action.CLAIM, S.CLAIMED, "U1", at=NOW, claimed_at=None)
    assert changes == {"status": S.CLAIMED, "assignee_id": "U1", "claimed_at": NOW}


def test_a_later_step_keeps_the_first_pickup():
    changes = request_changes(Action.START, S.IN_PROGRESS, "U1", at=NOW, claimed_at=EARLIER)
    assert changes == {"status": S.IN_PROGRESS, "assignee_id": "U1"}


def test_delivery_records_when_the_url_and_the_note():
    changes = request_changes(
        Action.DELIVER,
        S.DELIVERED,
        "U1",
        at=NOW,
        claimed_at=EARLIER,
        note="Final cut",
        deliverable_url="https://example.com/deck",
    )
    assert changes == {
        "status": S.DELIVERED,
        "assignee_id": "U1",
        "delivered_at": NOW,
        "deliverable_url": "https://example.com/deck",
        "outcome_note": "Final cut",
    }


def test_a_decline_keeps_its_reason():
    changes = request_changes(
        Action.DECLINE, S.DECLINED, "U1", at=NOW, claimed_at=EARLIER, note="Duplicate"
    )
    assert changes == {"status": S.DECLINED, "assignee_id": "U1", "outcome_note": "Duplicate"}


def test_reopening_to_the_assignee_clears_the_delivery_only():
    changes = request_changes(Action.REOPEN, S.CLAIMED, "U1", at=NOW, claimed_at=EARLIER)
    assert changes == {"status": S.CLAIMED, "assignee_id": "U1", "delivered_at": None}


def test_reopening_to_the_queue_makes_the_next_claim_a_new_pickup():
    changes = request_changes(Action.REOPEN, S.OPEN, None, at=NOW, claimed_at=EARLIER)
    assert changes == {
        "status": S.OPEN,
        "assignee_id": None,
        "delivered_at": None,
        "claimed_at": None,
    }
