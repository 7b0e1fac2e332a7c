"""KPI definitions for the weekly digests, the scorecard and the export (PRODUCT.md §3, §4).

Every figure is defined once, here, in its docstring; digests, commands and the workbook only
render what these functions return. Conventions:

* Time is always passed in. A `Window` is a half-open span of real time `[start, end)` in UTC,
  normally one ISO week or one quarter of the workspace's local calendar (`week_window`,
  `quarter_window`). Timestamps (`created_at`, `delivered_at`…) are compared with the window
  directly; calendar *dates* (due dates, CRM dates, survey weeks) are compared with the
  window's local dates, i.e. the dates `d` with `local(start) <= d < local(end)`.
* Counting, summing and grouping happen in SQL; only the rows a median or business-hours
  figure needs are pulled, and only the columns it needs. Everything works the same on SQLite
  and PostgreSQL.
* An empty period never divides by zero: rates, averages and medians are `None` ("no data
  yet") and counts are 0.
* Enablement-satisfaction figures always go through `bot.surveys.privacy` (the anonymity minimum), and
  never carry a name. Pipeline-survey answers are business data and need no such care.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import local_midnight
from bot.calendar.sla import BusinessCalendar, Pause
from bot.calendar.sla import (
    _merge_pauses as merge_pauses,  # the one definition of overlapping pauses
)
from bot.calendar.windows import (
    Window,
    iso_week_label,
    quarter_of,
    quarter_window,
    require_monday,
    week_window,
)
from bot.calendar.windows import parse_quarter_label as _parse_quarter
from bot.core.models import (
    DeliveryRating,
    DeliveryStatus,
    LeadCount,
    Opportunity,
    Quota,
    RequestEvent,
    RequestStatus,
    RequestType,
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyRun,
)
from bot.kpis.objections import OBJECTION_THEMES, OTHER_THEME, objection_themes
from bot.requests.deadlines import PROMISE_COLUMNS, Promise, late_at
from bot.requests.lifecycle import OPEN_STATES
from bot.requests.queue import paused_intervals
from bot.surveys.privacy import DEFAULT_MINIMUM, Aggregate, response_rate
from bot.surveys.runs import ACTIVITY_OPTIONS
from bot.surveys.satisfaction import weeks_satisfaction
from bot.workspace.settings import load_settings

__all__ = [
    "COVERAGE_STATUSES",
    "OBJECTION_THEMES",
    "OTHER_THEME",
    "STATUS_3X_OR_MORE",
    "STATUS_BELOW_2X",
    "STATUS_BETWEEN_2X_AND_3X",
    "STATUS_NO_QUOTA",
    "STATUS_QUOTA_MET",
    "SUPPORT_REQUEST_ACTIVITY",
    "ActivityImpact",
    "Coverage",
    "Durations",
    "PipelineStats",
    "RequestStats",
    "SatisfactionStats",
    "TypeCount",
    "Window",
    "coverage",
    "coverage_status",
    "delivered_on_time",
    "iso_week_label",
    "objection_themes",
    "pipeline_stats",
    "quarter_of",
    "quarter_window",
    "rank_activities",
    "request_stats",
    "satisfaction_stats",
    "split_evenly",
    "summarise_durations",
    "week_window",
]

SECONDS_PER_HOUR: Final = 3600.0

# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------


# `Window` and its constructors live in `bot.calendar.windows` (the one definition of a period); they
# are re-exported here because every metric takes one.


# --------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """A set of durations in hours: how many, the median and the 90th percentile.

    The median is the middle value, or the mean of the two middle values for an even count.
    The 90th percentile uses the nearest-rank method: sort ascending and take the value at
    rank ceil(0.9 × count) (1-based), so it is always one of the observed durations: of 10
    values the 9th smallest, of 3 values the largest. Both are `None` when there are none.
    """

    count: int
    median: float | None
    p90: float | None


def summarise_durations(hours: Iterable[float]) -> Durations:
    """Median and nearest-rank 90th percentile of durations in hours (see `Durations`)."""
    ordered = sorted(hours)
    count = len(ordered)
    if count == 0:
        return Durations(count=0, median=None, p90=None)
    middle = count // 2
    median = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    rank = (9 * count + 9) // 10  # ceil(0.9 * count) in integers: no float rounding at 9/10
    return Durations(count=count, median=median, p90=ordered[rank - 1])


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_HOUR


# --------------------------------------------------------------------------------------
# Marketing Support: requests
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeCount:
    """Requests of one type filed and delivered in a window."""

    filed: int
    delivered: int


@dataclass(frozen=True)
class RequestStats:
    """Marketing Support's turnaround and quality for one window (see `request_stats`)."""

    filed: int
    delivered: int
    delivered_on_time: int
    on_time_rate: float | None
    open_at_end: int
    overdue_at_end: int
    time_to_claim: Durations
    time_to_claim_business: Durations
    time_to_deliver: Durations
    time_to_deliver_business: Durations
    by_type: dict[str, TypeCount]
    top_objections: list[tuple[str, int]]
    ratings: int
    rating_average: float | None
    helped_yes: int
    helped_no: int
    helped_share: float | None
    # When open_at_end / overdue_at_end were measured: the window's end once it has passed,
    # else the moment the figures were made (a week in progress: "open now").
    measured_at: datetime | None = None
    window_ended: bool = True


