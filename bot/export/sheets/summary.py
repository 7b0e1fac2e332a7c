"""The Summary sheet: what the period was, its key figures against the quarter's goals, the
scorecards and what the other sheets hold, as plain values any viewer shows."""

from __future__ import annotations

from typing import Any, Final

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.core.models import Function
from bot.export.cells import (
    BOLD,
    DATETIME_FORMAT,
    HEADER_ALIGNMENT,
    HEADER_FILL,
    HEADER_FONT,
    NOTE_FONT,
    PERCENT_FORMAT,
    SECTION_FONT,
    TITLE_FONT,
    WARNING_FONT,
    WEIGHT_FORMAT,
)
from bot.export.columns import FORMATS, UNIT_KINDS, Kind
from bot.export.plan import Counts, ExportPlan, PeriodKpis
from bot.export.sheets.scorecard import total_note
from bot.kpis.catalogue import METRICS
from bot.kpis.digests import sourced_cents
from bot.kpis.pipeline import PipelineStats
from bot.kpis.support import RequestStats
from bot.surveys.gate import withheld_weeks_note
from bot.surveys.privacy import WITHHELD_TEXT


class SummarySheet:
    """The front sheet: what the period was, its key figures against goals, the scorecards."""

    WIDTHS: Final = (26, 36, 18, 18, 10, 14, 14, 14, 48)

    def __init__(
        self, ws: Any, plan: ExportPlan, kpis: PeriodKpis, counts: Counts, empty: bool
    ) -> None:
        self.ws, self.plan, self.kpis, self.counts, self.empty = ws, plan, kpis, counts, empty

    def cell(self, value: Any, *, font: Font | None = None, fmt: str | None = None) -> Any:
        if value is None:
            return None
        cell = WriteOnlyCell(self.ws, value)
        if isinstance(value, str):
            cell.data_type = "s"  # our own text, but never a formula either
        if font is not None:
            cell.font = font
        if fmt is not None:
            cell.number_format = fmt
        return cell

    def value(self, kind: Kind, value: float | None) -> Any:
        """A figure in its kind's format (money arrives in cents)."""
        if value is None:
            return None
        return self.cell(value / 100 if kind is Kind.MONEY else value, fmt=FORMATS.get(kind))

    def metric_value(self, metric: str, value: float | None) -> Any:
        """A goal or scorecard figure in its metric's unit (`bot.kpis.goals` units)."""
        return self.value(UNIT_KINDS.get(METRICS[metric].unit, Kind.TEXT), value)

    def line(self, *values: Any) -> None:
        self.ws.append(list(values))

    def header(self, *titles: str) -> None:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.ws, title)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
            cells.append(cell)
        self.line(*cells)

    def write(self) -> None:
        plan, kpis, period = self.plan, self.kpis, self.plan.period
        for index, width in enumerate(self.WIDTHS, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        local_now = plan.now.astimezone(plan.tz).replace(tzinfo=None, microsecond=0)
        shown = f"{period.start.isoformat()} to {period.end.isoformat()}"
        if period.quarter:
            shown = f"{period.quarter} ({shown})"
        if kpis.to_date:
            shown += f"; figures to date ({local_now:%Y-%m-%d %H:%M})"
        self.line(self.cell("alignbot export", font=TITLE_FONT))
        self.line(self.cell("Workspace", font=BOLD), self.cell(plan.team_id))
        self.line(self.cell("Period", font=BOLD), self.cell(shown))
        self.line(self.cell("Generated", font=BOLD), self.cell(local_now, fmt=DATETIME_FORMAT))
        self.line(
            self.cell("Time zone", font=BOLD),
            self.cell(
                f"{plan.settings.timezone}: every date and time in this workbook is local to "
                "it (Excel has no time zones)."
            ),
        )
        self.line(
            self.cell("Anonymity", font=BOLD),
            self.cell(
                "Enablement-satisfaction answers carry no names, ids or times; figures over "
                f"fewer than {plan.minimum} respondents are withheld and such weeks left out."
            ),
        )
        self.line()
        if self.empty:
            self.line(
                self.cell(
                    "No data in this period: no requests, survey responses, opportunities or "
                    f"leads between {period.start.isoformat()} and {period.end.isoformat()}.",
                    font=WARNING_FONT,
                )
            )
            self.line()
        if kpis.requests is not None and kpis.pipeline is not None:
            self.key_figures(kpis.requests, kpis.pipeline)
            self.line()
        self.scorecards()
        self.line()
        self.contents()

    def key_figures(self, req: RequestStats, pipe: PipelineStats) -> None:
        kpis = self.kpis
        goals = kpis.goals or {}
        self.line(self.cell("Key figures for the period", font=SECTION_FONT))
        goal_title = f"Goal ({kpis.goal_quarter})" if kpis.goal_quarter else "Goal"
        self.header("Function", "Metric", "Value", goal_title, "Note")
        support, demandgen = Function.SUPPORT.label, Function.DEMAND_GEN.label
        satisfaction = kpis.satisfaction
        satisfaction_note = "; ".join(
            note
            for note in (
                WITHHELD_TEXT
                if satisfaction.withheld
                else "no responses yet"
                if satisfaction.value is None
                else None,
                withheld_weeks_note(satisfaction.withheld_weeks, minimum=self.plan.minimum),
            )
            if note
        )
        source = "CRM" if pipe.crm_opportunities else "pipeline survey"
        at_end = "at period end" if req.window_ended else "now"
        rows: list[tuple[str, str, Kind, float | None, str | None, str | None]] = [
            (support, "Requests filed", Kind.INT, req.filed, None, None),
            (support, "Requests delivered", Kind.INT, req.delivered, "requests_delivered", None),
            (
                support,
                "On-time delivery",
                Kind.PERCENT,
                req.on_time_rate,
                "on_time_delivery_rate",
                None,
            ),
            (support, f"Open {at_end}", Kind.INT, req.open_at_end, None, None),
            (support, f"Overdue {at_end}", Kind.INT, req.overdue_at_end, None, None),
            (support, "Median hours to claim", Kind.HOURS, req.time_to_claim.median, None, None),
            (
                support,
                "Median hours to deliver",
                Kind.HOURS,
                req.time_to_deliver.median,
                None,
                None,
            ),
            (support, "Average delivery rating", Kind.SCORE, req.rating_average, None, None),
            (support, "Delivery helped the deal", Kind.PERCENT, req.helped_share, None, None),
            (
                support,
                "Enablement satisfaction",
                Kind.SCORE,
                satisfaction.value,
                "enablement_satisfaction",
                satisfaction_note,
            ),
            (support, "Survey response rate", Kind.PERCENT, kpis.response_rate, None, None),
            (
                demandgen,
                "Marketing-sourced pipeline",
                Kind.MONEY,
                sourced_cents(pipe),
                "sourced_pipeline",
                f"from the {source}",
            ),
            (
                demandgen,
                "Marketing-influenced pipeline",
                Kind.MONEY,
                pipe.influenced_cents,
                "influenced_pipeline",
                "from the pipeline survey",
            ),
            (
                demandgen,
                "New pipeline reported by reps",
                Kind.MONEY,
                pipe.new_pipeline_cents,
                None,
                None,
            ),
            (demandgen, "CRM pipeline created", Kind.MONEY, pipe.crm_pipeline_cents, None, None),
            (demandgen, "Leads", Kind.INT, pipe.leads, "qualified_leads", None),
            (
                demandgen,
                "Lead-to-opportunity conversion",
                Kind.PERCENT,
                pipe.lead_to_opportunity_rate,
                "lead_to_opportunity_rate",
                None,
            ),
        ]
        cover = kpis.coverage
        if cover is not None:
            rows.append(
                (
                    demandgen,
                    f"Pipeline coverage ({cover.quarter})",
                    Kind.RATIO,
                    cover.ratio,
                    "pipeline_coverage",
                    cover.status,
                )
            )
            rows.append(
                (
                    support,
                    f"Sales quota achieved ({cover.quarter})",
                    Kind.PERCENT,
                    cover.quota_attainment,
                    "quota_attainment",
                    None,
                )
            )
        for function, metric, kind, value, goal_metric, note in rows:
            goal = goals.get(goal_metric) if goal_metric else None
            self.line(
                self.cell(function),
                self.cell(metric),
                self.value(kind, value),
                self.metric_value(goal_metric, goal) if goal_metric and goal is not None else None,
                self.cell(note or ("no data yet" if value is None else None)),
            )
        if kpis.goal_quarter is None:
            self.line(
                None,
                self.cell(
                    "Goals are set per quarter and this period spans several: see Scorecards.",
                    font=NOTE_FONT,
                ),
            )

    def scorecards(self) -> None:
        self.line(self.cell("Scorecards (bonus attainment per quarter)", font=SECTION_FONT))
        if not self.kpis.scorecards:
            self.line(self.cell("No quarter of this period has started yet.", font=NOTE_FONT))
            return
        self.header(
            "Function",
            "Metric",
            "Actual",
            "Goal",
            "Weight",
            "Attainment",
            "Capped",
            "Contribution",
            "Note",
        )
        for card in self.kpis.scorecards:
            title = f"{card.quarter} · {card.function.label}"
            for line in card.lines:
                self.line(
                    self.cell(title),
                    self.cell(line.label),
                    self.metric_value(line.metric, line.actual),
                    self.metric_value(line.metric, line.target),
                    self.cell(line.weight, fmt=WEIGHT_FORMAT),
                    self.cell(line.attainment, fmt=PERCENT_FORMAT),
                    self.cell(line.capped, fmt=PERCENT_FORMAT),
                    self.cell(line.contribution, fmt=PERCENT_FORMAT),
                    self.cell("; ".join(part for part in (line.note, line.remark) if part) or None),
                )
            self.line(
                self.cell(title, font=BOLD),
                self.cell("Bonus attainment", font=BOLD),
                None,
                None,
                None,
                None,
                self.cell(f"cap {card.cap:.0%}"),
                self.cell(card.total, font=BOLD, fmt=PERCENT_FORMAT),
                self.cell(total_note(card)),
            )

    def contents(self) -> None:
        counts = self.counts
        self.line(self.cell("In this workbook", font=SECTION_FONT))
        for sheet, text in (
            ("Weekly KPIs", f"{counts.weeks} weeks, with charts"),
            ("Requests", f"{counts.requests:,} requests"),
            (
                "Survey responses",
                f"{counts.enablement:,} anonymous enablement answers, "
                f"{counts.pipeline_answers:,} pipeline answers",
            ),
            (
                "Pipeline",
                f"{counts.opportunities:,} CRM opportunities, {counts.activities} activities",
            ),
            ("Scorecard", f"{counts.scorecard_lines} scorecard lines, as live formulas"),
        ):
            self.line(self.cell(sheet, font=BOLD), self.cell(text))
