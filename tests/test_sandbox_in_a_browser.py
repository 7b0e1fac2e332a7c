"""`alignbot sandbox` in a real browser: Chromium, driven by Playwright, clicks and types on the
sandbox page like a person, through one working week of the playbook.

A sales rep files a request with `/mktg`; Marketing Support claims, starts and delivers it in
#mktg-intake (a bad link first, to see the modal's field error); the rep rates the delivery;
time travel to Monday sends the weekly surveys, which the rep answers; time travel to Friday
posts the digests. One bad command shows Slack's "Only visible to you" answer.

Every step leaves a screenshot in $ALIGNBOT_ARTIFACTS (CI keeps them) or pytest's tmp_path.
Without Chromium the walk is skipped, unless ALIGNBOT_REQUIRE_CHROMIUM=1 (as in CI), when it
fails: a check that silently never runs is no check. No browser is ever downloaded: the walk
uses Debian's `chromium` (or $ALIGNBOT_CHROMIUM).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, ViewportSize, async_playwright, expect

from bot.core.config import Settings
from sandbox.main import running_sandbox

REP = "U0REP001"  # Riley Chen, Sales rep, New York
MARKETER = "U0MKT001"  # Morgan Diaz, Marketing Support
REQUIRE_VARIABLE = "ALIGNBOT_REQUIRE_CHROMIUM"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECONDS = 10_000  # Playwright's timeouts are in milliseconds: ~10 s for anything on the page
JOB_SECONDS = 60_000  # time travel runs every scheduled job before the page shows the result
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}  # docs/sandbox.png is one of its shots

pytestmark = pytest.mark.timeout(240)
expect.set_options(timeout=SECONDS)


@pytest.fixture
def chromium() -> str:
    path = os.environ.get("ALIGNBOT_CHROMIUM") or shutil.which("chromium")
    if not path:
        reason = "Chromium not found: install Debian's chromium package to run the browser walk"
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{reason}; {REQUIRE_VARIABLE}=1 requires it")
        pytest.skip(reason)
    return path


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    chosen = os.environ.get("ALIGNBOT_ARTIFACTS")
    folder = Path(chosen) / "sandbox-walk" if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Walk:
    """The page, as one person at a time sees it, and a numbered screenshot per step."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.steps = 0

    async def shot(self, name: str) -> None:
        self.steps += 1
        await self.page.screenshot(path=self.folder / f"{self.steps:02d}-{name}.png")

    @property
    def pane(self) -> Locator:
        return self.page.locator("#sb-pane")

    @property
    def dialog(self) -> Locator:
        return self.page.get_by_role("dialog")

    async def be(self, user_id: str) -> None:
        """Pick who you are; the page then opens that person's DM with the bot."""
        chooser = self.page.get_by_label("You are")
        await chooser.select_option(user_id)
        await expect(chooser).to_have_value(user_id)
        await expect(self.page.locator("#sb-title")).to_have_text("alignbot — Messages")

    async def open(self, label: str) -> None:
        nav = self.page.get_by_role("navigation", name="Conversations")
        await nav.get_by_role("button", name=label, exact=True).click()
        await expect(self.page.locator("#sb-title")).to_have_text(label, timeout=SECONDS)

    async def type(self, text: str) -> None:
        box = self.page.get_by_role("textbox", name="Message")
        await box.click()
        await box.press_sequentially(text)
        await box.press("Enter")
        await expect(box).to_have_value("", timeout=SECONDS)

    def message(self, text: str) -> Locator:
        """The last message in the open conversation that contains `text`."""
        return self.pane.locator(".sb-message").filter(has_text=text).last

    def field(self, label: str) -> Locator:
        """The open modal's input block labelled `label`."""
        return self.dialog.locator(".bk-input").filter(
            has=self.page.locator(".bk-input-label", has_text=label)
        )

    async def travel(self, preset: str, day: str) -> None:
        """Click a time-travel preset and wait for the page to say the jobs have run."""
        await self.page.get_by_role("button", name=preset).click()
        said = self.page.get_by_role("status")
        await expect(said).to_contain_text(f"It is now {day}", timeout=JOB_SECONDS)
        await expect(said).to_contain_text("ran ")
        await expect(self.page.locator("#sb-clock")).to_contain_text(day)


