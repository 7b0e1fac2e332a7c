"""`alignbot sandbox`: bad input on its page API is a 400 with a sentence (or the answer Slack
would give), the page's form values become Slack's `view.state.values`, and the CLI picks the
sandbox when no Slack credentials are set. The end-to-end flows and restarts are in
tests/test_sandbox_flows.py. Each test runs its own sandbox on its own SQLite file; none reads
or touches ALIGNBOT_TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.core.config import Settings
from bot.core.models import SupportRequest
from sandbox.view_state import state_values
from tests.support.process import PIPE, ROOT, alignbot, free_port, start_alignbot
from tests.support.sandbox_page import (
    GENERAL,
    HOME,
    INTAKE,
    MARKETER,
    MARKETER_DM,
    REP,
    REP_DM,
    SAM,
    Page,
    mentions,
    sandbox_page,
)

JSON = dict[str, Any]

# --------------------------------------------------------------------------- bad input


async def stored_request_count(page: Page) -> int:
    async with page.sandbox.deps.sessions() as session:
        return len((await session.exec(select(SupportRequest))).all())


async def test_an_unknown_request_type_gets_the_bots_own_ephemeral_answer(tmp_path: Path) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        await page.compose(REP, REP_DM, "/mktg bogus")

        answer = await page.wait_message(
            REP, REP_DM, mentions("I don't know the request type bogus"), "the bot's answer"
        )
        assert answer.ephemeral
        assert "Only visible to you" in answer.text
        assert await page.messages(MARKETER, INTAKE) == []
        assert await page.messages(MARKETER, MARKETER_DM) == []  # only the rep sees it
        assert await stored_request_count(page) == 0


async def test_a_command_no_app_has_gets_slacks_own_not_a_valid_command_answer(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        await page.compose(REP, GENERAL, "/nosuchcommand hello")

        [answer] = await page.messages(REP, GENERAL)
        assert answer.ephemeral
        assert answer.text.startswith("Slackbot")
        assert "/nosuchcommand is not a valid command" in answer.text
        assert await page.messages(MARKETER, GENERAL) == []
        await page.sandbox.fake.assert_no_call("chat.postMessage")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"as": "U0NOBODY", "conv": REP_DM, "text": "/mktg deck Acme"},
            "Pick who you are first (unknown person).",
        ),
        (
            {"as": REP, "conv": "C0NOSUCHCHANNEL", "text": "/mktg deck Acme"},
            "That conversation is not one this person can see.",
        ),
        (
            {"as": REP, "conv": MARKETER_DM, "text": "/mktg deck Acme"},
            "That conversation is not one this person can see.",
        ),
        (
            {"as": REP, "conv": REP_DM, "text": "   "},
            "Type a message or a command such as /mktg help.",
        ),
        ({"as": REP, "conv": REP_DM}, "Type a message or a command such as /mktg help."),
        (["not", "an", "object"], "The request body must be a JSON object."),
    ],
)
async def test_bad_composer_input_is_a_400_with_a_sentence_and_stores_nothing(
    tmp_path: Path, body: Any, error: str
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        status, answer = await page.post("/page/compose", body)

        assert (status, answer) == (400, {"ok": False, "error": error})
        assert page.sandbox.fake.messages.get(REP_DM, []) == []
        assert page.sandbox.fake.ephemerals == []
        assert await stored_request_count(page) == 0


@pytest.mark.parametrize(
    "path", ["/page/compose", "/page/click", "/page/submit", "/page/travel", "/page/shortcut"]
)
async def test_a_body_that_is_not_json_is_a_400_with_a_sentence(tmp_path: Path, path: str) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        status, answer = await page.post_bytes(path, b"as=U0REP001&text=/mktg+deck")

        assert (status, answer) == (400, {"ok": False, "error": "The request body must be JSON."})
        assert page.sandbox.fake.ephemerals == []
        assert await stored_request_count(page) == 0


async def test_viewing_or_clicking_as_an_unknown_person_or_conversation_is_a_400(
    tmp_path: Path,
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        status, answer = await page.get("/page/view", **{"as": "U0NOBODY", "conv": HOME})
        assert (status, answer["error"]) == (400, "Pick who you are first (unknown person).")
        status, answer = await page.get("/page/view", **{"as": REP, "conv": "C0NOSUCHCHANNEL"})
        assert (status, answer["error"]) == (
            400,
            "That conversation is not one this person can see.",
        )
        status, answer = await page.post(
            "/page/click",
            {
                "as": REP,
                "action_id": "request_claim",
                "block_id": "request_actions",
                "container": {"type": "message", "channel": "C0NOSUCHCHANNEL", "ts": "1.0"},
            },
        )
        assert (status, answer["error"]) == (
            400,
            "That conversation is not one this person can see.",
        )
        status, answer = await page.post("/page/click", {"as": REP, "action_id": "x"})
        assert (status, answer["error"]) == (400, "A click needs the message or view it came from.")
        await page.sandbox.fake.assert_no_call("chat.postMessage")
        await page.sandbox.fake.assert_no_call("views.open")


CLAIM = {"action_id": "request_claim", "block_id": "request_actions", "value": "1"}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        (
            "/page/click",
            {**CLAIM, "container": {"type": "message", "channel": REP_DM, "ts": "1.000001"}},
            "That message is not in this conversation (any more).",
        ),
        (
            "/page/click",
            {**CLAIM, "container": {"type": "message", "channel": REP_DM, "ephemeral": True}},
            "That message is not in this conversation (any more).",
        ),
        (
            "/page/click",
            {**CLAIM, "container": {"type": "view", "view_id": "V000000001", "values": {}}},
            "That modal is not open for this person.",
        ),
        (
            "/page/click",
            {**CLAIM, "container": {"type": "home", "values": {}}},
            "Open App Home first: its view is not published yet.",
        ),
        (
            "/page/submit",
            {"view_id": "V000000001", "values": {}},
            "That modal is not open for this person.",
        ),
        ("/page/close", {"view_id": None}, "That modal is not open for this person."),
        (
            "/page/shortcut",
            {"channel": GENERAL, "ts": "1.000001"},
            "That message is not in this conversation (any more).",
        ),
    ],
)
async def test_acting_on_a_message_or_modal_the_person_does_not_see_is_a_400_and_reaches_no_one(
    tmp_path: Path, path: str, body: JSON, error: str
) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        calls = len(page.sandbox.fake.calls)

        status, answer = await page.post(path, {"as": REP, **body})

        assert (status, answer) == (400, {"ok": False, "error": error})
        assert len(page.sandbox.fake.calls) == calls
        assert (await page.view(REP))["banners"] == []


async def test_nobody_can_submit_or_close_the_modal_someone_else_has_open(tmp_path: Path) -> None:
    async with sandbox_page(tmp_path / "sandbox.db") as page:
        await page.compose(REP, REP_DM, "/mktg")
        form = await page.wait_modal(REP, lambda m: m.callback_id == "request_form", "the form")

        for path in ("/page/submit", "/page/close"):
            status, answer = await page.post(path, {"as": SAM, "view_id": form.view_id})
            assert (status, answer["error"]) == (400, "That modal is not open for this person.")
        await page.ok("/page/close", {"as": REP, "view_id": form.view_id})
        assert await page.modal(REP) is None
        assert await stored_request_count(page) == 0


# --------------------------------------------------------------------------- view state

OPTIONS = [
    {"text": {"type": "plain_text", "text": label}, "value": value}
    for label, value in [("Deal deck", "deck"), ("Case study", "casestudy"), ("ROI", "roi")]
]


def view_with(*blocks: JSON, state: JSON | None = None) -> JSON:
    view: JSON = {"type": "modal", "id": "V1", "blocks": list(blocks)}
    if state is not None:
        view["state"] = {"values": state}
    return view


def input_block(block_id: str, element: JSON) -> JSON:
    return {"type": "input", "block_id": block_id, "element": {"action_id": "value", **element}}


def test_each_kind_of_input_reports_its_value_the_way_slack_types_it() -> None:
    view = view_with(
        input_block("title", {"type": "plain_text_input"}),
        input_block("link", {"type": "url_text_input"}),
        input_block("type", {"type": "static_select", "options": OPTIONS}),
        input_block("also", {"type": "multi_static_select", "options": OPTIONS}),
        input_block("due", {"type": "datepicker"}),
        input_block("owner", {"type": "users_select"}),
        {
            "type": "actions",
            "block_id": "flags",
            "elements": [
                {"type": "checkboxes", "action_id": "urgent", "options": OPTIONS[:2]},
                {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}},
            ],
        },
    )

    values = state_values(
        view,
        {
            "title": {"value": "Acme deck"},
            "link": {"value": ""},
            "type": {"value": "casestudy"},
            "also": {"value": ["roi", "deck", "nonsense"]},
            "due": {"value": "2026-12-11"},
            "owner": {"value": "U0MKT001"},
            "flags": {"urgent": ["casestudy"]},
        },
    )

    assert values == {
        "title": {"value": {"type": "plain_text_input", "value": "Acme deck"}},
        "link": {"value": {"type": "url_text_input", "value": None}},
        "type": {"value": {"type": "static_select", "selected_option": OPTIONS[1]}},
        "also": {
            "value": {"type": "multi_static_select", "selected_options": [OPTIONS[0], OPTIONS[2]]}
        },
        "due": {"value": {"type": "datepicker", "selected_date": "2026-12-11"}},
        "owner": {"value": {"type": "users_select", "selected_user": "U0MKT001"}},
        "flags": {"urgent": {"type": "checkboxes", "selected_options": [OPTIONS[1]]}},
    }


def test_nothing_chosen_is_reported_as_slack_reports_an_empty_input() -> None:
    view = view_with(
        input_block("type", {"type": "static_select", "options": OPTIONS}),
        input_block("also", {"type": "multi_static_select", "options": OPTIONS}),
        input_block("due", {"type": "datepicker"}),
        input_block("owner", {"type": "users_select"}),
        input_block("note", {"type": "plain_text_input"}),
    )

    values = state_values(
        view,
        {
            "type": {"value": "not-an-option"},
            "also": {"value": []},
            "due": {"value": ""},
            "owner": {"value": None},
        },
    )

    assert values == {
        "type": {"value": {"type": "static_select", "selected_option": None}},
        "also": {"value": {"type": "multi_static_select", "selected_options": []}},
        "due": {"value": {"type": "datepicker", "selected_date": None}},
        "owner": {"value": {"type": "users_select", "selected_user": None}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }


def test_an_input_the_page_did_not_send_keeps_the_previous_state_or_its_initial_value() -> None:
    earlier = {"type": {"value": {"type": "static_select", "selected_option": OPTIONS[2]}}}
    view = view_with(
        input_block("type", {"type": "static_select", "options": OPTIONS}),
        input_block(
            "kind", {"type": "static_select", "options": OPTIONS, "initial_option": OPTIONS[0]}
        ),
        input_block("title", {"type": "plain_text_input", "initial_value": "From the draft"}),
        input_block("owner", {"type": "users_select", "initial_user": "U0MKT002"}),
        input_block("due", {"type": "datepicker", "initial_date": "2026-12-04"}),
        input_block("note", {"type": "plain_text_input"}),
        state=earlier,
    )

    values = state_values(view, {"note": {"value": "typed now"}})

    assert values == {
        "type": earlier["type"],
        "kind": {"value": {"type": "static_select", "selected_option": OPTIONS[0]}},
        "title": {"value": {"type": "plain_text_input", "value": "From the draft"}},
        "owner": {"value": {"type": "users_select", "selected_user": "U0MKT002"}},
        "due": {"value": {"type": "datepicker", "selected_date": "2026-12-04"}},
        "note": {"value": {"type": "plain_text_input", "value": "typed now"}},
    }


def test_sections_and_blocks_without_stateful_elements_carry_no_state() -> None:
    view = view_with(
        {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Hi"}},
        {
            "type": "section",
            "block_id": "pick",
            "text": {"type": "mrkdwn", "text": "Pick"},
            "accessory": {"type": "static_select", "action_id": "choice", "options": OPTIONS},
        },
        {"type": "divider"},
        "not a block",
    )

    values = state_values(view, {"pick": {"choice": "roi"}, "ghost": {"value": "x"}})

    assert values == {
        "pick": {"choice": {"type": "static_select", "selected_option": OPTIONS[2]}},
    }


# --------------------------------------------------------------------------- the CLI


def clean_env(**extra: str) -> dict[str, str]:
    """This checkout on the path and none of the caller's Slack, database, port or log settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_URL", "PORT", "HOST", "LOG_"))
    }
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def test_alignbot_run_without_slack_credentials_exits_2_and_names_the_sandbox(
    tmp_path: Path,
) -> None:
    result = alignbot("run", env=clean_env(), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("alignbot: SLACK_BOT_TOKEN is not set")
    assert "`alignbot sandbox`" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("credentials", "given"),
    [
        ({}, False),
        ({"slack_bot_token": ""}, False),
        ({"slack_bot_token": "xoxb-1"}, True),
        ({"slack_signing_secret": "s"}, True),
        ({"slack_app_token": "xapp-1"}, True),
        ({"slack_client_id": "123.456"}, True),
        ({"slack_client_secret": "secret"}, True),
        ({"slack_client_id": "  "}, False),
    ],
)
def test_alignbot_start_runs_the_bot_when_any_slack_credential_is_set_else_the_sandbox(
    credentials: dict[str, str], given: bool
) -> None:
    settings = Settings(_env_file=None, **credentials)  # type: ignore[call-arg]
    assert settings.slack_credentials_given is given


def unexpected_tracebacks(stderr: str) -> list[str]:
    """Log records with a traceback. None is expected: the scheduler's ticks still running at
    Ctrl-C (the sandbox starts every job at once) get their grace and finish, rather than
    being cancelled by APScheduler's shutdown."""
    records = re.split(r"\n(?=\d{4}-\d{2}-\d{2} )", stderr)
    return [record for record in records if "Traceback" in record]


async def test_alignbot_sandbox_prints_its_address_once_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = await start_alignbot(
        "sandbox", env=clean_env(PORT=str(port)), cwd=tmp_path, stdout=PIPE, stderr=PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        assert f"http://localhost:{port}/" in line.decode()
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, err.decode()
    assert out.decode() == ""  # that one line, and nothing more
    assert unexpected_tracebacks(err.decode()) == []
    assert (tmp_path / "alignbot-sandbox.db").exists()
    assert not (tmp_path / "alignbot.db").exists()