def _in_window(column: Any, window: Window) -> Any:
    return sa.and_(column >= window.start, column < window.end)


_PAGE_ROWS: Final = 5000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_MICROSECONDS_PER_SECOND: Final = 1_000_000
_SPARE_DAYS: Final = 62


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


class _BusinessClock:
    """`BusinessCalendar.business_seconds_between`, answered from prefix sums.

    The calendar's business windows (its local opening and closing of every business day,
    in UTC) are laid out once for the span of days asked about, with the business time
    before each; the business time in `[start, end)` is then `before(end) - before(start)`,
    two binary searches instead of a walk over every day. Exact to the microsecond like the
    calendar, and the same float: integer microseconds divided once.
    """

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self._first: date | None = None
        self._last: date | None = None
        self._covered = (0, 0)  # [from, to) in UTC microseconds: local midnights
        self._openings: list[int] = []
        self._lengths: list[int] = []
        self._before: list[int] = []

    def _cover(self, first: date, last: date) -> None:
        """Lay out the windows of local days `first`..`last` (a window stays in its day)."""
        calendar, zone = self.calendar, self.zone
        openings: list[int] = []
        lengths: list[int] = []
        before: list[int] = []
        total = 0
        day = first
        while day <= last:
            if calendar.is_business_day(day):
                opening = _micros(datetime.combine(day, calendar.start, tzinfo=zone))
                closing = _micros(datetime.combine(day, calendar.end, tzinfo=zone))
                if closing > opening:
                    openings.append(opening)
                    lengths.append(closing - opening)
                    before.append(total)
                    total += closing - opening
            day += timedelta(days=1)
        self._first, self._last = first, last
        self._covered = (
            _micros(local_midnight(first, zone)),
            _micros(local_midnight(last + timedelta(days=1), zone)),
        )
        self._openings, self._lengths, self._before = openings, lengths, before

    def _ensure(self, start: int, end: int, start_at: datetime, end_at: datetime) -> None:
        if self._covered[0] <= start and end <= self._covered[1]:
            return
        first = start_at.astimezone(self.zone).date() - timedelta(days=1)
        last = end_at.astimezone(self.zone).date() + timedelta(days=1)
        if self._first is not None and self._last is not None:
            first, last = min(first, self._first), max(last, self._last)
        self._cover(first - timedelta(days=_SPARE_DAYS), last + timedelta(days=_SPARE_DAYS))

    def _elapsed(self, moment: int) -> int:
        """Business microseconds from the first laid-out window to `moment`."""
        index = bisect_right(self._openings, moment) - 1
        if index < 0:
            return 0
        return self._before[index] + min(moment - self._openings[index], self._lengths[index])

    def seconds_between(
        self, start: datetime, end: datetime, paused: Sequence[Pause] = ()
    ) -> float:
        """Business seconds in `[start, end)` outside `paused` (merged, an open pause runs to
        `end`), the same number as `BusinessCalendar.business_seconds_between`."""
        if end <= start:
            return 0.0
        lo, hi = _micros(start), _micros(end)
        self._ensure(lo, hi, start, end)
        total = self._elapsed(hi) - self._elapsed(lo)
        if paused:
            for gap_start, gap_end in merge_pauses(paused, start, end):
                total -= self._elapsed(_micros(gap_end)) - self._elapsed(_micros(gap_start))
        return total / _MICROSECONDS_PER_SECOND


def _delivered_in(team_id: str, window: Window) -> Any:
    """Requests delivered now whose latest delivery is in the window (`request_stats`)."""
    return sa.and_(
        col(SupportRequest.team_id) == team_id,
        col(SupportRequest.status) == RequestStatus.DELIVERED,
        _in_window(col(SupportRequest.delivered_at), window),
    )


async def _pages(
    connection: AsyncConnection, moment: Any, where: Any, *columns: Any
) -> AsyncIterator[tuple[Sequence[Any], Any]]:
    """Rows `(moment, id, *columns)` of the requests matching `where`, in pages of
    `_PAGE_ROWS` ordered by (moment, id) (a keyset on a (team, moment) index), each with the
    condition selecting exactly that page's requests (for a query joined to them)."""
    request_id = col(SupportRequest.id)
    key = sa.tuple_(moment, request_id)
    after: tuple[Any, Any] | None = None
    while True:
        # The plain bound next to the row value is what an index range can start from.
        from_here = (
            where if after is None else sa.and_(where, moment >= after[0], key > sa.tuple_(*after))
        )
        rows = (
            await connection.execute(
                sa.select(moment, request_id, *columns)
                .where(from_here)
                .order_by(moment, request_id)
                .limit(_PAGE_ROWS)
            )
        ).all()
        if not rows:
            return
        last = (rows[-1][0], rows[-1][1])
        yield rows, sa.and_(from_here, moment <= last[0], key <= sa.tuple_(*last))
        if len(rows) < _PAGE_ROWS:
            return
        after = last


async def delivered_on_time(
    session: AsyncSession, *, team_id: str, window: Window, tz: ZoneInfo
) -> tuple[int, int]:
    """(delivered, delivered_on_time) exactly as `request_stats` counts them, without the
    durations: for the scorecard, which needs only these two over a whole quarter."""
    connection = await session.connection()
    delivered = on_time = 0
    pages = _pages(
        connection,
        col(SupportRequest.delivered_at),
        _delivered_in(team_id, window),
        *PROMISE_COLUMNS,
    )
    async for rows, _page in pages:
        delivered += len(rows)
        on_time += sum(
            1 for delivered_at, _id, *promise in rows if Promise(*promise).kept_by(delivered_at, tz)
        )
    return delivered, on_time


