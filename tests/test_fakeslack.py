"""Tests for the test infrastructure itself: sandbox/fakeslack/ and slack_payloads.py.

Why: every bot test trusts these two modules to behave like Slack. If the fake drifted from
Slack's wire behaviour (shapes, error codes, 429 handling, Block Kit limits) or the payload
builders from Slack's bytes, bot tests would pass against a Slack that does not exist. So
the fake is exercised through the real slack_sdk AsyncWebClient (and Bolt), and the
builders are checked byte for byte against tests/fixtures/slack/samples (a copy of the shared
samples, with their sources).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakeslack import Call, FakeSlack, validate_blocks, validate_view
from sandbox.slack_payloads import (
    SIGNING_SECRET,
    SlackSender,
    app_home_opened,
    block_actions,
    event_callback,
    form_body,
    json_body,
    message_shortcut,
    sign,
    slash_command,
    view_submission,
)

pytestmark = pytest.mark.asyncio

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "slack" / "samples"


def sample(name: str) -> Any:
    """A decoded JSON sample."""
    return json.loads((SAMPLES / name).read_text())


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def error_of(awaitable: Any) -> dict[str, Any]:
    """The Slack error body of a call expected to fail."""
    with pytest.raises(SlackApiError) as info:
        await awaitable
    data = info.value.response.data
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------------------- fixtures


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A running fake workspace: two people, a joined, an unjoined and a private channel."""
    async with FakeSlack() as server:
        server.add_user("U0REP", name="rep", real_name="Rita Rep", email="rita@example.com")
        server.add_user("U0MKT", name="mkt", real_name="Mark Eting", tz="Europe/London")
        server.add_channel("C0GENERAL", name="general")
        server.add_channel("C0SALES", name="sales", bot_is_member=False)
        server.add_channel("C0PRIV", name="secret", is_private=True, bot_is_member=False)
        yield server


@pytest_asyncio.fixture
async def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.url)


# ---------------------------------------------------------------------------- basics / auth


async def test_url_and_auth_test_shape(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert fake.url.startswith("http://127.0.0.1:")
    assert fake.url.endswith("/api/")
    resp = await client.auth_test()
    assert set(sample("api.auth.test.bot.ok.json")) <= set(resp.data)
    assert resp["user_id"] == "UBOT"
    assert resp["team_id"] == "T0TEAM"
    (call,) = fake.calls_to("auth.test")
    assert call.headers["Authorization"] == f"Bearer {fake.bot_token}"
    assert call.status == 200
    assert call.ok


async def test_auth_errors_and_unknown_method(fake: FakeSlack) -> None:
    no_token = AsyncWebClient(base_url=fake.url)
    assert (await error_of(no_token.auth_test()))["error"] == "not_authed"
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.url)
    assert (await error_of(wrong.auth_test()))["error"] == "invalid_auth"
    right = AsyncWebClient(token=fake.bot_token, base_url=fake.url)
    err = await error_of(right.api_call("chat.postMessagee"))
    assert err["error"] == "unknown_method"
    assert fake.calls[-1].status == 200


async def test_form_get_and_json_bodies_are_all_understood(fake: FakeSlack) -> None:
    blocks = [section("*from a form*")]
    async with aiohttp.ClientSession() as session:
        form = {"token": fake.bot_token, "channel": "C0GENERAL", "blocks": json.dumps(blocks)}
        async with session.post(fake.url + "chat.postMessage", data=form) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["ok"], body
        query = {"token": fake.bot_token, "user": "U0REP"}
        async with session.get(fake.url + "users.info", params=query) as resp:
            assert (await resp.json())["user"]["name"] == "rep"
        # Slack ignores a token inside a JSON body: it must come as a bearer token.
        async with session.post(fake.url + "auth.test", json={"token": fake.bot_token}) as resp:
            assert (await resp.json())["error"] == "not_authed"
        async with session.post(
            fake.url + "chat.postMessage",
            data=b"{not json",
            headers={
                "Authorization": f"Bearer {fake.bot_token}",
                "Content-Type": "application/json",
            },
        ) as resp:
            assert (await resp.json())["error"] == "invalid_json"
    stored = fake.messages["C0GENERAL"][0]
    assert stored["blocks"][0]["text"]["text"] == "*from a form*"
    assert stored["blocks"][0]["block_id"]  # Slack assigns block ids
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == blocks  # decoded


