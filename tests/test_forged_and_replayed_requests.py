"""Requests Slack did not sign are refused and change nothing; Slack's replays and retries
never file, claim or resume twice (issue 8: hostile and repeated traffic)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import pytest
from sqlmodel import select

from bot.core.deps import Deps
from bot.core.models import RequestEvent, RequestStatus
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import (
    SlackSender,
    block_actions,
    event_callback,
    form_body,
    json_body,
    sign,
    slash_command,
    view_submission,
)
from tests.support.helpers import stored_requests
from tests.support.queue_helpers import (
    MARKETER_TWO,
    add_support_members,
    current,
    file_one,
    modal_submission,
    text_value,
)
from tests.support.requests import ONE_LINER, request_form_values
from tests.support.workspace import INTAKE, MARKETER, REP

pytestmark = pytest.mark.timeout(20)

RETRY_HEADERS = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def send_signed(
    slack: SlackSender, body: bytes, extra: Mapping[str, str] | None = None
) -> int:
    """POST `body` correctly signed, with extra headers (Slack's retry headers)."""
    headers = sign(body)
    headers.update(extra or {})
    return (await slack.post_raw(body, headers)).status


async def events_of_kind(deps: Deps, action: str) -> list[RequestEvent]:
    async with deps.sessions() as session:
        events = (await session.exec(select(RequestEvent))).all()
    return [event for event in events if event.action == action]


# --------------------------------------------------------------------------- forged


def _forgeries() -> dict[str, tuple[bytes, dict[str, str]]]:
    body = slash_command("/mktg", ONE_LINER, user_id=REP)
    now = int(time.time())
    good = sign(body)
    missing_signature = {k: v for k, v in good.items() if k != "X-Slack-Signature"}
    missing_timestamp = {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}
    tampered = body.replace(b"Acme+Corp", b"Evil+Corp")
    assert tampered != body
    return {
        "wrong secret": (body, sign(body, secret="not-the-signing-secret")),
        "tampered body": (tampered, good),
        "missing signature": (body, missing_signature),
        "missing timestamp": (body, missing_timestamp),
        "no headers at all": (body, {"Content-Type": "application/x-www-form-urlencoded"}),
        "garbage signature": (body, {**good, "X-Slack-Signature": "v0=deadbeef"}),
        "signature of another version": (
            body,
            {**good, "X-Slack-Signature": good["X-Slack-Signature"].replace("v0=", "v1=")},
        ),
        "stale timestamp, signed with it": (body, sign(body, timestamp=now - 6 * 60)),
        "an hour old": (body, sign(body, timestamp=now - 3600)),
        "from the future": (body, sign(body, timestamp=now + 6 * 60)),
        "timestamp not a number": (body, {**good, "X-Slack-Request-Timestamp": "yesterday"}),
        "fresh timestamp swapped onto an old signature": (
            body,
            {**sign(body, timestamp=now - 3600), "X-Slack-Request-Timestamp": str(now)},
        ),
    }


# Built again inside each test: the timestamps are relative to when the request is sent.
FORGERY_CASES = list(_forgeries())


@pytest.mark.parametrize("case", FORGERY_CASES)
async def test_a_forged_or_stale_slash_command_is_refused_with_401_and_stores_nothing(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, case: str
) -> None:
    body, headers = _forgeries()[case]

    response = await slack.post_raw(body, dict(headers))

    # The refusal is decided before the response is sent (signature middleware / error
    # handler): once the 401 has arrived, anything the forgery could cause would have.
    assert response.status == 401
    await fake_slack.assert_no_call("chat.postMessage")
    assert fake_slack.calls_to("response_url") == []
    assert fake_slack.calls_to("views.open") == []
    assert await stored_requests(configured) == []


async def test_an_unreadable_timestamp_gets_401_and_the_forged_response_url_hears_nothing(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    """Bolt's verifier raises on a non-numeric timestamp; the error path must not treat the
    forged body as a real request and answer its response_url (or DM its user)."""
    body = slash_command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())
    headers = {**sign(body), "X-Slack-Request-Timestamp": "1e9"}

    response = await slack.post_raw(body, headers)

    # The error handler answers before the response is sent: after the 401, it has spoken.
    assert response.status == 401
    await fake_slack.assert_no_call("response_url")
    assert fake_slack.calls_to("chat.postMessage") == []
    assert await stored_requests(configured) == []


async def test_forged_view_submissions_block_actions_and_events_are_refused(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    calls_before = len(fake_slack.calls)
    stale = int(time.time()) - 10 * 60
    submission = form_body(view_submission("request_form", request_form_values()))
    claim = form_body(
        block_actions(
            "request_claim",
            str(request.id),
            user_id=MARKETER,
            channel_id=INTAKE,
            message_ts=request.intake_ts,
        )
    )
    event = json_body(
        event_callback(
            {
                "type": "message",
                "channel": INTAKE,
                "user": REP,
                "text": "answer",
                "ts": "1764000000.000100",
                "thread_ts": request.intake_ts,
                "channel_type": "channel",
            }
        )
    )

    statuses = [
        (await slack.post_raw(body, headers)).status
        for body in (submission, claim, event)
        for headers in (sign(body, secret="wrong"), sign(body, timestamp=stale))
    ]

    assert statuses == [401] * 6  # refused before the response: nothing more is coming
    assert len(fake_slack.calls) == calls_before
    assert len(await stored_requests(configured)) == 1
    stored = await current(configured, request)
    assert (stored.status, stored.assignee_id) == (RequestStatus.OPEN, None)
    assert await events_of_kind(configured, "claim") == []


async def test_a_forged_url_verification_challenge_is_not_echoed(
    slack: SlackSender, configured: Deps
) -> None:
    body = json_body({"token": "x", "challenge": "attacker-chosen", "type": "url_verification"})

    response = await slack.post_raw(body, sign(body, secret="wrong"))

    assert response.status == 401
    assert "attacker-chosen" not in response.body


# --------------------------------------------------------------------------- replayed


async def test_a_replayed_slash_command_files_one_request_even_with_retry_headers(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    body = slash_command("/mktg", ONE_LINER, user_id=REP, response_url=fake_slack.response_url())

    statuses = await asyncio.gather(
        send_signed(slack, body), send_signed(slack, body, RETRY_HEADERS)
    )
    statuses.append(await send_signed(slack, body, {**RETRY_HEADERS, "X-Slack-Retry-Num": "2"}))

    assert statuses == [200, 200, 200]
    await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == INTAKE)
    # MS-1's answer follows its intake post: wait for it, or it would pass for MS-2's below.
    await fake_slack.wait_for("response_url")
    # What must come after the replays: a different command sent once they were all acked,
    # filed and answered. A replay filed again would have taken MS-2 before it.
    later = await file_one(slack, fake_slack, configured, "deck Later Corp $5k Later pitch")
    assert later.number == 2
    await fake_slack.assert_no_call(
        "chat.postMessage",
        lambda c: c.params["channel"] == INTAKE and "MS-3" in str(c.params),
    )
    assert sorted(r.number for r in await stored_requests(configured)) == [1, 2]
    # The answer to MS-2 may come back before its intake ts is stored, so pick MS-1's
    # posts by their text rather than by excluding MS-2's ts.
    first_request_posts = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == INTAKE
        and "thread_ts" not in c.params
        and str(c.params.get("text", "")).startswith("MS-1 ")
    ]
    assert len(first_request_posts) == 1


async def test_a_replayed_view_submission_with_retry_headers_files_one_request(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    body = form_body(view_submission("request_form", request_form_values(), view_id="V0REPLAY"))

    statuses = await asyncio.gather(
        send_signed(slack, body), send_signed(slack, body, RETRY_HEADERS)
    )
    statuses.append(await send_signed(slack, body, RETRY_HEADERS))

    assert statuses == [200, 200, 200]
    await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == INTAKE)
    await asyncio.sleep(0.3)
    assert len(await stored_requests(configured)) == 1
    intake_posts = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == INTAKE and "thread_ts" not in c.params
    ]
    assert len(intake_posts) == 1
    confirmations = [c for c in fake_slack.calls if c.params.get("channel") in (REP, "DU0REP")]
    assert len(confirmations) == 1


