"""The sheets' layouts: the sheet titles, what kind of value each column holds (`Kind`,
which fixes its number format and width) and the column lists of every table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from bot.export.cells import (
    COUNT_FORMAT,
    DATE_FORMAT,
    DATETIME_FORMAT,
    HOURS_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    RATIO_FORMAT,
    SCORE_FORMAT,
    WEIGHT_FORMAT,
)
from bot.kpis.catalogue import Unit

SHEETS: Final = (
    "Summary",
    "Weekly KPIs",
    "Requests",
    "Survey responses",
    "Pipeline",
    "Scorecard",
)


class Kind(Enum):
    """What a column holds, which fixes its number format (`FORMATS`)."""

    TEXT = "text"  # our own text (labels, ids, enum values)
    USER = "user"  # text people typed (cleaned): see `user_text`
    INT = "int"
    MONEY = "money"  # dollars
    PERCENT = "percent"  # fractions, or our own formulas
    WEIGHT = "weight"
    HOURS = "hours"
    SCORE = "score"
    RATIO = "ratio"
    DATE = "date"  # `excel_date` serials
    DATETIME = "datetime"  # `excel_datetime` serials
    VARIES = "varies"  # a `Typed` value per row (scorecard actuals and goals)


FORMATS: Final[dict[Kind, str]] = {
    Kind.INT: COUNT_FORMAT,
    Kind.MONEY: MONEY_FORMAT,
    Kind.PERCENT: PERCENT_FORMAT,
    Kind.WEIGHT: WEIGHT_FORMAT,
    Kind.HOURS: HOURS_FORMAT,
    Kind.SCORE: SCORE_FORMAT,
    Kind.RATIO: RATIO_FORMAT,
    Kind.DATE: DATE_FORMAT,
    Kind.DATETIME: DATETIME_FORMAT,
}
UNIT_KINDS: Final = {
    Unit.MONEY: Kind.MONEY,
    Unit.PERCENT: Kind.PERCENT,
    Unit.SCORE: Kind.SCORE,
    Unit.RATIO: Kind.RATIO,
    Unit.COUNT: Kind.INT,
}
FIXED_WIDTHS: Final = {
    Kind.DATETIME: 17.0,
    Kind.DATE: 11.0,
    Kind.PERCENT: 8.0,
    Kind.WEIGHT: 7.0,
    Kind.SCORE: 6.0,
    Kind.RATIO: 7.0,
}


@dataclass(frozen=True)
class Typed:
    """A value with its own kind, for a column whose format varies by row."""

    value: Any
    kind: Kind


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    note: str | None = None  # shown as an Excel note on the header cell


def _time_note(zone: str) -> str:
    return (
        f"Local time in {zone}, the workspace's time zone. Excel has no time zones, so "
        "times are written as that zone's wall-clock time."
    )


def weekly_columns(minimum: int) -> list[Column]:
    return [
        Column("Week"),
        Column("From", Kind.DATE, "First day of the ISO week inside the period."),
        Column("To", Kind.DATE, "Last day of the week inside the period (to now this week)."),
        Column("Requests filed", Kind.INT),
        Column("Requests delivered", Kind.INT),
        Column("Delivered on time", Kind.INT),
        Column(
            "On-time %",
            Kind.PERCENT,
            "Delivered before the end of the due date the requester typed; when the due date "
            "came from the SLA (or there is none), by the SLA deadline.",
        ),
        Column("Open at week end", Kind.INT, "At the week's end; for the week in progress, now."),
        Column(
            "Overdue at week end", Kind.INT, "At the week's end; for the week in progress, now."
        ),
        Column("Median hours to claim", Kind.HOURS, "Calendar hours, filed to claimed."),
        Column("Median hours to deliver", Kind.HOURS, "Calendar hours, filed to delivered."),
        Column(
            "Median business hours to deliver",
            Kind.HOURS,
            "Business hours, less time waiting on the requester.",
        ),
        Column("Average delivery rating", Kind.SCORE),
        Column(
            "Enablement satisfaction",
            Kind.SCORE,
            f"Mean 1–5 score; blank when fewer than {minimum} people answered (anonymity).",
        ),
        Column("Satisfaction note"),
        Column("Survey response rate", Kind.PERCENT),
        Column(
            "Marketing-sourced pipeline", Kind.MONEY, "CRM figures when imported, else surveys."
        ),
        Column("Marketing-influenced pipeline", Kind.MONEY),
        Column("New pipeline reported", Kind.MONEY),
        Column("Leads", Kind.INT),
        Column("Lead-to-opportunity conversion", Kind.PERCENT),
    ]


def request_columns(zone: str) -> list[Column]:
    note = _time_note(zone)
    return [
        Column("Reference"),
        Column("Type"),
        Column("Status"),
        Column("Account", Kind.USER),
        Column("Amount", Kind.MONEY),
        Column("Requester"),
        Column("Assignee"),
        Column("Created", Kind.DATETIME, note),
        Column("Claimed", Kind.DATETIME, note),
        Column("Delivered", Kind.DATETIME, note),
        Column("Due date", Kind.DATE),
        Column("Hours to claim", Kind.HOURS, "Calendar hours from filed to claimed."),
        Column("Hours to deliver", Kind.HOURS, "Calendar hours from filed to delivered."),
        Column("On time"),
        Column("Rating", Kind.INT),
        Column("Helped the deal"),
        Column("Rating comment", Kind.USER),
        Column("Source"),
        Column("Filed in period", note="No: filed earlier, claimed or delivered in the period."),
        Column("Details", Kind.USER),
        Column("Deliverable", Kind.USER),
        Column("CRM link", Kind.USER),
        Column("Outcome note", Kind.USER),
    ]


ENABLEMENT_LABEL: Final = "Enablement satisfaction (anonymous)"
PIPELINE_LABEL: Final = "Pipeline contribution"


def enablement_columns(minimum: int) -> list[Column]:
    return [
        Column("Survey"),
        Column("Week"),
        Column("Week starting", Kind.DATE),
        Column("Score", Kind.INT, "1–5. No names, ids or times: answers are anonymous."),
        Column("What would help most"),
        Column("Comment", Kind.USER),
        Column("Note", note=f"Weeks with fewer than {minimum} respondents are left out entirely."),
    ]


def pipeline_answer_columns() -> list[Column]:
    return [
        Column("Survey"),
        Column("Week"),
        Column("Week starting", Kind.DATE),
        Column("Rep", note="Slack user id: pipeline answers are named business data."),
        Column("New opportunities", Kind.INT),
        Column("New pipeline", Kind.MONEY),
        Column("Marketing-sourced opportunities", Kind.INT),
        Column("Marketing-sourced pipeline", Kind.MONEY),
        Column("Marketing-influenced opportunities", Kind.INT),
        Column("Marketing-influenced pipeline", Kind.MONEY),
        Column("Activities"),
    ]


def opportunity_columns() -> list[Column]:
    return [
        Column("CRM id", Kind.USER),
        Column("Name", Kind.USER),
        Column("Account", Kind.USER),
        Column("Amount", Kind.MONEY),
        Column("Stage", Kind.USER),
        Column("Created", Kind.DATE),
        Column("Close date", Kind.DATE),
        Column("Lead source", Kind.USER),
        Column("Marketing-sourced"),
        Column("Owner", Kind.USER),
        Column("Won"),
        Column("Closed"),
        Column("In period because", note="created: created in the period; closes: closes in it."),
    ]


def activity_columns() -> list[Column]:
    return [
        Column("Marketing activity"),
        Column(
            "Pipeline credited",
            Kind.MONEY,
            "Each answer's sourced + influenced value, split evenly among the activities it names.",
        ),
        Column("Mentions", Kind.INT),
    ]


def scorecard_columns() -> list[Column]:
    return [
        Column("Quarter"),
        Column("Function"),
        Column("Metric"),
        Column("Unit"),
        Column("Weight", Kind.WEIGHT),
        Column("Actual", Kind.VARIES, "Money in dollars, rates as percentages, scores 1–5."),
        Column("Goal", Kind.VARIES),
        Column("Attainment", Kind.PERCENT, "= Actual / Goal"),
        Column("Cap", Kind.WEIGHT),
        Column("Capped attainment", Kind.PERCENT, "= MIN(MAX(Attainment, 0), Cap)"),
        Column("Contribution", Kind.PERCENT, "= Weight × Capped attainment; total = SUM"),
        Column("Note"),
    ]
