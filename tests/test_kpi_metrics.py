"""The KPI definitions behind the digests and scorecards (bot/kpis/support, satisfaction, pipeline, coverage; PRODUCT.md §3–4).

Rows are inserted straight into a fresh database and every expected figure is worked out by
hand in the test, with the arithmetic in comments. Unless a test says otherwise the workspace
is in UTC with business hours Mon–Fri 09:00–17:00, and the week under test is ISO week 47 of
2026: Monday 16 to Sunday 22 November.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import SQLModel

from bot.calendar.business import BusinessCalendar
from bot.calendar.windows import Window, quarter_of, quarter_window, week_window
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import (
    DeliveryRating,
    DeliveryStatus,
    LeadCount,
    Opportunity,
    Quota,
    RequestEvent,
    RequestStatus,
    RequestType,
    RunStatus,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyRun,
)
from bot.kpis import durations, pipeline, support
from bot.kpis.coverage import coverage
from bot.kpis.durations import Durations, summarise_durations
from bot.kpis.objections import objection_themes
from bot.kpis.pipeline import ActivityImpact, pipeline_stats, rank_activities, split_evenly
from bot.kpis.satisfaction import satisfaction_stats
from bot.kpis.support import TypeCount, delivered_on_time, request_stats
from bot.surveys.privacy import NO_RESPONSES_TEXT, WITHHELD_TEXT, Aggregate
from tests.support.workspace import TEAM_ID, configure

UTC_ZONE = ZoneInfo("UTC")
TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
OTHER_TEAM = "T0OTHER"
WEEK_47 = date(2026, 11, 16)
WEEK_46 = date(2026, 11, 9)
WEEK_45 = date(2026, 11, 2)
UTC_CALENDAR = BusinessCalendar(timezone="UTC")
NO_DURATIONS = Durations(count=0, median=None, p90=None)
NO_ANSWERS = Aggregate(respondents=0, value=None, withheld=False)
_numbers = count(1)


def nov(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in November 2026, UTC (16 Nov is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def store(deps: Deps, *rows: SQLModel) -> None:
    async with deps.sessions() as session:
        session.add_all(rows)
        await session.commit()


def a_request(
    *,
    created_at: datetime,
    status: RequestStatus = RequestStatus.OPEN,
    request_type: RequestType = RequestType.DEAL_DECK,
    team_id: str = TEAM_ID,
    **fields: Any,
) -> SupportRequest:
    number = next(_numbers)
    return SupportRequest(
        team_id=team_id,
        number=number,
        request_type=request_type,
        status=status,
        requester_id="U0REP",
        source="command",
        source_key=f"test-{number}",
        created_at=created_at,
        updated_at=fields.pop("updated_at", created_at),
        **fields,
    )


def an_event(
    request: SupportRequest, to_status: RequestStatus, at: datetime, action: str = "test"
) -> RequestEvent:
    assert request.id is not None
    return RequestEvent(
        request_id=request.id,
        team_id=request.team_id,
        actor_id="U0MKT",
        action=action,
        from_status=RequestStatus.OPEN,
        to_status=to_status,
        created_at=at,
    )


def a_run(kind: SurveyKind, week_start: date, *, team_id: str = TEAM_ID) -> SurveyRun:
    window = week_window(week_start, UTC_ZONE)
    return SurveyRun(
        team_id=team_id,
        kind=kind,
        period_start=week_start,
        period_end=week_start + timedelta(days=6),
        opens_at=window.start,
        closes_at=window.end,
        status=RunStatus.CLOSED,
        created_at=window.start,
    )


def a_response(run: SurveyRun, user: str, **answers: Any) -> SurveyResponse:
    assert run.id is not None
    return SurveyResponse(
        run_id=run.id,
        team_id=run.team_id,
        kind=run.kind,
        user_id=user,
        created_at=run.opens_at,
        updated_at=run.opens_at,
        **answers,
    )


def a_delivery(run: SurveyRun, user: str, status: DeliveryStatus) -> SurveyDelivery:
    assert run.id is not None
    return SurveyDelivery(
        run_id=run.id, team_id=run.team_id, user_id=user, status=status, send_at=run.opens_at
    )


def an_opportunity(
    amount_dollars: int,
    *,
    created: date | None = None,
    closes: date | None = None,
    sourced: bool = False,
    won: bool = False,
    closed: bool = False,
) -> Opportunity:
    return Opportunity(
        team_id=TEAM_ID,
        crm_id=f"opp-{next(_numbers)}",
        amount_cents=amount_dollars * 100,
        created_date=created,
        close_date=closes,
        marketing_sourced=sourced,
        is_won=won,
        is_closed=closed or won,
        imported_at=nov(1),
        updated_at=nov(1),
    )


async def stats_for(
    deps: Deps, week_start: date = WEEK_47, calendar: BusinessCalendar = UTC_CALENDAR
) -> Any:
    async with deps.sessions() as session:
        return await request_stats(
            session,
            team_id=TEAM_ID,
            window=week_window(week_start, calendar.zone),
            calendar=calendar,
        )


# --- windows ---------------------------------------------------------------------------------


def test_a_week_runs_from_monday_midnight_to_the_next_in_the_workspace_zone() -> None:
    week_start = date(2026, 11, 23)

    window = week_window(week_start, TOKYO)

    # Tokyo is UTC+9: Monday 00:00 JST is Sunday 15:00 UTC.
    assert window.start == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    assert window.label == "2026-W48"


def test_a_week_with_the_clocks_going_back_lasts_169_hours() -> None:
    week_start = date(2026, 10, 19)  # Berlin leaves summer time on Sunday 25 October

    window = week_window(week_start, BERLIN)

    assert window.end - window.start == timedelta(hours=169)
    assert window.label == "2026-W43"


def test_a_week_must_start_on_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        week_window(date(2026, 11, 17), UTC_ZONE)


def test_a_quarter_runs_from_its_first_day_to_the_next_quarters_in_local_time() -> None:
    quarter = "2026-Q4"

    window = quarter_window(quarter, BERLIN)

    # 1 Oct is summer time (UTC+2), 1 Jan winter time (UTC+1).
    assert window.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert window.label == "2026-Q4"


def test_the_quarter_of_a_date_changes_on_the_first_of_october() -> None:
    assert quarter_of(date(2026, 9, 30)) == "2026-Q3"
    assert quarter_of(date(2026, 10, 1)) == "2026-Q4"
    assert quarter_of(date(2027, 1, 1)) == "2027-Q1"


def test_a_malformed_quarter_is_refused_with_an_example() -> None:
    with pytest.raises(UserError, match="2026-Q4"):
        quarter_window("2026-Q5", UTC_ZONE)


# --- durations -------------------------------------------------------------------------------


def test_median_and_nearest_rank_p90_with_ties() -> None:
    hours = [5, 1, 3, 3, 3, 8, 2, 2, 9, 4]

    durations = summarise_durations(hours)

    # Sorted: 1 2 2 3 3 | 3 4 5 8 9. Median = (3 + 3) / 2 = 3. p90: rank ceil(0.9 × 10) = 9 → 8.
    assert durations == Durations(count=10, median=3.0, p90=8)


def test_median_of_an_odd_count_is_the_middle_value_and_p90_rounds_the_rank_up() -> None:
    durations = summarise_durations([4.0, 1.0, 4.0])

    # Sorted 1 4 4: median 4; p90 rank ceil(2.7) = 3 → 4.
    assert durations == Durations(count=3, median=4.0, p90=4.0)


def test_no_durations_have_no_median() -> None:
    assert summarise_durations([]) == NO_DURATIONS


# --- requests: volumes, on time, open and overdue ----------------------------------------------


async def test_an_empty_week_has_zeros_and_no_rates(deps: Deps) -> None:
    stats = await stats_for(deps)

    assert (stats.filed, stats.delivered, stats.delivered_on_time) == (0, 0, 0)
    assert (stats.open_at_end, stats.overdue_at_end) == (0, 0)
    assert stats.on_time_rate is None
    assert stats.time_to_claim == stats.time_to_deliver_business == NO_DURATIONS
    assert stats.by_type == {}
    assert stats.top_objections == []
    assert (stats.ratings, stats.rating_average) == (0, None)
    assert (stats.helped_yes, stats.helped_no, stats.helped_share) == (0, 0, None)


async def test_filed_and_delivered_are_counted_per_type_within_the_week(deps: Deps) -> None:
    await store(
        deps,
        a_request(created_at=nov(16, 9), request_type=RequestType.DEAL_DECK),
        a_request(created_at=nov(22, 23, 59), request_type=RequestType.DEAL_DECK),
        a_request(
            created_at=nov(17),
            request_type=RequestType.CASE_STUDY,
            status=RequestStatus.DELIVERED,
            delivered_at=nov(18),
        ),
        # Filed the week before, delivered this week: delivered here, filed there.
        a_request(
            created_at=nov(12),
            request_type=RequestType.ROI_CASE,
            status=RequestStatus.DELIVERED,
            delivered_at=nov(20),
        ),
        # Reopened after delivery: no longer delivered.
        a_request(created_at=nov(17), status=RequestStatus.CLAIMED, delivered_at=None),
        a_request(created_at=nov(23)),  # next week
        a_request(created_at=nov(18), team_id=OTHER_TEAM),  # another workspace
    )

    stats = await stats_for(deps)

    assert stats.filed == 4
    assert stats.delivered == 2
    assert stats.by_type == {
        "deal_deck": TypeCount(filed=3, delivered=0),
        "case_study": TypeCount(filed=1, delivered=1),
        "roi_case": TypeCount(filed=0, delivered=1),
    }


async def test_delivery_counts_on_time_until_the_end_of_the_due_date_in_the_workspace_zone(
    deps: Deps,
) -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin")
    due = date(2026, 11, 18)
    await store(
        deps,
        # 22:30 UTC is 23:30 in Berlin on the due date: after closing time, still on time.
        a_request(
            created_at=nov(16, 10),
            status=RequestStatus.DELIVERED,
            due_date=due,
            delivered_at=nov(18, 22, 30),
        ),
        # 23:30 UTC is already 00:30 on the 19th in Berlin: late.
        a_request(
            created_at=nov(16, 10),
            status=RequestStatus.DELIVERED,
            due_date=due,
            delivered_at=nov(18, 23, 30),
        ),
        # Without a due date the SLA deadline decides: delivered after it, late.
        a_request(
            created_at=nov(16, 10),
            status=RequestStatus.DELIVERED,
            sla_deadline=nov(17, 12),
            delivered_at=nov(17, 12, 1),
        ),
        # ...and exactly at it, on time.
        a_request(
            created_at=nov(16, 10),
            status=RequestStatus.DELIVERED,
            sla_deadline=nov(17, 12),
            delivered_at=nov(17, 12),
        ),
    )

    stats = await stats_for(deps, calendar=berlin)

    assert (stats.delivered, stats.delivered_on_time) == (4, 2)
    assert stats.on_time_rate == 0.5


async def test_open_and_overdue_at_the_end_of_the_week_replay_each_requests_events(
    deps: Deps,
) -> None:
    end = nov(23)  # the week ends Monday 23 November 00:00
    still_open = a_request(created_at=nov(10), due_date=date(2026, 11, 20))
    claimed = a_request(
        created_at=nov(18), status=RequestStatus.CLAIMED, due_date=date(2026, 11, 25)
    )
    delivered_in_week = a_request(
        created_at=nov(12),
        status=RequestStatus.DELIVERED,
        delivered_at=nov(18),
        updated_at=nov(18),
        due_date=date(2026, 11, 13),
    )
    delivered_after = a_request(
        created_at=nov(12),
        status=RequestStatus.DELIVERED,
        delivered_at=nov(24),
        updated_at=nov(24),
        due_date=date(2026, 11, 22),
    )
    cancelled = a_request(created_at=nov(11), status=RequestStatus.CANCELLED, updated_at=nov(17))
    declined_then_reopened = a_request(
        created_at=nov(11),
        status=RequestStatus.OPEN,
        updated_at=nov(25),
        due_date=date(2026, 11, 21),
    )
    due_on_the_last_day = a_request(created_at=nov(16), due_date=date(2026, 11, 23))
    filed_after = a_request(created_at=end + timedelta(minutes=1), due_date=date(2026, 11, 1))
    await store(
        deps,
        still_open,
        claimed,
        delivered_in_week,
        delivered_after,
        cancelled,
        declined_then_reopened,
        due_on_the_last_day,
        filed_after,
    )
    await store(
        deps,
        an_event(claimed, RequestStatus.CLAIMED, nov(19)),
        an_event(delivered_in_week, RequestStatus.CLAIMED, nov(13)),
        an_event(delivered_in_week, RequestStatus.DELIVERED, nov(18)),
        an_event(delivered_after, RequestStatus.CLAIMED, nov(13)),
        an_event(delivered_after, RequestStatus.DELIVERED, nov(24)),
        an_event(cancelled, RequestStatus.CANCELLED, nov(17)),
        an_event(declined_then_reopened, RequestStatus.DECLINED, nov(20)),
        an_event(declined_then_reopened, RequestStatus.OPEN, nov(25)),
    )

    stats = await stats_for(deps)

    # Open at the end: still_open, claimed, delivered_after (only claimed then),
    # due_on_the_last_day = 4. Declined_then_reopened was declined then; cancelled and
    # delivered_in_week were closed; filed_after didn't exist yet.
    assert stats.open_at_end == 4
    # Overdue: due before Monday 23rd — still_open (20th) and delivered_after (22nd).
    # Due on the 23rd itself is not overdue yet.
    assert stats.overdue_at_end == 2


async def test_a_request_filed_sunday_night_utc_belongs_to_the_next_week_in_tokyo(
    deps: Deps,
) -> None:
    tokyo = BusinessCalendar(timezone="Asia/Tokyo")
    await store(deps, a_request(created_at=nov(22, 23, 30)))  # Monday 08:30 in Tokyo

    week_47 = await stats_for(deps, WEEK_47, calendar=tokyo)
    week_48 = await stats_for(deps, date(2026, 11, 23), calendar=tokyo)

    assert week_47.filed == 0
    assert week_48.filed == 1
    assert week_48.by_type == {"deal_deck": TypeCount(filed=1, delivered=0)}


# --- requests: turnaround ----------------------------------------------------------------------


async def test_time_to_claim_counts_calendar_hours_and_business_hours_across_nights_and_weekends(
    deps: Deps,
) -> None:
    await store(
        deps,
        # Thu 16:00 → Fri 10:00: 18 calendar hours; business Thu 16–17 + Fri 9–10 = 2 h.
        a_request(created_at=nov(19, 16), status=RequestStatus.CLAIMED, claimed_at=nov(20, 10)),
        # Fri 13th 16:30 → Mon 09:30: 65 calendar hours; business 0.5 + 0.5 = 1 h.
        a_request(
            created_at=nov(13, 16, 30), status=RequestStatus.CLAIMED, claimed_at=nov(16, 9, 30)
        ),
        # Sat 12:00 → Mon 12:00: 48 calendar hours; business Mon 9–12 = 3 h.
        a_request(created_at=nov(14, 12), status=RequestStatus.CLAIMED, claimed_at=nov(16, 12)),
        # Claimed the week before: not this week's.
        a_request(created_at=nov(9, 9), status=RequestStatus.CLAIMED, claimed_at=nov(9, 10)),
    )

    stats = await stats_for(deps)

    # Calendar 18, 48, 65: median 48, p90 rank ceil(2.7) = 3 → 65.
    assert stats.time_to_claim == Durations(count=3, median=48.0, p90=65.0)
    # Business 1, 2, 3: median 2, p90 3.
    assert stats.time_to_claim_business == Durations(count=3, median=2.0, p90=3.0)


async def test_time_to_deliver_in_business_hours_leaves_out_waiting_on_the_requester(
    deps: Deps,
) -> None:
    paused = a_request(
        created_at=nov(16, 9), status=RequestStatus.DELIVERED, delivered_at=nov(17, 16)
    )
    over_weekend = a_request(
        created_at=nov(13, 15), status=RequestStatus.DELIVERED, delivered_at=nov(16, 11)
    )
    quick = a_request(
        created_at=nov(18, 9), status=RequestStatus.DELIVERED, delivered_at=nov(18, 9, 30)
    )
    await store(deps, paused, over_weekend, quick)
    await store(
        deps,
        an_event(paused, RequestStatus.CLAIMED, nov(16, 10)),
        an_event(paused, RequestStatus.WAITING, nov(16, 11)),
        an_event(paused, RequestStatus.IN_PROGRESS, nov(17, 14)),
        an_event(paused, RequestStatus.DELIVERED, nov(17, 16)),
        an_event(over_weekend, RequestStatus.CLAIMED, nov(13, 16)),
        an_event(over_weekend, RequestStatus.DELIVERED, nov(16, 11)),
    )

    stats = await stats_for(deps)

    # Calendar: Mon 9:00 → Tue 16:00 = 31 h; Fri 15:00 → Mon 11:00 = 68 h; 0.5 h.
    assert stats.time_to_deliver == Durations(count=3, median=31.0, p90=68.0)
    # Business: paused = Mon 8 h + Tue 7 h − waiting (Mon 11–17 = 6 h, Tue 9–14 = 5 h) = 4 h;
    # over_weekend = Fri 15–17 + Mon 9–11 = 4 h; quick = 0.5 h. Sorted 0.5 4 4: median 4.
    assert stats.time_to_deliver_business == Durations(count=3, median=4.0, p90=4.0)


# --- requests: objections and ratings ----------------------------------------------------------


def test_objection_themes_match_whole_words_and_default_to_other() -> None:
    assert objection_themes("Their pricing is too high") == ["price/budget"]
    assert objection_themes("Too expensive vs Globex") == ["price/budget", "competitor"]
    assert objection_themes("capital expenditure approval") == ["other"]  # no "api" in it
    assert objection_themes(None) == ["other"]


async def test_top_objections_rank_themes_of_objection_requests_filed_in_the_week(
    deps: Deps,
) -> None:
    objection = RequestType.OBJECTION_HELP
    await store(
        deps,
        a_request(
            created_at=nov(16),
            request_type=objection,
            account="Acme",
            details="Too expensive vs Globex",
        ),
        a_request(
            created_at=nov(17),
            request_type=objection,
            account="Initech",
            details="Security review: they need our SOC 2 report",
        ),
        a_request(
            created_at=nov(18),
            request_type=objection,
            account="Hooli",
            details="Budget is frozen until next year",
        ),
        a_request(
            created_at=nov(19),
            request_type=objection,
            account="Umbrella",
            details="Does our API integrate with SAP?",
        ),
        a_request(created_at=nov(20), request_type=objection, account="Wayne ROI committee"),
        a_request(created_at=nov(21), request_type=objection, account="Stark"),
        # Not objection help, or not this week: left out.
        a_request(created_at=nov(18), request_type=RequestType.DEAL_DECK, details="expensive"),
        a_request(created_at=nov(10), request_type=objection, details="price"),
    )

    stats = await stats_for(deps)

    # price/budget: Acme (expensive) + Hooli (budget) = 2. other: Wayne and Stark, whose
    # details say nothing (an account named "ROI committee" is not an ROI objection).
    assert stats.top_objections == [
        ("other", 2),
        ("price/budget", 2),
        ("competitor", 1),
        ("integration/technical", 1),
        ("security/compliance", 1),
        ("timing", 1),
    ]


async def test_ratings_leave_out_discarded_ones_and_helped_share_ignores_too_early(
    deps: Deps,
) -> None:
    requests = [
        a_request(created_at=nov(10), status=RequestStatus.DELIVERED, delivered_at=nov(day))
        for day in (17, 18, 19, 20, 10)
    ]
    await store(deps, *requests)
    great, fine, good, reopened, last_week = requests
    events = [
        an_event(great, RequestStatus.DELIVERED, nov(17)),
        an_event(fine, RequestStatus.DELIVERED, nov(18)),
        an_event(good, RequestStatus.DELIVERED, nov(19)),
        an_event(reopened, RequestStatus.DELIVERED, nov(18)),
        an_event(reopened, RequestStatus.DELIVERED, nov(20)),
        an_event(last_week, RequestStatus.DELIVERED, nov(10)),
    ]
    await store(deps, *events)

    def rating(event: RequestEvent, score: int | None, helped: str, **more: Any) -> DeliveryRating:
        assert event.id is not None
        return DeliveryRating(
            request_id=event.request_id,
            delivery_event_id=event.id,
            team_id=TEAM_ID,
            rater_id="U0REP",
            score=score,
            helped=helped,
            created_at=event.created_at,
            updated_at=event.created_at,
            **more,
        )

    await store(
        deps,
        rating(events[0], 5, "yes"),
        rating(events[1], 3, "too_early"),
        rating(events[2], 4, "no"),
        rating(events[3], 1, "no", discarded=True),  # the first delivery, then reopened
        rating(events[4], None, "yes"),  # the redelivery: helped, no score yet
        rating(events[5], 2, "yes"),  # delivered last week
    )

    stats = await stats_for(deps)

    # Scores 5, 3, 4: three ratings, average 4.
    assert (stats.ratings, stats.rating_average) == (3, 4.0)
    # Helped: yes ×2 (great, the redelivery), no ×1 (good); too early left out: 2 / 3.
    assert (stats.helped_yes, stats.helped_no) == (2, 1)
    assert stats.helped_share == pytest.approx(2 / 3)


# --- enablement satisfaction -------------------------------------------------------------------


async def answered_week(
    deps: Deps, week_start: date, scores: list[int], **answers: list[Any]
) -> SurveyRun:
    """An enablement run with one response per score (plus per-person extra answers)."""
    run = a_run(SurveyKind.ENABLEMENT, week_start)
    await store(deps, run)
    responses = [
        a_response(
            run,
            f"U0REP{index}",
            score=score,
            **{key: values[index] for key, values in answers.items()},
        )
        for index, score in enumerate(scores)
    ]
    await store(deps, *responses)
    return run


async def test_satisfaction_shows_mean_distribution_help_comments_and_an_eight_week_trend(
    deps: Deps,
) -> None:
    run = await answered_week(
        deps,
        WEEK_47,
        [5, 4, 4, 3, 2],
        help_with=["roi", "competitive", "roi", "competitive", "case_studies"],
        comment=["more ROI decks", None, "  ", "Faster turnaround please", None],
    )
    await store(
        deps,
        *[a_delivery(run, f"U0REP{n}", DeliveryStatus.ANSWERED) for n in range(5)],
        a_delivery(run, "U0SENT1", DeliveryStatus.SENT),
        a_delivery(run, "U0SENT2", DeliveryStatus.SENT),
        a_delivery(run, "U0FAILED", DeliveryStatus.FAILED),
        a_delivery(run, "U0PENDING", DeliveryStatus.PENDING),
    )
    await answered_week(deps, WEEK_46, [5, 5, 4, 4])
    await answered_week(deps, WEEK_45, [3, 3, 3, 4, 4])
    other = a_run(SurveyKind.ENABLEMENT, WEEK_47, team_id=OTHER_TEAM)
    await store(deps, other)
    await store(deps, a_response(other, "U0X", score=1))

    async with deps.sessions() as session:
        stats = await satisfaction_stats(session, team_id=TEAM_ID, week_start=WEEK_47, minimum=5)

    assert stats.week_label == "2026-W47"
    # (5 + 4 + 4 + 3 + 2) / 5 = 3.6
    assert stats.mean == Aggregate(respondents=5, value=3.6, withheld=False)
    assert stats.distribution == {1: 0, 2: 1, 3: 1, 4: 2, 5: 1}
    assert stats.responses == 5
    # Reached = sent or answered = 7; answered 5; failed and pending were never reached.
    assert (stats.reached, stats.answered) == (7, 5)
    assert stats.response_rate == pytest.approx(5 / 7)
    assert stats.help_most == [("competitive", 2), ("roi", 2), ("case_studies", 1)]
    assert stats.comments == ["Faster turnaround please", "more ROI decks"]
    # Weeks 40–47, oldest first; each judged alone: week 46 had only 4 answers.
    assert stats.trend == [
        *[(f"2026-W{week}", NO_ANSWERS) for week in range(40, 45)],
        ("2026-W45", Aggregate(respondents=5, value=17 / 5, withheld=False)),
        ("2026-W46", Aggregate(respondents=4, value=None, withheld=True)),
        ("2026-W47", Aggregate(respondents=5, value=3.6, withheld=False)),
    ]


async def test_four_answers_with_a_minimum_of_five_are_withheld_but_the_rate_is_shown(
    deps: Deps,
) -> None:
    run = await answered_week(
        deps,
        WEEK_46,
        [5, 5, 4, 4],
        help_with=["roi", "roi", "roi", "other"],
        comment=["Great work", "Thanks", None, None],
    )
    await store(
        deps,
        *[a_delivery(run, f"U0REP{n}", DeliveryStatus.ANSWERED) for n in range(4)],
        *[a_delivery(run, f"U0SENT{n}", DeliveryStatus.SENT) for n in range(4)],
    )

    async with deps.sessions() as session:
        stats = await satisfaction_stats(session, team_id=TEAM_ID, week_start=WEEK_46, minimum=5)

    assert stats.mean.withheld
    assert stats.mean.display() == WITHHELD_TEXT
    assert stats.distribution is None
    assert stats.help_most is None
    assert stats.comments == []
    assert stats.response_rate == 0.5  # 4 answered of 8 reached: rates are never withheld


async def test_a_week_without_a_survey_has_no_responses_yet(deps: Deps) -> None:
    async with deps.sessions() as session:
        stats = await satisfaction_stats(session, team_id=TEAM_ID, week_start=WEEK_47, minimum=5)

    assert stats.mean == NO_ANSWERS
    assert stats.mean.display() == NO_RESPONSES_TEXT
    assert (stats.responses, stats.reached, stats.response_rate) == (0, 0, None)
    assert (stats.distribution, stats.help_most, stats.comments) == (None, None, [])
    assert [label for label, _mean in stats.trend][-1] == "2026-W47"
    assert {mean for _label, mean in stats.trend} == {NO_ANSWERS}


# --- pipeline --------------------------------------------------------------------------------


def test_pipeline_splits_evenly_with_the_odd_cents_to_the_first_activity() -> None:
    assert split_evenly(9_000_000, 2) == [4_500_000, 4_500_000]  # $90k in two: $45k each
    assert split_evenly(1001, 2) == [501, 500]
    assert split_evenly(100, 3) == [34, 33, 33]
    assert split_evenly(0, 2) == [0, 0]


async def pipeline_week(deps: Deps) -> None:
    """Week 47's pipeline survey: four reps, plus a week-46 answer that must not count."""
    this_week = a_run(SurveyKind.PIPELINE, WEEK_47)
    last_week = a_run(SurveyKind.PIPELINE, WEEK_46)
    await store(deps, this_week, last_week)
    await store(
        deps,
        a_response(
            this_week,
            "U0REP1",
            opportunities=3,
            pipeline_cents=15_000_000,
            sourced_count=1,
            sourced_cents=6_000_000,
            influenced_count=1,
            influenced_cents=3_000_000,
            activities=json.dumps(["webinar", "ms:12:MS-12"]),
        ),
        a_response(
            this_week,
            "U0REP2",
            opportunities=2,
            pipeline_cents=20_000,
            sourced_count=1,
            sourced_cents=10_001,
            influenced_count=0,
            influenced_cents=0,
            activities=json.dumps(["email", "webinar", "content"]),
        ),
        a_response(
            this_week,
            "U0REP3",
            opportunities=1,
            pipeline_cents=500_000,
            sourced_count=0,
            sourced_cents=0,
            influenced_count=0,
            influenced_cents=0,
            activities=json.dumps(["seo"]),
        ),
        a_response(this_week, "U0REP4", opportunities=0, activities=json.dumps([])),
        a_response(
            last_week,
            "U0REP1",
            opportunities=9,
            pipeline_cents=9_900_000,
            sourced_count=9,
            sourced_cents=9_900_000,
            activities=json.dumps(["paid"]),
        ),
        LeadCount(team_id=TEAM_ID, week_start=WEEK_47, leads=40, updated_at=nov(16)),
        LeadCount(team_id=TEAM_ID, week_start=WEEK_46, leads=100, updated_at=nov(9)),
    )


