"""Which workspaces the survey job might have work for at a moment, asked for all at once.

Why: `jobs.surveys.run_team_surveys` opens about nine sessions per workspace even when nothing
is due, so an idle tick over thousands of workspaces costs tens of seconds. The job runner asks
`teams_with_survey_work` first (four queries, however many workspaces) and runs the job only for
those. The answer may name a workspace with nothing to do; it never leaves out one with work.

Every step of `run_team_surveys` writes or calls Slack only when one of these holds (checked
against the state before the tick: a step that finds nothing changes nothing, so the next step
sees that same state):

1. `close_due_runs`: an open run with `closes_at <= now`.
2. `roll_up_untallied`: a closed run without a tally.

Only with surveys enabled and a sales group set (the job stops there otherwise), for each
kind's run of the current period (`period_of(now, settings.zone)`):

3. `get_or_create_run`: no open run for it (a closed one is counted as missing: over-approx).
4. `plan_deliveries`: a sales recipient (`sales_recipients`' rule: on the sales roster, not
   deactivated, not a bot) without a delivery of that run. It only adds missing recipients:
   a time zone, schedule or roster removal re-plans nothing, so those are not work.
5. `fan_out`: a pending delivery with `send_at <= now` (`claim_due_deliveries`), or a sending
   one claimed at least `SENDING_LEASE` ago (`claim_stale_deliveries`; its clock is `now` plus
   the fan-out's run time so far, hence `CLOCK_SLACK`). Failures (the admins' summary) and
   retries follow only from a claim.
6. `_remind` (`claim_due_reminders`): reminder days > 0, `now < closes_at`, and a sent
   delivery without a reminder, sent at least that many days ago.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import period_of
from bot.core.models import DeliveryStatus, RunStatus, SurveyDelivery, SurveyKind, SurveyRun
from bot.surveys.deliveries import SENDING_LEASE, sales_recipient_rows
from bot.surveys.tallies import untallied
from bot.workspace.settings import WorkspaceSettings

__all__ = ["CLOCK_SLACK", "teams_with_survey_work"]

CLOCK_SLACK = timedelta(minutes=1)
"""Leases running out this soon after `now` count as run out: the fan-out's clock moves on."""


@dataclass(frozen=True)
class _Current:
    """An open run the job would fan out and remind for: the current period's, of one kind."""

    team_id: str
    closes_at: datetime
    reminder_days: int


async def teams_with_survey_work(
    session: AsyncSession, *, settings: Mapping[str, WorkspaceSettings], now: datetime
) -> set[str]:
    """The workspaces (keys of `settings`: the installed ones the tick considers) for which
    run_team_surveys at `now` might do anything: close or open a run, roll up a tally, plan,
    send or recover a DM, queue a reminder (the module docstring lists the rules). It may name
    a workspace with nothing to do, never omit one with work. Four queries at most."""
    connection = await session.connection()
    due: set[str] = set()

    # 1 and 3: the open runs (few: this week's, and last week's until closed).
    open_rows = (
        await connection.execute(
            sa.select(
                col(SurveyRun.id),
                col(SurveyRun.team_id),
                col(SurveyRun.kind),
                col(SurveyRun.period_start),
                col(SurveyRun.closes_at),
            ).where(col(SurveyRun.status) == RunStatus.OPEN)
        )
    ).all()
    open_runs: dict[tuple[str, SurveyKind, date], tuple[int, datetime]] = {}
    for run_id, team_id, kind, period_start, closes_at in open_rows:
        if run_id is None or team_id not in settings:
            continue
        if closes_at <= now:
            due.add(team_id)
        open_runs[team_id, SurveyKind(kind), period_start] = (int(run_id), closes_at)

    # 2: closed runs without a tally (roll_up_untallied's own condition).
    to_heal = (
        await connection.execute(sa.select(col(SurveyRun.team_id)).distinct().where(untallied()))
    ).scalars()
    due.update(team_id for team_id in to_heal if team_id in settings)

    # 3: the current period's runs, per workspace time zone (Python: the rule lives there).
    current: dict[int, _Current] = {}
    for team_id, team in settings.items():
        if team_id in due or not team.surveys_enabled or not team.sales_usergroup:
            continue
        start = period_of(now, team.zone).start
        found = [open_runs.get((team_id, kind, start)) for kind in SurveyKind]
        if any(run is None for run in found):
            due.add(team_id)
            continue
        for run_id, closes_at in filter(None, found):
            current[run_id] = _Current(team_id, closes_at, team.survey_reminder_days)
    if not current:
        return due

    # 5 and 6: per current run and status, the earliest time anything of it could fall due.
    rows = (
        await connection.execute(
            sa.select(
                col(SurveyDelivery.run_id),
                col(SurveyDelivery.status),
                sa.func.min(col(SurveyDelivery.send_at)),
                sa.func.min(col(SurveyDelivery.claimed_at)),
                sa.func.min(
                    sa.case(
                        (col(SurveyDelivery.reminder_status).is_(None), col(SurveyDelivery.sent_at))
                    )
                ),
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyDelivery.run_id))
            .where(
                col(SurveyRun.status) == RunStatus.OPEN,
                col(SurveyDelivery.status).in_(
                    [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT]
                ),
            )
            .group_by(col(SurveyDelivery.run_id), col(SurveyDelivery.status))
        )
    ).all()
    for run_id, status, send_at, claimed_at, unreminded_sent_at in rows:
        run = current.get(int(run_id))
        if run is None:
            continue
        if status == DeliveryStatus.PENDING:
            busy = send_at is not None and send_at <= now
        elif status == DeliveryStatus.SENDING:
            busy = claimed_at is not None and claimed_at <= now + CLOCK_SLACK - SENDING_LEASE
        else:
            busy = (
                run.reminder_days > 0
                and now < run.closes_at
                and unreminded_sent_at is not None
                and unreminded_sent_at <= now - timedelta(days=run.reminder_days)
            )
        if busy:
            due.add(run.team_id)

    # 4: sales recipients missing from an open run (a NOT EXISTS join over every workspace).
    recipients = sales_recipient_rows().subquery()
    unplanned = (
        await connection.execute(
            sa.select(col(SurveyRun.id))
            .distinct()
            .join(recipients, recipients.c.team_id == col(SurveyRun.team_id))
            .where(
                col(SurveyRun.status) == RunStatus.OPEN,
                ~sa.exists().where(
                    col(SurveyDelivery.run_id) == col(SurveyRun.id),
                    col(SurveyDelivery.user_id) == recipients.c.user_id,
                ),
            )
        )
    ).scalars()
    due.update(current[run_id].team_id for run_id in unplanned if run_id in current)
    return due