async def test_a_week_in_the_sandbox_through_a_real_browser(
    chromium: str, artifacts: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    print(f"\nsandbox browser walk: screenshots in {artifacts}")  # noqa: T201 (for -s and CI logs)
    async with (
        running_sandbox(Settings(_env_file=None), database=tmp_path / "sandbox.db") as sandbox,
        async_playwright() as playwright,
    ):
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        problems: list[str] = []
        try:
            page = await context.new_page()
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            page.on(
                "console",
                lambda line: (
                    problems.append(f"console {line.type}: {line.text}")
                    if line.type == "error"
                    else None
                ),
            )
            page.set_default_timeout(SECONDS)
            walk = Walk(page, artifacts)
            await page.goto(sandbox.url)
            await expect(page.get_by_label("You are")).to_have_value(re.compile(r"^U"))

            # The rep files a request from the bot's DM.
            await walk.be(REP)
            await walk.open("alignbot — Messages")
            await walk.type("/mktg deck Acme $250k due fri need the security slide")
            filed = walk.message("Filed MS-1")
            await expect(filed).to_contain_text("Only visible to you")
            await expect(filed).to_contain_text("Deal deck · Acme · $250,000")
            await walk.shot("rep-filed-a-request")

            # Marketing Support works it in #mktg-intake: claim, start, deliver.
            await walk.be(MARKETER)
            await walk.open("# mktg-intake")
            post = walk.message("MS-1 · Deal deck")
            await expect(post).to_contain_text("nobody yet")
            await walk.shot("intake-post")
            await post.get_by_role("button", name="Claim", exact=True).click()
            await expect(post).to_contain_text("Morgan Diaz")
            await expect(post).not_to_contain_text("nobody yet")
            await expect(walk.message("claimed this")).to_be_visible()
            await walk.shot("claimed")
            await post.get_by_role("button", name="Start", exact=True).click()
            await expect(post).to_contain_text("In progress")
            await walk.shot("started")
            await post.get_by_role("button", name="Deliver", exact=True).click()
            await expect(walk.dialog).to_be_visible()
            await expect(walk.dialog).to_contain_text("MS-1")
            link = walk.field("Link to the deliverable")
            await link.get_by_role("textbox").fill("the deck is on the drive")
            await walk.dialog.get_by_role("button", name="Deliver", exact=True).click()
            await expect(link.get_by_role("alert")).to_contain_text("https://")
            await expect(link.get_by_role("textbox")).to_have_value("the deck is on the drive")
            await walk.shot("deliver-modal-field-error")
            await link.get_by_role("textbox").fill("https://drive.example.com/acme-security-deck")
            await (
                walk.field("Note for the requester")
                .get_by_role("textbox")
                .fill("Slide 7 is the security one.")
            )
            await walk.dialog.get_by_role("button", name="Deliver", exact=True).click()
            await expect(walk.dialog).to_be_hidden()
            await expect(post).to_contain_text("Delivered")
            await walk.shot("delivered")

            # The rep sees the delivery in the DM and rates it.
            await walk.be(REP)
            delivery = walk.message("was delivered by")
            await expect(delivery).to_contain_text("MS-1")
            await expect(delivery).to_contain_text("Morgan Diaz")
            await delivery.get_by_role("button", name="4", exact=True).click()
            await expect(delivery).to_contain_text("you rated it 4/5")
            await expect(delivery.get_by_role("button", name="4 ✓")).to_be_visible()
            await walk.shot("rep-rated-the-delivery")

            # Monday 10:00: the weekly surveys; the rep answers both.
            await walk.travel("Next Monday 10:00 (surveys)", "Mon")
            await walk.shot("monday-surveys-sent")
            enablement = walk.message("Weekly pulse: enablement")
            await enablement.get_by_role("button", name="5", exact=True).click()
            await expect(enablement).to_contain_text("you answered 5/5")
            await walk.shot("enablement-answered")
            pipeline = walk.message("Weekly pulse: pipeline")
            await pipeline.get_by_role("button", name="Answer", exact=True).click()
            await expect(walk.dialog).to_contain_text("Pipeline pulse")
            await walk.field("New opportunities this week").get_by_role("textbox").fill("2")
            await walk.field("Their total value").get_by_role("textbox").fill("$300k")
            await walk.field("Of which marketing-sourced (count)").get_by_role("textbox").fill("1")
            await walk.field("Marketing-sourced value").get_by_role("textbox").fill("$120k")
            await walk.shot("pipeline-modal")
            await walk.dialog.get_by_role("button", name="Save", exact=True).click()
            await expect(walk.dialog).to_be_hidden()
            # The bot confirms by DM; the survey message keeps its buttons to change the answer.
            await expect(walk.message("Pipeline pulse saved")).to_be_visible()
            await walk.shot("pipeline-answered")

            # Friday 16:00: the weekly digests.
            await walk.travel("Friday 16:00 (digests)", "Fri")
            await walk.open("# mktg-support-digest")
            digest = walk.message("Marketing Support ·")
            await expect(digest).to_contain_text("Sales' satisfaction with enablement")
            await expect(digest).to_contain_text("Fri 11 Dec 16:00")
            await walk.shot("friday-digest")

            # A bad command is answered to the rep alone.
            await walk.open("alignbot — Messages")
            await walk.type("/mktg bogus")
            answer = walk.message("bogus")
            await expect(answer).to_contain_text("Only visible to you")
            await expect(answer).to_have_attribute("data-ephemeral", "true")
            await walk.shot("bad-command-answered")

            await expect(page.locator("#sb-banners")).to_be_empty()
        finally:
            await context.close()
    seconds = time.monotonic() - started  # shown, never asserted: machines differ
    print(f"sandbox browser walk: {walk.steps} steps in {seconds:.1f} s")  # noqa: T201
    assert problems == [], problems