async def test_pipeline_sums_the_weeks_survey_answers_and_ranks_activities_by_value(
    deps: Deps,
) -> None:
    await pipeline_week(deps)

    async with deps.sessions() as session:
        stats = await pipeline_stats(
            session, team_id=TEAM_ID, window=week_window(WEEK_47, UTC_ZONE)
        )

    assert stats.survey_respondents == 4
    assert (stats.new_opportunities, stats.new_pipeline_cents) == (6, 15_520_000)
    assert (stats.sourced_count, stats.sourced_cents) == (2, 6_010_001)
    assert (stats.influenced_count, stats.influenced_cents) == (1, 3_000_000)
    # REP1: $60k + $30k = $90k over webinar and a support request: $45k each.
    # REP2: 10,001 cents over email, webinar, content: 3,335 / 3,333 / 3,333.
    # REP3: $0 for SEO, still a mention. REP4 named nothing.
    assert stats.activities == [
        ActivityImpact("webinar", 4_500_000 + 3_333, mentions=2),
        ActivityImpact("support_request", 4_500_000, mentions=1),
        ActivityImpact("email", 3_335, mentions=1),
        ActivityImpact("content", 3_333, mentions=1),
        ActivityImpact("seo", 0, mentions=1),
    ]
    assert sum(impact.pipeline_cents for impact in stats.activities) == 9_010_001
    # No CRM import: survey-sourced opportunities per lead, 2 / 40.
    assert stats.leads == 40
    assert stats.lead_to_opportunity_rate == 0.05
    assert stats.lead_conversion_source == "survey"


