"""The Excel export (`bot.export.workbook`): every workbook is opened again with openpyxl and checked."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import SQLModel, col, select

import bot.export.workbook as workbook
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import (
    DeliveryStatus,
    Function,
    LeadCount,
    Opportunity,
    RequestStatus,
    RequestType,
    RunStatus,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyRun,
)
from bot.demo.workspace import generate_demo
from bot.export import reading
from bot.export.cells import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    HOURS_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    SCORE_FORMAT,
)
from bot.export.columns import ENABLEMENT_LABEL, SHEETS
from bot.export.period import ExportPeriod, export_filename, parse_export_period
from bot.export.workbook import ExportResult, build_workbook
from bot.kpis.digests import scorecard_for
from bot.workspace.settings import load_settings
from tests.support.workspace import TEAM_ID, configure

DEMO_TEAM = "TDEMO"
ZONE = "America/New_York"
NEW_YORK = ZoneInfo(ZONE)
Q4 = ExportPeriod(date(2026, 10, 1), date(2026, 12, 31))
INJECTIONS = ('=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "#N/A", "=1+1")
REPS = [f"U0REP{index:03d}" for index in range(1, 9)]


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


async def export(
    deps: Deps, tmp_path: Path, *, team_id: str = TEAM_ID, period: ExportPeriod = Q4
) -> ExportResult:
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        return await build_workbook(
            session,
            team_id=team_id,
            period=period,
            settings=settings,
            out=tmp_path / "export.xlsx",
            now=deps.clock(),
        )


def rows_of(ws: Worksheet) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in ws.iter_rows()]


def header(ws: Worksheet) -> list[Any]:
    values = [cell.value for cell in ws[1]]
    while values and values[-1] is None:  # a wider second table pads the first row
        values.pop()
    return values


def column(ws: Worksheet, title: str) -> list[Any]:
    """The data cells under a header of the sheet's first table."""
    index = header(ws).index(title)
    cells: list[Any] = []
    for row in ws.iter_rows(min_row=2):
        if all(cell.value is None for cell in row):
            break  # the blank row before a second table
        cells.append(row[index])
    return cells


