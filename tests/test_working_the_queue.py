"""Marketing Support works requests from the intake post: claim to delivery, with guards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import RequestEvent, RequestStatus, Role, SupportRequest
from bot.requests.answers import (
    check_waiting,
    is_answer,
    open_question,
    request_answered_by_reply,
)
from bot.requests.lifecycle import Action, Actor
from bot.requests.queue import apply_action, check_may_begin, load_actor, parse_deliverable_url
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, event_callback
from tests.support.helpers import block_texts
from tests.support.queue_helpers import (
    BOTH_GROUPS,
    MARKETER_TWO,
    add_support_members,
    click,
    current,
    file_one,
    modal_submission,
    text_value,
    url_value,
    user_value,
)
from tests.support.workspace import (
    ADMIN,
    DEMANDGEN,
    INTAKE,
    MARKETER,
    REP,
    REP_OUTSIDER,
    TEAM_ID,
    configure,
)


async def test_claiming_updates_the_post_threads_a_line_and_tells_the_requester(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    response, _ = await click(slack, fake_slack, "request_claim", request)

    assert response.status == 200
    [update] = await fake_slack.wait_for("chat.update")
    assert update.params["ts"] == request.intake_ts
    assert f"<@{MARKETER}>" in block_texts(update.params["blocks"])
    assert "request_claim" not in block_texts(update.params["blocks"])
    [line] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == request.intake_ts
    )
    assert "claimed" in line.params["text"]
    [dm] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == REP)
    assert "picked up" in dm.params["text"]
    stored = await current(configured, request)
    assert (stored.status, stored.assignee_id) == (RequestStatus.CLAIMED, MARKETER)
    async with configured.sessions() as session:
        [event] = (await session.exec(select(RequestEvent))).all()
    assert (event.actor_id, event.from_status, event.to_status) == (
        MARKETER,
        RequestStatus.OPEN,
        RequestStatus.CLAIMED,
    )


async def test_two_people_claiming_at_once_gives_one_owner_and_tells_the_other_who_has_it(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await add_support_members(configured, fake_slack)
    request = await file_one(slack, fake_slack, configured)

    await asyncio.gather(
        click(slack, fake_slack, "request_claim", request, user_id=MARKETER, tag="one"),
        click(slack, fake_slack, "request_claim", request, user_id=MARKETER_TWO, tag="two"),
    )

    [refusal] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith(("one", "two")))
    stored = await current(configured, request)
    assert stored.assignee_id in (MARKETER, MARKETER_TWO)
    assert f"<@{stored.assignee_id}> already has this request" in refusal.params["text"]
    async with configured.sessions() as session:
        events = (await session.exec(select(RequestEvent))).all()
    assert len(events) == 1


async def test_someone_outside_marketing_support_cannot_claim_and_nothing_changes(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    await click(slack, fake_slack, "request_claim", request, user_id=REP_OUTSIDER, tag="denied")

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("denied"))
    assert "Only Marketing Support" in answer.params["text"]
    assert answer.params["response_type"] == "ephemeral"
    assert (await current(configured, request)).status == RequestStatus.OPEN


@pytest.mark.parametrize("user", [DEMANDGEN, BOTH_GROUPS])
async def test_demand_gen_members_can_never_take_a_request_even_if_also_in_support(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, user: str
) -> None:
    await add_support_members(configured, fake_slack)
    request = await file_one(slack, fake_slack, configured)

    await click(slack, fake_slack, "request_start", request, user_id=user, tag="dg")

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("dg"))
    assert "Demand Gen" in answer.params["text"]
    stored = await current(configured, request)
    assert (stored.status, stored.assignee_id) == (RequestStatus.OPEN, None)


async def test_reassigning_to_demand_gen_is_refused_on_the_field(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await add_support_members(configured, fake_slack)
    request = await file_one(slack, fake_slack, configured)

    response = await slack.submit(
        modal_submission("request_reassign_form", request, user_value("assignee", BOTH_GROUPS))
    )

    assert response.json["response_action"] == "errors"
    assert "Demand Gen" in response.json["errors"]["assignee"]
    assert (await current(configured, request)).assignee_id is None


async def test_reassigning_hands_the_request_over_and_tells_the_new_owner(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await add_support_members(configured, fake_slack)
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")

    response = await slack.submit(
        modal_submission(
            "request_reassign_form",
            request,
            user_value("assignee", MARKETER_TWO) | text_value("note", None),
        )
    )

    assert response.status == 200
    await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == MARKETER_TWO)
    assert (await current(configured, request)).assignee_id == MARKETER_TWO


async def test_reassigning_to_someone_outside_marketing_support_is_refused(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    response = await slack.submit(
        modal_submission("request_reassign_form", request, user_value("assignee", REP))
    )

    assert "not in the Marketing Support group" in response.json["errors"]["assignee"]


async def test_deliver_opens_a_modal_and_delivery_asks_the_requester_for_a_rating(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")

    await click(slack, fake_slack, "request_deliver", request)
    [opened] = await fake_slack.wait_for("views.open")
    response = await slack.submit(
        modal_submission(
            "request_deliver_form",
            request,
            url_value("link", "https://drive.example.com/deck")
            | text_value("note", "Slides 3-5 are new"),
        )
    )

    assert opened.params["view"]["callback_id"] == "request_deliver_form"
    assert response.status == 200
    stored = await current(configured, request)
    assert stored.status == RequestStatus.DELIVERED
    assert stored.deliverable_url == "https://drive.example.com/deck"
    [dm] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == REP and "delivered" in c.params["text"]
    )
    assert "rating_score_5" in block_texts(dm.params["blocks"])


async def test_a_delivery_without_a_proper_link_is_refused_on_the_field(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    response = await slack.submit(
        modal_submission("request_deliver_form", request, url_value("link", "not a link"))
    )

    assert "https://" in response.json["errors"]["link"]
    assert (await current(configured, request)).status == RequestStatus.OPEN


async def test_declining_needs_a_reason_and_offers_the_requester_a_reopen(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    empty = await slack.submit(
        modal_submission("request_decline_form", request, text_value("note", " "))
    )
    declined = await slack.submit(
        modal_submission(
            "request_decline_form", request, text_value("note", "We have a <!channel> deck already")
        )
    )

    assert "Say why" in empty.json["errors"]["note"]
    assert declined.status == 200
    [dm] = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == REP and "declined" in c.params["text"]
    )
    assert "<!channel>" not in dm.params["text"]
    assert "request_reopen" in block_texts(dm.params["blocks"])
    assert (await current(configured, request)).status == RequestStatus.DECLINED


async def test_the_requester_reopens_a_declined_request(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await slack.submit(modal_submission("request_decline_form", request, text_value("note", "no")))

    await click(slack, fake_slack, "request_reopen", request, user_id=REP)

    await fake_slack.wait_for("chat.postMessage", lambda c: "reopened" in str(c.params.get("text")))
    assert (await current(configured, request)).status == RequestStatus.OPEN


async def test_need_info_pauses_and_the_requesters_thread_reply_resumes(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")

    await slack.submit(
        modal_submission(
            "request_need_info_form", request, text_value("question", "Which product line?")
        )
    )
    waiting = await current(configured, request)
    await slack.event(
        event_callback(
            {
                "type": "message",
                "channel": INTAKE,
                "user": REP,
                "text": "The enterprise one",
                "ts": "1764000000.000900",
                "thread_ts": request.intake_ts,
                "channel_type": "channel",
            }
        )
    )

    assert waiting.status == RequestStatus.WAITING
    [dm] = await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.params["channel"] == REP and "Which product line" in c.params["text"],
    )
    assert "request_answer" in block_texts(dm.params["blocks"])
    await fake_slack.wait_for("chat.postMessage", lambda c: "answered" in str(c.params.get("text")))
    assert (await current(configured, request)).status == RequestStatus.IN_PROGRESS


async def test_someone_elses_thread_reply_does_not_resume(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")
    await slack.submit(
        modal_submission("request_need_info_form", request, text_value("question", "Which?"))
    )

    await slack.event(
        event_callback(
            {
                "type": "message",
                "channel": INTAKE,
                "user": MARKETER,
                "text": "bump",
                "ts": "1764000000.000901",
                "thread_ts": request.intake_ts,
                "channel_type": "channel",
            }
        )
    )

    await asyncio.sleep(0.2)
    assert (await current(configured, request)).status == RequestStatus.WAITING


async def test_the_requester_cancels_with_mktg_cancel_and_others_cannot(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    await slack.command(
        "/mktg", "cancel MS-1", user_id=REP_OUTSIDER, response_url=fake_slack.response_url("other")
    )
    [refused] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("other"))
    await slack.command(
        "/mktg", "cancel MS-1", user_id=REP, response_url=fake_slack.response_url("mine")
    )
    [done] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("mine"))

    assert "Only the person who asked" in refused.params["text"]
    assert "Cancelled MS-1" in done.params["text"]
    assert (await current(configured, request)).status == RequestStatus.CANCELLED


async def test_an_admin_may_cancel_someone_elses_request(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)

    await click(slack, fake_slack, "request_cancel", request, user_id=ADMIN)

    await fake_slack.wait_for("chat.update")
    assert (await current(configured, request)).status == RequestStatus.CANCELLED


async def test_a_click_on_a_stale_post_acts_on_the_current_state_and_refreshes_it(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_cancel", request, user_id=REP)
    await fake_slack.wait_for("chat.update")

    await click(slack, fake_slack, "request_claim", request, tag="stale")

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("stale"))
    assert "already cancelled" in answer.params["text"]
    await fake_slack.wait_for("chat.update", count=2)


async def test_a_request_id_from_another_workspace_reads_as_not_found(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await configure(configured, team_id="T0OTHER")
    from sandbox.slack_payloads import block_actions

    await slack.action(
        block_actions(
            "request_claim",
            str(request.id),
            team_id="T0OTHER",
            user_id=MARKETER,
            response_url=fake_slack.response_url("other-team"),
        )
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("other-team"))
    assert "doesn't exist in this workspace" in answer.params["text"]
    assert (await current(configured, request)).status == RequestStatus.OPEN


async def test_a_deleted_intake_post_is_posted_afresh(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    fake_slack.fail_next("chat.update", "message_not_found")

    await click(slack, fake_slack, "request_claim", request)

    reposts = await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: c.params["channel"] == INTAKE and "thread_ts" not in c.params,
        count=2,
    )
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == reposts[1].response["ts"]
    )
    assert (await current(configured, request)).intake_ts == reposts[1].response["ts"]


async def test_a_ratelimited_update_is_retried_after_retry_after(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    fake_slack.ratelimit_next("chat.update", retry_after=1)

    await click(slack, fake_slack, "request_claim", request)

    updates = await fake_slack.wait_for("chat.update", count=2, timeout=8)
    assert [call.status for call in updates] == [429, 200]


async def test_align_queue_groups_open_requests_for_marketing_support(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    first = await file_one(slack, fake_slack, configured)
    await file_one(slack, fake_slack, configured, "roi Globex $1m ROI model")
    await click(slack, fake_slack, "request_claim", first)
    await fake_slack.wait_for("chat.update")

    await slack.command(
        "/align", "queue", user_id=MARKETER, response_url=fake_slack.response_url("queue")
    )
    await slack.command("/align", "queue", user_id=REP, response_url=fake_slack.response_url("rep"))

    [queue] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("queue"))
    [refused] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("rep"))
    assert "2 open" in queue.params["text"]
    assert queue.params["text"].index("MS-2") < queue.params["text"].index(
        "MS-1"
    )  # open before claimed
    assert "/mktg mine" in refused.params["text"]


async def test_the_message_shortcut_opens_the_form_prefilled_from_the_message(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    from sandbox.slack_payloads import message_shortcut

    fake_slack.messages.setdefault(INTAKE, []).append(
        {"type": "message", "user": "U0OTHER", "ts": "1764000000.000100", "text": "Customer asks"}
    )
    await slack.shortcut(
        message_shortcut(
            "send_to_marketing_support",
            message_text="Customer asks for SOC2 &amp; a case study",
            message_ts="1764000000.000100",
            channel_id=INTAKE,
        )
    )

    [opened] = await fake_slack.wait_for("views.open")
    details = next(b for b in opened.params["view"]["blocks"] if b.get("block_id") == "details")
    assert details["element"]["initial_value"].startswith("Customer asks for SOC2 & a case study")
    assert "From Slack: https://" in details["element"]["initial_value"]


async def test_status_shows_the_owner(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")

    await slack.command("/mktg", "status MS-1", response_url=fake_slack.response_url("status"))

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("status"))
    assert f"<@{MARKETER}>" in answer.params["text"]


# ----------------------------------------------------------------------------- the rules, unit


def waiting_request(status: RequestStatus = RequestStatus.WAITING) -> SupportRequest:
    return SupportRequest(
        id=7,
        team_id=TEAM_ID,
        number=7,
        requester_id=REP,
        assignee_id=MARKETER,
        status=status,
        request_type="deal_deck",
        details="Renewal pitch",
        created_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        updated_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "link", ["", "   ", "docs.example.com/deck", "https://docs/a deck", "ftp://files/deck"]
)
def test_a_deliverable_link_must_be_one_web_address(link: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_deliverable_url(link, field="link")

    assert refused.value.message == "Paste a link that starts with https://"
    assert refused.value.field == "link"


def test_a_deliverable_link_is_kept_without_surrounding_space() -> None:
    assert parse_deliverable_url("  https://docs/deck \n") == "https://docs/deck"


def test_only_the_requester_answers_a_request_waiting_on_them() -> None:
    request = waiting_request()

    assert is_answer(request, user_id=REP)
    assert not is_answer(request, user_id=MARKETER)
    assert not is_answer(waiting_request(RequestStatus.IN_PROGRESS), user_id=REP)
    assert not is_answer(None, user_id=REP)


def test_an_answer_is_only_wanted_while_the_request_waits() -> None:
    check_waiting(waiting_request())

    with pytest.raises(UserError, match="isn't waiting on you any more"):
        check_waiting(waiting_request(RequestStatus.IN_PROGRESS))


def test_the_question_to_answer_is_the_latest_one_asked() -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def event(action: Action, note: str | None) -> RequestEvent:
        return RequestEvent(
            request_id=7,
            team_id=TEAM_ID,
            actor_id=MARKETER,
            action=action.value,
            from_status=RequestStatus.IN_PROGRESS,
            to_status=RequestStatus.WAITING,
            note=note,
            created_at=at,
        )

    events = [
        event(Action.NEED_INFO, "Which region?"),
        event(Action.RESUME, "EMEA"),
        event(Action.NEED_INFO, "Which logo?"),
    ]

    assert open_question(events) == "Which logo?"
    assert open_question([]) is None


def test_opening_a_modal_is_refused_like_the_action_itself() -> None:
    outsider = Actor(REP, frozenset())
    support = Actor(MARKETER, frozenset({Role.SUPPORT}))

    with pytest.raises(UserError, match="Only Marketing Support can deliver"):
        check_may_begin(Action.DELIVER, waiting_request(), outsider)
    with pytest.raises(UserError, match="Claim or start the request before delivering it"):
        check_may_begin(Action.DELIVER, waiting_request(RequestStatus.OPEN), support)
    check_may_begin(Action.DELIVER, waiting_request(), support)


async def test_a_thread_reply_answers_only_in_the_intake_channel(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    assert request.id is not None
    assert request.intake_ts is not None
    async with configured.sessions() as session:
        for user_id, action in ((MARKETER, Action.CLAIM), (MARKETER, Action.NEED_INFO)):
            actor = await load_actor(session, team_id=TEAM_ID, user_id=user_id, is_admin=False)
            await apply_action(
                session,
                team_id=TEAM_ID,
                request_id=request.id,
                action=action,
                actor=actor,
                now=configured.clock(),
                note="Which region?",
            )

    async def answered(channel: str, user_id: str) -> SupportRequest | None:
        assert request.intake_ts is not None
        async with configured.sessions() as session:
            return await request_answered_by_reply(
                session,
                team_id=TEAM_ID,
                channel=channel,
                thread_ts=request.intake_ts,
                user_id=user_id,
            )

    found = await answered(INTAKE, REP)
    assert found is not None
    assert found.id == request.id
    assert await answered(INTAKE, MARKETER) is None
    assert await answered("COTHER", REP) is None
