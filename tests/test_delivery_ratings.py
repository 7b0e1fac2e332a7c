"""After delivery the requester rates it 1–5 and says whether it helped the deal, from the DM."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.blocks.queue import RatingClick, parse_rating_button, parse_rating_score
from bot.blocks.surveys import parse_survey_button, parse_survey_score
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import DeliveryRating, RequestEvent, RequestStatus, SupportRequest
from bot.requests.queue import current_rating
from sandbox.fakeslack import Call, FakeSlack
from sandbox.slack_payloads import SlackSender, block_actions, view_submission
from tests.support.helpers import block_texts
from tests.support.queue_helpers import (
    click,
    current,
    file_one,
)
from tests.support.ratings import deliver, delivered_request, press, reason_values
from tests.support.workspace import MARKETER, REP, REP_OUTSIDER, FixedClock


async def stored_ratings(deps: Deps) -> list[DeliveryRating]:
    async with deps.sessions() as session:
        statement = select(DeliveryRating).order_by(col(DeliveryRating.id))
        return list((await session.exec(statement)).all())


async def delivery_events(deps: Deps, request: SupportRequest) -> list[RequestEvent]:
    async with deps.sessions() as session:
        statement = (
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id, RequestEvent.action == "deliver")
            .order_by(col(RequestEvent.id))
        )
        return list((await session.exec(statement)).all())


def thanks_line(answer: Call) -> str:
    return next(
        str(element["text"])
        for block in answer.params["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
        if element["text"].startswith("Thanks")
    )


# --------------------------------------------------------------------------- rating


async def test_a_score_click_stores_the_rating_and_thanks_the_requester_in_the_dm(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)

    answer = await press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="score")

    [rating] = await stored_ratings(configured)
    [delivery] = await delivery_events(configured, request)
    assert (rating.score, rating.rater_id, rating.discarded) == (4, REP, False)
    assert rating.delivery_event_id == delivery.id
    assert answer.params["replace_original"] is True
    assert thanks_line(answer).startswith("Thanks — you rated it 4/5.")
    assert '"4 ✓"' in block_texts(answer.params["blocks"])
    await fake_slack.assert_no_call("views.open")


@pytest.mark.parametrize(
    ("choice", "shown"), [("yes", "yes"), ("no", "no"), ("too_early", "too early to say")]
)
async def test_saying_whether_it_helped_the_deal_is_stored_with_the_score(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, choice: str, shown: str
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_5", "5", tag="score")

    answer = await press(
        slack, fake_slack, request, dm, f"rating_helped_{choice}", choice, tag="helped"
    )

    [rating] = await stored_ratings(configured)
    assert (rating.score, rating.helped) == (5, choice)
    assert answer.params["replace_original"] is True
    assert thanks_line(answer).startswith(f"Thanks — you rated it 5/5, helped the deal: {shown}.")


async def test_the_thanks_says_ratings_can_change_until_14_days_after_delivery(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    closes = (clock() + timedelta(days=14)).strftime("%a %-d %b %Y")

    answer = await press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="score")

    assert thanks_line(answer).endswith(f"You can change it until {closes}.")


async def test_a_late_first_rating_still_shows_when_the_window_really_closes(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    closes = (clock() + timedelta(days=14)).strftime("%a %-d %b %Y")
    clock.advance(days=10)

    answer = await press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="score")

    assert thanks_line(answer).endswith(f"You can change it until {closes}.")


# --------------------------------------------------------------------------- low scores


@pytest.mark.parametrize("score", [1, 2])
async def test_a_low_score_opens_the_what_went_wrong_modal(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, score: int
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)

    answer = await press(
        slack, fake_slack, request, dm, f"rating_score_{score}", str(score), tag="low"
    )

    [opened] = await fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "rating_reason_form"
    assert json.loads(opened.params["view"]["private_metadata"]) == {
        "request_id": request.id,
        "score": score,
        "channel": dm.response["channel"],
        "ts": dm.response["ts"],
    }
    assert f"you rated it {score}/5" in thanks_line(answer)
    [rating] = await stored_ratings(configured)
    assert (rating.score, rating.reason) == (score, None)


async def test_a_score_of_three_or_more_asks_nothing_further(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)

    await press(slack, fake_slack, request, dm, "rating_score_3", "3", tag="three")

    await fake_slack.assert_no_call("views.open")


async def test_the_reason_given_for_a_low_score_is_stored_and_shown_in_the_dm(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_1", "1", tag="low")
    [opened] = await fake_slack.wait_for("views.open")

    response = await slack.submit(
        view_submission(
            "rating_reason_form",
            reason_values("late", "Needed it before the QBR"),
            user_id=REP,
            private_metadata=opened.params["view"]["private_metadata"],
        )
    )

    assert response.status == 200
    assert response.json is None or "errors" not in response.json
    [rating] = await stored_ratings(configured)
    assert (rating.score, rating.reason, rating.comment) == (1, "late", "Needed it before the QBR")
    [update] = await fake_slack.wait_for(
        "chat.update", lambda c: c.params["channel"] == dm.response["channel"]
    )
    assert update.params["ts"] == dm.response["ts"]
    assert "reason: arrived too late" in block_texts(update.params["blocks"])


async def test_the_reason_form_without_a_reason_is_answered_on_the_field(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_2", "2", tag="low")
    [opened] = await fake_slack.wait_for("views.open")

    response = await slack.submit(
        view_submission(
            "rating_reason_form",
            reason_values(None, "meh"),
            user_id=REP,
            private_metadata=opened.params["view"]["private_metadata"],
        )
    )

    assert response.json["response_action"] == "errors"
    assert response.json["errors"] == {"reason": "Pick the main reason."}
    [rating] = await stored_ratings(configured)
    assert (rating.reason, rating.comment) == (None, None)


async def test_raising_a_low_score_clears_its_reason(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_1", "1", tag="low")
    [opened] = await fake_slack.wait_for("views.open")
    await slack.submit(
        view_submission(
            "rating_reason_form",
            reason_values("brief"),
            user_id=REP,
            private_metadata=opened.params["view"]["private_metadata"],
        )
    )

    answer = await press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="raised")

    [rating] = await stored_ratings(configured)
    assert (rating.score, rating.reason) == (4, None)
    assert "reason:" not in thanks_line(answer)


# --------------------------------------------------------------------------- one rating per delivery


async def test_clicking_another_score_changes_the_one_rating_and_the_last_click_wins(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_3", "3", tag="first")

    answer = await press(slack, fake_slack, request, dm, "rating_score_5", "5", tag="second")

    [rating] = await stored_ratings(configured)
    assert rating.score == 5
    assert '"5 ✓"' in block_texts(answer.params["blocks"])
    assert '"3 ✓"' not in block_texts(answer.params["blocks"])


async def test_a_double_click_on_a_score_stores_one_rating(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)

    first, second = await asyncio.gather(
        press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="one"),
        press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="two"),
    )

    [rating] = await stored_ratings(configured)
    assert rating.score == 4
    assert first.params["replace_original"] is True
    assert second.params["replace_original"] is True


# --------------------------------------------------------------------------- refusals


async def test_someone_other_than_the_requester_cannot_rate(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)

    answers = [
        await press(
            slack, fake_slack, request, dm, "rating_score_5", "5", tag=f"by-{user}", user_id=user
        )
        for user in (REP_OUTSIDER, MARKETER)
    ]

    for answer in answers:
        assert answer.params["text"] == "Only the person who asked for it can rate a delivery."
        assert answer.params["response_type"] == "ephemeral"
        assert answer.params["replace_original"] is False
    assert await stored_ratings(configured) == []


async def test_rating_is_refused_once_14_days_have_passed_since_delivery(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    clock.advance(days=15)

    answer = await press(slack, fake_slack, request, dm, "rating_score_5", "5", tag="late")

    assert answer.params["text"] == (
        "Ratings close 14 days after delivery, so this one can't change now."
    )
    assert answer.params["replace_original"] is False
    assert await stored_ratings(configured) == []


async def test_a_rating_cannot_be_changed_once_14_days_have_passed(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: FixedClock
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="early")
    clock.advance(days=15)

    answer = await press(slack, fake_slack, request, dm, "rating_helped_no", "no", tag="late")

    assert "Ratings close 14 days after delivery" in answer.params["text"]
    [rating] = await stored_ratings(configured)
    assert (rating.score, rating.helped) == (4, None)


async def test_rating_a_request_that_was_never_delivered_is_refused(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file_one(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_claim", request)
    await fake_slack.wait_for("chat.update")
    url = fake_slack.response_url("early")

    await slack.action(
        block_actions("rating_score_5", f"{request.id}:5", user_id=REP, response_url=url)
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path == "early")
    assert "MS-1 isn't delivered right now" in answer.params["text"]
    assert await stored_ratings(configured) == []


# --------------------------------------------------------------------------- reopening


async def test_reopening_discards_the_rating_and_the_next_delivery_asks_again(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_2", "2", tag="first")
    await click(slack, fake_slack, "request_reopen", request, user_id=REP)
    await fake_slack.wait_for("chat.postMessage", lambda c: "reopened" in str(c.params.get("text")))
    reopened = await current(configured, request)
    [discarded] = await stored_ratings(configured)

    second_dm = await deliver(slack, fake_slack, request)
    await press(slack, fake_slack, request, second_dm, "rating_score_5", "5", tag="second")

    assert (reopened.status, reopened.assignee_id) == (RequestStatus.CLAIMED, MARKETER)
    assert discarded.discarded is True
    assert "✓" not in block_texts(second_dm.params["blocks"])
    old, new = await stored_ratings(configured)
    first_delivery, second_delivery = await delivery_events(configured, request)
    assert (old.delivery_event_id, old.score, old.discarded) == (first_delivery.id, 2, True)
    assert (new.delivery_event_id, new.score, new.discarded) == (second_delivery.id, 5, False)
    assert request.id is not None
    async with configured.sessions() as session:
        rating_now = await current_rating(session, request_id=request.id)
    assert rating_now is not None
    assert rating_now.id == new.id


async def test_rating_a_reopened_request_is_refused_until_it_is_delivered_again(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, dm = await delivered_request(slack, fake_slack, configured)
    await press(slack, fake_slack, request, dm, "rating_score_4", "4", tag="first")
    await click(slack, fake_slack, "request_reopen", request, user_id=REP)
    await fake_slack.wait_for("chat.postMessage", lambda c: "reopened" in str(c.params.get("text")))

    answer = await press(slack, fake_slack, request, dm, "rating_score_1", "1", tag="stale")

    assert "isn't delivered right now (it may have been reopened)" in answer.params["text"]
    [rating] = await stored_ratings(configured)
    assert (rating.score, rating.discarded) == (4, True)
    await fake_slack.assert_no_call("views.open")


async def test_the_dm_of_an_earlier_delivery_cannot_rate_the_next_one(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request, first_dm = await delivered_request(slack, fake_slack, configured)
    await click(slack, fake_slack, "request_reopen", request, user_id=REP)
    await fake_slack.wait_for("chat.postMessage", lambda c: "reopened" in str(c.params.get("text")))
    await deliver(slack, fake_slack, request)

    answer = await press(slack, fake_slack, request, first_dm, "rating_score_5", "5", tag="old-dm")

    assert "earlier delivery" in answer.params["text"]
    assert await stored_ratings(configured) == []


# ----------------------------------------------------------------------------- button values, unit


def test_a_rating_button_names_the_request_the_choice_and_the_delivery() -> None:
    assert parse_rating_button({"value": "12:yes:40"}) == RatingClick(12, "yes", 40)
    assert parse_rating_button({"value": "12:too_early"}) == RatingClick(12, "too_early", None)
    assert parse_rating_score({"value": "12:4:40"}) == (RatingClick(12, "4", 40), 4)


@pytest.mark.parametrize("value", ["", "12", "x:4", "12:"])
def test_a_rating_button_without_a_request_and_choice_is_out_of_date(value: str) -> None:
    with pytest.raises(UserError, match="out of date"):
        parse_rating_button({"value": value})


def test_a_score_button_needs_a_number() -> None:
    with pytest.raises(UserError, match="That rating button is out of date"):
        parse_rating_score({"value": "12:yes"})


def test_a_survey_button_names_its_run_and_choice() -> None:
    assert parse_survey_button({"value": "3:open"}) == (3, "open")
    assert parse_survey_score({"value": "3:5"}) == (3, 5)
    with pytest.raises(UserError, match="out of date"):
        parse_survey_button({"value": "run:5"})
    with pytest.raises(UserError, match="out of date"):
        parse_survey_score({"value": "3:five"})
