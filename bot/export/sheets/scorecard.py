"""The Scorecard sheet's rows: each quarter's scorecards with their arithmetic as live
formulas (attainment, capped attainment, contribution, total)."""

from __future__ import annotations

from typing import Any

from bot.export.cells import unit_value
from bot.export.columns import UNIT_KINDS, Kind, Typed
from bot.kpis.catalogue import METRICS
from bot.kpis.scorecard import Scorecard


def total_note(card: Scorecard) -> str:
    """What a scorecard's total is: a bonus attainment, partial, or nothing yet."""
    if card.total is None:
        return "nothing to score yet"
    if card.complete:
        return "bonus attainment"
    return f"partial: {card.covered_weight:.0%} of the weight could be scored"


def scorecard_rows(scorecards: list[Scorecard]) -> list[tuple[Any, ...]]:
    """Scorecard lines with their arithmetic as formulas over the row's own cells (the
    sheet's header is row 1, so the n-th row here is sheet row n + 2)."""
    rows: list[tuple[Any, ...]] = []
    for card in scorecards:
        first = len(rows) + 2
        for line in card.lines:
            number = len(rows) + 2
            unit = METRICS[line.metric].unit
            kind = UNIT_KINDS.get(unit, Kind.TEXT)
            computed = line.contribution is not None
            rows.append(
                (
                    card.quarter,
                    card.function.label,
                    line.label,
                    unit.value,
                    line.weight,
                    Typed(unit_value(unit, line.actual), kind),
                    Typed(unit_value(unit, line.target), kind),
                    f"=F{number}/G{number}" if computed else None,
                    card.cap,
                    f"=MIN(MAX(H{number},0),I{number})" if computed else None,
                    f"=E{number}*J{number}" if computed else None,
                    "; ".join(part for part in (line.note, line.remark) if part) or None,
                )
            )
        last = len(rows) + 1
        total = f"=SUM(K{first}:K{last})" if card.total is not None else None
        rows.append(
            (card.quarter, card.function.label, "Total", *([None] * 7), total, total_note(card))
        )
    return rows