async def request_stats(
    session: AsyncSession,
    *,
    team_id: str,
    window: Window,
    calendar: BusinessCalendar,
    now: datetime | None = None,
) -> RequestStats:
    """Marketing Support's KPIs for one window. Definitions (workspace zone = calendar's):

    * filed: requests whose `created_at` is in the window.
    * delivered: requests delivered now (status delivered) whose latest delivery
      (`delivered_at`) is in the window; a reopened request counts when it is delivered again.
    * delivered_on_time: of those, delivered before the request became late
      (`bot.requests.deadlines`): a due date the requester typed promises the whole day (workspace
      zone); a due date derived from the SLA, or none, promises the SLA deadline (the
      business-hour instant the reminders use, inclusive); with neither, on time (no promise
      was made). on_time_rate = delivered_on_time / delivered, `None` when nothing was
      delivered.
    * open_at_end: requests filed before the measuring instant whose status then was open,
      claimed, in progress or waiting. The measuring instant (`measured_at`) is the window's
      end once it has passed, else `now` (a week in progress is measured as it is now, never
      as it will be at its end; without `now` the window's end). The status then is the
      `to_status` of the request's last event before it (events replay every transition), or
      "open" when it had none yet. Only requests open now or changed since (`updated_at`,
      bumped by every transition) can have been open then, so only those are examined.
    * overdue_at_end: of those, the ones already late at the measuring instant
      (`bot.requests.deadlines.late_at`).
    * time_to_claim: calendar hours from `created_at` to `claimed_at` for requests whose
      (current) `claimed_at` is in the window; time_to_claim_business: the same requests in
      business hours of the calendar (working days and hours, holidays skipped).
    * time_to_deliver: calendar hours from `created_at` to `delivered_at` for the delivered
      requests above; time_to_deliver_business: business hours of the same spans, minus time
      spent waiting on the requester (`bot.requests.queue.paused_intervals` of the request's events).
    * by_type: filed and delivered per request type, only types with either above zero, in
      the order of `RequestType`.
    * top_objections: themes (`bot.kpis.objections.objection_themes` of the details only) of the
      objection-help requests filed in the window: (theme, requests), most first, ties by
      theme name. A request mentioning two themes counts for both.
    * ratings: the requester's ratings with a score, not discarded by a reopen, of deliveries
      (the delivery event) in the window; rating_average is their mean score (`None` without
      ratings).
    * helped_yes / helped_no: the same ratings' "did it help the deal?" answers (whether or
      not they carry a score); helped_share = yes / (yes + no), leaving "too early" out of
      both, `None` when nobody answered yes or no.
    """
    tz = calendar.zone
    team = col(SupportRequest.team_id) == team_id
    clock = _BusinessClock(calendar)

    # Filed, per type (GROUP BY in SQL).
    filed_rows = (
        await session.exec(
            select(SupportRequest.request_type, sa.func.count())
            .where(team, _in_window(col(SupportRequest.created_at), window))
            .group_by(col(SupportRequest.request_type))
        )
    ).all()
    filed_by_type: dict[str, int] = {RequestType(kind).value: int(n) for kind, n in filed_rows}

    # Delivered: a page of requests at a time (keyset on the delivered-time index), so a
    # quarter's worth never sits in memory at once; only the durations are kept.
    delivered_filter = _delivered_in(team_id, window)
    # Only requests that ever waited on their requester have pauses.
    waited = (
        sa.select(sa.literal(1))
        .where(
            col(RequestEvent.request_id) == col(SupportRequest.id),
            col(RequestEvent.to_status) == RequestStatus.WAITING,
        )
        .correlate(SupportRequest)
        .exists()
    )
    connection = await session.connection()
    delivered_by_type: Counter[str] = Counter()
    on_time = 0
    deliver_hours: list[float] = []
    deliver_business: list[float] = []
    delivered_pages = _pages(
        connection,
        col(SupportRequest.delivered_at),
        delivered_filter,
        col(SupportRequest.request_type),
        col(SupportRequest.created_at),
        *PROMISE_COLUMNS,
    )
    async for delivered_rows, this_page in delivered_pages:
        # The transitions of this page's requests that waited, as light tuples (building ORM
        # rows for every event dominated the digest's time once).
        events_by_request: dict[int, list[_Step]] = defaultdict(list)
        event_rows = (
            await connection.execute(
                sa.select(
                    col(RequestEvent.request_id),
                    col(RequestEvent.to_status),
                    col(RequestEvent.created_at),
                )
                .join(SupportRequest, col(SupportRequest.id) == col(RequestEvent.request_id))
                .where(this_page, waited)
                .order_by(
                    col(RequestEvent.request_id), col(RequestEvent.created_at), col(RequestEvent.id)
                )
            )
        ).all()
        for request_id, to_status, at in event_rows:
            events_by_request[request_id].append(_Step(RequestStatus(to_status), at))

        for delivered_at, row_id, kind, created_at, *promise in delivered_rows:
            delivered_by_type[RequestType(kind).value] += 1
            if Promise(*promise).kept_by(delivered_at, tz):
                on_time += 1
            deliver_hours.append(_hours(created_at, delivered_at))
            steps = events_by_request.get(row_id)
            pauses = paused_intervals(steps) if steps else ()
            deliver_business.append(
                clock.seconds_between(created_at, delivered_at, pauses) / SECONDS_PER_HOUR
            )
    delivered = len(deliver_hours)

    # Claimed in the window, a page at a time on the claimed-time index.
    claim_hours: list[float] = []
    claim_business: list[float] = []
    claimed_at_ = col(SupportRequest.claimed_at)
    claim_pages = _pages(
        connection,
        claimed_at_,
        sa.and_(team, _in_window(claimed_at_, window)),
        col(SupportRequest.created_at),
    )
    async for claim_rows, _page in claim_pages:
        for claimed_at, _id, created_at in claim_rows:
            claim_hours.append(_hours(created_at, claimed_at))
            claim_business.append(clock.seconds_between(created_at, claimed_at) / SECONDS_PER_HOUR)

    measured_at = window.end if now is None else window.measured_at(now)
    open_at_end, overdue_at_end = await _open_at(
        session, team_id=team_id, moment=measured_at, tz=tz
    )

    # Objection themes: of the details only (an account named "Costco" is no price objection).
    objection_rows = (
        await session.exec(
            select(SupportRequest.details).where(
                team,
                col(SupportRequest.request_type) == RequestType.OBJECTION_HELP,
                _in_window(col(SupportRequest.created_at), window),
            )
        )
    ).all()
    themes: Counter[str] = Counter()
    for details in objection_rows:
        themes.update(objection_themes(details))
    top_objections = sorted(themes.items(), key=lambda item: (-item[1], item[0]))

    # Ratings of deliveries in the window.
    rated = col(DeliveryRating.score).is_not(None)
    rating_row = (
        await session.exec(
            select(
                sa.func.count(col(DeliveryRating.score)),
                sa.func.sum(col(DeliveryRating.score)),
                sa.func.sum(sa.case((col(DeliveryRating.helped) == "yes", 1), else_=0)),
                sa.func.sum(sa.case((col(DeliveryRating.helped) == "no", 1), else_=0)),
            )
            .join(RequestEvent, col(RequestEvent.id) == col(DeliveryRating.delivery_event_id))
            .where(
                col(DeliveryRating.team_id) == team_id,
                col(DeliveryRating.discarded).is_(False),
                # The event's own team too: the window is then a range on its team index.
                col(RequestEvent.team_id) == team_id,
                _in_window(col(RequestEvent.created_at), window),
                sa.or_(rated, col(DeliveryRating.helped).is_not(None)),
            )
        )
    ).one()
    ratings = int(rating_row[0] or 0)
    score_sum = int(rating_row[1] or 0)
    helped_yes, helped_no = int(rating_row[2] or 0), int(rating_row[3] or 0)

    types = [
        kind.value
        for kind in RequestType
        if filed_by_type.get(kind.value) or delivered_by_type.get(kind.value)
    ]
    return RequestStats(
        filed=sum(filed_by_type.values()),
        delivered=delivered,
        delivered_on_time=on_time,
        on_time_rate=on_time / delivered if delivered else None,
        open_at_end=open_at_end,
        overdue_at_end=overdue_at_end,
        time_to_claim=summarise_durations(claim_hours),
        time_to_claim_business=summarise_durations(claim_business),
        time_to_deliver=summarise_durations(deliver_hours),
        time_to_deliver_business=summarise_durations(deliver_business),
        by_type={
            kind: TypeCount(filed=filed_by_type.get(kind, 0), delivered=delivered_by_type[kind])
            for kind in types
        },
        top_objections=top_objections,
        ratings=ratings,
        rating_average=score_sum / ratings if ratings else None,
        helped_yes=helped_yes,
        helped_no=helped_no,
        helped_share=helped_yes / (helped_yes + helped_no) if helped_yes + helped_no else None,
        measured_at=measured_at,
        window_ended=measured_at == window.end,
    )