def sheet_xml(path: Path, title: str) -> str:
    """The raw XML of a worksheet (write-only sheets are numbered in creation order)."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{SHEETS.index(title) + 1}.xml").decode()


def text_of(ws: Worksheet) -> str:
    return "\n".join(str(value) for row in rows_of(ws) for value in row if value is not None)


async def add(deps: Deps, *rows: SQLModel) -> None:
    async with deps.sessions() as session:
        session.add_all(rows)
        await session.commit()


def utc(local: datetime) -> datetime:
    return local.replace(tzinfo=NEW_YORK).astimezone(UTC)


_numbers: Iterator[int] = iter(range(1, 10_000))


def request(
    *,
    created: datetime,
    status: RequestStatus = RequestStatus.OPEN,
    account: str | None = "Acme Corp",
    details: str | None = "Renewal deck",
    amount_cents: int | None = 25_000_000,
    claimed: datetime | None = None,
    delivered: datetime | None = None,
    due: date | None = None,
) -> SupportRequest:
    number = next(_numbers)
    return SupportRequest(
        team_id=TEAM_ID,
        number=number,
        request_type=RequestType.DEAL_DECK,
        status=status,
        account=account,
        amount_cents=amount_cents,
        due_date=due,
        details=details,
        requester_id="U0REP001",
        source="command",
        source_key=f"key-{number}",
        created_at=created,
        updated_at=delivered or claimed or created,
        assignee_id="U0MKT" if claimed else None,
        claimed_at=claimed,
        delivered_at=delivered,
    )


async def run(deps: Deps, kind: SurveyKind, week_start: date) -> int:
    row = SurveyRun(
        team_id=TEAM_ID,
        kind=kind,
        period_start=week_start,
        period_end=week_start + timedelta(days=6),
        opens_at=utc(datetime.combine(week_start, datetime.min.time())),
        closes_at=utc(datetime.combine(week_start + timedelta(days=7), datetime.min.time())),
        status=RunStatus.CLOSED,
        created_at=utc(datetime.combine(week_start, datetime.min.time())),
    )
    async with deps.sessions() as session:
        session.add(row)
        await session.commit()
        assert row.id is not None
        return row.id


def response(
    run_id: int,
    user_id: str,
    *,
    kind: SurveyKind = SurveyKind.ENABLEMENT,
    score: int | None = None,
    comment: str | None = None,
    help_with: str | None = None,
    answered: datetime = datetime(2026, 11, 3, 15, tzinfo=UTC),
    **pipeline: Any,
) -> SurveyResponse:
    return SurveyResponse(
        run_id=run_id,
        team_id=TEAM_ID,
        kind=kind,
        user_id=user_id,
        score=score,
        comment=comment,
        help_with=help_with,
        created_at=answered,
        updated_at=answered,
        **pipeline,
    )


@pytest.fixture
async def workspace(deps: Deps) -> Deps:
    await configure(deps, timezone=ZONE)
    return deps


@pytest.fixture
async def demo(deps: Deps) -> Deps:
    async with deps.sessions() as session:
        await generate_demo(session, now=deps.clock(), team_id=DEMO_TEAM)
    return deps


# --------------------------------------------------------------------------------------
# The period
# --------------------------------------------------------------------------------------

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("from_text", "to_text", "start", "end"),
    [
        (None, None, date(2026, 10, 1), date(2026, 12, 31)),
        ("", "  ", date(2026, 10, 1), date(2026, 12, 31)),
        ("this", None, date(2026, 10, 1), date(2026, 12, 31)),
        ("q4", None, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-Q3", None, date(2026, 7, 1), date(2026, 9, 30)),
        ("Q1 2026", None, date(2026, 1, 1), date(2026, 3, 31)),
        ("last quarter", None, date(2026, 7, 1), date(2026, 9, 30)),
        ("last", None, date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-10-15", None, date(2026, 10, 15), date(2026, 12, 31)),
        ("2026-10-01", "2026-11-15", date(2026, 10, 1), date(2026, 11, 15)),
        ("2026-11", None, date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-02", "2026-03", date(2026, 2, 1), date(2026, 3, 31)),
        ("q3", "q4", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-09-01", "today", date(2026, 9, 1), TODAY),
        (None, "2026-11-15", date(2026, 10, 1), date(2026, 11, 15)),
        ("2026-11-24", "2026-11-24", TODAY, TODAY),
    ],
)
def test_export_periods_are_read_from_dates_months_and_quarters(
    from_text: str | None, to_text: str | None, start: date, end: date
) -> None:
    assert parse_export_period(from_text, to_text, today=TODAY) == ExportPeriod(start, end)


def test_a_start_after_the_end_is_refused_and_says_so() -> None:
    with pytest.raises(UserError) as error:
        parse_export_period("2026-12-01", "2026-11-01", today=TODAY)
    assert error.value.message.startswith("The start date is after the end date")
    assert "2026-12-01" in error.value.message


@pytest.mark.parametrize("text", ["yesterdayish", "2026-13-01", "2026-02-30", "01/10/2026", "q5"])
def test_an_unreadable_date_names_the_value_and_the_forms_it_can_take(text: str) -> None:
    with pytest.raises(UserError) as error:
        parse_export_period(text, None, today=TODAY)
    message = error.value.message
    assert text in message
    assert "2026-10-01" in message
    assert "Q4" in message


def test_a_period_longer_than_a_year_is_refused() -> None:
    with pytest.raises(UserError, match="at most 366 days"):
        parse_export_period("2025-01-01", "2026-06-30", today=TODAY)
    with pytest.raises(UserError, match="too far"):
        parse_export_period("1999-12-01", None, today=TODAY)


def test_a_quarter_period_is_labelled_and_named_as_the_quarter() -> None:
    assert Q4.quarter == "2026-Q4"
    assert export_filename(Q4) == "alignbot-export-2026-Q4.xlsx"
    partial = ExportPeriod(date(2026, 10, 1), date(2026, 11, 15))
    assert partial.quarter is None
    assert export_filename(partial) == ("alignbot-export-2026-10-01_to_2026-11-15.xlsx")


# --------------------------------------------------------------------------------------
# A realistic workbook
# --------------------------------------------------------------------------------------


async def test_the_demo_workbook_has_every_sheet_styled_typed_and_charted(
    demo: Deps, tmp_path: Path
) -> None:
    result = await export(demo, tmp_path, team_id=DEMO_TEAM)

    assert result.path == tmp_path / "export.xlsx"
    assert result.filename == "alignbot-export-2026-Q4.xlsx"
    assert not result.empty
    book = load_workbook(result.path)
    assert book.sheetnames == list(SHEETS)

    # Every table: a bold, filled header row, frozen, filtered, with fitted widths.
    for title in SHEETS[1:]:
        ws = book[title]
        assert ws.freeze_panes == "A2", title
        assert ws.auto_filter.ref is not None
        assert ws.auto_filter.ref.startswith("A1:"), title
        first = ws["A1"]
        assert first.font.bold, title
        assert first.fill.fgColor.rgb.endswith("1F4E78"), title
        widths = [ws.column_dimensions[letter].width for letter in "ABC"]
        assert all(6 <= width <= 60 for width in widths), (title, widths)

    weekly = book["Weekly KPIs"]
    assert header(weekly)[:5] == [
        "Week",
        "From",
        "To",
        "Requests filed",
        "Requests delivered",
    ]
    weeks = column(weekly, "Week")
    # Q4 up to Tuesday 24 November: ISO weeks 40 (from Thursday 1 October) to 48.
    assert [cell.value for cell in weeks] == [f"2026-W{week}" for week in range(40, 49)]
    assert result.rows["Weekly KPIs"] == 9
    assert column(weekly, "From")[0].value == datetime(2026, 10, 1)
    assert column(weekly, "From")[0].number_format == DATE_FORMAT
    assert column(weekly, "On-time %")[-2].number_format == PERCENT_FORMAT
    assert column(weekly, "Median hours to deliver")[-2].number_format == HOURS_FORMAT
    assert column(weekly, "Marketing-sourced pipeline")[-2].number_format == MONEY_FORMAT
    satisfaction = column(weekly, "Enablement satisfaction")
    assert all(isinstance(cell.value, int | float) for cell in satisfaction[1:])
    assert satisfaction[1].number_format == SCORE_FORMAT
    assert column(weekly, "Satisfaction note")[0].value == "survey week began before the period"

    requests = book["Requests"]
    assert header(requests)[:10] == [
        "Reference",
        "Type",
        "Status",
        "Account",
        "Amount",
        "Requester",
        "Assignee",
        "Created",
        "Claimed",
        "Delivered",
    ]
    created = column(requests, "Created")
    assert len(created) == result.rows["Requests"] > 20
    assert all(isinstance(cell.value, datetime) for cell in created)
    assert created[0].number_format == DATETIME_FORMAT
    note = requests.cell(row=1, column=header(requests).index("Created") + 1).comment
    assert note is not None
    assert ZONE in note.text
    assert "no time zones" in note.text
    amounts = [cell for cell in column(requests, "Amount") if cell.value is not None]
    assert amounts
    assert all(cell.number_format == MONEY_FORMAT for cell in amounts)
    assert {cell.value for cell in column(requests, "On time")} <= {"Yes", "No", None}
    assert column(requests, "Reference")[0].value.startswith("MS-")

    survey = book["Survey responses"]
    assert header(survey) == [
        "Survey",
        "Week",
        "Week starting",
        "Score",
        "What would help most",
        "Comment",
        "Note",
    ]
    pipeline = book["Pipeline"]
    assert header(pipeline)[:4] == ["CRM id", "Name", "Account", "Amount"]
    assert result.rows["Pipeline"] > 0
    assert column(pipeline, "Amount")[0].number_format == MONEY_FORMAT
    assert isinstance(column(pipeline, "Created")[0].value, datetime)

    scorecard = book["Scorecard"]
    formulas = [
        cell.value
        for row in scorecard.iter_rows(min_row=2)
        for cell in row
        if cell.data_type == "f"
    ]
    assert "=F2/G2" in formulas
    assert "=MIN(MAX(H2,0),I2)" in formulas
    assert "=E2*J2" in formulas
    assert any(str(formula).startswith("=SUM(K") for formula in formulas)

    summary = text_of(book["Summary"])
    assert "No data in this period" not in summary
    assert "Key figures for the period" in summary
    assert "Bonus attainment" in summary
    assert ZONE in summary

    # Native charts: a line chart of satisfaction, bar charts of hours to claim, hours to
    # deliver (each on its own scale) and pipeline.
    with zipfile.ZipFile(result.path) as archive:
        charts = sorted(name for name in archive.namelist() if name.startswith("xl/charts/"))
        xml = [archive.read(name).decode() for name in charts]
    assert charts == [f"xl/charts/chart{index}.xml" for index in (1, 2, 3, 4)]
    assert "<lineChart>" in xml[0]
    assert "'Weekly KPIs'!$N$2:$N$10" in xml[0]
    assert "<barChart>" in xml[1]
    assert "'Weekly KPIs'!$J$2:$J$10" in xml[1]
    assert "'Weekly KPIs'!$K$2:$K$10" not in xml[1]
    assert "<barChart>" in xml[2]
    assert "'Weekly KPIs'!$K$2:$K$10" in xml[2]
    assert "<barChart>" in xml[3]
    assert "'Weekly KPIs'!$Q$2:$Q$10" in xml[3]
    assert all("'Weekly KPIs'!$A$2:$A$10" in chart for chart in xml)


async def test_the_scorecard_formulas_compute_what_the_scorecard_says(
    demo: Deps, tmp_path: Path
) -> None:
    result = await export(demo, tmp_path, team_id=DEMO_TEAM)
    async with demo.sessions() as session:
        settings = await load_settings(session, DEMO_TEAM)
        cards = [
            await scorecard_for(
                session,
                team_id=DEMO_TEAM,
                quarter="2026-Q4",
                function=function,
                settings=settings,
                now=demo.clock(),
            )
            for function in (Function.DEMAND_GEN, Function.SUPPORT)
        ]
    ws = load_workbook(result.path)["Scorecard"]
    rows: dict[tuple[Any, Any], tuple[Any, ...]] = {
        (row[1].value, row[2].value): row
        for row in ws.iter_rows(min_row=2)
        if row[0].value == "2026-Q4"
    }
    computed = 0
    for card in cards:
        total = 0.0
        for line in card.lines:
            row = rows[(card.function.label, line.label)]
            weight, actual, goal, cap = (row[index].value for index in (4, 5, 6, 8))
            assert weight == pytest.approx(line.weight)
            assert cap == card.cap
            if line.contribution is None:
                assert row[7].value is None
                assert row[11].value == line.note
                continue
            # Evaluate the formulas the way a spreadsheet would.
            number = row[0].row
            assert row[7].value == f"=F{number}/G{number}"
            attainment = actual / goal
            assert attainment == pytest.approx(line.attainment)
            capped = min(max(attainment, 0), cap)
            assert weight * capped == pytest.approx(line.contribution)
            total += weight * capped
            computed += 1
        total_row = rows[(card.function.label, "Total")]
        if card.total is not None:
            assert str(total_row[10].value).startswith("=SUM(K")
            assert total == pytest.approx(card.total)
    assert computed >= 2


async def test_every_row_comes_once_across_pages(
    demo: Deps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyset pagination with tiny pages: nothing skipped, nothing twice."""
    whole = await export(demo, tmp_path, team_id=DEMO_TEAM)
    before = load_workbook(whole.path)
    monkeypatch.setattr(reading, "PAGE_ROWS", 7)
    paged = await export(demo, tmp_path / "paged", team_id=DEMO_TEAM)
    after = load_workbook(paged.path)
    assert paged.rows == whole.rows
    for title in ("Requests", "Survey responses", "Pipeline"):
        assert rows_of(after[title]) == rows_of(before[title]), title
    references = [cell.value for cell in column(after["Requests"], "Reference")]
    assert len(references) == len(set(references))

    async with demo.sessions() as session:
        window = Q4.window(NEW_YORK)
        filed = (
            await session.exec(
                select(sa.func.count()).where(
                    col(SupportRequest.team_id) == DEMO_TEAM,
                    col(SupportRequest.created_at) >= window.start,
                    col(SupportRequest.created_at) < window.end,
                )
            )
        ).one()
        created = (
            await session.exec(
                select(sa.func.count()).where(
                    col(Opportunity.team_id) == DEMO_TEAM,
                    col(Opportunity.created_date) >= Q4.start,
                    col(Opportunity.created_date) <= Q4.end,
                )
            )
        ).one()
    filed_here = [cell.value for cell in column(after["Requests"], "Filed in period")]
    assert filed_here.count("Yes") == filed
    reasons = [cell.value for cell in column(after["Pipeline"], "In period because")]
    assert reasons.count("created") == created