async def test_a_replayed_claim_click_claims_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    body = form_body(
        block_actions(
            "request_claim",
            str(request.id),
            user_id=MARKETER,
            channel_id=INTAKE,
            message_ts=request.intake_ts,
            response_url=fake_slack.response_url("replayed-claim"),
        )
    )

    statuses = await asyncio.gather(
        send_signed(slack, body), send_signed(slack, body, RETRY_HEADERS)
    )
    statuses.append(await send_signed(slack, body, RETRY_HEADERS))

    assert statuses == [200, 200, 200]
    await fake_slack.wait_for("chat.update")
    await asyncio.sleep(0.3)
    stored = await current(configured, request)
    assert (stored.status, stored.assignee_id) == (RequestStatus.CLAIMED, MARKETER)
    assert len(await events_of_kind(configured, "claim")) == 1
    picked_up = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == REP and "picked up" in str(c.params.get("text"))
    ]
    assert len(picked_up) == 1
    thread_lines = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == request.intake_ts and "claimed" in c.params["text"]
    ]
    assert len(thread_lines) == 1


async def test_a_replayed_need_info_submission_asks_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    claim = form_body(
        block_actions(
            "request_claim",
            str(request.id),
            user_id=MARKETER,
            channel_id=INTAKE,
            message_ts=request.intake_ts,
        )
    )
    await send_signed(slack, claim)
    await fake_slack.wait_for("chat.update")
    body = form_body(
        modal_submission(
            "request_need_info_form", request, text_value("question", "Which product line?")
        )
    )

    first = await send_signed(slack, body)
    again = await send_signed(slack, body, RETRY_HEADERS)

    assert first == 200
    assert again == 200  # answered, with the error on the field: it is waiting already
    await asyncio.sleep(0.2)
    assert len(await events_of_kind(configured, "need_info")) == 1
    questions = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == REP and "Which product line" in str(c.params.get("text"))
    ]
    assert len(questions) == 1


