"""App Home shows each person their part: requests, the queue, settings; never over 100 blocks."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import handlers.home
import handlers.queue
import handlers.requests
from bot.app import make_client
from bot.blocks.admin import SETTINGS_MODAL
from bot.blocks.home import (
    ACTION_NEW_REQUEST,
    ACTION_OPEN_SETTINGS,
    ACTION_SHOW_MORE,
    build_home_view,
)
from bot.blocks.requests import ACTION_CLAIM, INTAKE_ACTION_IDS, REQUEST_MODAL
from bot.core.deps import Deps
from bot.core.models import RequestStatus, RequestType, Role, SupportRequest
from bot.requests.command import RequestDraft
from bot.requests.filing import file_request, record_intake_post
from bot.requests.home import MAX_PAGE, Home, HomeList, HomePaging, Page, WorkspaceSummary
from bot.requests.lifecycle import Action
from bot.requests.queue import apply_action, load_actor
from bot.workspace.roster import replace_role_members
from bot.workspace.settings import load_settings
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import (
    SlackSender,
    app_home_opened,
    block_actions,
    view_submission,
)
from tests.support.helpers import stored_requests
from tests.support.workspace import ADMIN, DEMANDGEN, INTAKE, MARKETER, REP, REP_OUTSIDER, TEAM_ID

_keys = itertools.count(1)


# ----------------------------------------------------------------------------- arranging


async def file(
    deps: Deps,
    *,
    requester: str = REP,
    account: str | None = "Acme Corp",
    details: str = "Renewal pitch for the CFO",
    due: date | None = None,
    permalink: str | None = None,
) -> SupportRequest:
    async with deps.sessions() as session:
        settings = await load_settings(session, TEAM_ID)
        filed = await file_request(
            session,
            team_id=TEAM_ID,
            requester_id=requester,
            draft=RequestDraft(
                request_type=RequestType.DEAL_DECK, account=account, details=details, due_date=due
            ),
            settings=settings,
            source="test",
            source_key=f"test:{next(_keys)}",
            now=deps.clock(),
        )
        request = filed.request
        assert request.id is not None
        if permalink:
            await record_intake_post(
                session, request_id=request.id, channel=INTAKE, ts="1.000001", permalink=permalink
            )
    return request


async def act(
    deps: Deps, request: SupportRequest, action: Action, user_id: str, **extra: Any
) -> SupportRequest:
    assert request.id is not None
    async with deps.sessions() as session:
        actor = await load_actor(session, team_id=TEAM_ID, user_id=user_id, is_admin=False)
        outcome = await apply_action(
            session,
            team_id=TEAM_ID,
            request_id=request.id,
            action=action,
            actor=actor,
            now=deps.clock(),
            **extra,
        )
    return outcome.request


async def add_roles(deps: Deps, user_id: str, *roles: Role) -> None:
    """Put `user_id` into more groups, keeping the roster the `configured` fixture made."""
    base = {Role.SALES: [REP], Role.SUPPORT: [MARKETER], Role.DEMAND_GEN: [DEMANDGEN]}
    async with deps.sessions() as session:
        for role in roles:
            await replace_role_members(
                session,
                team_id=TEAM_ID,
                role=role,
                user_ids=[*base[role], user_id],
                now=deps.clock(),
            )


async def eventually(
    deps: Deps, check: Callable[[SupportRequest], bool], *, seconds: float = 5.0
) -> list[SupportRequest]:
    """The stored requests once one passes `check` (a click's work runs after its ack)."""
    async with asyncio.timeout(seconds):
        while True:
            stored = await stored_requests(deps)
            if any(check(request) for request in stored):
                return stored
            await asyncio.sleep(0.02)


# ----------------------------------------------------------------------------- reading


async def open_home(slack: SlackSender, fake_slack: FakeSlack, user_id: str) -> dict[str, Any]:
    """Open the home tab as `user_id` and return the view Slack now shows them."""
    return await _published_after(
        fake_slack, user_id, lambda: slack.event(app_home_opened(user_id))
    )


async def click_in_home(
    slack: SlackSender,
    fake_slack: FakeSlack,
    user_id: str,
    view: dict[str, Any],
    action_id: str,
    value: str | None,
) -> dict[str, Any]:
    """Click a home button that republishes the home; return the new view."""
    payload = block_actions(action_id, value, user_id=user_id, view=view)
    return await _published_after(fake_slack, user_id, lambda: slack.action(payload))


async def _published_after(fake_slack: FakeSlack, user_id: str, send: Any) -> dict[str, Any]:
    def mine(call: Any) -> bool:
        return bool(call.params["user_id"] == user_id)

    before = len([call for call in fake_slack.calls_to("views.publish") if mine(call)])
    response = await send()
    assert response.status == 200
    calls = await fake_slack.wait_for("views.publish", mine, count=before + 1)
    assert calls[-1].ok, calls[-1].response
    assert len(calls[-1].params["view"]["blocks"]) <= 100
    return fake_slack.views[user_id]


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in view["blocks"]:
        if block["type"] == "actions":
            found += block["elements"]
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "button":
            found.append(accessory)
    return found


def action_ids(view: dict[str, Any]) -> set[str]:
    return {element["action_id"] for element in buttons(view)}


def show_more(view: dict[str, Any], list_key: str) -> dict[str, Any] | None:
    return next(
        (
            element
            for element in buttons(view)
            if element["action_id"] == ACTION_SHOW_MORE
            and element["value"].startswith(f"{list_key}:")
        ),
        None,
    )


def rows_of(view: dict[str, Any], list_key: str) -> list[str]:
    """Values (request ids) of the Claim/Start/... rows the home shows in one queue list."""
    return [
        block["elements"][0]["value"]
        for block in view["blocks"]
        if block["type"] == "actions" and block["block_id"].startswith(f"home_{list_key}_")
    ]


# ----------------------------------------------------------------------------- sales


async def test_a_rep_sees_open_requests_first_then_recently_closed_ones_with_status(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: Any
) -> None:
    long_ago = await file(configured, account="Old Deal")
    long_ago = await act(configured, long_ago, Action.CLAIM, MARKETER)
    await act(
        configured, long_ago, Action.DELIVER, MARKETER, deliverable_url="https://docs/old-deck"
    )
    clock.advance(days=40)
    delivered = await file(configured, account="Globex")
    await act(configured, delivered, Action.CLAIM, MARKETER)
    await act(configured, delivered, Action.DELIVER, MARKETER, deliverable_url="https://docs/deck")
    claimed = await file(configured, account="Initech", permalink="https://fake.slack.test/p1")
    await act(configured, claimed, Action.CLAIM, MARKETER)
    await file(configured, account="Umbrella")
    await file(configured, requester=REP_OUTSIDER, account="Someone Else's")

    view = await open_home(slack, fake_slack, REP)

    text = text_of(view)
    assert "Your requests" in text
    assert text.index("Initech") < text.index("Umbrella") < text.index("Globex")
    assert text.index("*Open* · 2") < text.index("Closed in the last 30 days* · 1")
    assert "<https://fake.slack.test/p1|MS-3>" in text  # link to the intake post
    assert f"Claimed · with <@{MARKETER}>" in text
    assert "Open — waiting for someone to claim it · unassigned" in text
    assert "<https://docs/deck|open the deliverable>" in text
    assert "Old Deal" not in text  # closed 40 days ago
    assert "Someone Else" not in text
    assert ACTION_NEW_REQUEST in action_ids(view)
    assert not action_ids(view) & {ACTION_CLAIM, ACTION_OPEN_SETTINGS}
    assert "Marketing Support queue" not in text


async def test_a_rep_without_requests_is_welcomed_and_can_file_one(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, REP)

    assert "Nothing open right now" in text_of(view)
    assert "Nothing finished in the last 30 days" in text_of(view)
    assert ACTION_NEW_REQUEST in action_ids(view)


async def test_new_request_from_home_opens_the_request_form_without_a_channel(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, REP)

    response = await slack.action(block_actions(ACTION_NEW_REQUEST, "home", user_id=REP, view=view))

    assert response.status == 200
    [opened] = await fake_slack.wait_for("views.open")
    assert opened.ok, opened.response
    assert opened.params["view"]["callback_id"] == REQUEST_MODAL
    assert "channel" not in json.loads(opened.params["view"]["private_metadata"])


async def test_a_rep_can_cancel_their_own_request_from_home(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file(configured)
    view = await open_home(slack, fake_slack, REP)
    [cancel] = [element for element in buttons(view) if element["action_id"] == "request_cancel"]

    await slack.action(block_actions("request_cancel", cancel["value"], user_id=REP, view=view))

    [stored] = await eventually(configured, lambda r: r.status == RequestStatus.CANCELLED)
    assert stored.id == request.id
    assert "confirm" in cancel


# ----------------------------------------------------------------------------- support


async def test_marketing_support_sees_unclaimed_mine_and_overdue_with_the_queue_buttons(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: Any
) -> None:
    today = clock.now.date()
    late = await file(configured, account="Late Corp", due=today + timedelta(days=1))
    clock.advance(days=3)
    mine = await file(configured, account="Mine Inc", due=today + timedelta(days=20))
    await act(configured, mine, Action.CLAIM, MARKETER)
    started = await file(configured, account="Started Co", due=today + timedelta(days=20))
    await act(configured, started, Action.START, MARKETER)
    fresh = await file(configured, account="Fresh LLC", due=today + timedelta(days=20))

    view = await open_home(slack, fake_slack, MARKETER)

    text = text_of(view)
    assert text.index("*Unclaimed* · 2") < text.index("*Mine* · 2") < text.index("*Overdue* · 1")
    assert rows_of(view, "support_unclaimed") == [str(late.id), str(fresh.id)]
    assert rows_of(view, "support_mine") == [str(mine.id), str(started.id)]
    assert rows_of(view, "support_overdue") == [str(late.id)]
    assert ":rotating_light: overdue" in text
    assert f"from <@{REP}>" in text
    assert "Renewal pitch for the CFO" in text  # a details excerpt to decide on
    assert {ACTION_CLAIM, "request_deliver", "request_decline", "request_reassign"} <= action_ids(
        view
    )
    assert ACTION_OPEN_SETTINGS not in action_ids(view)
    assert "Your requests" not in text  # not in Sales and never filed one


async def test_an_empty_queue_says_so_kindly(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, MARKETER)

    text = text_of(view)
    assert "Nothing waiting to be picked up" in text
    assert "You hold no open requests" in text
    assert "Nothing overdue" in text
    assert not action_ids(view) & set(INTAKE_ACTION_IDS)


async def test_claiming_from_home_claims_the_request_and_the_refreshed_home_shows_it_as_mine(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file(configured)
    view = await open_home(slack, fake_slack, MARKETER)
    [claim] = [element for element in buttons(view) if element["action_id"] == ACTION_CLAIM]

    response = await slack.action(
        block_actions(ACTION_CLAIM, claim["value"], user_id=MARKETER, view=view)
    )

    assert response.status == 200
    [dm] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == REP)
    assert "picked up" in dm.params["text"]
    [stored] = await stored_requests(configured)
    assert (stored.id, stored.status, stored.assignee_id) == (
        request.id,
        RequestStatus.CLAIMED,
        MARKETER,
    )
    await handlers.home.refresh_home(
        configured, make_client(configured), team_id=TEAM_ID, user_id=MARKETER, view=view
    )
    refreshed = fake_slack.views[MARKETER]
    assert rows_of(refreshed, "support_unclaimed") == []
    assert rows_of(refreshed, "support_mine") == [str(request.id)]


async def test_demand_gen_sees_why_the_queue_is_not_theirs_and_no_queue_buttons(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await file(configured)

    view = await open_home(slack, fake_slack, DEMANDGEN)

    text = text_of(view)
    assert "go to Marketing Support, never to Demand Gen" in text
    assert "weekly digest" in text
    assert "Marketing Support queue" not in text
    assert "Acme Corp" not in text
    assert not action_ids(view) & set(INTAKE_ACTION_IDS)
    assert ACTION_NEW_REQUEST in action_ids(view)  # "File a request", if they want one


async def test_someone_in_several_groups_sees_every_section_that_applies(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await add_roles(configured, MARKETER, Role.SALES)
    await file(configured, requester=MARKETER, account="Own Deal")

    view = await open_home(slack, fake_slack, MARKETER)

    text = text_of(view)
    assert "Marketing Support queue" in text
    assert "Your requests" in text
    assert "Own Deal" in text


# ----------------------------------------------------------------------------- admin


async def test_an_admin_sees_settings_and_the_button_opens_the_settings_modal(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, ADMIN)
    assert ACTION_OPEN_SETTINGS in action_ids(view)
    assert f"<#{INTAKE}>" in text_of(view)
    assert "Marketing Support queue" in text_of(view)

    response = await slack.action(
        block_actions(ACTION_OPEN_SETTINGS, "home", user_id=ADMIN, view=view)
    )

    assert response.status == 200
    [opened] = await fake_slack.wait_for("views.open")
    assert opened.ok, opened.response
    assert opened.params["view"]["callback_id"] == SETTINGS_MODAL
    await fake_slack.wait_for("usergroups.list")


async def test_an_admin_is_warned_when_no_intake_channel_is_set(
    slack: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    view = await open_home(slack, fake_slack, ADMIN)

    assert "No intake channel is set" in text_of(view)
    assert "intake channel: *not set*" in text_of(view)


async def test_the_settings_button_refuses_someone_who_is_not_an_admin(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, REP)

    await slack.action(block_actions(ACTION_OPEN_SETTINGS, "home", user_id=REP, view=view))

    [dm] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == REP)
    assert "Only admins" in dm.params["text"]
    await fake_slack.assert_no_call("views.open")


# ----------------------------------------------------------------------------- paging


async def test_two_hundred_open_requests_stay_within_100_blocks_and_show_more_pages(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: Any
) -> None:
    today = clock.now.date()
    requests = [
        await file(configured, account=f"Account {n}", due=today + timedelta(days=1 + n % 5))
        for n in range(200)
    ]
    for request in requests[:30]:
        await act(configured, request, Action.CLAIM, MARKETER)
    clock.advance(days=4)  # most of them are overdue now

    view = await open_home(slack, fake_slack, MARKETER)

    assert len(rows_of(view, "support_unclaimed")) == 10
    assert len(rows_of(view, "support_mine")) == 10
    assert len(rows_of(view, "support_overdue")) == 10
    assert "*Unclaimed* · 170" in text_of(view)
    seen = rows_of(view, "support_unclaimed")
    for expected in (20, 30, 40):
        more = show_more(view, "support_unclaimed")
        assert more is not None
        view = await click_in_home(
            slack, fake_slack, MARKETER, view, ACTION_SHOW_MORE, more["value"]
        )
        shown = rows_of(view, "support_unclaimed")
        assert shown[: len(seen)] == seen  # the same order, just longer
        assert len(shown) == expected
        seen = shown
        assert len(view["blocks"]) <= 100
    # The other lists give way to the one being expanded, but keep a few rows each.
    assert 3 <= len(rows_of(view, "support_mine")) < 10
    assert 3 <= len(rows_of(view, "support_overdue")) < 10
    # Expanding "Mine" later keeps the unclaimed paging in the view's metadata.
    more_mine = show_more(view, "support_mine")
    assert more_mine is not None
    view = await click_in_home(
        slack, fake_slack, MARKETER, view, ACTION_SHOW_MORE, more_mine["value"]
    )
    assert len(rows_of(view, "support_mine")) >= 10
    assert len(rows_of(view, "support_unclaimed")) >= 3


async def test_every_section_at_once_fits_however_far_each_list_is_expanded(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps, clock: Any
) -> None:
    await add_roles(configured, ADMIN, Role.SALES, Role.SUPPORT)
    today = clock.now.date()
    for n in range(60):
        request = await file(
            configured, requester=ADMIN if n % 2 else REP, due=today + timedelta(days=1)
        )
        if n % 3 == 0:
            request = await act(configured, request, Action.CLAIM, ADMIN)
            if n % 6 == 0:
                await act(configured, request, Action.DECLINE, ADMIN, note="<!channel> no")
    clock.advance(days=2)
    view = await open_home(slack, fake_slack, ADMIN)

    for key in ("my_open", "my_closed", "support_unclaimed", "support_mine", "support_overdue"):
        for _ in range(6):
            more = show_more(view, key)
            if more is None:
                break
            view = await click_in_home(
                slack, fake_slack, ADMIN, view, ACTION_SHOW_MORE, more["value"]
            )
            assert len(view["blocks"]) <= 100

    assert ACTION_OPEN_SETTINGS in action_ids(view)
    assert "<!channel>" not in text_of(view)


def test_the_block_budget_holds_for_every_list_size_and_expansion() -> None:
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)

    def page(size: int, status: RequestStatus) -> Page:
        requests = [
            SupportRequest(
                id=n,
                team_id=TEAM_ID,
                number=n,
                request_type=RequestType.DEAL_DECK,
                status=status,
                requester_id=REP,
                source="test",
                source_key=str(n),
                created_at=now,
                updated_at=now,
            )
            for n in range(1, min(size, MAX_PAGE) + 1)
        ]
        return Page(requests=requests, total=size)

    summary = WorkspaceSummary(None, False, False, False, 0)
    for size, focus in itertools.product((0, 1, 4, 12, 100, 500), [None, *HomeList]):
        home = Home(
            user_id=ADMIN,
            now=now,
            zone=ZoneInfo("UTC"),
            intake_channel=None,
            show_demand_gen_note=True,
            my_open=page(size, RequestStatus.IN_PROGRESS),
            my_closed=page(size, RequestStatus.DELIVERED),
            unclaimed=page(size, RequestStatus.OPEN),
            mine=page(size, RequestStatus.CLAIMED),
            overdue=page(size, RequestStatus.WAITING),
            workspace=summary,
        )
        paging = HomePaging(limits=dict.fromkeys(HomeList, MAX_PAGE), focus=focus)

        view = build_home_view(home, paging)

        assert len(view["blocks"]) <= 100, (size, focus)
        shown = text_of(view)
        assert shown.count("*MS-") >= 5 * min(size, 3), (size, focus)


async def test_show_more_values_we_did_not_write_change_nothing_or_are_capped(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    for _ in range(12):
        await file(configured)
    view = await open_home(slack, fake_slack, MARKETER)

    unknown = await click_in_home(
        slack, fake_slack, MARKETER, view, ACTION_SHOW_MORE, "everything:99999999"
    )
    huge = await click_in_home(
        slack, fake_slack, MARKETER, view, ACTION_SHOW_MORE, "support_unclaimed:99999999"
    )

    assert unknown["private_metadata"] == view["private_metadata"]
    assert len(rows_of(unknown, "support_unclaimed")) == 10
    assert json.loads(huge["private_metadata"])["limits"] == {"support_unclaimed": 100}
    assert len(rows_of(huge, "support_unclaimed")) == 12


# ----------------------------------------------------------------------------- safety


async def test_user_text_on_the_home_tab_is_shown_as_typed_and_pings_nobody(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    await file(configured, account="<!channel> Acme & Co", details="<!here> <@U0BOSS> *now*")

    for user_id in (REP, MARKETER):
        view = await open_home(slack, fake_slack, user_id)

        text = text_of(view)
        assert "<!channel>" not in text
        assert "<!here>" not in text
        assert "<@U0BOSS>" not in text
        assert "&lt;!channel&gt; Acme &amp; Co" in text
    assert "&lt;!here&gt; &lt;@U0BOSS&gt;" in text_of(fake_slack.views[MARKETER])


async def test_the_messages_tab_publishes_nothing(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    response = await slack.event(app_home_opened(REP, tab="messages"))

    assert response.status == 200
    # What must come after it: the Home tab, opened once the Messages tab was acked.
    await open_home(slack, fake_slack, REP)
    [home] = fake_slack.calls_to("views.publish")
    await fake_slack.assert_no_call("views.publish", lambda c: c is not home)


async def test_someone_the_roster_does_not_know_still_gets_a_useful_home(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, REP_OUTSIDER)

    assert "Your requests" in text_of(view)
    assert ACTION_NEW_REQUEST in action_ids(view)


# ----------------------------------------------------------------------------- refresh
# The request buttons on the home tab are answered by handlers/queue.py (Bolt runs only the
# first matching listener), and the request form by handlers/requests.py; they refresh the
# home through handlers.home.refresh_home. These tests run once those modules call it.


async def test_a_claim_from_home_refreshes_the_home_keeping_its_paging(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    requests = [await file(configured, account=f"Account {n}") for n in range(15)]
    view = await open_home(slack, fake_slack, MARKETER)
    more = show_more(view, "support_unclaimed")
    assert more is not None
    view = await click_in_home(slack, fake_slack, MARKETER, view, ACTION_SHOW_MORE, more["value"])
    assert len(rows_of(view, "support_unclaimed")) == 15

    view = await click_in_home(slack, fake_slack, MARKETER, view, ACTION_CLAIM, str(requests[0].id))

    assert rows_of(view, "support_mine") == [str(requests[0].id)]
    assert len(rows_of(view, "support_unclaimed")) == 14


async def test_a_refused_click_from_home_says_why_and_shows_what_is_true_now(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file(configured)
    view = await open_home(slack, fake_slack, MARKETER)
    await act(configured, request, Action.CANCEL, REP)

    view = await click_in_home(slack, fake_slack, MARKETER, view, ACTION_CLAIM, str(request.id))

    [dm] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == MARKETER)
    assert "cancelled" in dm.params["text"]
    assert rows_of(view, "support_unclaimed") == []


async def test_delivering_through_the_modal_from_home_refreshes_the_home(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    request = await file(configured)
    await act(configured, request, Action.CLAIM, MARKETER)
    view = await open_home(slack, fake_slack, MARKETER)
    assert rows_of(view, "support_mine") == [str(request.id)]
    await slack.action(
        block_actions("request_deliver", str(request.id), user_id=MARKETER, view=view)
    )
    [opened] = await fake_slack.wait_for("views.open")
    modal = opened.response["view"]

    view = await _published_after(
        fake_slack,
        MARKETER,
        lambda: slack.submit(
            view_submission(
                modal["callback_id"],
                {"link": {"value": {"type": "url_text_input", "value": "https://docs/deck"}}},
                user_id=MARKETER,
                private_metadata=modal["private_metadata"],
            )
        ),
    )

    assert rows_of(view, "support_mine") == []
    [stored] = await stored_requests(configured)
    assert stored.status == RequestStatus.DELIVERED


async def test_a_request_filed_from_home_shows_on_the_home(
    slack: SlackSender, fake_slack: FakeSlack, configured: Deps
) -> None:
    view = await open_home(slack, fake_slack, REP)
    await slack.action(block_actions(ACTION_NEW_REQUEST, "home", user_id=REP, view=view))
    [opened] = await fake_slack.wait_for("views.open")
    form = {
        "type": {
            "value": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Deal deck"},
                    "value": RequestType.DEAL_DECK.value,
                },
            }
        },
        "account": {"value": {"type": "plain_text_input", "value": "Hooli"}},
        "details": {"value": {"type": "plain_text_input", "value": "Pitch for the board"}},
    }

    view = await _published_after(
        fake_slack,
        REP,
        lambda: slack.submit(
            view_submission(
                REQUEST_MODAL,
                form,
                user_id=REP,
                view_id=opened.response["view"]["id"],
                private_metadata=opened.response["view"]["private_metadata"],
            )
        ),
    )

    assert "Hooli" in text_of(view)
    [dm] = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == REP)
    assert "MS-1" in dm.params["text"]
