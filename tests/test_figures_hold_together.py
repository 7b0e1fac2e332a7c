"""Every figure has one definition, so the surfaces that show it agree (issue 12, items 2–3).

* one period window (`bot.calendar.windows`): a window that ends now covers today's dates too;
* one lateness rule (`bot.requests.deadlines`): on time / overdue, typed due dates vs SLA deadlines;
* a week in progress is measured now, a past week at its end ("open now" vs "at week end");
* a past week's coverage is as it stood at that week's end;
* the export agrees with itself and with `/align scorecard`, figure by figure.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import SQLModel

from bot.blocks.digests import build_scorecard
from bot.calendar.business import BusinessCalendar
from bot.calendar.windows import Window, quarter_window, week_window
from bot.core.deps import Deps
from bot.core.models import (
    Function,
    Opportunity,
    Quota,
    RequestStatus,
    RequestType,
    SupportRequest,
)
from bot.demo.workspace import generate_demo
from bot.export.period import ExportPeriod
from bot.export.workbook import build_workbook
from bot.kpis.catalogue import format_scored
from bot.kpis.coverage import coverage
from bot.kpis.digests import scorecard_for
from bot.kpis.scorecard import Weighting, compute_scorecard, describe_line
from bot.kpis.support import request_stats
from bot.requests.deadlines import Promise
from bot.requests.home import overdue_requests
from bot.workspace.settings import load_settings
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.helpers import block_texts
from tests.support.workspace import ADMIN, MARKETER, TEAM_ID, FixedClock, configure

NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
DEMO_TEAM = "TDEMO"
_numbers = iter(range(1, 10_000))


async def store(deps: Deps, *rows: SQLModel) -> None:
    async with deps.sessions() as session:
        session.add_all(rows)
        await session.commit()


def a_request(*, created_at: datetime, **fields: Any) -> SupportRequest:
    number = next(_numbers)
    return SupportRequest(
        team_id=TEAM_ID,
        number=number,
        request_type=fields.pop("request_type", RequestType.DEAL_DECK),
        status=fields.pop("status", RequestStatus.OPEN),
        requester_id="U0REP",
        source="command",
        source_key=f"held-{number}",
        created_at=created_at,
        updated_at=fields.pop("updated_at", created_at),
        **fields,
    )


# --------------------------------------------------------------------------------------
# One window
# --------------------------------------------------------------------------------------


def test_a_week_window_covers_monday_to_sunday_in_its_zone() -> None:
    week = week_window(date(2026, 11, 23), NEW_YORK)

    assert week.local_dates() == (date(2026, 11, 23), date(2026, 11, 30))
    assert week.last_date() == date(2026, 11, 29)


def test_a_window_ending_now_covers_today() -> None:
    quarter = quarter_window("2026-Q4", NEW_YORK)
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York

    to_date = quarter.up_to(now)

    assert to_date.local_dates() == (date(2026, 10, 1), date(2026, 11, 25))
    assert to_date.last_date() == date(2026, 11, 24)


def test_an_empty_window_covers_no_date() -> None:
    moment = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    empty = Window(moment, moment, "", NEW_YORK)

    first, after = empty.local_dates()

    assert first == after


def test_a_week_in_progress_is_measured_now_and_a_past_one_at_its_end() -> None:
    week = week_window(date(2026, 11, 23), UTC_ZONE)
    friday = datetime(2026, 11, 27, 10, tzinfo=UTC)
    next_tuesday = datetime(2026, 12, 1, 10, tzinfo=UTC)

    assert week.measured_at(friday) == friday
    assert week.measured_at(next_tuesday) == week.end


# --------------------------------------------------------------------------------------
# One lateness rule
# --------------------------------------------------------------------------------------

SLA_DEADLINE = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Friday 14:00, a business hour


def test_a_typed_due_date_promises_the_whole_day() -> None:
    promise = Promise(date(2026, 11, 27), due_from_sla=False, sla_deadline=SLA_DEADLINE)

    assert promise.late_from(UTC_ZONE) == datetime(2026, 11, 28, tzinfo=UTC)
    assert promise.kept_by(datetime(2026, 11, 27, 22, tzinfo=UTC), UTC_ZONE)


def test_a_due_date_from_the_sla_promises_the_sla_deadline_not_the_end_of_the_day() -> None:
    promise = Promise(date(2026, 11, 27), due_from_sla=True, sla_deadline=SLA_DEADLINE)

    assert promise.kept_by(SLA_DEADLINE, UTC_ZONE)
    assert not promise.kept_by(SLA_DEADLINE + timedelta(hours=3), UTC_ZONE)
    assert not promise.broken_at(SLA_DEADLINE, UTC_ZONE)
    assert promise.broken_at(SLA_DEADLINE + timedelta(minutes=1), UTC_ZONE)


def test_nothing_promised_is_never_late() -> None:
    promise = Promise(None, due_from_sla=False, sla_deadline=None)

    assert promise.late_from(UTC_ZONE) is None
    assert promise.kept_by(datetime(2030, 1, 1, tzinfo=UTC), UTC_ZONE)
    assert not promise.broken_at(datetime(2030, 1, 1, tzinfo=UTC), UTC_ZONE)


async def test_on_time_and_overdue_figures_follow_the_sla_deadline_when_the_due_date_came_from_it(
    deps: Deps,
) -> None:
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    # Both due Friday. The SLA one was delivered Friday afternoon, after its 14:00 deadline.
    from_sla = a_request(
        created_at=monday,
        status=RequestStatus.DELIVERED,
        due_date=date(2026, 11, 27),
        due_from_sla=True,
        sla_deadline=SLA_DEADLINE,
        delivered_at=SLA_DEADLINE + timedelta(hours=2),
        updated_at=SLA_DEADLINE + timedelta(hours=2),
    )
    typed = a_request(
        created_at=monday,
        status=RequestStatus.DELIVERED,
        due_date=date(2026, 11, 27),
        due_from_sla=False,
        sla_deadline=SLA_DEADLINE,
        delivered_at=SLA_DEADLINE + timedelta(hours=2),
        updated_at=SLA_DEADLINE + timedelta(hours=2),
    )
    # Still open: the SLA one is overdue from 14:01 Friday, the typed one only from Saturday.
    open_sla = a_request(
        created_at=monday, due_date=date(2026, 11, 27), due_from_sla=True, sla_deadline=SLA_DEADLINE
    )
    open_typed = a_request(
        created_at=monday, due_date=date(2026, 11, 27), sla_deadline=SLA_DEADLINE
    )
    await store(deps, from_sla, typed, open_sla, open_typed)
    calendar = BusinessCalendar(timezone="UTC")
    week = week_window(date(2026, 11, 23), UTC_ZONE)

    async with deps.sessions() as session:
        friday_evening = await request_stats(
            session,
            team_id=TEAM_ID,
            window=week,
            calendar=calendar,
            now=datetime(2026, 11, 27, 18, tzinfo=UTC),
        )

    assert (friday_evening.delivered, friday_evening.delivered_on_time) == (2, 1)
    assert (friday_evening.open_at_end, friday_evening.overdue_at_end) == (2, 1)
    assert not friday_evening.window_ended


# --------------------------------------------------------------------------------------
# Digests: now for the week in progress, its end for a past week
# --------------------------------------------------------------------------------------


async def _digest_text(slack: SlackSender, fake_slack: FakeSlack, words: str, tag: str) -> str:
    await slack.command(
        "/align", f"digest {words}", user_id=ADMIN, response_url=fake_slack.response_url(tag)
    )
    [answer] = await fake_slack.wait_for("response_url", lambda call: call.path.endswith(tag))
    return block_texts(answer.params["blocks"])


async def test_a_request_due_tomorrow_is_not_overdue_in_fridays_digest_but_is_once_the_week_ended(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 27, 10, tzinfo=UTC)  # Friday
    await slack.command(
        "/mktg",
        "deck Acme Corp $250k due tomorrow Renewal pitch",
        user_id="U0REP",
        response_url=fake_slack.response_url("filed"),
    )
    await fake_slack.wait_for("response_url", lambda call: call.path.endswith("filed"))
    clock.advance(minutes=5)

    friday = await _digest_text(slack, fake_slack, "support this", "friday")
    clock.now = datetime(2026, 11, 30, 10, tzinfo=UTC)  # the next Monday
    monday = await _digest_text(slack, fake_slack, "support last", "monday")

    assert "*Open now*\\n1" in friday
    assert "*Overdue now*\\n0" in friday
    assert "*Open at week end*\\n1" in monday
    assert "*Overdue at week end*\\n1" in monday  # due Saturday, still open Monday 00:00


async def test_a_past_weeks_coverage_is_as_it_stood_at_that_weeks_end(deps: Deps) -> None:
    imported = datetime(2026, 12, 2, 9, tzinfo=UTC)
    deal = {"team_id": TEAM_ID, "imported_at": imported, "updated_at": imported}
    await store(
        deps,
        Quota(
            team_id=TEAM_ID,
            quarter="2026-Q4",
            owner="*",
            amount_cents=100_000_00,
            updated_at=imported,
        ),
        # Won on 1 December: after week 48 ended, so open at its end.
        Opportunity(
            crm_id="006WON",
            amount_cents=40_000_00,
            created_date=date(2026, 11, 2),
            close_date=date(2026, 12, 1),
            is_won=True,
            is_closed=True,
            **deal,
        ),
        Opportunity(
            crm_id="006OPEN",
            amount_cents=150_000_00,
            created_date=date(2026, 11, 10),
            close_date=date(2026, 12, 20),
            **deal,
        ),
        # Created after week 48: not in its pipeline at all.
        Opportunity(
            crm_id="006LATE",
            amount_cents=70_000_00,
            created_date=date(2026, 12, 1),
            close_date=date(2026, 12, 22),
            **deal,
        ),
    )
    week_48 = week_window(date(2026, 11, 23), UTC_ZONE)
    today = datetime(2026, 12, 3, 12, tzinfo=UTC)

    async with deps.sessions() as session:
        then = await coverage(
            session,
            team_id=TEAM_ID,
            quarter="2026-Q4",
            tz=UTC_ZONE,
            now=today,
            until=week_48.end,
        )
        now = await coverage(session, team_id=TEAM_ID, quarter="2026-Q4", tz=UTC_ZONE, now=today)

    assert (then.booked_cents, then.open_pipeline_cents) == (0, 190_000_00)
    assert then.remaining_quota_cents == 100_000_00
    assert then.as_of == date(2026, 11, 29)
    assert then.imported_on == date(2026, 12, 2)  # amounts and stages as imported then
    assert (now.booked_cents, now.open_pipeline_cents) == (40_000_00, 220_000_00)
    assert now.remaining_quota_cents == 60_000_00
    assert now.imported_on is None


# --------------------------------------------------------------------------------------
# The export agrees with itself and with /align scorecard
# --------------------------------------------------------------------------------------


def _key_figures(ws: Worksheet) -> dict[tuple[str, str], Any]:
    """(function, metric) -> value of the Summary's "Key figures for the period" table."""
    figures: dict[tuple[str, str], Any] = {}
    inside = False
    for row in ws.iter_rows(values_only=True):
        if row and row[0] == "Key figures for the period":
            inside = True
            continue
        if inside:
            if not any(value is not None for value in row):
                break
            if row[0] != "Function":
                figures[(str(row[0]), str(row[1]))] = row[2]
    return figures