# ---------------------------------------------------------------------------- chat.*


async def test_post_update_delete_and_permalink(fake: FakeSlack, client: AsyncWebClient) -> None:
    first = await client.chat_postMessage(channel="C0GENERAL", text="one")
    second = await client.chat_postMessage(channel="#general", text="two")
    assert set(sample("api.chat.postMessage.ok.json")) - {"message"} <= set(first.data)
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["bot_id"] == fake.bot_id
    reply = await client.chat_postMessage(channel="C0GENERAL", text="r", thread_ts=first["ts"])
    assert fake.messages["C0GENERAL"][0]["reply_count"] == 1
    assert fake.messages["C0GENERAL"][-1]["thread_ts"] == first["ts"]

    updated = await client.chat_update(
        channel="C0GENERAL", ts=first["ts"], text="one!", blocks=[section("new")]
    )
    assert updated["message"]["edited"]["user"] == "UBOT"
    assert fake.messages["C0GENERAL"][0]["text"] == "one!"
    assert fake.messages["C0GENERAL"][0]["blocks"][0]["text"]["text"] == "new"
    err = await error_of(client.chat_update(channel="C0GENERAL", ts="123.456", text="x"))
    assert err["error"] == "message_not_found"

    link = await client.chat_getPermalink(channel="C0GENERAL", message_ts=first["ts"])
    assert link["permalink"] == (
        f"https://fake.slack.test/archives/C0GENERAL/p{first['ts'].replace('.', '')}"
    )
    thread_link = await client.chat_getPermalink(channel="C0GENERAL", message_ts=reply["ts"])
    assert f"thread_ts={first['ts']}" in thread_link["permalink"]

    await client.chat_delete(channel="C0GENERAL", ts=second["ts"])
    assert [m["text"] for m in fake.messages["C0GENERAL"]] == ["one!", "r"]
    err = await error_of(client.chat_delete(channel="C0GENERAL", ts=second["ts"]))
    assert err["error"] == "message_not_found"


async def test_channel_membership_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert (await error_of(client.chat_postMessage(channel="C0SALES", text="x")))[
        "error"
    ] == "not_in_channel"
    assert (await error_of(client.chat_postMessage(channel="C0PRIV", text="x")))[
        "error"
    ] == "channel_not_found"
    assert (await error_of(client.chat_postMessage(channel="C0NOPE", text="x")))[
        "error"
    ] == "channel_not_found"
    err = await error_of(client.conversations_join(channel="C0PRIV"))
    assert err["error"] == "method_not_supported_for_channel_type"
    joined = await client.conversations_join(channel="C0SALES")
    assert joined["channel"]["is_member"] is True
    assert (await client.chat_postMessage(channel="C0SALES", text="x"))["ok"]
    again = await client.conversations_join(channel="C0SALES")
    assert again["warning"] == "already_in_channel"
    info = await client.conversations_info(channel="C0SALES", include_num_members=True)
    assert info["channel"]["name"] == "sales"
    assert info["channel"]["num_members"] == 3  # two people + the bot
    members = await client.conversations_members(channel="C0SALES")
    assert sorted(members["members"]) == ["U0MKT", "U0REP", "UBOT"]
    assert (await error_of(client.conversations_info(channel="C0PRIV")))[
        "error"
    ] == "channel_not_found"


async def test_dms_are_deterministic_per_user(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="U0REP", text="hello")
    assert posted["channel"] == "DU0REP" == fake.dm_channel_id("U0REP")
    assert fake.messages["DU0REP"][0]["text"] == "hello"
    opened = await client.conversations_open(users="U0MKT")
    assert opened.data == {"ok": True, "channel": {"id": "DU0MKT"}}
    again = await client.conversations_open(users=["U0MKT"])
    assert again["already_open"] is True
    info = await client.conversations_info(channel="DU0MKT")
    assert info["channel"]["is_im"] is True
    assert info["channel"]["user"] == "U0MKT"
    assert (await error_of(client.conversations_open(users="U0GHOST")))["error"] == "user_not_found"
    assert (await error_of(client.chat_postMessage(channel="U0GHOST", text="x")))[
        "error"
    ] == "channel_not_found"