# --------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------


async def test_request_times_are_local_wall_clock_datetimes_with_their_durations(
    workspace: Deps, tmp_path: Path
) -> None:
    created = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # 09:30 in New York (EST)
    await add(
        workspace,
        request(
            created=created,
            status=RequestStatus.DELIVERED,
            claimed=created + timedelta(hours=1, minutes=30),
            delivered=created + timedelta(hours=26),
            due=date(2026, 11, 3),
        ),
        # Filed in September, delivered in the period: shown, marked as filed earlier.
        request(
            created=datetime(2026, 9, 28, 13, tzinfo=UTC),
            status=RequestStatus.DELIVERED,
            claimed=datetime(2026, 9, 28, 15, tzinfo=UTC),
            delivered=datetime(2026, 10, 2, 13, tzinfo=UTC),
            due=date(2026, 10, 1),
        ),
        # Filed and finished long before: not in this period at all.
        request(
            created=datetime(2026, 8, 3, 13, tzinfo=UTC),
            status=RequestStatus.DELIVERED,
            claimed=datetime(2026, 8, 3, 14, tzinfo=UTC),
            delivered=datetime(2026, 8, 4, 13, tzinfo=UTC),
        ),
    )
    result = await export(workspace, tmp_path)

    assert result.rows["Requests"] == 2
    ws = load_workbook(result.path)["Requests"]
    first, earlier = rows_of(ws)[1:3]
    names = header(ws)
    row = dict(zip(names, first, strict=True))
    assert row["Created"] == datetime(2026, 11, 2, 9, 30)
    assert row["Claimed"] == datetime(2026, 11, 2, 11, 0)
    assert row["Delivered"] == datetime(2026, 11, 3, 11, 30)
    assert row["Due date"] == datetime(2026, 11, 3)
    assert row["Hours to claim"] == pytest.approx(1.5)
    assert row["Hours to deliver"] == pytest.approx(26.0)
    assert row["On time"] == "Yes"
    assert row["Amount"] == 250_000
    assert row["Filed in period"] == "Yes"
    late = dict(zip(names, earlier, strict=True))
    assert late["Filed in period"] == "No"
    assert late["On time"] == "No"
    assert late["Created"] == datetime(2026, 9, 28, 9, 0)  # EDT in September


