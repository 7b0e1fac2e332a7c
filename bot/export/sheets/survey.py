"""The Survey responses sheet's rows: the enablement pulse as the privacy gate lets it be
shown (anonymous, weeks too thin left out), then the named pipeline-pulse answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.windows import iso_week_label
from bot.core.models import SurveyKind, SurveyResponse, SurveyRun
from bot.export import reading
from bot.export.cells import clean_text, dollars, excel_date
from bot.export.columns import ENABLEMENT_LABEL, PIPELINE_LABEL
from bot.export.plan import ExportPlan
from bot.export.sheets.pipeline import activities_text
from bot.export.table import Note
from bot.surveys.responses import HELP_OPTIONS
from bot.surveys.satisfaction import window_satisfaction


@dataclass(frozen=True)
class EnablementWeek:
    """One survey week of the period and what the privacy gate lets the sheet show of it."""

    run_id: int
    week_start: date
    shown: bool  # enough people answered: the week appears at all, with its comments
    scores_shown: bool
    scores_withheld: bool  # some gave a score, too few to show
    help_shown: bool
    help_withheld: bool


async def enablement_weeks(session: AsyncSession, plan: ExportPlan) -> list[EnablementWeek]:
    """Each enablement run of the period, judged by the privacy gate (`bot.surveys.satisfaction`) on
    the distinct people who answered anything, gave a score and said what would help."""
    found = await window_satisfaction(
        session, team_id=plan.team_id, window=plan.window, tz=plan.tz, minimum=plan.minimum
    )
    await session.commit()  # one short transaction, like every page
    return [
        EnablementWeek(
            run_id=week.run_id,
            week_start=week.week_start,
            shown=week.gated.shown,
            scores_shown=week.gated.scores_shown,
            scores_withheld=week.gated.mean.withheld,
            help_shown=week.gated.help_most is not None,
            help_withheld=week.gated.help_withheld,
        )
        for week in found.weeks
        if week.run_id is not None
    ]


def _enablement_note(week: EnablementWeek, text: str) -> Note:
    label = iso_week_label(week.week_start)
    return Note((ENABLEMENT_LABEL, label, excel_date(week.week_start), None, None, None, text))


async def enablement_pages(
    session: AsyncSession, plan: ExportPlan, weeks: list[EnablementWeek]
) -> AsyncIterator[list[Any]]:
    """The anonymous pulse, week by week, as the privacy gate decided (`enablement_weeks`):

    * a week with fewer respondents than the minimum is left out, with a note row (which
      gives no count: a count below the minimum is itself withheld);
    * within a week, scores are shown only when at least the minimum gave one and "what would
      help" only when at least the minimum answered it (as the digests withhold them);
      comments go with the week's respondents (`bot.surveys.privacy.safe_comments`);
    * no user id, response id or time: the week is the only "when";
    * rows are ordered by what they show (never by submission or user), so their order
      reveals nothing that a withheld field or a timestamp would.
    """
    minimum = plan.minimum
    for week in weeks:
        if not week.shown:
            yield [
                _enablement_note(
                    week,
                    f"Week left out: fewer than {minimum} people answered, so answers could "
                    "be traced to a person.",
                )
            ]
            continue
        show_score, show_help = week.scores_shown, week.help_shown
        withheld = [
            name
            for name, hidden in (
                ("scores", week.scores_withheld),
                ("'what would help most'", week.help_withheld),
            )
            if hidden
        ]
        page: list[Any] = []
        if withheld:
            page.append(
                _enablement_note(
                    week,
                    f"{' and '.join(withheld).capitalize()} withheld this week: fewer than "
                    f"{minimum} people gave one.",
                )
            )
        keys: list[Any] = []
        if show_score:
            keys.append(sa.func.coalesce(col(SurveyResponse.score), 0))
        if show_help:
            keys.append(sa.func.coalesce(col(SurveyResponse.help_with), ""))
        keys += [sa.func.coalesce(col(SurveyResponse.comment), ""), col(SurveyResponse.id)]
        base = (
            sa.select(
                col(SurveyResponse.score),
                col(SurveyResponse.help_with),
                col(SurveyResponse.comment),
                *keys,
            )
            .where(
                col(SurveyResponse.run_id) == week.run_id,
                col(SurveyResponse.kind) == SurveyKind.ENABLEMENT,
            )
            .order_by(*keys)
            .limit(reading.PAGE_ROWS)
        )
        label, day = iso_week_label(week.week_start), excel_date(week.week_start)
        last: tuple[Any, ...] | None = None
        while True:
            statement = base if last is None else base.where(sa.tuple_(*keys) > sa.tuple_(*last))
            rows = await reading.fetch_page(session, statement)
            for row in rows:
                score = row[0] if show_score else None
                help_with = HELP_OPTIONS.get(row[1], row[1]) if show_help and row[1] else None
                comment = clean_text(row[2].strip()) if row[2] and row[2].strip() else None
                if score is None and help_with is None and comment is None:
                    continue
                page.append((ENABLEMENT_LABEL, label, day, score, help_with, comment))
            if page:
                yield page
                page = []
            if len(rows) < reading.PAGE_ROWS:
                break
            last = tuple(rows[-1][3:])


async def pipeline_answer_pages(
    session: AsyncSession, plan: ExportPlan
) -> AsyncIterator[list[Any]]:
    """Pipeline-pulse answers week by week, rep by rep (keyset on the run's (run, user)
    unique index). Named: these are business data, not anonymous."""
    runs = await reading.fetch_page(
        session,
        sa.select(col(SurveyRun.id), col(SurveyRun.period_start))
        .where(
            col(SurveyRun.team_id) == plan.team_id,
            col(SurveyRun.kind) == SurveyKind.PIPELINE,
            col(SurveyRun.period_start) >= plan.period.start,
            col(SurveyRun.period_start) <= plan.period.end,
        )
        .order_by(col(SurveyRun.period_start)),
    )
    for run_id, week_start in runs:
        label, day = iso_week_label(week_start), excel_date(week_start)
        last_user = ""
        while True:
            rows = await reading.fetch_page(
                session,
                sa.select(
                    col(SurveyResponse.user_id),
                    col(SurveyResponse.opportunities),
                    col(SurveyResponse.pipeline_cents),
                    col(SurveyResponse.sourced_count),
                    col(SurveyResponse.sourced_cents),
                    col(SurveyResponse.influenced_count),
                    col(SurveyResponse.influenced_cents),
                    col(SurveyResponse.activities),
                )
                .where(
                    col(SurveyResponse.run_id) == run_id,
                    col(SurveyResponse.kind) == SurveyKind.PIPELINE,
                    col(SurveyResponse.user_id) > last_user,
                )
                .order_by(col(SurveyResponse.user_id))
                .limit(reading.PAGE_ROWS),
            )
            if rows:
                yield [
                    (
                        PIPELINE_LABEL,
                        label,
                        day,
                        user_id,
                        opportunities,
                        dollars(pipeline),
                        sourced_n,
                        dollars(sourced),
                        influenced_n,
                        dollars(influenced),
                        activities_text(activities),
                    )
                    for (
                        user_id,
                        opportunities,
                        pipeline,
                        sourced_n,
                        sourced,
                        influenced_n,
                        influenced,
                        activities,
                    ) in rows
                ]
                last_user = rows[-1][0]
            if len(rows) < reading.PAGE_ROWS:
                break
