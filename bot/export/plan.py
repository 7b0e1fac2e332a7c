"""What an export is about before anything is read (`ExportPlan`: the windows, weeks and
quarters of the period) and the KPI figures gathered for it, which the writer is handed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendar.windows import Window, quarter_of, week_window
from bot.export.period import ExportPeriod
from bot.kpis.coverage import Coverage
from bot.kpis.goals import next_quarter, quarter_bounds
from bot.kpis.pipeline import PipelineStats
from bot.kpis.satisfaction import SatisfactionStats
from bot.kpis.scorecard import Scorecard
from bot.kpis.support import RequestStats
from bot.surveys.privacy import Aggregate, effective_minimum
from bot.workspace.settings import WorkspaceSettings


@dataclass(frozen=True)
class ExportPlan:
    """The period's windows in the workspace's zone, cut to now: fixed before anything is read,
    and handed (pickled) to the writer."""

    team_id: str
    period: ExportPeriod
    settings: WorkspaceSettings
    now: datetime
    tz: ZoneInfo
    minimum: int
    window: Window  # the whole period, for raw rows
    kpi_window: Window | None  # the period up to now; None when it lies in the future
    weeks: list[tuple[date, Window]]  # each ISO week's Monday and its window, clipped
    quarters: list[str]  # quarters the period touches that have started

    @classmethod
    def make(
        cls, *, team_id: str, period: ExportPeriod, settings: WorkspaceSettings, now: datetime
    ) -> ExportPlan:
        """The plan for `period` as seen at `now` (aware), in the workspace's zone."""
        tz = settings.zone
        window = period.window(tz)
        kpi_window = window.up_to(now) if now > window.start else None
        weeks: list[tuple[date, Window]] = []
        monday = period.start - timedelta(days=period.start.weekday())
        while monday <= period.end:
            # The ISO week, cut to the period and to now: one window definition throughout.
            week = week_window(monday, tz)
            part = replace(week, start=max(week.start, window.start), end=min(week.end, window.end))
            if part.start < now:
                weeks.append((monday, part.up_to(now)))
            monday += timedelta(days=7)
        today = now.astimezone(tz).date()
        quarters: list[str] = []
        quarter = quarter_of(period.start)
        while quarter_bounds(quarter)[0] <= min(period.end, today):
            quarters.append(quarter)
            quarter = next_quarter(quarter)
        return cls(
            team_id=team_id,
            period=period,
            settings=settings,
            now=now,
            tz=tz,
            minimum=effective_minimum(settings.survey_min_respondents),
            window=window,
            kpi_window=kpi_window,
            weeks=weeks,
            quarters=quarters,
        )


@dataclass(frozen=True)
class WeekKpis:
    """One ISO week's figures (clipped to the period and to now): a Weekly KPIs row."""

    week_start: date
    first: date
    last: date
    label: str
    requests: RequestStats
    satisfaction: SatisfactionStats | None  # None: the survey week began before the period
    pipeline: PipelineStats


@dataclass
class PeriodKpis:
    """The whole period's figures, filled in by the KPI steps: the Summary sheet's numbers."""

    to_date: bool = False
    requests: RequestStats | None = None
    pipeline: PipelineStats | None = None
    satisfaction: Aggregate = field(default_factory=lambda: Aggregate(0, None, False))
    response_rate: float | None = None
    coverage: Coverage | None = None
    goals: dict[str, float] | None = None  # the quarter's targets when the period is in one
    goal_quarter: str | None = None
    scorecards: list[Scorecard] = field(default_factory=list)


@dataclass
class Counts:
    """Rows written per table, for the Summary's contents and `ExportResult.rows`."""

    requests: int = 0
    enablement: int = 0
    pipeline_answers: int = 0
    opportunities: int = 0
    activities: int = 0
    weeks: int = 0
    scorecard_lines: int = 0