async def test_user_text_never_becomes_a_formula(workspace: Deps, tmp_path: Path) -> None:
    created = datetime(2026, 11, 2, 14, tzinfo=UTC)
    await add(
        workspace,
        *[
            request(created=created + timedelta(minutes=index), account=text, details=text)
            for index, text in enumerate(INJECTIONS)
        ],
    )
    run_id = await run(workspace, SurveyKind.ENABLEMENT, date(2026, 11, 2))
    await add(
        workspace,
        *[
            response(run_id, user, score=4, comment=INJECTIONS[index % len(INJECTIONS)])
            for index, user in enumerate(REPS)
        ],
    )
    result = await export(workspace, tmp_path)

    book = load_workbook(result.path)
    requests = book["Requests"]
    for title in ("Account", "Details"):
        cells = column(requests, title)
        assert [cell.value for cell in cells] == list(INJECTIONS)
        assert all(cell.data_type == "s" for cell in cells)
        assert all(cell.quotePrefix for cell in cells)
    comments = [cell for cell in column(book["Survey responses"], "Comment") if cell.value]
    assert sorted(cell.value for cell in comments) == sorted(
        INJECTIONS[index % len(INJECTIONS)] for index in range(len(REPS))
    )
    assert all(cell.data_type == "s" for cell in comments)
    for title in ("Requests", "Survey responses"):
        xml = sheet_xml(result.path, title)
        assert "<f>" not in xml
        assert "<f " not in xml
        assert 'HYPERLINK("http://x","y")' in xml  # as text