async def test_post_ephemeral(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("C0SMALL", name="small", members=["U0REP"])
    resp = await client.chat_postEphemeral(channel="C0GENERAL", user="U0REP", text="psst")
    assert set(resp.data) == set(sample("api.chat.postEphemeral.ok.json"))
    assert fake.ephemerals[0]["user"] == "U0REP"
    cases = [
        ("C0GENERAL", "U0GHOST", "user_not_found"),
        ("C0SALES", "U0REP", "channel_not_found"),
        ("C0SMALL", "U0MKT", "user_not_in_channel"),
    ]
    for channel, user, expected in cases:
        err = await error_of(client.chat_postEphemeral(channel=channel, user=user, text="x"))
        assert err["error"] == expected, (channel, user)


async def test_message_content_limits(fake: FakeSlack, client: AsyncWebClient) -> None:
    err = await error_of(client.chat_postMessage(channel="C0GENERAL", text="x" * 40_001))
    assert err["error"] == "msg_too_long"
    err = await error_of(client.api_call("chat.postMessage", json={"channel": "C0GENERAL"}))
    assert err["error"] == "no_text"
    blocks = [section(f"b{i}") for i in range(51)]
    err = await error_of(client.chat_postMessage(channel="C0GENERAL", text="x", blocks=blocks))
    assert err["error"] == "invalid_blocks"
    assert err["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert "C0GENERAL" not in fake.messages


async def test_reading_conversations_back(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0GENERAL", text="parent")
    await client.chat_postMessage(channel="C0GENERAL", text="reply", thread_ts=parent["ts"])
    await client.chat_postMessage(channel="C0GENERAL", text="later")
    history = await client.conversations_history(channel="C0GENERAL")
    assert [m["text"] for m in history["messages"]] == ["later", "parent"]  # newest first
    replies = await client.conversations_replies(channel="C0GENERAL", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    assert (await error_of(client.conversations_history(channel="C0SALES")))[
        "error"
    ] == "not_in_channel"
    listed = await client.conversations_list(types="public_channel,private_channel")
    assert sorted(c["id"] for c in listed["channels"]) == ["C0GENERAL", "C0SALES"]
    group = await client.conversations_open(users="U0REP,U0MKT")
    assert group["channel"]["id"].startswith("G")
    assert (await client.chat_postMessage(channel=group["channel"]["id"], text="hi all"))["ok"]
    assert (await client.team_info())["team"]["id"] == "T0TEAM"


# ---------------------------------------------------------------------------- Block Kit rules


def _button(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, **extra}


def _select(n: int, option_text: str = "o") -> dict[str, Any]:
    options = [
        {"text": {"type": "plain_text", "text": option_text}, "value": str(i)} for i in range(n)
    ]
    return {"type": "static_select", "action_id": "s", "options": options}


@pytest.mark.parametrize(
    ("blocks", "surface", "pointer"),
    [
        ([section("x" * 3001)], "message", "/blocks/0/text/text"),
        ([section("x" * 3001)], "modal", "/view/blocks/0/text/text"),
        ([section("")], "message", "/blocks/0/text/text"),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]}],
            "message",
            "/blocks/0/elements/0/text",
        ),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
            "home",
            "/view/blocks/0/text/text",
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
            "message",
            "/blocks/0/text/type",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}],
            "message",
            "/blocks/0/fields/0/text",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}],
            "message",
            "/blocks/0/fields",
        ),
        (
            [{"type": "actions", "elements": [_button("x" * 76)]}],
            "message",
            "/blocks/0/elements/0/text/text",
        ),
        (
            [{"type": "actions", "elements": [_button("ok", action_id="a" * 256)]}],
            "message",
            "/blocks/0/elements/0/action_id",
        ),
        ([{**section("x"), "block_id": "b" * 256}], "message", "/blocks/0/block_id"),
        (
            [{**section("x"), "block_id": "same"}, {**section("y"), "block_id": "same"}],
            "modal",
            "/view/blocks/1/block_id",
        ),
        ([{**section("x"), "accessory": _select(101)}], "message", "/blocks/0/accessory/options"),
        (
            [{**section("x"), "accessory": _select(2, "o" * 76)}],
            "message",
            "/blocks/0/accessory/options/0/text/text",
        ),
        (
            [
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "L"},
                    "element": {"type": "plain_text_input", "action_id": "i", "max_length": 3001},
                }
            ],
            "modal",
            "/view/blocks/0/element/max_length",
        ),
        (
            [
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "L"},
                    "element": {
                        "type": "plain_text_input",
                        "action_id": "i",
                        "max_length": 5,
                        "initial_value": "toolong",
                    },
                }
            ],
            "modal",
            "/view/blocks/0/element/initial_value",
        ),
        ([{"type": "sectoin"}], "message", "/blocks/0/type"),
        ([section("x")] * 101, "modal", "/view/blocks"),
    ],
)
async def test_validate_blocks_limits(blocks: list[Any], surface: Any, pointer: str) -> None:
    errors = validate_blocks(blocks, surface)
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