async def test_lead_conversion_uses_crm_sourced_opportunities_when_imported(deps: Deps) -> None:
    await pipeline_week(deps)
    await store(
        deps,
        an_opportunity(50_000, created=date(2026, 11, 16), sourced=True),
        an_opportunity(20_000, created=date(2026, 11, 20)),
        an_opportunity(10_000, created=date(2026, 11, 22), sourced=True),
        an_opportunity(70_000, created=date(2026, 11, 23), sourced=True),  # next week
        an_opportunity(80_000, created=date(2026, 11, 15), sourced=True),  # last week
        LeadCount(team_id=TEAM_ID, week_start=date(2026, 11, 23), leads=5, updated_at=nov(23)),
    )

    async with deps.sessions() as session:
        stats = await pipeline_stats(
            session, team_id=TEAM_ID, window=week_window(WEEK_47, UTC_ZONE)
        )

    assert (stats.crm_opportunities, stats.crm_pipeline_cents) == (3, 8_000_000)
    assert (stats.crm_sourced_count, stats.crm_sourced_cents) == (2, 6_000_000)
    # 2 CRM-sourced opportunities / 40 leads; the survey's count is not used.
    assert stats.lead_to_opportunity_rate == 2 / 40
    assert stats.lead_conversion_source == "crm"