async def test_control_characters_are_stripped_and_long_text_is_cut_to_what_excel_holds(
    workspace: Deps, tmp_path: Path
) -> None:
    created = datetime(2026, 11, 2, 14, tzinfo=UTC)
    await add(
        workspace,
        request(created=created, account="Acme\x01 Corp\x07", details="line one\r\nline\x1b two"),
        request(created=created + timedelta(minutes=1), details="x" * 40_000),
    )
    result = await export(workspace, tmp_path)

    ws = load_workbook(result.path)["Requests"]
    assert column(ws, "Account")[0].value == "Acme Corp"
    details = [cell.value for cell in column(ws, "Details")]
    assert details[0] == "line one\nline two"
    assert len(details[1]) == 32_767
    assert details[1].endswith("…")


# --------------------------------------------------------------------------------------
# Survey responses: the anonymity rules
# --------------------------------------------------------------------------------------


async def test_enablement_answers_are_anonymous_and_thin_weeks_are_left_out(
    workspace: Deps, tmp_path: Path
) -> None:
    full_week, thin_week, few_scores_week = date(2026, 11, 2), date(2026, 11, 9), date(2026, 10, 26)
    full = await run(workspace, SurveyKind.ENABLEMENT, full_week)
    thin = await run(workspace, SurveyKind.ENABLEMENT, thin_week)
    few = await run(workspace, SurveyKind.ENABLEMENT, few_scores_week)
    pipeline = await run(workspace, SurveyKind.PIPELINE, full_week)
    # Submitted in reverse alphabetical order: the export must not keep submission order.
    comments = ["Zippy turnaround", "Needs more ROI material", "Great deck", "Case studies!"]
    answers = [
        response(
            full,
            user,
            score=[5, 2, 4, 3, 4, 5][index],
            comment=comments[index] if index < len(comments) else None,
            help_with="roi" if index % 2 else "case_studies",
            answered=datetime(2026, 11, 3, 9 + index, tzinfo=UTC),
        )
        for index, user in enumerate(REPS[:6])
    ]
    answers += [
        response(thin, REPS[0], score=1, comment="Terrible week, call me"),
        response(thin, REPS[1], score=2),
    ]
    # Five answered, but only two gave a score: the scores of that week are withheld.
    answers += [response(few, user, comment=f"note {index}") for index, user in enumerate(REPS[:3])]
    answers += [response(few, user, score=5) for user in REPS[3:5]]
    answers += [
        response(
            pipeline,
            REPS[0],
            kind=SurveyKind.PIPELINE,
            opportunities=2,
            pipeline_cents=5_000_000,
            sourced_count=1,
            sourced_cents=2_000_000,
            influenced_count=1,
            influenced_cents=3_000_000,
            activities='["webinar", "ms:5:MS-5"]',
        )
    ]
    await add(workspace, *answers)
    result = await export(workspace, tmp_path)

    ws = load_workbook(result.path)["Survey responses"]
    rows = rows_of(ws)
    labels = [row[0] for row in rows]
    enablement = [row for row in rows if row[0] == ENABLEMENT_LABEL]
    pipeline_header = labels.index("Survey", 1)
    assert all(index < pipeline_header for index, row in enumerate(rows) if row in enablement)

    # No user id anywhere in the anonymous part, and no column that could hold one.
    assert header(ws) == [
        "Survey",
        "Week",
        "Week starting",
        "Score",
        "What would help most",
        "Comment",
        "Note",
    ]
    anonymous_text = "\n".join(str(value) for row in rows[:pipeline_header] for value in row)
    assert not re.search(r"U0REP\d", anonymous_text)
    assert "Terrible week" not in anonymous_text

    # The thin week: one note row, nothing else.
    thin_rows = [row for row in enablement if row[1] == "2026-W46"]
    assert len(thin_rows) == 1
    assert "fewer than 5 people answered" in thin_rows[0][6]
    assert thin_rows[0][3:6] == [None, None, None]

    # The full week: every answer, ordered by what it says, comments kept.
    full_rows = [row for row in enablement if row[1] == "2026-W45"]
    assert [row[3] for row in full_rows] == [2, 3, 4, 4, 5, 5]
    assert sorted(row[5] for row in full_rows if row[5]) == sorted(comments)
    assert {row[4] for row in full_rows} == {"ROI material", "Case studies"}

    # Five answered but two scored: the comments show, the scores don't.
    few_rows = [row for row in enablement if row[1] == "2026-W44"]
    assert "Scores withheld" in few_rows[0][6]
    assert all(row[3] is None for row in few_rows)
    assert [row[5] for row in few_rows[1:]] == ["note 0", "note 1", "note 2"]
    assert result.rows["Survey responses"] == 6 + 3 + 1

    # Pipeline answers are named business data.
    pipeline_rows = rows[pipeline_header + 1 :]
    assert rows[pipeline_header][:4] == ["Survey", "Week", "Week starting", "Rep"]
    assert len(pipeline_rows) == 1
    named = dict(zip(rows[pipeline_header], pipeline_rows[0], strict=False))
    assert named["Rep"] == REPS[0]
    assert named["Marketing-sourced pipeline"] == 20_000
    assert named["Activities"] == "Webinar, Support request MS-5"

    # The weekly figures follow the same rule.
    weekly = load_workbook(result.path)["Weekly KPIs"]
    by_week = {row[0]: dict(zip(header(weekly), row, strict=True)) for row in rows_of(weekly)[1:]}
    assert by_week["2026-W45"]["Enablement satisfaction"] == pytest.approx(23 / 6)
    assert by_week["2026-W46"]["Enablement satisfaction"] is None
    assert "withheld" in by_week["2026-W46"]["Satisfaction note"]