async def test_validate_blocks_accepts_reasonable_blocks() -> None:
    blocks: list[Any] = [
        {"type": "header", "text": {"type": "plain_text", "text": "x" * 150, "emoji": True}},
        section("x" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {**section("pick"), "accessory": _select(100, "o" * 75)},
        {"type": "actions", "elements": [_button("b" * 75, action_id="a" * 255, style="primary")]},
        {"type": "context", "elements": [{"type": "image", "image_url": "u", "alt_text": "a"}]},
        {"type": "divider", "block_id": "d" * 255},
        {"type": "rich_text", "elements": []},
    ]
    assert validate_blocks(blocks, "message") == []
    assert validate_blocks([section("x")] * 50, "message") == []
    assert validate_blocks([section("x")] * 100, "home") == []
    # the sample's error: `emoji` is only valid on plain_text
    mrkdwn_emoji = [
        section("x"),
        {"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}},
    ]
    assert "invalid additional property: emoji [json-pointer:/blocks/1/text]" in validate_blocks(
        mrkdwn_emoji, "message"
    )


async def test_validate_view_rules() -> None:
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "x" * 25},
        "close": {"type": "plain_text", "text": "c" * 25},
        "private_metadata": "m" * 3001,
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "L"},
                "element": {"type": "plain_text_input", "action_id": "i"},
            }
        ],
    }
    errors = validate_view(modal)
    assert all(e.startswith("[ERROR] ") for e in errors)
    joined = "\n".join(errors)
    for pointer in ("/view/title/text", "/view/close/text", "/view/private_metadata", "/view"):
        assert f"[json-pointer:{pointer}]" in joined
    assert "missing required field: submit" in joined
    assert validate_view("nope") == [
        "[ERROR] failed to match all allowed schemas [json-pointer:/view]",
        "[ERROR] must provide an object [json-pointer:/view]",
    ]


# ---------------------------------------------------------------------------- views.*


def _modal(title: str = "Request help", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "help",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "what",
                "label": {"type": "plain_text", "text": "What?"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            }
        ],
        **extra,
    }


async def test_views_open_update_push_publish(fake: FakeSlack, client: AsyncWebClient) -> None:
    err = await error_of(client.views_open(trigger_id="123.456.expired", view=_modal()))
    assert err == sample("error.views.open.expired_trigger_id.json")
    err = await error_of(client.views_open(trigger_id="t1", view=_modal(title="x" * 25)))
    assert err["error"] == "invalid_arguments"
    assert (
        "[ERROR] must be less than 24 characters [json-pointer:/view/title/text]"
        in (err["response_metadata"]["messages"])
    )

    opened = await client.views_open(trigger_id="t2", view=_modal(external_id="req-1"))
    view = opened["view"]
    assert set(sample("api.views.open.ok.json")["view"]) <= set(view)
    assert view["id"].startswith("V")
    assert fake.views[view["id"]]["callback_id"] == "help"
    err = await error_of(client.views_open(trigger_id="t2", view=_modal()))
    assert err["error"] == "exchanged_trigger_id"  # trigger ids are single use

    err = await error_of(client.views_update(view_id=view["id"], hash="stale", view=_modal()))
    assert err["error"] == "hash_conflict"
    updated = await client.views_update(
        external_id="req-1", hash=view["hash"], view=_modal(title="Thanks")
    )
    assert updated["view"]["id"] == view["id"]
    assert updated["view"]["hash"] != view["hash"]
    assert fake.views[view["id"]]["title"]["text"] == "Thanks"
    err = await error_of(client.views_update(view_id="V404", view=_modal()))
    assert err["error"] == "not_found"

    pushed = await client.views_push(trigger_id="t3", view=_modal(title="Step 2"))
    assert pushed["view"]["id"] != view["id"]

    home = {"type": "home", "blocks": [section("Welcome")]}
    published = await client.views_publish(user_id="U0REP", view=home)
    assert set(sample("api.views.publish.ok.json")["view"]) - {"close", "submit"} <= set(
        published["view"]
    )
    assert fake.views["U0REP"]["blocks"][0]["text"]["text"] == "Welcome"
    republished = await client.views_publish(user_id="U0REP", view=home)
    assert republished["view"]["id"] == published["view"]["id"]  # one home view per user
    err = await error_of(client.views_publish(user_id="U0REP", view=_modal()))
    assert err["error"] == "invalid_arguments"
    too_big = {"type": "home", "blocks": [section("x")] * 101}
    err = await error_of(client.views_publish(user_id="U0REP", view=too_big))
    assert (
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
        in (err["response_metadata"]["messages"])
    )
    err = await error_of(client.views_publish(user_id="U0GHOST", view=home))
    assert err["error"] == "user_not_found"


