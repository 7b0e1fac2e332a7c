"""The one place where scheduled jobs and their triggers are defined."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from jobs.digests import post_digests, post_digests_now
from jobs.reminders import send_reminders
from jobs.roster_sync import sync_all_rosters
from jobs.surveys import run_surveys

Job = Callable[[Deps, AsyncWebClient, datetime], Awaitable[None]]

# name -> (job, human description of its schedule, interval in minutes)
JOBS: dict[str, tuple[Job, str, int]] = {
    "roster-sync": (sync_all_rosters, "every 30 minutes", 30),
    "sla-reminders": (send_reminders, "every 15 minutes", 15),
    "surveys": (run_surveys, "every 5 minutes: open, send, remind, close", 5),
    "weekly-digest": (post_digests, "every 15 minutes: posts each digest once a week when due", 15),
}


def build_scheduler(deps: Deps, client: AsyncWebClient) -> AsyncIOScheduler:
    """An AsyncIOScheduler with every job; start it inside the running event loop."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for name, (job, _description, minutes) in JOBS.items():

        async def run(job: Job = job) -> None:
            await job(deps, client, deps.clock())

        scheduler.add_job(
            run,
            "interval",
            minutes=minutes,
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            next_run_time=deps.clock(),
        )
    return scheduler


# What `alignbot jobs run NAME` runs when it differs from the scheduled job: an operator asking
# for the digest wants it posted now, not at its scheduled hour (still once per week).
RUN_NOW: dict[str, Job] = {"weekly-digest": post_digests_now}