async def test_an_empty_window_has_no_pipeline_and_no_conversion(deps: Deps) -> None:
    async with deps.sessions() as session:
        stats = await pipeline_stats(
            session, team_id=TEAM_ID, window=week_window(WEEK_47, UTC_ZONE)
        )

    assert (stats.survey_respondents, stats.new_pipeline_cents, stats.sourced_cents) == (0, 0, 0)
    assert (stats.crm_opportunities, stats.crm_pipeline_cents, stats.leads) == (0, 0, 0)
    assert stats.lead_to_opportunity_rate is None
    assert stats.lead_conversion_source is None
    assert stats.activities == []


async def test_an_opportunity_created_30_september_is_not_in_the_fourth_quarter(
    deps: Deps,
) -> None:
    await store(
        deps,
        an_opportunity(30_000, created=date(2026, 9, 30), sourced=True),
        an_opportunity(10_000, created=date(2026, 10, 1), sourced=True),
    )

    async with deps.sessions() as session:
        q3 = await pipeline_stats(session, team_id=TEAM_ID, window=quarter_window("2026-Q3", TOKYO))
        q4 = await pipeline_stats(session, team_id=TEAM_ID, window=quarter_window("2026-Q4", TOKYO))

    # Q4 in Tokyo starts at 15:00 UTC on 30 September, but CRM dates are local dates.
    assert (q3.crm_opportunities, q3.crm_sourced_cents) == (1, 3_000_000)
    assert (q4.crm_opportunities, q4.crm_sourced_cents) == (1, 1_000_000)


