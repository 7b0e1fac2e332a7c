"""SLAs count business hours only: nights, weekends, holidays and paused time are skipped.

The calendar is bot/calendar/business.py; the SLA rules on top of it, bot/requests/sla.py.

Every expectation below is worked out by hand; the comments show the arithmetic.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar.business import (
    BusinessCalendar,
    Pause,
    parse_business_hours,
    parse_holidays,
    parse_workdays,
)
from bot.core.errors import UserError
from bot.requests.sla import (
    DEFAULT_SLA_BUSINESS_DAYS,
    UNCLAIMED_ALERT_BUSINESS_SECONDS,
    EscalationStep,
    SlaProgress,
    due_escalations,
    sla_progress,
)
from bot.requests.types import RequestType

HOUR = 3600.0
UTC_CALENDAR = BusinessCalendar()
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# 2026-06-01 is a Monday.
MONDAY_9 = utc(2026, 6, 1, 9)
MONDAY_17 = utc(2026, 6, 1, 17)
FRIDAY_16 = utc(2026, 6, 5, 16)
SATURDAY_10 = utc(2026, 6, 6, 10)
NEXT_MONDAY = date(2026, 6, 8)


# -- defaults ---------------------------------------------------------------------------


def test_every_request_type_has_a_default_sla() -> None:
    assert set(DEFAULT_SLA_BUSINESS_DAYS) == set(RequestType)
    assert DEFAULT_SLA_BUSINESS_DAYS == {
        RequestType.OBJECTION_HELP: 1,
        RequestType.COMPETITIVE_INTEL: 2,
        RequestType.DEAL_DECK: 3,
        RequestType.ROI_CASE: 5,
        RequestType.CASE_STUDY: 10,
        RequestType.CUSTOM_CONTENT: 5,
        RequestType.EVENT_SUPPORT: 5,
        RequestType.OTHER: 3,
    }


def test_the_default_calendar_is_weekdays_nine_to_five_in_utc() -> None:
    calendar = BusinessCalendar()

    assert calendar.timezone == "UTC"
    assert calendar.workdays == frozenset({0, 1, 2, 3, 4})
    assert (calendar.start, calendar.end) == (time(9), time(17))
    assert calendar.hours_per_day == 8.0


def test_a_half_hour_day_length_is_reported_in_fractional_hours() -> None:
    calendar = BusinessCalendar(start=time(8, 30), end=time(16, 0))

    assert calendar.hours_per_day == 7.5


# -- is business time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 6, 1, 8, 59, 59), False),
        (MONDAY_9, True),  # opening is inside
        (utc(2026, 6, 1, 16, 59, 59), True),
        (MONDAY_17, False),  # closing is outside
        (SATURDAY_10, False),
        (utc(2026, 6, 7, 12), False),  # Sunday
    ],
)
def test_business_time_is_opening_inclusive_and_closing_exclusive_on_weekdays(
    moment: datetime, expected: bool
) -> None:
    result = UTC_CALENDAR.is_business_time(moment)

    assert result is expected


def test_a_holiday_is_not_business_time() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 6, 1)}))

    result = calendar.is_business_time(utc(2026, 6, 1, 12))

    assert result is False


def test_business_time_is_judged_on_the_workspace_clock() -> None:
    calendar = BusinessCalendar(timezone="Asia/Kolkata")

    # 09:00–17:00 IST is 03:30–11:30 UTC.
    results = [
        calendar.is_business_time(utc(2026, 6, 1, 3, 29, 59)),
        calendar.is_business_time(utc(2026, 6, 1, 3, 30)),
        calendar.is_business_time(utc(2026, 6, 1, 11, 29, 59)),
        calendar.is_business_time(utc(2026, 6, 1, 11, 30)),
    ]

    assert results == [False, True, True, False]


# -- counting forward -------------------------------------------------------------------


def test_a_one_day_sla_filed_friday_at_four_is_due_monday_at_four() -> None:
    # Friday 16–17 is one hour; Monday 09:00 + 7 hours is 16:00.
    deadline = UTC_CALENDAR.add_business_days(FRIDAY_16, 1)

    assert deadline == utc(2026, 6, 8, 16)
    assert deadline.tzinfo is UTC


def test_a_request_filed_on_saturday_starts_counting_on_monday_morning() -> None:
    started = UTC_CALENDAR.add_business_seconds(SATURDAY_10, 0)
    one_hour_in = UTC_CALENDAR.add_business_seconds(SATURDAY_10, HOUR)
    one_day_in = UTC_CALENDAR.add_business_days(SATURDAY_10, 1)

    assert started == utc(2026, 6, 8, 9)
    assert one_hour_in == utc(2026, 6, 8, 10)
    assert one_day_in == utc(2026, 6, 8, 17)


def test_zero_seconds_from_business_time_is_the_start_itself_in_utc() -> None:
    start = local(BERLIN, 2026, 6, 1, 10)

    result = BusinessCalendar(timezone="Europe/Berlin").add_business_seconds(start, 0)

    assert result == utc(2026, 6, 1, 8)
    assert result.tzinfo is UTC


def test_zero_seconds_from_closing_time_is_the_next_opening() -> None:
    result = UTC_CALENDAR.add_business_seconds(utc(2026, 6, 5, 17), 0)

    assert result == utc(2026, 6, 8, 9)


def test_time_that_runs_out_exactly_at_closing_ends_at_closing_not_next_morning() -> None:
    result = UTC_CALENDAR.add_business_days(MONDAY_9, 1)

    assert result == MONDAY_17


def test_filed_before_opening_counts_from_opening() -> None:
    result = UTC_CALENDAR.add_business_seconds(utc(2026, 6, 1, 7), HOUR)

    assert result == utc(2026, 6, 1, 10)


def test_holidays_are_skipped() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))

    # Wednesday 23 Dec 12–17 is 5 hours; Thu/Fri are holidays, then the weekend;
    # Monday 28 Dec 09:00 + 3 hours is 12:00.
    deadline = calendar.add_business_days(utc(2026, 12, 23, 12), 1)

    assert deadline == utc(2026, 12, 28, 12)


def test_custom_workdays_count_sunday_to_thursday() -> None:
    calendar = BusinessCalendar(workdays=frozenset({6, 0, 1, 2, 3}))

    # Thursday 4 June 16:00 + 1 day: Thursday 16–17, then Friday and Saturday are off,
    # Sunday 7 June 09:00 + 7 hours.
    deadline = calendar.add_business_days(utc(2026, 6, 4, 16), 1)

    assert deadline == utc(2026, 6, 7, 16)


def test_a_case_study_sla_runs_two_calendar_weeks() -> None:
    days = DEFAULT_SLA_BUSINESS_DAYS[RequestType.CASE_STUDY]

    deadline = UTC_CALENDAR.add_business_days(utc(2026, 6, 3, 11), days)

    assert deadline == utc(2026, 6, 17, 11)


def test_negative_amounts_of_business_time_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        UTC_CALENDAR.add_business_seconds(MONDAY_9, -1)
    with pytest.raises(ValueError, match="non-negative"):
        UTC_CALENDAR.add_business_days(MONDAY_9, -1)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 6, 1, 9)

    with pytest.raises(ValueError, match="timezone-aware"):
        UTC_CALENDAR.add_business_seconds(naive, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        UTC_CALENDAR.business_seconds_between(naive, MONDAY_17)
    with pytest.raises(ValueError, match="timezone-aware"):
        UTC_CALENDAR.is_business_time(naive)


# -- workspace time zones ---------------------------------------------------------------


def test_los_angeles_hours_are_counted_on_the_pacific_clock() -> None:
    calendar = BusinessCalendar(timezone="America/Los_Angeles")

    # Friday 5 June 16:00 PDT (23:00 UTC) + 1 day = Monday 8 June 16:00 PDT (23:00 UTC).
    deadline = calendar.add_business_days(local(LOS_ANGELES, 2026, 6, 5, 16), 1)

    assert deadline == utc(2026, 6, 8, 23)


def test_kolkata_half_hour_offset_is_respected() -> None:
    calendar = BusinessCalendar(timezone="Asia/Kolkata")

    # Friday 10:00 UTC is 15:30 IST: 1.5 hours left that day; Monday 09:00 IST + 6.5 hours is
    # 15:30 IST, which is 10:00 UTC.
    deadline = calendar.add_business_days(utc(2026, 6, 5, 10), 1)

    assert deadline == utc(2026, 6, 8, 10)
    assert deadline.astimezone(KOLKATA) == local(KOLKATA, 2026, 6, 8, 15, 30)


def test_berlin_sla_keeps_the_wall_clock_across_the_march_clock_change() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin")

    # Clocks go forward on Sunday 29 March 2026. Friday 16:00 CET (15:00 UTC) + 1 day is
    # Monday 16:00 CEST, which is 14:00 UTC.
    deadline = calendar.add_business_days(local(BERLIN, 2026, 3, 27, 16), 1)

    assert deadline == utc(2026, 3, 30, 14)
    assert deadline.astimezone(BERLIN) == local(BERLIN, 2026, 3, 30, 16)


def test_a_berlin_business_day_is_eight_hours_on_both_sides_of_the_change() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin")

    friday_and_monday = calendar.business_seconds_between(
        local(BERLIN, 2026, 3, 27), local(BERLIN, 2026, 3, 31)
    )

    assert friday_and_monday == 16 * HOUR


def test_us_sla_keeps_the_wall_clock_across_the_march_clock_change() -> None:
    calendar = BusinessCalendar(timezone="America/Los_Angeles")

    # Clocks go forward on Sunday 8 March 2026: Friday 16:00 PST (00:00 UTC Saturday) + 1 day
    # is Monday 16:00 PDT, which is 23:00 UTC.
    deadline = calendar.add_business_days(local(LOS_ANGELES, 2026, 3, 6, 16), 1)

    assert deadline == utc(2026, 3, 9, 23)


def test_us_sla_keeps_the_wall_clock_across_the_november_clock_change() -> None:
    calendar = BusinessCalendar(timezone="America/Los_Angeles")

    # Clocks go back on Sunday 1 November 2026: Friday 16:00 PDT (23:00 UTC) + 1 day is
    # Monday 16:00 PST, which is 00:00 UTC on Tuesday.
    filed = local(LOS_ANGELES, 2026, 10, 30, 16)
    deadline = calendar.add_business_days(filed, 1)
    due = calendar.due_date_for(filed, 1)
    hours = calendar.business_seconds_between(filed, deadline) / HOUR

    assert deadline == utc(2026, 11, 3, 0)
    assert due == date(2026, 11, 2)
    assert hours == 8


def test_business_seconds_are_real_seconds_when_hours_straddle_a_clock_change() -> None:
    # Unusual hours 01:00–05:00 include the skipped hour 02:00–03:00 on 29 March in Berlin:
    # that day has only three real hours of business time.
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", workdays=frozenset(range(7)), start=time(1), end=time(5)
    )

    hours = calendar.business_seconds_between(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) / HOUR

    assert hours == 3


# -- counting between two moments and pauses --------------------------------------------


def test_business_seconds_between_skip_nights_and_weekends() -> None:
    # Friday 16–17 (1 h) + Monday 09–10 (1 h).
    seconds = UTC_CALENDAR.business_seconds_between(FRIDAY_16, utc(2026, 6, 8, 10))

    assert seconds == 2 * HOUR


def test_business_seconds_between_are_zero_when_end_is_not_after_start() -> None:
    same = UTC_CALENDAR.business_seconds_between(MONDAY_17, MONDAY_17)
    backwards = UTC_CALENDAR.business_seconds_between(MONDAY_17, MONDAY_9)

    assert (same, backwards) == (0.0, 0.0)


def test_a_closed_pause_is_not_counted() -> None:
    paused = [(utc(2026, 6, 1, 10), utc(2026, 6, 1, 12))]

    seconds = UTC_CALENDAR.business_seconds_between(MONDAY_9, MONDAY_17, paused=paused)

    assert seconds == 6 * HOUR


def test_an_open_pause_runs_to_the_end() -> None:
    paused = [(utc(2026, 6, 1, 13), None)]

    seconds = UTC_CALENDAR.business_seconds_between(MONDAY_9, MONDAY_17, paused=paused)

    assert seconds == 4 * HOUR


def test_overlapping_pauses_count_once() -> None:
    paused = [
        (utc(2026, 6, 1, 10), utc(2026, 6, 1, 12)),
        (utc(2026, 6, 1, 11), utc(2026, 6, 1, 13)),
        (utc(2026, 6, 1, 11, 30), utc(2026, 6, 1, 11, 45)),
    ]

    seconds = UTC_CALENDAR.business_seconds_between(MONDAY_9, MONDAY_17, paused=paused)

    assert seconds == 5 * HOUR


def test_pauses_outside_business_hours_change_nothing() -> None:
    paused = [
        (utc(2026, 6, 6, 8), utc(2026, 6, 7, 20)),  # the weekend
        (utc(2026, 6, 8, 17, 30), utc(2026, 6, 9, 8)),  # Monday night
    ]

    seconds = UTC_CALENDAR.business_seconds_between(FRIDAY_16, utc(2026, 6, 9, 10), paused=paused)

    # Friday 1 h + Monday 8 h + Tuesday 1 h.
    assert seconds == 10 * HOUR


def test_a_pause_over_a_night_only_removes_its_business_hours() -> None:
    paused = [(utc(2026, 6, 1, 16), utc(2026, 6, 2, 10))]

    seconds = UTC_CALENDAR.business_seconds_between(MONDAY_9, utc(2026, 6, 2, 17), paused=paused)

    # 16 hours in two days, minus Monday 16–17 and Tuesday 09–10.
    assert seconds == 14 * HOUR


def test_a_pause_that_began_before_the_start_is_clipped() -> None:
    paused = [(utc(2026, 5, 29, 12), utc(2026, 6, 1, 10))]

    seconds = UTC_CALENDAR.business_seconds_between(MONDAY_9, MONDAY_17, paused=paused)

    assert seconds == 7 * HOUR


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    paused = [(utc(2026, 6, 1, 12), utc(2026, 6, 1, 10))]

    with pytest.raises(ValueError, match="ends before it starts"):
        UTC_CALENDAR.business_seconds_between(MONDAY_9, MONDAY_17, paused=paused)


# -- due dates and deadlines ------------------------------------------------------------


def test_a_sla_ending_at_closing_time_is_due_that_day() -> None:
    due = UTC_CALENDAR.due_date_for(MONDAY_9, 1)

    assert due == date(2026, 6, 1)


def test_a_deal_deck_filed_wednesday_is_due_the_next_monday() -> None:
    days = DEFAULT_SLA_BUSINESS_DAYS[RequestType.DEAL_DECK]

    due = UTC_CALENDAR.due_date_for(utc(2026, 6, 3, 11), days)

    assert due == NEXT_MONDAY


def test_the_due_date_is_the_workspace_date_not_the_utc_date() -> None:
    calendar = BusinessCalendar(timezone="America/Los_Angeles")
    filed = local(LOS_ANGELES, 2026, 6, 1, 9)

    # Monday 09:00 PDT + 8 hours is 17:00 PDT, already Tuesday in UTC.
    deadline = calendar.add_business_days(filed, 1)
    due = calendar.due_date_for(filed, 1)

    assert deadline == utc(2026, 6, 2, 0)
    assert due == date(2026, 6, 1)


def test_a_requesters_due_date_ends_at_closing_time_in_the_workspace_zone() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin")

    deadline = calendar.sla_deadline(MONDAY_9, due_date=date(2026, 6, 10), days=3)

    assert deadline == utc(2026, 6, 10, 15)  # 17:00 CEST
    assert deadline.tzinfo is UTC


def test_a_requesters_due_date_on_a_weekend_is_honoured_at_closing_time() -> None:
    deadline = UTC_CALENDAR.sla_deadline(MONDAY_9, due_date=date(2026, 6, 13), days=3)

    assert deadline == utc(2026, 6, 13, 17)


def test_without_a_due_date_the_deadline_is_the_sla() -> None:
    deadline = UTC_CALENDAR.sla_deadline(FRIDAY_16, due_date=None, days=1)

    assert deadline == utc(2026, 6, 8, 16)


# -- progress ---------------------------------------------------------------------------


def test_progress_counts_business_time_used_against_the_budget() -> None:
    deadline = UTC_CALENDAR.add_business_days(MONDAY_9, 3)

    progress = sla_progress(
        UTC_CALENDAR, filed_at=MONDAY_9, deadline=deadline, now=utc(2026, 6, 2, 11)
    )

    assert progress == SlaProgress(elapsed_seconds=10 * HOUR, budget_seconds=24 * HOUR)
    assert progress.fraction == pytest.approx(10 / 24)


def test_pauses_shrink_elapsed_time_but_not_the_budget() -> None:
    paused = [(utc(2026, 6, 1, 10), utc(2026, 6, 1, 12)), (utc(2026, 6, 1, 15), None)]

    progress = sla_progress(
        UTC_CALENDAR, filed_at=MONDAY_9, deadline=MONDAY_17, now=MONDAY_17, paused=paused
    )

    # 8 hours minus 10–12 and minus 15–17 (still waiting on the requester).
    assert progress.elapsed_seconds == 4 * HOUR
    assert progress.budget_seconds == 8 * HOUR
    assert progress.fraction == 0.5


def test_a_zero_budget_is_unused_until_business_time_passes_then_fully_used() -> None:
    unused = SlaProgress(elapsed_seconds=0, budget_seconds=0)
    used = SlaProgress(elapsed_seconds=1, budget_seconds=0)

    assert (unused.fraction, used.fraction) == (0.0, 1.0)


# -- escalations ------------------------------------------------------------------------


def escalations(
    now: datetime, *, claimed: bool = True, paused: Sequence[Pause] = ()
) -> list[EscalationStep]:
    """Steps due for a request filed Monday 09:00 with a one-day SLA (deadline 17:00)."""
    return due_escalations(
        UTC_CALENDAR, filed_at=MONDAY_9, deadline=MONDAY_17, now=now, claimed=claimed, paused=paused
    )


def test_nothing_is_due_just_before_seventy_five_percent() -> None:
    steps = escalations(utc(2026, 6, 1, 14, 59, 59))

    assert steps == []


def test_the_nudge_is_due_at_exactly_seventy_five_percent() -> None:
    steps = escalations(utc(2026, 6, 1, 15))  # 6 of 8 hours

    assert steps == [EscalationStep.NUDGE_75]


def test_overdue_is_due_at_exactly_one_hundred_percent_along_with_the_nudge() -> None:
    steps = escalations(MONDAY_17)

    assert steps == [EscalationStep.NUDGE_75, EscalationStep.OVERDUE_100]


def test_exactly_seventy_five_percent_counts_even_when_floats_would_round_down() -> None:
    # Budget 8 h + 24 µs, elapsed 6 h + 18 µs: exactly 3/4, but 0.7499999999999999 in floats.
    deadline = utc(2026, 6, 2, 9) + timedelta(microseconds=24)
    now = utc(2026, 6, 1, 15) + timedelta(microseconds=18)

    steps = due_escalations(
        UTC_CALENDAR, filed_at=MONDAY_9, deadline=deadline, now=now, claimed=True
    )
    progress = sla_progress(UTC_CALENDAR, filed_at=MONDAY_9, deadline=deadline, now=now)

    assert steps == [EscalationStep.NUDGE_75]
    assert progress.fraction < 0.75  # why the thresholds are compared in whole microseconds


def test_waiting_on_the_requester_postpones_the_nudge() -> None:
    paused = [(utc(2026, 6, 1, 10), utc(2026, 6, 1, 12))]

    at_three = escalations(utc(2026, 6, 1, 15), paused=paused)  # 4 of 8 hours
    at_five = escalations(MONDAY_17, paused=paused)  # 6 of 8 hours

    assert at_three == []
    assert at_five == [EscalationStep.NUDGE_75]


def test_unclaimed_alert_waits_for_more_than_four_business_hours_across_a_night() -> None:
    filed = utc(2026, 6, 1, 15)

    # Monday 15–17 plus Tuesday 09–11 is exactly four hours: not yet "more than".
    at_four_hours = due_escalations(
        UTC_CALENDAR,
        filed_at=filed,
        deadline=utc(2026, 6, 4, 15),
        now=utc(2026, 6, 2, 11),
        claimed=False,
    )
    just_after = due_escalations(
        UTC_CALENDAR,
        filed_at=filed,
        deadline=utc(2026, 6, 4, 15),
        now=utc(2026, 6, 2, 11, 0, 1),
        claimed=False,
    )

    assert UNCLAIMED_ALERT_BUSINESS_SECONDS == 4 * 3600
    assert at_four_hours == []
    assert just_after == [EscalationStep.UNCLAIMED_4H]


def test_an_unclaimed_request_past_its_deadline_only_gets_the_unclaimed_alert() -> None:
    steps = escalations(utc(2026, 6, 2, 17), claimed=False)

    assert steps == [EscalationStep.UNCLAIMED_4H]


def test_a_claimed_request_never_gets_the_unclaimed_alert() -> None:
    steps = escalations(utc(2026, 6, 1, 14), claimed=True)  # 5 hours in, 62.5%

    assert steps == []


def test_pauses_also_delay_the_unclaimed_alert() -> None:
    paused = [(utc(2026, 6, 1, 9), utc(2026, 6, 1, 11))]

    steps = escalations(utc(2026, 6, 1, 15), claimed=False, paused=paused)  # 4 hours counted

    assert steps == []


def test_a_deadline_already_closed_at_filing_is_overdue_once_business_time_passes() -> None:
    saturday_noon = utc(2026, 6, 6, 12)
    deadline = UTC_CALENDAR.sla_deadline(saturday_noon, due_date=date(2026, 6, 6), days=1)

    over_the_weekend = due_escalations(
        UTC_CALENDAR,
        filed_at=saturday_noon,
        deadline=deadline,
        now=utc(2026, 6, 8, 9),
        claimed=True,
    )
    monday_morning = due_escalations(
        UTC_CALENDAR,
        filed_at=saturday_noon,
        deadline=deadline,
        now=utc(2026, 6, 8, 9, 0, 1),
        claimed=True,
    )

    assert over_the_weekend == []
    assert monday_morning == [EscalationStep.NUDGE_75, EscalationStep.OVERDUE_100]


# -- parsing settings -------------------------------------------------------------------


def test_holidays_are_read_from_commas_spaces_and_new_lines() -> None:
    holidays = parse_holidays("2026-12-24, 2026-12-25 2027-01-01\n2027-01-01")

    assert holidays == frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2027, 1, 1)})


def test_blank_holidays_mean_none() -> None:
    holidays = parse_holidays("  \n ")

    assert holidays == frozenset()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("2026-12-24, christmas", "christmas"),
        ("24/12/2026", "24/12/2026"),
        ("2026-02-30", "2026-02-30"),
        ("20261224", "20261224"),
    ],
)
def test_a_bad_holiday_is_named_in_the_error(text: str, named: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_holidays(text)

    assert named in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-17:00", (time(9), time(17))),
        ("9-17", (time(9), time(17))),
        ("8:30–16:30", (time(8, 30), time(16, 30))),
        (" 08:00 - 16:00 ", (time(8), time(16))),
        ("9am-5pm", (time(9), time(17))),
        ("9 to 5:30pm", (time(9), time(17, 30))),
        ("12pm-11pm", (time(12), time(23))),
    ],
)
def test_business_hours_are_read_in_common_forms(text: str, expected: tuple[time, time]) -> None:
    hours = parse_business_hours(text)

    assert hours == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nine to five", "couldn't read"),
        ("", "couldn't read"),
        ("9", "couldn't read"),
        ("17-9", "end after they start"),
        ("9-9", "end after they start"),
        ("9-25", "isn't a time"),
        ("9:75-17", "isn't a time"),
        ("13pm-5pm", "isn't a time"),
    ],
)
def test_bad_business_hours_are_explained(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_business_hours(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("Mon–Fri", {0, 1, 2, 3, 4}),
        ("mon,tue,wed,thu", {0, 1, 2, 3}),
        ("monday tuesday", {0, 1}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("fri - mon", {4, 5, 6, 0}),
        ("mon-wed, fri", {0, 1, 2, 4}),
        ("sat", {5}),
    ],
)
def test_workdays_are_read_as_names_lists_and_wrapping_ranges(
    text: str, expected: set[int]
) -> None:
    workdays = parse_workdays(text)

    assert workdays == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one"),
        ("mon-funday", "“funday” isn't a day"),
        ("weekdays", "“weekdays” isn't a day"),
        ("mon-", "half a range"),
    ],
)
def test_bad_workdays_are_explained(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_workdays(text)


# -- calendar validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "not a time zone"),
        ({"timezone": ""}, "not a time zone"),
        ({"timezone": "America"}, "not a time zone"),
        ({"start": time(17), "end": time(9)}, "end after they start"),
        ({"start": time(9), "end": time(9)}, "end after they start"),
        ({"workdays": frozenset()}, "at least one working day"),
        ({"workdays": frozenset({0, 7})}, "7 isn't one"),
    ],
)
def test_an_invalid_calendar_is_refused_with_a_clear_message(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_a_calendar_built_from_parsed_settings_is_hashable() -> None:
    start, end = parse_business_hours("8:30-16:30")

    calendar = BusinessCalendar(
        timezone="Asia/Kolkata",
        workdays=parse_workdays("sun-thu"),
        start=start,
        end=end,
        holidays=parse_holidays("2026-08-15"),
    )

    assert hash(calendar) == hash(
        BusinessCalendar(
            "Asia/Kolkata", frozenset({6, 0, 1, 2, 3}), start, end, frozenset({date(2026, 8, 15)})
        )
    )


def test_plain_sets_are_stored_as_frozensets_so_the_calendar_stays_hashable() -> None:
    calendar = BusinessCalendar(workdays={0, 1}, holidays={date(2026, 6, 1)})  # type: ignore[arg-type]

    assert calendar.workdays == frozenset({0, 1})
    assert isinstance(calendar.holidays, frozenset)
    assert hash(calendar) == hash(
        BusinessCalendar(workdays=frozenset({0, 1}), holidays=frozenset({date(2026, 6, 1)}))
    )


# -- property ---------------------------------------------------------------------------

CALENDARS = [
    UTC_CALENDAR,
    BusinessCalendar(timezone="America/Los_Angeles", holidays=frozenset({date(2026, 11, 26)})),
    BusinessCalendar(timezone="Asia/Kolkata", workdays=frozenset({6, 0, 1, 2, 3})),
    BusinessCalendar(timezone="Europe/Berlin", start=time(8, 30), end=time(16, 45)),
]


@settings(max_examples=200, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    seconds=st.floats(min_value=0, max_value=60 * 8 * HOUR, allow_nan=False),
)
def test_adding_business_seconds_then_measuring_them_gives_them_back(
    calendar: BusinessCalendar, start: datetime, seconds: float
) -> None:
    end = calendar.add_business_seconds(start, seconds)

    measured = calendar.business_seconds_between(start, end)

    assert measured == pytest.approx(seconds, abs=1e-6)