def _table(ws: Worksheet) -> list[dict[str, Any]]:
    rows = ws.iter_rows(values_only=True)
    header = [str(value) for value in next(rows)]
    table = []
    for row in rows:
        if all(value is None for value in row):
            break
        table.append(dict(zip(header, row, strict=False)))
    return table


def _dollars_to_cents(value: Any) -> int:
    return round(float(value) * 100)


async def test_every_figure_in_an_export_agrees_with_its_other_appearances(
    deps: Deps, clock: FixedClock, tmp_path: Path, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    async with deps.sessions() as session:
        await generate_demo(session, now=clock.now, team_id=DEMO_TEAM)
        settings = await load_settings(session, DEMO_TEAM)
    today = clock.now.astimezone(settings.zone).date()
    stamp = {"team_id": DEMO_TEAM, "imported_at": clock.now, "updated_at": clock.now}
    await store(
        deps,
        *(
            Opportunity(
                crm_id=f"006TODAY{index}",
                amount_cents=amount,
                created_date=today,
                close_date=today + timedelta(days=20),
                marketing_sourced=True,
                lead_source="Webinar",
                **stamp,
            )
            for index, amount in enumerate((1_234_500, 2_000_000))
        ),
    )

    async with deps.sessions() as session:
        result = await build_workbook(
            session,
            team_id=DEMO_TEAM,
            period=ExportPeriod(date(2026, 10, 1), date(2026, 12, 31)),
            settings=settings,
            out=tmp_path / "q4.xlsx",
            now=clock.now,
        )
        cards = {
            function: await scorecard_for(
                session,
                team_id=DEMO_TEAM,
                quarter="2026-Q4",
                function=function,
                settings=settings,
                now=clock.now,
            )
            for function in (Function.DEMAND_GEN, Function.SUPPORT)
        }
    book = load_workbook(result.path)
    key = _key_figures(book["Summary"])
    weekly = _table(book["Weekly KPIs"])
    pipeline = _table(book["Pipeline"])
    requests = _table(book["Requests"])
    scorecard_rows = {
        (row["Function"], row["Metric"]): row
        for row in _table(book["Scorecard"])
        if row["Quarter"] == "2026-Q4"
    }
    support, demandgen = Function.SUPPORT.label, Function.DEMAND_GEN.label

    # Marketing-sourced pipeline: Summary = Pipeline sheet = Scorecard sheet = scorecard_for.
    sourced_rows = [
        row
        for row in pipeline
        if row.get("Marketing-sourced") == "Yes"
        and str(row.get("In period because", "")).startswith("created")
    ]
    assert any(row["Created"].date() == today for row in sourced_rows)  # today is in
    sheet_sourced = sum(_dollars_to_cents(row["Amount"]) for row in sourced_rows)
    summary_sourced = _dollars_to_cents(key[(demandgen, "Marketing-sourced pipeline")])
    assert summary_sourced == sheet_sourced
    line = {item.metric: item for item in cards[Function.DEMAND_GEN].lines}
    assert line["sourced_pipeline"].actual == pytest.approx(summary_sourced)
    sourced_label = line["sourced_pipeline"].label
    assert (
        _dollars_to_cents(scorecard_rows[(demandgen, sourced_label)]["Actual"]) == summary_sourced
    )
    # ...and the weeks add up to the period.
    assert sum(_dollars_to_cents(week["Marketing-sourced pipeline"] or 0) for week in weekly) == (
        summary_sourced
    )

    # Requests filed / delivered: Summary = Σ weeks = the Requests sheet.
    filed = key[(support, "Requests filed")]
    assert filed == sum(week["Requests filed"] for week in weekly)
    assert filed == sum(1 for row in requests if row.get("Filed in period") == "Yes")
    delivered = key[(support, "Requests delivered")]
    assert delivered == sum(week["Requests delivered"] for week in weekly)
    support_lines = {item.metric: item for item in cards[Function.SUPPORT].lines}
    if "requests_delivered" in support_lines:
        assert support_lines["requests_delivered"].actual == delivered

    # Lead-to-opportunity conversion: Summary and the scorecard (at its shown precision).
    rate = key[(demandgen, "Lead-to-opportunity conversion")]
    for metric in ("lead_to_opportunity_rate", "campaign_effectiveness"):
        if metric in line and line[metric].actual is not None:
            assert format_scored(metric, rate) == format_scored(metric, line[metric].actual)

    # /align scorecard prints the same inputs as the workbook's Scorecard sheet.
    await configure(deps, team_id=DEMO_TEAM, leaders=(MARKETER,))
    await slack.command(
        "/align",
        "scorecard 2026-Q4",
        user_id=MARKETER,
        team_id=DEMO_TEAM,
        response_url=fake_slack.response_url("card"),
    )
    [answer] = await fake_slack.wait_for("response_url", lambda call: call.path.endswith("card"))
    for card in cards.values():
        for item in card.lines:
            if item.actual is not None and item.note is None:
                assert format_scored(item.metric, item.actual) in answer.params["text"]


# --------------------------------------------------------------------------------------
# Scorecard lines a person can check
# --------------------------------------------------------------------------------------

_LINE = re.compile(r"([0-9.,]+)(%| / 5|x)? of \$?([0-9.,]+)(%| / 5|x)? = ([0-9.]+)%")


@pytest.mark.parametrize(
    ("metric", "actual", "goal", "function"),
    [
        ("lead_to_opportunity_rate", 0.118644, 0.12, Function.DEMAND_GEN),
        ("enablement_satisfaction", 3.6923077, 4.0, Function.SUPPORT),
        ("pipeline_coverage", 2.34567, 3.0, Function.DEMAND_GEN),
        ("quota_attainment", 0.873333, 0.9, Function.SUPPORT),
    ],
)
def test_every_scorecard_line_recomputes_by_hand_from_what_it_prints(
    metric: str, actual: float, goal: float, function: Function
) -> None:
    card = compute_scorecard(
        function,
        "2026-Q4",
        actuals={metric: actual},
        targets={metric: goal},
        weights=(Weighting(metric, 1.0),),
    )
    [line] = card.lines

    printed = describe_line(line, cap=card.cap)
    match = _LINE.search(printed)
    assert match is not None, printed
    shown_actual = float(match.group(1).replace(",", ""))
    shown_goal = float(match.group(3).replace(",", ""))
    shown_attainment = float(match.group(5))

    # The printed attainment is the printed actual over the printed goal, to its last digit.
    assert round(shown_actual / shown_goal * 100, 2) == shown_attainment
    # /align scorecard and the terminal print the same inputs.
    assert format_scored(metric, line.actual) in build_scorecard(card)
    assert format_scored(metric, line.actual) in printed


async def test_the_queue_marks_overdue_by_the_same_rule_as_the_digest(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 27, 16, tzinfo=UTC)  # Friday, after the 14:00 SLA deadline
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    late_by_sla = a_request(
        created_at=monday,
        account="Slacker Inc",
        due_date=date(2026, 11, 27),
        due_from_sla=True,
        sla_deadline=SLA_DEADLINE,
    )
    due_tonight = a_request(
        created_at=monday,
        account="Tonight Corp",
        due_date=date(2026, 11, 27),
        sla_deadline=SLA_DEADLINE,
    )
    await store(configured, late_by_sla, due_tonight)

    await slack.command(
        "/align", "queue", user_id=ADMIN, response_url=fake_slack.response_url("queue")
    )
    [answer] = await fake_slack.wait_for("response_url", lambda call: call.path.endswith("queue"))
    [slacker] = [line for line in answer.params["text"].splitlines() if "Slacker" in line]
    [tonight] = [line for line in answer.params["text"].splitlines() if "Tonight" in line]
    assert "overdue" in slacker
    assert "overdue" not in tonight


async def test_app_homes_overdue_list_follows_the_same_rule(deps: Deps) -> None:
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    late_by_sla = a_request(
        created_at=monday, due_date=date(2026, 11, 27), due_from_sla=True, sla_deadline=SLA_DEADLINE
    )
    due_tonight = a_request(
        created_at=monday, due_date=date(2026, 11, 27), sla_deadline=SLA_DEADLINE
    )
    await store(deps, late_by_sla, due_tonight)

    async with deps.sessions() as session:
        page = await overdue_requests(
            session,
            team_id=TEAM_ID,
            now=datetime(2026, 11, 27, 16, tzinfo=UTC),
            tz=UTC_ZONE,
            limit=10,
        )

    assert [request.number for request in page.requests] == [late_by_sla.number]