async def test_a_window_built_without_a_zone_uses_the_workspace_zone_for_dates(
    deps: Deps,
) -> None:
    await configure(deps, timezone="Asia/Tokyo")
    await store(deps, an_opportunity(30_000, created=date(2026, 9, 30)))
    q4 = quarter_window("2026-Q4", TOKYO)

    async with deps.sessions() as session:
        stats = await pipeline_stats(
            session, team_id=TEAM_ID, window=Window(q4.start, q4.end, "2026-Q4 to date")
        )

    assert stats.crm_opportunities == 0


# --- coverage --------------------------------------------------------------------------------


async def quarter_with_quota(deps: Deps, *, quota_dollars: int, booked_dollars: int) -> None:
    await store(
        deps,
        Quota(
            team_id=TEAM_ID, quarter="2026-Q4", amount_cents=quota_dollars * 100, updated_at=nov(1)
        ),
        an_opportunity(booked_dollars, closes=date(2026, 11, 10), won=True),
        # Not Q4's: won in Q3, lost in Q4, still open but due in Q3.
        an_opportunity(999_000, closes=date(2026, 9, 30), won=True),
        an_opportunity(888_000, closes=date(2026, 12, 1), closed=True),
        an_opportunity(777_000, closes=date(2026, 9, 30)),
    )