async def _open_at(
    session: AsyncSession, *, team_id: str, moment: datetime, tz: ZoneInfo
) -> tuple[int, int]:
    """(open, overdue) requests at `moment`, counted in SQL (see `request_stats`).

    Three disjoint sets, each read on an index. A request not changed since `moment`
    (`updated_at` before it; every transition bumps it) is in the status it was in then, so
    it counts when it is open now (read on the status index). A request changed since has its
    status at `moment` replayed: the `to_status` of its last event before `moment` (one row
    per request, picked with a window function over just those requests' events), or "open"
    when it had no event before `moment` at all.
    """
    overdue = late_at(moment, tz)
    team = col(SupportRequest.team_id) == team_id
    filed_before = col(SupportRequest.created_at) < moment
    unchanged_since = sa.and_(filed_before, col(SupportRequest.updated_at) < moment)
    changed_since = sa.and_(team, filed_before, col(SupportRequest.updated_at) >= moment)
    connection = await session.connection()

    def tally(condition: Any) -> tuple[Any, Any]:
        return (
            sa.func.sum(sa.case((condition, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(condition, overdue), 1), else_=0)),
        )

    # The time conditions sit in the sums, not the WHERE: the status index then reads only
    # the open requests (a range on updated_at would read nearly every request).
    unchanged = (
        await connection.execute(
            sa.select(*tally(unchanged_since)).where(
                team, col(SupportRequest.status).in_(sorted(OPEN_STATES))
            )
        )
    ).one()

    ranked = (
        sa.select(
            col(RequestEvent.to_status).label("to_status"),
            sa.case((overdue, 1), else_=0).label("overdue"),
            sa.func.row_number()
            .over(
                partition_by=col(RequestEvent.request_id),
                order_by=(col(RequestEvent.created_at).desc(), col(RequestEvent.id).desc()),
            )
            .label("newest"),
        )
        .join(SupportRequest, col(SupportRequest.id) == col(RequestEvent.request_id))
        .where(changed_since, col(RequestEvent.created_at) < moment)
        .subquery("ranked")
    )
    replayed = (
        await connection.execute(
            sa.select(sa.func.count(), sa.func.sum(ranked.c.overdue)).where(
                ranked.c.newest == 1, ranked.c.to_status.in_(sorted(OPEN_STATES))
            )
        )
    ).one()

    no_event_before = ~(
        sa.select(sa.literal(1))
        .where(
            col(RequestEvent.request_id) == col(SupportRequest.id),
            col(RequestEvent.created_at) < moment,
        )
        .correlate(SupportRequest)
        .exists()
    )
    untouched = (
        await connection.execute(
            sa.select(sa.func.count(), sa.func.sum(sa.case((overdue, 1), else_=0))).where(
                changed_since, no_event_before
            )
        )
    ).one()
    parts = (unchanged, replayed, untouched)
    return sum(int(part[0] or 0) for part in parts), sum(int(part[1] or 0) for part in parts)


