"""The one place where scheduled jobs and their triggers are defined."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.deps import Deps
from bot.kpis.digest_schedule import teams_with_digest_due
from bot.requests.reminders import teams_with_open_requests
from bot.surveys.due import teams_with_survey_work
from jobs.clients import TeamClients
from jobs.digests import post_team_digests, post_team_digests_now
from jobs.reminders import send_team_reminders
from jobs.retention import run_team_retention
from jobs.roster_sync import sync_team_roster
from jobs.runner import DueFilter, TeamJob, by_settings, for_each_team, run_tick
from jobs.surveys import resend_team_surveys, run_team_surveys

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    team_job: TeamJob  # (deps, client, *, team_id, now): one workspace's work for `now`
    description: str
    minutes: int  # a tick every this many minutes
    # What `alignbot jobs run NAME` runs when it differs: an operator asking for the digest
    # wants it posted now, not at its scheduled hour (still once per week).
    run_now: TeamJob | None = None
    needs_slack: bool = True
    # Which workspaces might have work at a tick (jobs.runner.DueFilter); None: all of them.
    due: DueFilter | None = None
    # Serve each workspace once per this many minutes, each from its own point in the period.
    once_per_minutes: int | None = None


DAY = 24 * 60


JOBS: dict[str, ScheduledJob] = {
    "roster-sync": ScheduledJob(
        sync_team_roster,
        "daily per workspace, spread over the day (user group and profile events sync live)",
        30,
        once_per_minutes=DAY,
    ),
    "sla-reminders": ScheduledJob(
        send_team_reminders,
        "every 15 minutes, for workspaces with open requests",
        15,
        due=teams_with_open_requests,
    ),
    "surveys": ScheduledJob(
        run_team_surveys,
        "every 5 minutes: open, send, remind, close (workspaces with a step due)",
        5,
        due=by_settings(teams_with_survey_work),
    ),
    "weekly-digest": ScheduledJob(
        post_team_digests,
        "every 15 minutes: posts each digest once a week when due",
        15,
        run_now=post_team_digests_now,
        due=by_settings(teams_with_digest_due),
    ),
    "retention": ScheduledJob(
        run_team_retention,
        "daily per workspace, spread over the day: erases free text older than retention_days",
        30,
        needs_slack=False,
        once_per_minutes=DAY,
    ),
}


ON_DEMAND: dict[str, TeamJob] = {
    # Settings saved: mirror the groups now, not at the next half hour. Returns counts per role.
    "roster-sync": sync_team_roster,
    # `/align survey send`: retry failed DMs and send what is due. Returns how many were retried.
    "survey-resend": resend_team_surveys,
}
"""What a listener may start for one workspace at once (`Deps.run_now`), by name."""


async def run_on_demand(
    deps: Deps, job: str, *, client: AsyncWebClient, team_id: str, now: datetime
) -> Any:
    """`Deps.run_now`, as the composition root wires it."""
    return await ON_DEMAND[job](deps, client, team_id=team_id, now=now)


async def run_scheduled(deps: Deps, clients: TeamClients, name: str, now: datetime) -> None:
    """One tick of a job (jobs.runner.run_tick): the workspaces with work, each (job, workspace,
    period) claimed once, so several replicas on one database share the work."""
    job = JOBS[name]
    await run_tick(
        deps,
        clients,
        job.team_job,
        now,
        name=name,
        tick_minutes=job.minutes,
        once_per_minutes=job.once_per_minutes,
        due=job.due,
        needs_slack=job.needs_slack,
    )


async def run_now(
    deps: Deps, clients: TeamClients, name: str, now: datetime, *, team_id: str | None = None
) -> None:
    """An operator's `alignbot jobs run NAME [--team T]`: every workspace, or only `team_id`;
    unclaimed (the work itself is still claimed item by item, so nothing is sent twice), and the
    first error stops it with its message."""
    job = JOBS[name]
    await for_each_team(
        deps,
        clients,
        job.run_now or job.team_job,
        now,
        name=name,
        stop_on_error=True,
        needs_slack=job.needs_slack,
        team_id=team_id,
    )


class JobScheduler:
    """APScheduler's AsyncIOScheduler plus what a graceful stop needs: the running ticks.

    On SIGTERM no new tick starts; running ones get `grace` seconds to finish, then are
    cancelled. A fan-out cut short that way is resumable: its deliveries are claimed in the
    database, and a later run (here or in another replica) finishes them."""

    def __init__(self, deps: Deps, clients: TeamClients) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.running: set[asyncio.Task[None]] = set()
        for name, job in JOBS.items():

            async def tick(name: str = name) -> None:
                task = asyncio.current_task()
                assert task is not None
                self.running.add(task)
                try:
                    await run_scheduled(deps, clients, name, deps.clock())
                finally:
                    self.running.discard(task)

            self.scheduler.add_job(
                tick,
                "interval",
                minutes=job.minutes,
                id=name,
                name=name,
                coalesce=True,
                max_instances=1,
                next_run_time=deps.clock(),
            )

    def start(self) -> None:
        self.scheduler.start()

    async def shutdown_gracefully(self, grace: float) -> None:
        # Paused first, shut down last: APScheduler's shutdown cancels the ticks it is running,
        # which would leave them no grace at all.
        if self.scheduler.running:
            self.scheduler.pause()
        running = set(self.running)
        pending: set[asyncio.Task[None]] = set()
        if running:
            logger.info("stopping_jobs running=%s grace_s=%s", len(running), grace)
            _done, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if pending:
            logger.warning("jobs_cut_short count=%s (they resume on the next run)", len(pending))


def build_scheduler(deps: Deps, clients: TeamClients) -> JobScheduler:
    """Every job on its interval; start it inside the running event loop."""
    return JobScheduler(deps, clients)