@pytest.mark.parametrize(
    ("open_dollars", "ratio", "status"),
    [
        (1_200_000, 1.5, "below 2x"),
        (1_600_000, 2.0, "between 2x and 3x"),
        (2_000_000, 2.5, "between 2x and 3x"),
        (2_400_000, 3.0, "3x or more"),
    ],
)
async def test_coverage_compares_open_pipeline_with_the_quota_still_to_book(
    deps: Deps, open_dollars: int, ratio: float, status: str
) -> None:
    await quarter_with_quota(deps, quota_dollars=1_000_000, booked_dollars=200_000)
    await store(
        deps,
        an_opportunity(open_dollars - 100_000, closes=date(2026, 12, 31)),
        an_opportunity(100_000),  # open, no close date yet: counted
    )

    async with deps.sessions() as session:
        result = await coverage(session, team_id=TEAM_ID, quarter="2026-Q4", tz=UTC_ZONE)

    # $1M quota − $200k booked = $800k to go.
    assert result.open_pipeline_cents == open_dollars * 100
    assert (result.quota_cents, result.booked_cents) == (100_000_000, 20_000_000)
    assert result.remaining_quota_cents == 80_000_000
    assert result.ratio == ratio
    assert result.status == status
    assert result.quota_attainment == 0.2


async def test_coverage_is_quota_met_once_bookings_reach_the_quota(deps: Deps) -> None:
    await quarter_with_quota(deps, quota_dollars=1_000_000, booked_dollars=1_100_000)
    await store(deps, an_opportunity(500_000, closes=date(2026, 12, 15)))

    async with deps.sessions() as session:
        result = await coverage(session, team_id=TEAM_ID, quarter="2026-Q4", tz=UTC_ZONE)

    assert result.remaining_quota_cents == 0
    assert result.ratio is None
    assert result.status == "quota met"
    assert result.quota_attainment == 1.1