# --------------------------------------------------------------------------------------
# Marketing Support: enablement satisfaction (anonymous)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SatisfactionStats:
    """The week's enablement-satisfaction pulse, anonymised (see `satisfaction_stats`)."""

    week_label: str
    mean: Aggregate
    distribution: dict[int, int] | None
    responses: int
    reached: int
    response_rate: float | None
    trend: list[tuple[str, Aggregate]]
    help_most: list[tuple[str, int]] | None
    comments: list[str]
    answered: int = 0
    # Weeks of the trend whose mean is withheld, and the minimum they fell short of (the
    # digest says "2 weeks withheld (fewer than 5 respondents)" next to the trend).
    withheld_weeks: int = 0
    minimum: int = DEFAULT_MINIMUM


async def satisfaction_stats(
    session: AsyncSession, *, team_id: str, week_start: date, minimum: int, weeks: int = 8
) -> SatisfactionStats:
    """Sales' satisfaction with enablement for the ISO week starting `week_start` (a Monday).

    The week's run is the enablement `SurveyRun` with `period_start == week_start`; without
    one every count is 0, every figure "no responses yet" and every rate `None`. Every figure
    made of answers comes through the privacy gate (`bot.surveys.satisfaction`, `bot.surveys.privacy.gate`),
    each judged on the distinct people who gave it:

    * mean / distribution: the mean 1–5 score and how many gave each score, withheld below
      `minimum` people who gave a score.
    * responses: how many of the week's respondents gave a score (the mean's respondents).
    * reached: the run's deliveries whose DM went out (status sent or answered).
    * answered: those deliveries marked answered; response_rate = answered / reached
      (`bot.surveys.privacy.response_rate`, never withheld, `None` when nobody was reached), the same
      figure as the survey's own run summary.
    * trend: (ISO week label, mean) for the `weeks` weeks ending with this one, oldest
      first; each week judged on its own, weeks without a run or answers read "no responses
      yet". withheld_weeks: how many of them are withheld.
    * help_most: (option key, answers) of "what would help you most", most first, ties by
      key, only options somebody picked; `None` (withheld) when fewer than `minimum` people
      answered that question.
    * comments: the week's comments (`bot.surveys.privacy.safe_comments`), with the week's
      respondents (anyone who answered anything) as the respondent count: empty below the
      minimum, sorted, never names.
    """
    require_monday(week_start)
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    first_week = week_start - timedelta(days=7 * (weeks - 1))
    found = await weeks_satisfaction(
        session,
        team_id=team_id,
        week_starts=[first_week + timedelta(days=7 * back) for back in range(weeks)],
        minimum=minimum,
        comments_for=[week_start],
    )
    weekly = [(iso_week_label(week.week_start), week.gated.mean) for week in found.weeks]
    this = found.weeks[-1]
    reached = answered = 0
    if this.run_id is not None:
        delivery_row = (
            await session.exec(
                select(
                    sa.func.count(),
                    sa.func.sum(
                        sa.case((col(SurveyDelivery.status) == DeliveryStatus.ANSWERED, 1), else_=0)
                    ),
                ).where(
                    col(SurveyDelivery.run_id) == this.run_id,
                    col(SurveyDelivery.status).in_([DeliveryStatus.SENT, DeliveryStatus.ANSWERED]),
                )
            )
        ).one()
        reached, answered = int(delivery_row[0] or 0), int(delivery_row[1] or 0)
    return SatisfactionStats(
        week_label=iso_week_label(week_start),
        mean=this.gated.mean,
        distribution=this.gated.distribution,
        responses=this.gated.mean.respondents,
        reached=reached,
        response_rate=response_rate(answered, reached),
        trend=weekly,
        help_most=this.gated.help_most,
        comments=this.gated.comments,
        answered=answered,
        withheld_weeks=found.mean.withheld_weeks,
        minimum=minimum,
    )


# --------------------------------------------------------------------------------------
# Demand Gen: pipeline
# --------------------------------------------------------------------------------------

