"""Due dates default from per-type SLAs; the reminder job escalates each step exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bot.app import make_client
from bot.core.deps import Deps
from bot.core.models import RequestStatus
from jobs.reminders import send_reminders
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.helpers import block_texts
from tests.support.queue_helpers import click, current, file_one, modal_submission, text_value
from tests.support.workspace import ADMIN, INTAKE, MARKETER, FixedClock, configure

# The clock fixture starts on Tuesday 24 November 2026, 15:00 UTC; the workspace is in UTC.


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def claimed_deck(slack: SlackSender, fake_slack: FakeSlack, deps: Deps):  # type: ignore[no-untyped-def]
    request = await file_one(slack, fake_slack, deps, "deck Acme $250k Renewal pitch")
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")
    return request


def dms_to(fake_slack: FakeSlack, user: str) -> list[str]:
    return [
        str(call.params.get("text"))
        for call in fake_slack.calls_to("chat.postMessage")
        if call.params.get("channel") == user
    ]


async def run_job(deps: Deps, clock: FixedClock, when: datetime) -> None:
    clock.now = when
    await send_reminders(deps, make_client(deps), when)


async def test_a_request_without_a_due_date_gets_one_from_its_types_turnaround(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured, "deck Acme $250k Renewal pitch")

    # 3 business days of 8 hours from Tue 15:00 = Tue 2h + Wed 8h + Thu 8h + Fri 6h.
    assert request.due_date == date(2026, 11, 27)
    assert request.due_from_sla is True
    assert request.sla_deadline == at(27, 15)
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "usual turnaround" in block_texts(post.params["blocks"])


async def test_the_requesters_own_due_date_is_kept(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured, "deck Acme $250k due 2026-12-04 pitch")

    assert (request.due_date, request.due_from_sla) == (date(2026, 12, 4), False)
    assert request.sla_deadline == datetime(2026, 12, 4, 17, tzinfo=UTC)


async def test_turnaround_holidays_and_hours_come_from_settings(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await configure(configured, sla_days={"objection_help": 2}, holidays=("2026-11-25",))

    request = await file_one(slack, fake_slack, configured, "objection Acme $5k too pricey")

    # Tue 2h, Wed is a holiday, Thu 8h, Fri 6h -> Fri 15:00.
    assert request.due_date == date(2026, 11, 27)


async def test_the_assignee_is_nudged_at_75_percent_once_however_often_the_job_runs(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await claimed_deck(slack, fake_slack, configured)

    await run_job(configured, clock, at(27, 9, 30))  # 18.5 of 24 business hours
    await run_job(configured, clock, at(27, 9, 45))
    await run_job(configured, clock, at(27, 9, 45))

    nudges = [text for text in dms_to(fake_slack, MARKETER) if "75%" in text]
    assert len(nudges) == 1


async def test_nothing_is_sent_before_75_percent(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await claimed_deck(slack, fake_slack, configured)

    await run_job(configured, clock, at(26, 16))  # 11 of 24 business hours

    assert dms_to(fake_slack, MARKETER) == []


async def test_an_overdue_request_escalates_to_the_assignee_and_the_leads_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await configure(configured, support_leads=(ADMIN,))
    await claimed_deck(slack, fake_slack, configured)

    await run_job(configured, clock, at(30, 10))
    await run_job(configured, clock, at(30, 10, 15))

    assert [t for t in dms_to(fake_slack, MARKETER) if "overdue" in t] != []
    assert len([t for t in dms_to(fake_slack, MARKETER) if "overdue" in t]) == 1
    assert [t for t in dms_to(fake_slack, MARKETER) if "75%" in t] == []  # overdue says it all
    assert len([t for t in dms_to(fake_slack, ADMIN) if "overdue" in t]) == 1


async def test_an_unclaimed_request_is_flagged_in_the_channel_after_four_business_hours(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await file_one(slack, fake_slack, configured)

    await run_job(configured, clock, at(25, 10, 30))  # 3.5 business hours: not yet
    await run_job(configured, clock, at(25, 11, 30))
    await run_job(configured, clock, at(25, 12, 0))

    flags = [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if call.params["channel"] == INTAKE and "without an owner" in str(call.params.get("text"))
    ]
    assert len(flags) == 1


async def test_waiting_on_the_requester_pauses_the_clock(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request = await claimed_deck(slack, fake_slack, configured)
    await slack.submit(
        modal_submission("request_need_info_form", request, text_value("question", "Which?"))
    )
    assert (await current(configured, request)).status == RequestStatus.WAITING

    await run_job(configured, clock, at(30, 10))

    assert dms_to(fake_slack, MARKETER) == []


async def test_an_assignee_who_left_is_flagged_for_reassignment_instead_of_dmed(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await claimed_deck(slack, fake_slack, configured)
    fake_slack.add_user(MARKETER, name="mia.marketing", deleted=True)

    await run_job(configured, clock, at(27, 9, 30))

    assert dms_to(fake_slack, MARKETER) == []
    assert any(
        "has left the workspace" in str(c.params.get("text"))
        for c in fake_slack.calls_to("chat.postMessage")
    )


async def test_two_processes_running_the_job_at_once_send_each_reminder_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    await claimed_deck(slack, fake_slack, configured)
    other_process = Deps.from_settings(configured.settings, clock=clock)
    clock.now = at(27, 9, 30)

    await asyncio.gather(
        send_reminders(configured, make_client(configured), clock.now),
        send_reminders(other_process, make_client(other_process), clock.now),
    )
    await other_process.engine.dispose()

    assert len([t for t in dms_to(fake_slack, MARKETER) if "75%" in t]) == 1


async def test_a_reopened_request_escalates_afresh(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await run_job(configured, clock, at(25, 12))
    await slack.submit(modal_submission("request_decline_form", request, text_value("note", "dup")))
    clock.now = at(25, 13)
    await click(slack, fake_slack, "request_reopen", request, user_id=request.requester_id)
    await fake_slack.wait_for("chat.postMessage", lambda c: "reopened" in str(c.params.get("text")))

    await run_job(configured, clock, at(26, 9, 30))

    flags = [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if "without an owner" in str(call.params.get("text"))
    ]
    assert len(flags) == 2