async def test_coverage_without_a_quota_says_so(deps: Deps) -> None:
    await store(deps, an_opportunity(500_000, closes=date(2026, 12, 15)))

    async with deps.sessions() as session:
        result = await coverage(session, team_id=TEAM_ID, quarter="2026-Q4", tz=UTC_ZONE)

    assert result.open_pipeline_cents == 50_000_000
    assert (result.quota_cents, result.remaining_quota_cents, result.ratio) == (None, None, None)
    assert result.status == "no quota set"
    assert result.quota_attainment is None


async def test_coverage_adds_up_per_owner_quotas_when_there_is_no_team_quota(deps: Deps) -> None:
    await store(
        deps,
        Quota(
            team_id=TEAM_ID,
            quarter="2026-Q4",
            owner="a@example.com",
            amount_cents=30_000_000,
            updated_at=nov(1),
        ),
        Quota(
            team_id=TEAM_ID,
            quarter="2026-Q4",
            owner="b@example.com",
            amount_cents=20_000_000,
            updated_at=nov(1),
        ),
        Quota(team_id=TEAM_ID, quarter="2026-Q3", owner="*", amount_cents=1, updated_at=nov(1)),
        an_opportunity(1_000_000, closes=date(2026, 12, 15)),
    )

    async with deps.sessions() as session:
        result = await coverage(session, team_id=TEAM_ID, quarter="2026-Q4", tz=UTC_ZONE)

    # $300k + $200k = $500k quota, nothing booked: $1M open is 2x.
    assert result.quota_cents == 50_000_000
    assert result.ratio == 2.0
    assert result.status == "between 2x and 3x"


# --- requests: the faster query paths (same numbers as the definitions) ----------------------


async def test_open_at_the_end_replays_several_changes_in_and_after_the_week(deps: Deps) -> None:
    end = nov(23)  # the week ends Monday 23 November 00:00 UTC
    # Claimed and then waiting in the week; delivered and reopened after it: waiting then.
    waiting_then = a_request(
        created_at=nov(10), updated_at=nov(26), sla_deadline=nov(20, 12), claimed_at=nov(17)
    )
    # Delivered in the week, reopened and claimed again after it: delivered (closed) then.
    delivered_then = a_request(
        created_at=nov(10), status=RequestStatus.CLAIMED, updated_at=nov(25), claimed_at=nov(25)
    )
    # Claimed and delivered in the same instant: the later event (higher id) wins the tie.
    tie_delivered = a_request(created_at=nov(12), updated_at=nov(24), due_date=date(2026, 11, 1))
    # Filed in the week, first touched after it: open then, and due before the end.
    untouched_then = a_request(
        created_at=nov(18),
        status=RequestStatus.CLAIMED,
        updated_at=nov(24),
        claimed_at=nov(24),
        due_date=date(2026, 11, 20),
    )
    # Delivered exactly at the end: that event is not before the end, so it was claimed.
    delivered_at_the_end = a_request(
        created_at=nov(16),
        status=RequestStatus.DELIVERED,
        updated_at=end,
        delivered_at=end,
        due_date=date(2026, 11, 23),
    )
    # Open now and not changed since before the end.
    open_all_along = a_request(created_at=nov(2), updated_at=nov(2), due_date=date(2026, 12, 1))
    # Cancelled in the week and never changed since.
    cancelled = a_request(created_at=nov(3), status=RequestStatus.CANCELLED, updated_at=nov(17))
    # The same story as waiting_then in another workspace: never counted here.
    elsewhere = a_request(created_at=nov(10), updated_at=nov(26), team_id=OTHER_TEAM)
    requests = (
        waiting_then,
        delivered_then,
        tie_delivered,
        untouched_then,
        delivered_at_the_end,
        open_all_along,
        cancelled,
        elsewhere,
    )
    await store(deps, *requests)
    await store(
        deps,
        an_event(waiting_then, RequestStatus.CLAIMED, nov(17)),
        an_event(waiting_then, RequestStatus.WAITING, nov(19)),
        an_event(waiting_then, RequestStatus.DELIVERED, nov(24)),
        an_event(waiting_then, RequestStatus.OPEN, nov(26)),
        an_event(delivered_then, RequestStatus.CLAIMED, nov(11)),
        an_event(delivered_then, RequestStatus.DELIVERED, nov(18)),
        an_event(delivered_then, RequestStatus.OPEN, nov(24)),
        an_event(delivered_then, RequestStatus.CLAIMED, nov(25)),
    )
    await store(deps, an_event(tie_delivered, RequestStatus.CLAIMED, nov(19, 12)))
    await store(
        deps,
        an_event(tie_delivered, RequestStatus.DELIVERED, nov(19, 12)),
        an_event(tie_delivered, RequestStatus.OPEN, nov(24)),
        an_event(untouched_then, RequestStatus.CLAIMED, nov(24)),
        an_event(delivered_at_the_end, RequestStatus.CLAIMED, nov(17)),
        an_event(delivered_at_the_end, RequestStatus.DELIVERED, end),
        an_event(cancelled, RequestStatus.CANCELLED, nov(17)),
        an_event(elsewhere, RequestStatus.CLAIMED, nov(17)),
        an_event(elsewhere, RequestStatus.OPEN, nov(26)),
    )

    stats = await stats_for(deps)
    week_before = await stats_for(deps, WEEK_46)

    # Open at the end of week 47: waiting_then (waiting), untouched_then (no event yet),
    # delivered_at_the_end (claimed), open_all_along = 4. delivered_then and tie_delivered
    # were delivered then, cancelled was cancelled, elsewhere is another workspace's.
    assert stats.open_at_end == 4
    # Overdue then: waiting_then (no due date, SLA ran out on the 20th) and untouched_then
    # (due the 20th); delivered_at_the_end is due on the 23rd itself, open_all_along in December.
    assert stats.overdue_at_end == 2
    # At the end of week 46 (16 Nov): waiting_then, delivered_then (claimed on the 11th),
    # tie_delivered, open_all_along; cancelled was still open too (cancelled on the 17th) = 5.
    # Overdue on the 16th: tie_delivered (due 1 Nov) only.
    assert (week_before.open_at_end, week_before.overdue_at_end) == (5, 1)


