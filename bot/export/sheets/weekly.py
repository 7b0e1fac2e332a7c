"""The Weekly KPIs sheet's rows: one per ISO week of the period, from the KPI steps."""

from __future__ import annotations

from typing import Any

from bot.export.cells import dollars, excel_date
from bot.export.plan import WeekKpis
from bot.kpis.digests import sourced_cents


def weekly_rows(weeks: list[WeekKpis], minimum: int) -> list[tuple[Any, ...]]:
    """One row per week in date order; satisfaction withheld below `minimum` respondents."""
    rows = []
    for week in sorted(weeks, key=lambda item: item.week_start):
        req, pipe, sat = week.requests, week.pipeline, week.satisfaction
        score: float | None = None
        rate: float | None = None
        note: str | None
        if sat is None:
            note = "survey week began before the period"
        else:
            rate = sat.response_rate
            if sat.mean.withheld:
                note = f"withheld: fewer than {minimum} responses"
            elif sat.mean.value is None:
                note = "no responses yet"
            else:
                score, note = sat.mean.value, None
        rows.append(
            (
                week.label,
                excel_date(week.first),
                excel_date(week.last),
                req.filed,
                req.delivered,
                req.delivered_on_time,
                req.on_time_rate,
                req.open_at_end,
                req.overdue_at_end,
                req.time_to_claim.median,
                req.time_to_deliver.median,
                req.time_to_deliver_business.median,
                req.rating_average,
                score,
                note,
                rate,
                dollars(sourced_cents(pipe)),
                dollars(pipe.influenced_cents),
                dollars(pipe.new_pipeline_cents),
                pipe.leads,
                pipe.lead_to_opportunity_rate,
            )
        )
    return rows