async def test_a_week_with_answers_but_no_respondents_shown_is_a_note_not_a_count(
    workspace: Deps, tmp_path: Path
) -> None:
    """A run nobody answered is a withheld group too: its note gives no count."""
    await configure(workspace, survey_min_respondents=3)
    quiet = await run(workspace, SurveyKind.ENABLEMENT, date(2026, 11, 16))
    await add(
        workspace,
        SurveyDelivery(
            run_id=quiet,
            team_id=TEAM_ID,
            user_id=REPS[0],
            status=DeliveryStatus.SENT,
            send_at=datetime(2026, 11, 16, 15, tzinfo=UTC),
        ),
    )
    result = await export(workspace, tmp_path)

    rows = rows_of(load_workbook(result.path)["Survey responses"])
    notes = [row for row in rows if row[1] == "2026-W47"]
    assert len(notes) == 1
    assert notes[0][6].startswith("Week left out: fewer than 3 people answered")


# --------------------------------------------------------------------------------------
# Empty periods
# --------------------------------------------------------------------------------------


async def test_a_period_without_data_gives_a_workbook_that_says_so(
    workspace: Deps, tmp_path: Path
) -> None:
    await add(
        workspace,
        request(created=datetime(2026, 11, 2, 14, tzinfo=UTC)),
        LeadCount(
            team_id=TEAM_ID,
            week_start=date(2026, 11, 2),
            leads=40,
            updated_at=datetime(2026, 11, 2, tzinfo=UTC),
        ),
    )
    result = await export(
        workspace, tmp_path, period=ExportPeriod(date(2026, 1, 1), date(2026, 3, 31))
    )

    assert result.empty
    assert result.rows["Requests"] == 0
    book = load_workbook(result.path)
    assert book.sheetnames == list(SHEETS)
    assert "No data in this period" in text_of(book["Summary"])
    assert header(book["Requests"])[0] == "Reference"
    assert len(rows_of(book["Requests"])) == 1
    assert len(rows_of(book["Weekly KPIs"])) == 1 + 14  # 1 Jan (a Thursday) to 31 Mar

    # Leads alone are data.
    result = await export(
        workspace, tmp_path, period=ExportPeriod(date(2026, 11, 2), date(2026, 11, 8))
    )
    assert not result.empty