async def test_paging_through_deliveries_and_claims_gives_the_same_figures(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = [
        a_request(
            created_at=nov(16, 9) + timedelta(hours=5 * index),
            status=RequestStatus.DELIVERED,
            # Pairs share a delivery moment, so a page may end inside a tie.
            delivered_at=nov(18, 10) + timedelta(hours=7 * (index // 2)),
            claimed_at=nov(17, 10) + timedelta(minutes=30 * (index // 3)),
            due_date=date(2026, 11, 18 + index % 4),
        )
        for index in range(9)
    ]
    await store(deps, *requests)
    await store(
        deps,
        *(
            event
            for index, request in enumerate(requests)
            if index % 2
            for event in (
                an_event(request, RequestStatus.WAITING, nov(17, 11)),
                an_event(request, RequestStatus.IN_PROGRESS, nov(17, 14) + timedelta(hours=index)),
            )
        ),
    )
    whole_pages = await stats_for(deps)

    monkeypatch.setattr(support, "_PAGE_ROWS", 2)
    small_pages = await stats_for(deps)

    assert small_pages == whole_pages
    assert whole_pages.delivered == 9
    assert whole_pages.time_to_claim.count == 9


async def test_the_scorecards_on_time_count_matches_the_digests(deps: Deps) -> None:
    await store(
        deps,
        # Due the 20th, delivered the 20th at 23:59 (Berlin: the 21st 00:59): late in Berlin.
        a_request(
            created_at=nov(16),
            status=RequestStatus.DELIVERED,
            delivered_at=nov(20, 23, 59),
            due_date=date(2026, 11, 20),
        ),
        # No due date: on time until the SLA deadline, inclusive.
        a_request(
            created_at=nov(16),
            status=RequestStatus.DELIVERED,
            delivered_at=nov(19, 12),
            sla_deadline=nov(19, 12),
        ),
        a_request(
            created_at=nov(16),
            status=RequestStatus.DELIVERED,
            delivered_at=nov(19, 13),
            sla_deadline=nov(19, 12),
        ),
        # Neither: on time.
        a_request(created_at=nov(16), status=RequestStatus.DELIVERED, delivered_at=nov(17)),
    )
    quarter = quarter_window("2026-Q4", BERLIN)

    async with deps.sessions() as session:
        full = await request_stats(
            session,
            team_id=TEAM_ID,
            window=quarter,
            calendar=BusinessCalendar(timezone="Europe/Berlin"),
        )
        slim = await delivered_on_time(session, team_id=TEAM_ID, window=quarter, tz=BERLIN)

    assert slim == (full.delivered, full.delivered_on_time) == (4, 2)


def test_business_hours_from_prefix_sums_equal_the_calendars_walk_day_by_day() -> None:
    # Berlin across the clocks going back (25 Oct 2026), a holiday and odd hours.
    calendar = BusinessCalendar(
        timezone="Europe/Berlin",
        workdays=frozenset({0, 1, 2, 3, 5}),
        start=time(8, 30),
        end=time(17, 45),
        holidays=frozenset({date(2026, 10, 26), date(2026, 11, 11)}),
    )
    clock = durations.BusinessClock(calendar)
    rng = random.Random(20261201)
    base = datetime(2026, 10, 1, tzinfo=UTC)
    for _ in range(400):
        start = base + timedelta(
            minutes=rng.randrange(0, 60 * 24 * 70), microseconds=rng.randrange(10**6)
        )
        end = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 30), seconds=rng.random())
        pauses: list[tuple[datetime, datetime | None]] = []
        for _pause in range(rng.randrange(0, 4)):
            since = start + (end - start) * rng.random() - timedelta(hours=rng.randrange(0, 30))
            until = None if rng.random() < 0.2 else since + timedelta(hours=rng.randrange(0, 60))
            pauses.append((since, until))

        expected = calendar.business_seconds_between(start, end, paused=pauses)

        assert clock.seconds_between(start, end, pauses) == expected, (start, end, pauses)
    # A span far outside the days laid out so far grows the layout instead of miscounting.
    late = datetime(2027, 6, 1, 12, tzinfo=UTC)
    assert clock.seconds_between(base, late) == calendar.business_seconds_between(base, late)
    assert clock.seconds_between(late, base) == 0.0


async def test_activities_grouped_in_sql_split_like_each_answer_on_its_own(deps: Deps) -> None:
    run = a_run(SurveyKind.PIPELINE, WEEK_47)
    await store(deps, run)
    same_three = json.dumps(["email", "webinar", "content"])
    answers: list[tuple[str | None, int | None, int | None]] = [
        # Three answers naming the same three activities: 1002, 2 and 9 cents.
        (same_three, 1_001, 1),
        (same_three, 2, None),
        (same_three, None, 9),
        # Duplicates and an unknown key: ["paid", "other"], as a second text with the same keys.
        (json.dumps(["paid", "paid", "newsletter"]), 7, 0),
        (json.dumps(["paid", "radio"]), 5, 0),
        # A negative value (not something the survey accepts, but stored here): split by floor.
        (json.dumps(["seo", "event", "ms:9:MS-9"]), -10, 0),
        (json.dumps(["seo", "event", "ms:9:MS-9"]), 4, 0),
        (json.dumps([]), 50, 0),
        ("not json", 50, 0),
    ]
    await store(
        deps,
        *(
            a_response(run, f"U0REP{index}", activities=raw, sourced_cents=s, influenced_cents=i)
            for index, (raw, s, i) in enumerate(answers)
        ),
    )
    one_by_one = rank_activities(
        (pipeline._activity_keys(raw), (s or 0) + (i or 0)) for raw, s, i in answers
    )

    async with deps.sessions() as session:
        stats = await pipeline_stats(
            session, team_id=TEAM_ID, window=week_window(WEEK_47, UTC_ZONE)
        )

    assert stats.activities == one_by_one
    # email, named first, gets each answer's remainder: 334 + (0 + 2) + 3; webinar 334 + 0 + 3.
    shares = {item.activity: item.pipeline_cents for item in stats.activities}
    assert (shares["email"], shares["webinar"], shares["content"]) == (339, 337, 337)