# ---------------------------------------------------------------------------- users / groups


async def test_users_info_and_list_pagination(fake: FakeSlack, client: AsyncWebClient) -> None:
    for i in range(5):
        fake.add_user(f"U0X{i}", deleted=i == 0)
    info = await client.users_info(user="U0REP")
    assert set(sample("api.users.info.ok.json")["user"]) <= set(info["user"])
    assert info["user"]["profile"]["email"] == "rita@example.com"
    assert info["user"]["tz"] == "America/New_York"
    mkt = (await client.users_info(user="U0MKT"))["user"]
    assert mkt["tz_label"] in ("Greenwich Mean Time", "British Summer Time")
    assert (await error_of(client.users_info(user="U0GHOST"))) == sample(
        "error.users.info.user_not_found.json"
    )

    seen: list[str] = []
    pages = 0
    async for page in await client.users_list(limit=3):
        pages += 1
        seen.extend(m["id"] for m in page["members"])
    assert pages == 3  # 8 users (bot + 2 + 5) in pages of 3
    assert seen == ["UBOT", "U0REP", "U0MKT", "U0X0", "U0X1", "U0X2", "U0X3", "U0X4"]
    last = fake.calls_to("users.list")[-1]
    assert last.response["response_metadata"]["next_cursor"] == ""
    err = await error_of(client.users_list(cursor="bogus", limit=2))
    assert err["error"] == "invalid_cursor"
    found = await client.users_lookupByEmail(email="RITA@example.com")
    assert found["user"]["id"] == "U0REP"