SUPPORT_REQUEST_ACTIVITY: Final = "support_request"


@dataclass(frozen=True)
class ActivityImpact:
    """One marketing activity's share of the pipeline reps credited to marketing."""

    activity: str
    pipeline_cents: int
    mentions: int


@dataclass(frozen=True)
class PipelineStats:
    """Demand Gen's pipeline, leads and conversion for one window (see `pipeline_stats`)."""

    survey_respondents: int
    new_opportunities: int
    new_pipeline_cents: int
    sourced_count: int
    sourced_cents: int
    influenced_count: int
    influenced_cents: int
    crm_opportunities: int
    crm_pipeline_cents: int
    crm_sourced_count: int
    crm_sourced_cents: int
    leads: int
    lead_to_opportunity_rate: float | None
    activities: list[ActivityImpact]
    lead_conversion_source: str | None = None


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` cents in `parts` integer shares that add up exactly: each gets total // parts
    and the first also gets the remainder (1001 in 2 -> [501, 500]; 100 in 3 -> [34, 33, 33])."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    share, remainder = divmod(total, parts)
    return [share + remainder, *([share] * (parts - 1))]


def _activity_keys(raw: str | None) -> list[str]:
    """A response's activities as ranking keys, in the order given, each once.

    "ms:<request id>…" entries (a delivered support request) become "support_request"; keys
    no longer offered become "other"; unreadable JSON names nothing.
    """
    try:
        values = json.loads(raw) if raw else []
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    keys: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue
        if value.startswith("ms:"):
            key = SUPPORT_REQUEST_ACTIVITY
        elif value in ACTIVITY_OPTIONS:
            key = value
        else:
            key = "other"
        if key not in keys:
            keys.append(key)
    return keys


def rank_activities(answers: Iterable[tuple[Sequence[str], int]]) -> list[ActivityImpact]:
    """Rank activities by the pipeline credited to them, from (activities, value) answers.

    Each answer's value (its sourced + influenced cents) is split evenly among the distinct
    activities it names (`split_evenly`: remainder cents to the first named), and each named
    activity gets one mention. Answers naming no activity credit nothing. Ranked by pipeline
    cents descending, then mentions descending, then activity key.
    """
    cents: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for keys, value in answers:
        if not keys:
            continue
        for key, share in zip(keys, split_evenly(value, len(keys)), strict=True):
            cents[key] += share
            mentions[key] += 1
    return _ranked(cents, mentions)


def _ranked(cents: Counter[str], mentions: Counter[str]) -> list[ActivityImpact]:
    return sorted(
        (
            ActivityImpact(activity=key, pipeline_cents=cents[key], mentions=mentions[key])
            for key in mentions
        ),
        key=lambda impact: (-impact.pipeline_cents, -impact.mentions, impact.activity),
    )


class _Step(NamedTuple):
    to_status: RequestStatus
    created_at: datetime


async def _activities_in(session: AsyncSession, pipeline_runs: Any) -> list[ActivityImpact]:
    """`rank_activities` over the responses matching `pipeline_runs`, grouped in SQL.

    Responses naming the same activities (the same JSON text) share their keys, so one row per
    distinct text carries everything the even split needs: how many responses, the sum of
    their values and, for the number of keys n, the sum of each value's floor(value / n). The
    first key's share is then sum - (n - 1) * that, exactly the per-response remainders added
    up. A text whose values include a negative one (SQL divides those toward zero, Python
    floors) is split response by response instead.
    """
    value = sa.func.coalesce(col(SurveyResponse.sourced_cents), 0) + sa.func.coalesce(
        col(SurveyResponse.influenced_cents), 0
    )
    most_keys = len(ACTIVITY_OPTIONS)  # unknown keys become "other", so never more
    raw_text = col(SurveyResponse.activities)
    matching = sa.and_(pipeline_runs, raw_text.is_not(None))
    connection = await session.connection()
    groups = (
        await connection.execute(
            sa.select(
                raw_text,
                sa.func.count(),
                sa.func.min(value),
                *(sa.func.sum(value // parts) for parts in range(1, most_keys + 1)),
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
            .where(matching)
            .group_by(raw_text)
        )
    ).all()
    cents: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for raw, responses, lowest, *sums in groups:
        keys = _activity_keys(raw)
        if not keys:
            continue
        parts = len(keys)
        if int(lowest or 0) < 0 or parts > most_keys:
            values = (
                await connection.execute(
                    sa.select(value)
                    .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
                    .where(matching, raw_text == raw)
                )
            ).scalars()
            for total in values:
                for key, share in zip(keys, split_evenly(int(total), parts), strict=True):
                    cents[key] += share
        else:
            total, share = int(sums[0] or 0), int(sums[parts - 1] or 0)
            cents[keys[0]] += total - (parts - 1) * share
            for key in keys[1:]:
                cents[key] += share
        for key in keys:
            mentions[key] += int(responses)
    return _ranked(cents, mentions)


async def pipeline_stats(
    session: AsyncSession, *, team_id: str, window: Window, with_activities: bool = True
) -> PipelineStats:
    """What Demand Gen generated in a window: survey answers, CRM opportunities, leads.

    Local dates are the window's in its zone (`Window.tz`, else the workspace's setting).

    * Survey figures come from pipeline-survey responses to runs whose week (`period_start`)
      starts in the window: survey_respondents = responses; new_opportunities /
      new_pipeline_cents = the sums of what reps reported; sourced_count / sourced_cents and
      influenced_count / influenced_cents = the sums of the marketing-sourced and
      -influenced parts.
    * CRM figures come from imported opportunities whose `created_date` is in the window:
      crm_opportunities / crm_pipeline_cents = count and amount; crm_sourced_count /
      crm_sourced_cents = those flagged marketing-sourced.
    * leads: `LeadCount.leads` summed over weeks starting in the window.
    * lead_to_opportunity_rate: marketing-sourced opportunities / leads. The numerator is
      crm_sourced_count when the window has imported opportunities (crm_opportunities > 0,
      the same rule the digests use for sourced pipeline), else the survey's sourced_count;
      `lead_conversion_source` says which ("crm" or "survey"). `None` (and source `None`)
      when there were no leads.
    * activities: `rank_activities` over the survey responses: each response's sourced +
      influenced cents split evenly among the activities it names ("ms:…" entries count as
      "support_request"), with mentions = responses naming the activity.
    """
    tz = window.tz or (await load_settings(session, team_id)).zone
    first_day, end_day = window.local_dates(tz)

    pipeline_runs = sa.and_(
        col(SurveyRun.team_id) == team_id,
        col(SurveyRun.kind) == SurveyKind.PIPELINE,
        col(SurveyRun.period_start) >= first_day,
        col(SurveyRun.period_start) < end_day,
        col(SurveyResponse.kind) == SurveyKind.PIPELINE,
    )
    survey = (
        await (await session.connection()).execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(col(SurveyResponse.opportunities)),
                sa.func.sum(col(SurveyResponse.pipeline_cents)),
                sa.func.sum(col(SurveyResponse.sourced_count)),
                sa.func.sum(col(SurveyResponse.sourced_cents)),
                sa.func.sum(col(SurveyResponse.influenced_count)),
                sa.func.sum(col(SurveyResponse.influenced_cents)),
            )
            .join(SurveyRun, col(SurveyRun.id) == col(SurveyResponse.run_id))
            .where(pipeline_runs)
        )
    ).one()
    respondents, opportunities, pipeline, sourced_n, sourced, influenced_n, influenced = (
        int(value or 0) for value in survey
    )

    activities = await _activities_in(session, pipeline_runs) if with_activities else []

    marketing = col(Opportunity.marketing_sourced).is_(True)
    crm = (
        await session.exec(
            select(
                sa.func.count(),
                sa.func.sum(col(Opportunity.amount_cents)),
                sa.func.sum(sa.case((marketing, 1), else_=0)),
                sa.func.sum(sa.case((marketing, col(Opportunity.amount_cents)), else_=0)),
            ).where(
                col(Opportunity.team_id) == team_id,
                col(Opportunity.created_date) >= first_day,
                col(Opportunity.created_date) < end_day,
            )
        )
    ).one()
    crm_count, crm_cents, crm_sourced_n, crm_sourced = (int(value or 0) for value in crm)

    leads = int(
        (
            await session.exec(
                select(sa.func.sum(col(LeadCount.leads))).where(
                    col(LeadCount.team_id) == team_id,
                    col(LeadCount.week_start) >= first_day,
                    col(LeadCount.week_start) < end_day,
                )
            )
        ).one()
        or 0
    )
    source: str | None = None
    rate: float | None = None
    if leads > 0:
        source = "crm" if crm_count else "survey"
        rate = (crm_sourced_n if crm_count else sourced_n) / leads

    return PipelineStats(
        survey_respondents=respondents,
        new_opportunities=opportunities,
        new_pipeline_cents=pipeline,
        sourced_count=sourced_n,
        sourced_cents=sourced,
        influenced_count=influenced_n,
        influenced_cents=influenced,
        crm_opportunities=crm_count,
        crm_pipeline_cents=crm_cents,
        crm_sourced_count=crm_sourced_n,
        crm_sourced_cents=crm_sourced,
        leads=leads,
        lead_to_opportunity_rate=rate,
        activities=activities,
        lead_conversion_source=source,
    )


# --------------------------------------------------------------------------------------
# Demand Gen: coverage
# --------------------------------------------------------------------------------------

STATUS_NO_QUOTA: Final = "no quota set"
STATUS_QUOTA_MET: Final = "quota met"
STATUS_BELOW_2X: Final = "below 2x"
STATUS_BETWEEN_2X_AND_3X: Final = "between 2x and 3x"
STATUS_3X_OR_MORE: Final = "3x or more"
COVERAGE_STATUSES: Final = (
    STATUS_NO_QUOTA,
    STATUS_QUOTA_MET,
    STATUS_BELOW_2X,
    STATUS_BETWEEN_2X_AND_3X,
    STATUS_3X_OR_MORE,
)


@dataclass(frozen=True)
class Coverage:
    """Open pipeline against what is left of the quarter's quota (see `coverage`)."""

    quarter: str
    open_pipeline_cents: int
    quota_cents: int | None
    booked_cents: int
    remaining_quota_cents: int | None
    ratio: float | None
    status: str
    quota_attainment: float | None
    # The last local date the figures include, and the day the CRM data was last imported when
    # that is after it (amounts and stages have no history: they are as of that import).
    as_of: date | None = None
    imported_on: date | None = None


def coverage_status(*, open_pipeline_cents: int, remaining_quota_cents: int | None) -> str:
    """The 2–3x coverage rule: "no quota set" without a quota; "quota met" when nothing is
    left to book; else "below 2x" (< 2), "between 2x and 3x" (2 inclusive to 3 exclusive) or
    "3x or more", compared in exact integer cents."""
    if remaining_quota_cents is None:
        return STATUS_NO_QUOTA
    if remaining_quota_cents <= 0:
        return STATUS_QUOTA_MET
    if open_pipeline_cents < 2 * remaining_quota_cents:
        return STATUS_BELOW_2X
    if open_pipeline_cents < 3 * remaining_quota_cents:
        return STATUS_BETWEEN_2X_AND_3X
    return STATUS_3X_OR_MORE


async def coverage(
    session: AsyncSession,
    *,
    team_id: str,
    quarter: str,
    tz: ZoneInfo,
    now: datetime | None = None,
    until: datetime | None = None,
) -> Coverage:
    """Pipeline coverage for a quarter ("2026-Q4"), from imported CRM opportunities, as it
    stood at the measuring instant: the earliest of the quarter's end, `until` (a past week's
    end, for its digest) and `now` (without `now`, the quarter's end). A malformed quarter
    raises `UserError`.

    CRM dates are calendar dates as the CRM reported them (already local); "before the
    measuring instant" means on a local date the quarter up to that instant covers
    (`Window.local_dates`), so today's deals count in the quarter to date.

    * booked_cents: amounts of won opportunities whose close date is in the quarter, up to the
      measuring date.
    * open_pipeline_cents: amounts of opportunities created by the measuring date (or
      undated) that were still open then — not closed, or closed after it — and whose close
      date is in the quarter or unset (past-due open deals from earlier quarters are not
      counted).
    * quota_cents: the quarter's workspace quota (owner "*"); without one, the sum of the
      per-owner quotas; `None` when there is no quota row at all.
    * remaining_quota_cents: max(quota − booked, 0); `None` without a quota.
    * ratio: open_pipeline / remaining_quota; `None` without a quota or with nothing left.
    * status: `coverage_status` ("no quota set" also for a quota of 0).
    * quota_attainment: booked / quota; `None` without a (non-zero) quota.
    * as_of: the last date included; imported_on: the latest import's date when it is after
      `as_of` — amounts, stages and expected close dates carry no history, so a past period
      is judged with them as imported then ("as of import <date>").
    """
    first, end, label = _parse_quarter(quarter)
    whole = quarter_window(label, tz)
    measured = whole.up_to(min(whole.end, until or whole.end, now or whole.end))
    after = measured.local_dates(tz)[1]
    in_quarter = sa.and_(col(Opportunity.close_date) >= first, col(Opportunity.close_date) < end)
    team = col(Opportunity.team_id) == team_id
    close_date = col(Opportunity.close_date)
    still_open_then = sa.or_(
        col(Opportunity.is_closed).is_(False), sa.and_(close_date.is_not(None), close_date >= after)
    )
    created_by_then = sa.or_(
        col(Opportunity.created_date).is_(None), col(Opportunity.created_date) < after
    )

    open_cents = (
        await session.exec(
            select(sa.func.sum(col(Opportunity.amount_cents))).where(
                team,
                still_open_then,
                created_by_then,
                sa.or_(in_quarter, close_date.is_(None)),
            )
        )
    ).one()
    booked_cents = (
        await session.exec(
            select(sa.func.sum(col(Opportunity.amount_cents))).where(
                team, col(Opportunity.is_won).is_(True), in_quarter, close_date < after
            )
        )
    ).one()
    # Only a period that ended before now can have been imported after: skip the read else.
    last_import = None
    if now is not None and measured.end < now:
        last_import = (
            await session.exec(
                select(col(Opportunity.updated_at))
                .where(team)
                .order_by(col(Opportunity.updated_at).desc())
                .limit(1)
            )
        ).first()
    as_of = after - timedelta(days=1)
    imported_on = None
    if last_import is not None:
        imported_day = last_import.astimezone(tz).date()
        imported_on = imported_day if imported_day > as_of else None
    quota_rows = (
        await session.exec(
            select(Quota.owner, Quota.amount_cents).where(
                col(Quota.team_id) == team_id, col(Quota.quarter) == label
            )
        )
    ).all()
    quotas = {owner: int(amount) for owner, amount in quota_rows}
    quota: int | None = quotas["*"] if "*" in quotas else (sum(quotas.values()) if quotas else None)

    open_pipeline = int(open_cents or 0)
    booked = int(booked_cents or 0)
    if quota is None or quota <= 0:
        return Coverage(
            quarter=label,
            open_pipeline_cents=open_pipeline,
            quota_cents=quota,
            booked_cents=booked,
            remaining_quota_cents=None if quota is None else 0,
            ratio=None,
            status=STATUS_NO_QUOTA,
            quota_attainment=None,
            as_of=as_of,
            imported_on=imported_on,
        )
    remaining = max(quota - booked, 0)
    return Coverage(
        quarter=label,
        open_pipeline_cents=open_pipeline,
        quota_cents=quota,
        booked_cents=booked,
        remaining_quota_cents=remaining,
        ratio=open_pipeline / remaining if remaining else None,
        status=coverage_status(open_pipeline_cents=open_pipeline, remaining_quota_cents=remaining),
        quota_attainment=booked / quota,
        as_of=as_of,
        imported_on=imported_on,
    )
