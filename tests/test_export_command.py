"""`/align export` from Slack: who may, bad periods, the DM upload and its failure."""

from __future__ import annotations

import asyncio
import io

import openpyxl

from bot.core.deps import Deps
from handlers.exports import EXPORT_DIR
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.queue_helpers import file_one
from tests.support.workspace import ADMIN, REP, configure


async def test_an_admin_gets_the_workbook_in_their_dms(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await file_one(slack, fake_slack, configured)

    await slack.command(
        "/align", "export", user_id=ADMIN, response_url=fake_slack.response_url("x")
    )

    [done] = await fake_slack.wait_for(
        "response_url",
        lambda c: c.path.endswith("x") and "Sent" in str(c.params.get("text")),
        timeout=20,
    )
    [complete] = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.ok
    assert "alignbot-export" in str(done.params["text"]) or ".xlsx" in str(done.params["text"])
    [file_id] = list(fake_slack.uploads)
    workbook = openpyxl.load_workbook(io.BytesIO(fake_slack.uploads[file_id]), read_only=True)
    assert "Requests" in workbook.sheetnames


async def test_people_who_may_not_export_are_told_who_can(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await configure(configured, leaders=(ADMIN,))

    await slack.command(
        "/align", "export", user_id=REP, response_url=fake_slack.response_url("rep")
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("rep"))
    assert "leaders and admins" in answer.params["text"]
    assert f"<@{ADMIN}>" in answer.params["text"]
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


async def test_a_start_after_the_end_is_refused_clearly(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await slack.command(
        "/align",
        "export 2026-12-01 2026-10-01",
        user_id=ADMIN,
        response_url=fake_slack.response_url("bad"),
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("bad"))
    assert "after" in answer.params["text"]


async def test_a_failed_upload_is_retried_once_then_reported_with_the_reason(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("files.completeUploadExternal", "internal_error", times=2)

    await slack.command(
        "/align", "export", user_id=ADMIN, response_url=fake_slack.response_url("fail")
    )

    [answer] = await fake_slack.wait_for(
        "response_url",
        lambda c: c.path.endswith("fail") and "couldn't upload" in str(c.params.get("text")),
        timeout=20,
    )
    assert "internal_error" in answer.params["text"]
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 2


async def test_an_upload_that_fails_once_still_arrives(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("files.completeUploadExternal", "internal_error", times=1)

    await slack.command(
        "/align", "export", user_id=ADMIN, response_url=fake_slack.response_url("retry")
    )

    await fake_slack.wait_for(
        "response_url",
        lambda c: c.path.endswith("retry") and "Sent" in str(c.params.get("text")),
        timeout=20,
    )


async def test_two_exports_of_the_same_period_at_once_each_arrive_and_leave_no_file_behind(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await configure(configured, leaders=(REP,))
    await file_one(slack, fake_slack, configured)
    before = set(EXPORT_DIR.glob("export-*")) if EXPORT_DIR.exists() else set()

    await asyncio.gather(
        slack.command("/align", "export", user_id=ADMIN, response_url=fake_slack.response_url("a")),
        slack.command("/align", "export", user_id=REP, response_url=fake_slack.response_url("b")),
    )

    for tag in ("a", "b"):
        await fake_slack.wait_for(
            "response_url",
            lambda c, tag=tag: c.path.endswith(tag) and "Sent" in str(c.params.get("text")),
            timeout=20,
        )
    for content in fake_slack.uploads.values():
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        assert "Requests" in workbook.sheetnames
    assert len(fake_slack.uploads) == 2
    assert set(EXPORT_DIR.glob("export-*")) <= before  # uploaded: nothing kept on the server