async def test_a_period_in_the_future_is_empty_and_has_no_weeks_yet(
    workspace: Deps, tmp_path: Path
) -> None:
    result = await export(
        workspace, tmp_path, period=ExportPeriod(date(2027, 1, 1), date(2027, 3, 31))
    )

    assert result.empty
    book = load_workbook(result.path)
    assert len(rows_of(book["Weekly KPIs"])) == 1
    assert "No quarter of this period has started yet." in text_of(book["Summary"])
    with zipfile.ZipFile(result.path) as archive:
        assert not [name for name in archive.namelist() if name.startswith("xl/charts/")]


# --------------------------------------------------------------------------------------
# Where the writing happens
# --------------------------------------------------------------------------------------


async def test_a_big_export_is_written_in_its_own_process_and_comes_out_the_same(
    demo: Deps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.export.workbook")
    in_thread = await export(demo, tmp_path / "thread", team_id=DEMO_TEAM)
    assert "writer=thread" in caplog.text
    monkeypatch.setattr(workbook, "PROCESS_MIN_ROWS", 0)
    in_process = await export(demo, tmp_path / "process", team_id=DEMO_TEAM)
    assert "writer=process" in caplog.text

    assert in_process.rows == in_thread.rows
    first, second = load_workbook(in_thread.path), load_workbook(in_process.path)
    for title in SHEETS:
        assert rows_of(second[title]) == rows_of(first[title]), title