@pytest.mark.parametrize("clicks_each", [1, 3])
async def test_claim_clicked_by_two_people_at_once_has_one_owner(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clicks_each: int
) -> None:
    await add_support_members(configured, fake_slack)
    request = await file_one(slack, fake_slack, configured)
    bodies = [
        form_body(
            block_actions(
                "request_claim",
                str(request.id),
                user_id=user,
                channel_id=INTAKE,
                message_ts=request.intake_ts,
                response_url=fake_slack.response_url(f"race-{user}-{n}"),
            )
        )
        for n in range(clicks_each)
        for user in (MARKETER, MARKETER_TWO)
    ]

    statuses = await asyncio.gather(*(send_signed(slack, body) for body in bodies))

    assert statuses == [200] * len(bodies)
    await fake_slack.wait_for(
        "response_url", lambda c: c.path.startswith("race-"), count=len(bodies) - 1
    )
    stored = await current(configured, request)
    assert stored.status == RequestStatus.CLAIMED
    assert stored.assignee_id in (MARKETER, MARKETER_TWO)
    assert len(await events_of_kind(configured, "claim")) == 1
    loser = MARKETER_TWO if stored.assignee_id == MARKETER else MARKETER
    told = [c for c in fake_slack.calls_to("response_url") if c.path.startswith(f"race-{loser}")]
    assert told
    assert all(f"<@{stored.assignee_id}>" in c.params["text"] for c in told)


# --------------------------------------------------------------------------- events API


async def _waiting_request(slack: SlackSender, fake_slack: FakeSlack, deps: Deps):  # type: ignore[no-untyped-def]
    request = await file_one(slack, fake_slack, deps)
    claim = form_body(
        block_actions(
            "request_claim",
            str(request.id),
            user_id=MARKETER,
            channel_id=INTAKE,
            message_ts=request.intake_ts,
        )
    )
    await send_signed(slack, claim)
    await fake_slack.wait_for("chat.update")
    await slack.submit(
        modal_submission("request_need_info_form", request, text_value("question", "Which?"))
    )
    assert (await current(deps, request)).status == RequestStatus.WAITING
    return request


def _answer_event(request_ts: str | None, event_id: str) -> dict[str, object]:
    return event_callback(
        {
            "type": "message",
            "channel": INTAKE,
            "user": REP,
            "text": "The enterprise one",
            "ts": "1764000000.000777",
            "thread_ts": request_ts,
            "channel_type": "channel",
        },
        event_id=event_id,
    )


def _answered_lines(fake_slack: FakeSlack, request_ts: str | None) -> list[object]:
    return [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == request_ts and "answered" in str(c.params.get("text"))
    ]


async def test_an_event_delivered_again_with_retry_headers_is_handled_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await _waiting_request(slack, fake_slack, configured)
    event = _answer_event(request.intake_ts, "Ev0RETRIED01")

    first = await slack.event(event)
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == request.intake_ts and "answered" in c.params["text"],
    )
    retries = [await slack.event(event, retry_num=n, retry_reason="http_timeout") for n in (1, 2)]

    assert [first.status, *(r.status for r in retries)] == [200, 200, 200]
    await asyncio.sleep(0.3)
    assert len(_answered_lines(fake_slack, request.intake_ts)) == 1
    assert len(await events_of_kind(configured, "resume")) == 1
    assert (await current(configured, request)).status == RequestStatus.IN_PROGRESS


async def test_an_event_and_its_retries_arriving_together_resume_once(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await _waiting_request(slack, fake_slack, configured)
    body = json_body(_answer_event(request.intake_ts, "Ev0RETRIED02"))

    statuses = await asyncio.gather(
        send_signed(slack, body),
        send_signed(slack, body, RETRY_HEADERS),
        send_signed(slack, body, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}),
    )

    assert statuses == [200, 200, 200]
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == request.intake_ts and "answered" in c.params["text"],
    )
    await asyncio.sleep(0.3)
    assert len(_answered_lines(fake_slack, request.intake_ts)) == 1
    assert len(await events_of_kind(configured, "resume")) == 1


async def test_a_late_retry_of_an_answer_does_not_answer_the_next_question(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    """Slack retries an event it thinks was lost; by then the marketer has asked again.
    Only remembering the event_id tells the late copy from a new answer."""
    request = await _waiting_request(slack, fake_slack, configured)
    event = _answer_event(request.intake_ts, "Ev0LATERETRY")
    await slack.event(event)
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == request.intake_ts and "answered" in c.params["text"],
    )
    await slack.submit(
        modal_submission("request_need_info_form", request, text_value("question", "And why?"))
    )
    assert (await current(configured, request)).status == RequestStatus.WAITING

    late = await slack.event(event, retry_num=3, retry_reason="http_timeout")

    assert late.status == 200
    await asyncio.sleep(0.3)
    assert (await current(configured, request)).status == RequestStatus.WAITING
    assert len(await events_of_kind(configured, "resume")) == 1
    assert len(_answered_lines(fake_slack, request.intake_ts)) == 1
