"""Survey periods are ISO weeks on the workspace's clock; DMs go out on the recipient's clock.

Pure tests of bot/calendar/periods.py: no database, no Slack. Expected instants are written out in UTC
by hand (offsets noted alongside) rather than recomputed with the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from bot.calendar.periods import (
    Period,
    WeeklySchedule,
    parse_weekly_schedule,
    period_of,
    period_starting,
    send_time,
    zone,
)
from bot.core.errors import UserError

UTC_ZONE = ZoneInfo("UTC")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")
AUCKLAND = ZoneInfo("Pacific/Auckland")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
HONOLULU = ZoneInfo("Pacific/Honolulu")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(period: Period) -> float:
    return (period.closes_at - period.opens_at) / timedelta(hours=1)


# ---------------------------------------------------------------- period_of


@pytest.mark.parametrize(
    ("tz", "moment", "start", "opens_at", "closes_at"),
    [
        # Tuesday 24 Nov 2026, 15:00 UTC in five zones (all outside daylight-saving changes).
        (UTC_ZONE, utc(2026, 11, 24, 15), date(2026, 11, 23), utc(2026, 11, 23), utc(2026, 11, 30)),
        # PST is UTC-8: Monday 00:00 local is 08:00 UTC.
        (
            LOS_ANGELES,
            utc(2026, 11, 24, 15),
            date(2026, 11, 23),
            utc(2026, 11, 23, 8),
            utc(2026, 11, 30, 8),
        ),
        # IST is UTC+5:30: Monday 00:00 local is Sunday 18:30 UTC.
        (
            KOLKATA,
            utc(2026, 11, 24, 15),
            date(2026, 11, 23),
            utc(2026, 11, 22, 18, 30),
            utc(2026, 11, 29, 18, 30),
        ),
        # NZDT is UTC+13: Tuesday 15:00 UTC is already Wednesday 04:00 local.
        (
            AUCKLAND,
            utc(2026, 11, 24, 15),
            date(2026, 11, 23),
            utc(2026, 11, 22, 11),
            utc(2026, 11, 29, 11),
        ),
        # CET is UTC+1.
        (
            BERLIN,
            utc(2026, 11, 24, 15),
            date(2026, 11, 23),
            utc(2026, 11, 22, 23),
            utc(2026, 11, 29, 23),
        ),
    ],
    ids=["utc", "los-angeles", "kolkata", "auckland", "berlin"],
)
def test_a_period_runs_from_monday_midnight_to_the_next_monday_midnight_local(
    tz: ZoneInfo, moment: datetime, start: date, opens_at: datetime, closes_at: datetime
) -> None:
    period = period_of(moment, tz)

    assert period.start == start
    assert period.start.weekday() == 0
    assert period.end == start + timedelta(days=6)
    assert period.opens_at == opens_at
    assert period.closes_at == closes_at
    assert period.opens_at <= moment < period.closes_at
    assert hours(period) == 168


@pytest.mark.parametrize("tz", [UTC_ZONE, LOS_ANGELES, KOLKATA, AUCKLAND, BERLIN], ids=str)
def test_sunday_2359_local_is_the_old_week_and_monday_0000_local_the_new_one(
    tz: ZoneInfo,
) -> None:
    sunday_late = datetime(2026, 11, 29, 23, 59, tzinfo=tz)
    monday_midnight = datetime(2026, 11, 30, 0, 0, tzinfo=tz)

    before = period_of(sunday_late, tz)
    after = period_of(monday_midnight, tz)

    assert before.start == date(2026, 11, 23)
    assert after.start == date(2026, 11, 30)
    assert before.closes_at == after.opens_at == monday_midnight.astimezone(UTC)


def test_the_week_is_the_workspace_s_not_utc_s() -> None:
    # Monday 30 Nov 2026 07:59 UTC is still Sunday 23:59 in Los Angeles (UTC-8).
    moment = utc(2026, 11, 30, 7, 59)

    in_utc = period_of(moment, UTC_ZONE)
    in_los_angeles = period_of(moment, LOS_ANGELES)

    assert in_utc.start == date(2026, 11, 30)
    assert in_los_angeles.start == date(2026, 11, 23)


def test_the_instant_a_period_closes_belongs_to_the_next_period() -> None:
    period = period_of(utc(2026, 11, 24, 15), BERLIN)

    following = period_of(period.closes_at, BERLIN)

    assert following.start == date(2026, 11, 30)
    assert following.opens_at == period.closes_at


@pytest.mark.parametrize(
    ("tz", "moment", "start", "opens_at", "closes_at", "length"),
    [
        # Europe springs forward on Sunday 29 Mar 2026: opens in CET (+1), closes in CEST (+2).
        (
            BERLIN,
            utc(2026, 3, 25, 12),
            date(2026, 3, 23),
            utc(2026, 3, 22, 23),
            utc(2026, 3, 29, 22),
            167,
        ),
        # Europe falls back on Sunday 25 Oct 2026: opens in CEST (+2), closes in CET (+1).
        (
            BERLIN,
            utc(2026, 10, 21, 12),
            date(2026, 10, 19),
            utc(2026, 10, 18, 22),
            utc(2026, 10, 25, 23),
            169,
        ),
        # The US springs forward on Sunday 8 Mar 2026: PST (-8) to PDT (-7).
        (
            LOS_ANGELES,
            utc(2026, 3, 4, 12),
            date(2026, 3, 2),
            utc(2026, 3, 2, 8),
            utc(2026, 3, 9, 7),
            167,
        ),
        # The US falls back on Sunday 1 Nov 2026: PDT (-7) to PST (-8).
        (
            LOS_ANGELES,
            utc(2026, 10, 28, 12),
            date(2026, 10, 26),
            utc(2026, 10, 26, 7),
            utc(2026, 11, 2, 8),
            169,
        ),
        # New Zealand falls back on Sunday 5 Apr 2026: NZDT (+13) to NZST (+12).
        (
            AUCKLAND,
            utc(2026, 4, 1, 12),
            date(2026, 3, 30),
            utc(2026, 3, 29, 11),
            utc(2026, 4, 5, 12),
            169,
        ),
        # New Zealand springs forward on Sunday 27 Sep 2026: NZST (+12) to NZDT (+13).
        (
            AUCKLAND,
            utc(2026, 9, 23, 12),
            date(2026, 9, 21),
            utc(2026, 9, 20, 12),
            utc(2026, 9, 27, 11),
            167,
        ),
        # India has no daylight saving: every week is 168 hours, even that European one.
        (
            KOLKATA,
            utc(2026, 3, 25, 12),
            date(2026, 3, 23),
            utc(2026, 3, 22, 18, 30),
            utc(2026, 3, 29, 18, 30),
            168,
        ),
    ],
    ids=[
        "berlin-spring",
        "berlin-autumn",
        "los-angeles-spring",
        "los-angeles-autumn",
        "auckland-autumn",
        "auckland-spring",
        "kolkata-no-dst",
    ],
)
def test_a_week_with_a_daylight_saving_change_is_an_hour_shorter_or_longer(
    tz: ZoneInfo,
    moment: datetime,
    start: date,
    opens_at: datetime,
    closes_at: datetime,
    length: int,
) -> None:
    period = period_of(moment, tz)

    assert period.start == start
    assert period.opens_at == opens_at
    assert period.closes_at == closes_at
    assert hours(period) == length


@pytest.mark.parametrize(
    ("tz", "sunday"),
    [(BERLIN, date(2026, 3, 29)), (LOS_ANGELES, date(2026, 3, 8)), (AUCKLAND, date(2026, 9, 27))],
    ids=["berlin", "los-angeles", "auckland"],
)
def test_the_last_minute_of_a_dst_week_and_the_next_monday_fall_either_side(
    tz: ZoneInfo, sunday: date
) -> None:
    sunday_late = datetime.combine(sunday, time(23, 59), tzinfo=tz)
    monday_midnight = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=tz)

    before = period_of(sunday_late, tz)
    after = period_of(monday_midnight, tz)

    assert before.start == sunday - timedelta(days=6)
    assert after.start == sunday + timedelta(days=1)
    assert before.closes_at == after.opens_at
    assert after.opens_at - sunday_late.astimezone(UTC) == timedelta(minutes=1)


def test_consecutive_periods_tile_the_year_without_gaps_or_overlaps() -> None:
    periods = [
        period_starting(date(2025, 12, 29) + timedelta(weeks=n), AUCKLAND) for n in range(54)
    ]

    gaps = [
        (left.start, right.start)
        for left, right in pairwise(periods)
        if left.closes_at != right.opens_at
    ]
    lengths = sorted({hours(period) for period in periods})

    assert gaps == []
    assert lengths == [167, 168, 169]


# ---------------------------------------------------------------- ISO week labels


@pytest.mark.parametrize(
    ("moment", "start", "label"),
    [
        (utc(2026, 12, 28, 12), date(2026, 12, 28), "2026-W53"),
        # Friday 1 Jan 2027 is still in ISO week 53 of 2026.
        (utc(2027, 1, 1, 12), date(2026, 12, 28), "2026-W53"),
        (utc(2027, 1, 3, 23, 59), date(2026, 12, 28), "2026-W53"),
        (utc(2027, 1, 4, 0, 0), date(2027, 1, 4), "2027-W01"),
        # Monday 29 Dec 2025 opens week 1 of 2026.
        (utc(2025, 12, 31, 12), date(2025, 12, 29), "2026-W01"),
        (utc(2026, 11, 24, 15), date(2026, 11, 23), "2026-W48"),
    ],
)
def test_periods_are_labelled_with_their_iso_week_across_the_year_boundary(
    moment: datetime, start: date, label: str
) -> None:
    period = period_of(moment, UTC_ZONE)

    assert period.start == start
    assert period.label == label


def test_new_year_s_eve_in_auckland_is_already_the_next_iso_week_year_s_week() -> None:
    # Sunday 3 Jan 2027 11:00 UTC is Monday 4 Jan 00:00 in Auckland (NZDT, +13).
    moment = utc(2027, 1, 3, 11)

    in_auckland = period_of(moment, AUCKLAND)
    in_los_angeles = period_of(moment, LOS_ANGELES)

    assert in_auckland.label == "2027-W01"
    assert in_los_angeles.label == "2026-W53"


# ---------------------------------------------------------------- send_time


MONDAY_10 = WeeklySchedule(0, time(10, 0))


def test_a_recipient_in_the_workspace_zone_gets_the_dm_at_the_scheduled_local_time() -> None:
    period = period_of(utc(2026, 11, 24, 15), LOS_ANGELES)

    sent = send_time(period, MONDAY_10, LOS_ANGELES)

    assert sent == utc(2026, 11, 23, 18)  # 10:00 PST


def test_a_rep_ahead_of_the_workspace_is_not_asked_before_the_workspace_week_starts() -> None:
    # Workspace in Los Angeles: the week opens Monday 23 Nov 00:00 PST = 08:00 UTC.
    # Monday 10:00 in Tokyo (UTC+9) is 01:00 UTC, seven hours earlier: clamped to the opening.
    period = period_of(utc(2026, 11, 24, 15), LOS_ANGELES)

    sent = send_time(period, MONDAY_10, TOKYO)

    assert sent == period.opens_at == utc(2026, 11, 23, 8)


def test_a_rep_ahead_of_the_workspace_gets_later_days_on_their_own_clock() -> None:
    period = period_of(utc(2026, 11, 24, 15), LOS_ANGELES)

    sent = send_time(period, WeeklySchedule(1, time(10, 0)), TOKYO)

    assert sent == utc(2026, 11, 24, 1)  # Tuesday 10:00 JST, Monday 17:00 PST
    assert sent.astimezone(TOKYO).replace(tzinfo=None) == datetime(2026, 11, 24, 10, 0)


def test_a_rep_behind_the_workspace_gets_the_dm_at_their_own_monday_10() -> None:
    period = period_of(utc(2026, 11, 24, 15), LOS_ANGELES)

    sent = send_time(period, MONDAY_10, HONOLULU)

    assert sent == utc(2026, 11, 23, 20)  # 10:00 HST (UTC-10)


def test_a_rep_behind_the_workspace_is_not_asked_after_the_workspace_week_ends() -> None:
    # Workspace in Tokyo: the week closes Monday 30 Nov 00:00 JST = Sunday 29 Nov 15:00 UTC.
    # Sunday 23:00 in Los Angeles is Monday 07:00 UTC: clamped to the period's last minute.
    period = period_of(utc(2026, 11, 24, 15), TOKYO)

    sent = send_time(period, WeeklySchedule(6, time(23, 0)), LOS_ANGELES)

    assert sent == period.closes_at - timedelta(minutes=1) == utc(2026, 11, 29, 14, 59)
    assert period_of(sent, TOKYO) == period


@pytest.mark.parametrize(
    ("tz", "week_of", "schedule", "expected", "local_wall"),
    [
        # 02:30 on Sunday 29 Mar 2026 doesn't exist in Berlin (02:00 CET -> 03:00 CEST).
        (
            BERLIN,
            utc(2026, 3, 25),
            WeeklySchedule(6, time(2, 30)),
            utc(2026, 3, 29, 1, 30),
            "03:30",
        ),
        # 02:30 on Sunday 8 Mar 2026 doesn't exist in Los Angeles (02:00 PST -> 03:00 PDT).
        (
            LOS_ANGELES,
            utc(2026, 3, 4),
            WeeklySchedule(6, time(2, 30)),
            utc(2026, 3, 8, 10, 30),
            "03:30",
        ),
        # 02:30 on Sunday 27 Sep 2026 doesn't exist in Auckland (02:00 NZST -> 03:00 NZDT).
        (
            AUCKLAND,
            utc(2026, 9, 23),
            WeeklySchedule(6, time(2, 30)),
            utc(2026, 9, 26, 14, 30),
            "03:30",
        ),
    ],
    ids=["berlin", "los-angeles", "auckland"],
)
def test_a_wall_time_skipped_by_spring_forward_resolves_to_a_real_instant_just_after(
    tz: ZoneInfo, week_of: datetime, schedule: WeeklySchedule, expected: datetime, local_wall: str
) -> None:
    period = period_of(week_of, tz)

    sent = send_time(period, schedule, tz)

    assert sent == expected
    assert sent.tzinfo is not None
    assert sent.utcoffset() == timedelta(0)
    assert f"{sent.astimezone(tz):%H:%M}" == local_wall
    assert period.opens_at <= sent < period.closes_at


def test_a_wall_time_repeated_by_fall_back_takes_its_first_occurrence() -> None:
    # 02:30 on Sunday 25 Oct 2026 happens twice in Berlin: first in CEST (00:30 UTC),
    # then in CET (01:30 UTC). The earlier one is used.
    period = period_of(utc(2026, 10, 21), BERLIN)

    sent = send_time(period, WeeklySchedule(6, time(2, 30)), BERLIN)

    assert sent == utc(2026, 10, 25, 0, 30)


def test_the_same_local_time_moves_in_utc_across_a_daylight_saving_change() -> None:
    friday_16 = WeeklySchedule(4, time(16, 0))

    before = send_time(period_of(utc(2026, 3, 25), BERLIN), friday_16, BERLIN)
    after = send_time(period_of(utc(2026, 4, 1), BERLIN), friday_16, BERLIN)

    assert before == utc(2026, 3, 27, 15)  # 16:00 CET
    assert after == utc(2026, 4, 3, 14)  # 16:00 CEST


def test_a_monday_midnight_schedule_sends_when_the_period_opens() -> None:
    period = period_of(utc(2026, 3, 25), BERLIN)

    sent = send_time(period, WeeklySchedule(0, time(0, 0)), BERLIN)

    assert sent == period.opens_at


# ---------------------------------------------------------------- parse_weekly_schedule


@pytest.mark.parametrize(
    ("text", "weekday", "at"),
    [
        ("mon 10:00", 0, time(10, 0)),
        ("Friday 16:00", 4, time(16, 0)),
        ("tue at 9", 1, time(9, 0)),
        ("  WED 7:05  ", 2, time(7, 5)),
        ("thursday at 00:00", 3, time(0, 0)),
        ("sat 23:59", 5, time(23, 59)),
        ("Sun 0", 6, time(0, 0)),
        ("mon10:30", 0, time(10, 30)),
        ("tues 09:15", 1, time(9, 15)),
    ],
)
def test_a_weekly_schedule_is_read_from_a_day_and_a_time(text: str, weekday: int, at: time) -> None:
    schedule = parse_weekly_schedule(text)

    assert schedule == WeeklySchedule(weekday, at)


def test_a_weekly_schedule_prints_back_in_its_canonical_form() -> None:
    schedule = parse_weekly_schedule("Friday at 9")

    assert str(schedule) == "fri 09:00"
    assert parse_weekly_schedule(str(schedule)) == schedule


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "10:00",
        "mon",
        "mo 10:00",
        "funday 10:00",
        "mon 24:00",
        "mon 10:60",
        "mon 10:5",
        "mon 123",
        "mon 10am",
        "mon 10:00:00",
        "mon -1",
        "every mon 10:00",
        "mon 10:00 and fri 16:00",
    ],
)
def test_an_unreadable_weekly_schedule_is_refused_with_a_user_error(text: str) -> None:
    with pytest.raises(UserError):
        parse_weekly_schedule(text)


def test_a_missing_weekly_schedule_is_refused_with_a_user_error() -> None:
    with pytest.raises(UserError):
        parse_weekly_schedule(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["monkey 10:00", "sunset 9", "saturnalia 12:00", "wedding 14:00"])
def test_a_word_that_merely_starts_like_a_day_is_refused(text: str) -> None:
    with pytest.raises(UserError):
        parse_weekly_schedule(text)


# ---------------------------------------------------------------- zone


@pytest.mark.parametrize(
    ("name", "fallback", "expected"),
    [
        ("Asia/Tokyo", "Europe/Berlin", "Asia/Tokyo"),
        (None, "Europe/Berlin", "Europe/Berlin"),
        ("", "America/Los_Angeles", "America/Los_Angeles"),
        ("Mars/Olympus_Mons", "Europe/Berlin", "Europe/Berlin"),
        ("../../etc/passwd", "Europe/Berlin", "Europe/Berlin"),
        ("Europe/Berlin\x00", "Asia/Kolkata", "Asia/Kolkata"),
        (None, "Not/AZone", "UTC"),
        ("Bad/Zone", "Also/Bad", "UTC"),
        (None, "", "UTC"),
    ],
)
def test_a_recipient_zone_falls_back_to_the_workspace_zone_then_to_utc(
    name: str | None, fallback: str, expected: str
) -> None:
    found = zone(name, fallback)

    assert found.key == expected


@pytest.mark.parametrize("name", ["America", "Etc"])
def test_a_zone_name_that_is_a_region_folder_falls_back_too(name: str) -> None:
    found = zone(name, "Europe/Berlin")

    assert found.key == "Europe/Berlin"