async def test_usergroups(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_usergroup("S0MKT", handle="marketing", name="Marketing", members=["U0MKT"])
    groups = await client.usergroups_list()
    (group,) = groups["usergroups"]
    assert group["handle"] == "marketing"
    assert "users" not in group
    with_users = await client.usergroups_list(include_users=True)
    assert with_users["usergroups"][0]["users"] == ["U0MKT"]
    users = await client.usergroups_users_list(usergroup="S0MKT")
    assert users["users"] == ["U0MKT"]
    err = await error_of(client.usergroups_users_list(usergroup="S0NOPE"))
    assert err["error"] == "no_such_subteam"


# ---------------------------------------------------------------------------- faults / limits


async def test_ratelimit_is_retried_by_slack_sdk_handler(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    # Keep the test fast but prove the handler honoured Retry-After (it sleeps that long).
    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=no_wait))
    monkeypatch.setattr(builtin_async_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    fake.ratelimit_next("chat.postMessage", times=2, retry_after=7)
    client = AsyncWebClient(
        token=fake.bot_token,
        base_url=fake.url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    resp = await client.chat_postMessage(channel="C0GENERAL", text="eventually")
    assert resp["ok"]
    assert slept == [7, 7]
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[0].response == sample("error.ratelimited.json")
    assert len(fake.messages["C0GENERAL"]) == 1


async def test_ratelimit_without_retry_handler_exposes_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.ratelimit_next("users.info", retry_after=3)
    with pytest.raises(SlackApiError) as info:
        await client.users_info(user="U0REP")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "3"
    assert info.value.response["error"] == "ratelimited"
    assert (await client.users_info(user="U0REP"))["ok"]


async def test_enforce_rate_limits_sliding_window(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.enforce_rate_limits({"chat.postMessage": 2})
    await client.chat_postMessage(channel="C0GENERAL", text="1")
    await client.chat_postMessage(channel="C0GENERAL", text="2")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0GENERAL", text="3")
    retry_after = int(info.value.response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert (await client.users_info(user="U0REP"))["ok"]  # other methods unaffected
    assert len(fake.messages["C0GENERAL"]) == 2


async def test_fail_next(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail_next("chat.postMessage", "channel_is_archived", times=2, extra={"detail": "d"})
    for _ in range(2):
        err = await error_of(client.chat_postMessage(channel="C0GENERAL", text="x"))
        assert err == {"ok": False, "error": "channel_is_archived", "detail": "d"}
    assert (await client.chat_postMessage(channel="C0GENERAL", text="x"))["ok"]
    assert len(fake.messages["C0GENERAL"]) == 1  # failed calls changed nothing
    fake.fail_next("users.info", "fatal_error", status=500)
    with pytest.raises(SlackApiError) as info:
        await client.users_info(user="U0REP")
    assert info.value.response.status_code == 500


# ---------------------------------------------------------------------------- files


async def test_files_upload_v2_end_to_end(fake: FakeSlack, client: AsyncWebClient) -> None:
    data = b"col1,col2\n1,2\n"
    resp = await client.files_upload_v2(
        channel="C0GENERAL",
        file=data,
        filename="report.csv",
        title="Weekly report",
        initial_comment="Here you go",
    )
    file_obj = resp["file"]
    assert file_obj["title"] == "Weekly report"
    assert file_obj["size"] == len(data)
    assert set(file_obj) <= set(sample("shape.files.completeUploadExternal.json")["files"][0])
    assert fake.uploads[file_obj["id"]] == data
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]
    url_call = fake.calls[0]
    assert url_call.response["upload_url"].startswith(fake.origin + "/upload/v1/")
    message = fake.messages["C0GENERAL"][0]
    assert message["text"] == "Here you go"
    assert message["files"][0]["id"] == file_obj["id"]
    err = await error_of(client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}]))
    assert err["error"] == "file_not_found"


# ---------------------------------------------------------------------------- waiting


async def test_wait_for_is_event_driven(fake: FakeSlack, client: AsyncWebClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C0GENERAL", text="a")
        await client.chat_postMessage(channel="U0REP", text="b")

    task = asyncio.create_task(later())
    # Woken by the matching call: a polling or broken wait would time out (AssertionError).
    calls = await fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "U0REP", timeout=2
    )
    assert [c.params["text"] for c in calls] == ["b"]
    both = await fake.wait_for("chat.postMessage", count=2)
    assert len(both) == 2
    await task


async def test_wait_for_timeout_lists_calls(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0GENERAL", text="only this")
    await error_of(client.users_info(user="U0GHOST"))
    with pytest.raises(AssertionError) as info:
        await fake.wait_for("views.open", timeout=0.05)
    message = str(info.value)
    assert "views.open" in message
    assert "Calls received so far (2)" in message
    assert "chat.postMessage -> 200 ok" in message
    assert "'text': 'only this'" in message
    assert "users.info -> 200 error=user_not_found" in message


async def test_assert_no_call(fake: FakeSlack, client: AsyncWebClient) -> None:
    await fake.assert_no_call("chat.postMessage")
    await client.chat_postMessage(channel="C0GENERAL", text="x")
    await fake.wait_for("chat.postMessage")  # the call that must come, then what must not
    await fake.assert_no_call("chat.postMessage", lambda c: c.params["channel"] == "U0REP")
    with pytest.raises(AssertionError, match=r"expected no call to chat\.postMessage"):
        await fake.assert_no_call("chat.postMessage")
    # Calls that do not carry what the predicate reads are ruled out by the predicate itself.
    await fake.assert_no_call("chat.postMessage", lambda c: c.params.get("thread_ts") == "1.2")


async def test_a_predicate_that_raises_fails_the_test_instead_of_not_matching(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C0GENERAL", text="x")

    with pytest.raises(KeyError, match="thread_ts") as waiting:
        await fake.wait_for("chat.postMessage", lambda c: c.params["thread_ts"] == "1.2")
    with pytest.raises(KeyError, match="thread_ts"):
        await fake.assert_no_call("chat.postMessage", lambda c: c.params["thread_ts"] == "1.2")

    assert "chat.postMessage -> 200 ok" in "\n".join(waiting.value.__notes__)


async def test_response_url_records_posts(fake: FakeSlack) -> None:
    url = fake.response_url("cmd1")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"text": "done", "response_type": "ephemeral"}) as resp:
            assert resp.status == 200
            assert await resp.text() == "ok"
        bad = {"blocks": [section("x")] * 51}
        async with session.post(url, json=bad) as resp:
            assert (resp.status, await resp.text()) == (400, "invalid_blocks")
        fake.fail_next("response_url", "expired_url", status=404)
        async with session.post(url, json={"text": "late"}) as resp:
            assert (resp.status, await resp.text()) == (404, "expired_url")
    calls = await fake.wait_for("response_url", count=3)
    assert calls[0].path == "cmd1"
    assert calls[0].params["text"] == "done"
    assert [c.ok for c in calls] == [True, False, False]


# ---------------------------------------------------------------------------- payload builders


async def test_sign_matches_known_answer_vector() -> None:
    vector = sample("request.signing_vector.json")
    body = (SAMPLES / vector["body_file"]).read_bytes()
    assert body.decode() == vector["body"]
    headers = sign(
        body,
        secret=vector["signing_secret"],
        timestamp=int(vector["x_slack_request_timestamp"]),
    )
    assert headers["X-Slack-Signature"] == vector["x_slack_signature"]
    assert headers["X-Slack-Request-Timestamp"] == vector["x_slack_request_timestamp"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


async def test_slack_sdk_verifier_accepts_our_signatures() -> None:
    verifier = SignatureVerifier(SIGNING_SECRET)
    for body in (slash_command("/align"), json_body(app_home_opened("U0REP"))):
        headers = sign(body)
        assert verifier.is_valid_request(body, headers)
    stale = sign(b"x", timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(b"x", stale)
    assert sign("{}")["Content-Type"] == "application/json"


async def test_form_body_is_byte_exact_with_samples() -> None:
    for name in ("block_actions", "view_submission"):
        expected = (SAMPLES / f"request.{name}.form.txt").read_bytes()
        assert form_body(sample(f"request.{name}.json")) == expected


async def test_slash_command_fields_and_encoding() -> None:
    body = slash_command(
        "/align", "deal deck for ACME/Q3", response_url="http://h/r", trigger_id="1.2.3"
    )
    pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
    assert [k for k, _ in pairs] == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    values = dict(pairs)
    assert values["text"] == "deal deck for ACME/Q3"
    assert values["response_url"] == "http://h/r"
    assert b"command=%2Falign&text=deal+deck+for+ACME%2FQ3" in body
    # Same encoder as Slack's: the samples re-encode to themselves.
    for name in ("request.slash_command.form.txt", "request.slash_command.enterprise.form.txt"):
        raw = (SAMPLES / name).read_text()
        encoded = urllib.parse.urlencode(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        assert encoded == raw
    first, second = (dict(urllib.parse.parse_qsl(slash_command("/a").decode())) for _ in range(2))
    assert first["trigger_id"] != second["trigger_id"]
    grid = dict(urllib.parse.parse_qsl(slash_command("/a", enterprise_id="E1").decode()))
    assert grid["enterprise_id"] == "E1"


async def test_interactive_payload_shapes() -> None:
    action = block_actions("approve", "req-1", message_ts="111.222", channel_id="C0SALES")
    assert set(sample("request.block_actions.json")) <= set(action)
    assert action["container"] == {
        "type": "message",
        "message_ts": "111.222",
        "channel_id": "C0SALES",
        "is_ephemeral": False,
    }
    assert action["actions"][0]["value"] == "req-1"
    option = {"text": {"type": "plain_text", "text": "High"}, "value": "high"}
    picked = block_actions(
        "priority", action_type="static_select", selected=option, view={"id": "V1", "type": "home"}
    )
    assert picked["container"] == {"type": "view", "view_id": "V1"}
    assert "response_url" not in picked
    assert picked["actions"][0]["selected_option"] == option
    assert picked["view"]["state"]["values"]["b"]["priority"]["selected_option"] == option

    values = {"what": {"v": {"type": "plain_text_input", "value": "a deck"}}}
    submission = view_submission("help", values, private_metadata="m")
    expected = sample("request.view_submission.json")
    assert set(expected) <= set(submission)
    assert set(expected["view"]) <= set(submission["view"])
    assert submission["view"]["state"]["values"] == values
    assert submission["view"]["blocks"][0]["block_id"] == "what"

    shortcut = message_shortcut("log_objection", message_text="too pricey", message_ts="9.1")
    assert shortcut["type"] == "message_action"
    assert shortcut["message"]["user"] == "U0OTHER"
    assert shortcut["message"]["text"] == "too pricey"


async def test_event_payload_shapes() -> None:
    home = app_home_opened("U0REP")
    expected = sample("event.app_home_opened.home.json")
    assert set(expected) <= set(home)
    assert set(home["event"]) == set(expected["event"])
    assert home["event"]["channel"] == "DU0REP"
    message = event_callback({"type": "message", "text": "hi", "ts": "1700000000.000100"})
    assert set(sample("event.message.channel.json")) <= set(message)
    assert message["event_time"] == 1700000000
    assert message["authorizations"][0]["user_id"] == "UBOT"
    assert event_callback({"type": "x"})["event_id"] != event_callback({"type": "x"})["event_id"]
    body = json_body({"url": "https://a/b", "t": "é"})
    assert b"https:\\/\\/a\\/b" in body
    assert b"\\u00e9" in body
    assert json.loads(body) == {"url": "https://a/b", "t": "é"}


# ---------------------------------------------------------------------------- with Bolt


@pytest_asyncio.fixture
async def bolt_app(fake: FakeSlack) -> AsyncIterator[tuple[AsyncApp, str]]:
    """A tiny Bolt app served over real HTTP, talking to the fake Web API."""
    app = AsyncApp(
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.url),
        signing_secret=SIGNING_SECRET,
    )
    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield app, f"http://{host}:{port}/slack/events"
    finally:
        await runner.cleanup()


async def test_sender_drives_a_bolt_app(fake: FakeSlack, bolt_app: tuple[AsyncApp, str]) -> None:
    app, events_url = bolt_app

    @app.command("/align")
    async def on_command(ack: Any, respond: Any, command: dict[str, Any], client: Any) -> None:
        await ack()
        await respond(f"got {command['text']}")
        await client.chat_postMessage(channel=command["user_id"], text="see DM")

    @app.command("/plain")
    async def on_plain(ack: Any) -> None:
        await ack("just text")  # Bolt sends a text-only ack as text/plain

    @app.action("approve")
    async def on_action(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"approved {body['actions'][0]['value']}",
        )

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: Any) -> None:
        await client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": [section("hi")]}
        )

    async with SlackSender(events_url, response_url_factory=fake.response_url) as sender:
        resp = await sender.command("/align", "deck please")
        assert resp.status == 200
        (responded,) = await fake.wait_for("response_url")
        assert responded.params["text"] == "got deck please"
        (dm,) = await fake.wait_for("chat.postMessage")
        assert dm.response["channel"] == "DU0REP"
        plain = await sender.command("/plain")
        assert plain.json is None
        assert plain.message == {"text": "just text"}

        posted = fake.messages["DU0REP"][0]
        action = block_actions("approve", "r1", channel_id="DU0REP", message=posted)
        assert (await sender.action(action)).status == 200
        (update,) = await fake.wait_for("chat.update", lambda c: c.ok)
        assert fake.messages["DU0REP"][0]["text"] == "approved r1"
        assert isinstance(update, Call)

        assert (await sender.event(app_home_opened("U0REP"), retry_num=1)).status == 200
        await fake.wait_for("views.publish")
        assert fake.views["U0REP"]["type"] == "home"

        body = slash_command("/align")
        stale = sign(body, timestamp=int(time.time()) - 600)
        assert (await sender.post_raw(body, stale)).status == 401
        wrong = sign(body, secret="not-the-secret")
        assert (await sender.post_raw(body, wrong)).status == 401
