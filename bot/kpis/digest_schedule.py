"""When a workspace's weekly digests are due, and which workspaces have one to post now.

One owner for the rule: the digest job asks it per workspace before building a digest, and
the scheduler's tick asks it for every workspace at once, so idle workspaces cost nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period, period_of, send_time
from bot.core.models import DigestPost
from bot.kpis.digests import DigestKind
from bot.workspace.settings import WorkspaceSettings


def digest_channel(settings: WorkspaceSettings, kind: str) -> str | None:
    return (
        settings.support_digest_channel
        if kind == DigestKind.SUPPORT
        else settings.demandgen_digest_channel
    )


@dataclass(frozen=True)
class DigestWeek:
    period: Period
    due_at: datetime  # the configured day and time, in the workspace's zone

    def due(self, now: datetime) -> bool:
        return now >= self.due_at


def digest_week(settings: WorkspaceSettings, now: datetime) -> DigestWeek:
    """The week `now` falls in for this workspace, and when its digests go out."""
    period = period_of(now, settings.zone)
    schedule = settings.survey_schedule_of(settings.digest_schedule)
    return DigestWeek(period, send_time(period, schedule, settings.zone))


async def teams_with_digest_due(
    session: AsyncSession, *, settings: Mapping[str, WorkspaceSettings], now: datetime
) -> set[str]:
    """The workspaces with a digest channel whose digest time has come this week and whose
    digest of that kind is not queued or posted yet (one query for all of them)."""
    waiting: dict[tuple[str, str, date], str] = {}
    for team, team_settings in settings.items():
        week = digest_week(team_settings, now)
        if not week.due(now):
            continue
        for kind in DigestKind.ALL:
            if digest_channel(team_settings, kind) is not None:
                waiting[(team, kind, week.period.start)] = team
    if not waiting:
        return set()
    starts = {start for _team, _kind, start in waiting}
    taken = await session.exec(
        select(col(DigestPost.team_id), col(DigestPost.kind), col(DigestPost.period_start)).where(
            col(DigestPost.period_start).in_(starts), col(DigestPost.status) != "retry"
        )
    )
    for key in taken.all():
        waiting.pop((str(key[0]), str(key[1]), key[2]), None)
    return set(waiting.values())
