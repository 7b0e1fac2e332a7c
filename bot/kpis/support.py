"""Marketing Support's turnaround and quality for one window (PRODUCT.md §3): requests filed
and delivered, on time or late, open and overdue at the window's end, claim and delivery
times, objection themes and the requesters' ratings.

Time is always passed in, as a `bot.calendar.windows.Window` (a half-open span `[start, end)`
in UTC). Counting and grouping happen in SQL; only the rows a median or business-hours figure
needs are read, a page at a time. An empty window never divides by zero: rates and averages are
`None` and counts are 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.business import BusinessCalendar
from bot.calendar.windows import Window
from bot.core.models import (
    DeliveryRating,
    RequestEvent,
    RequestStatus,
    RequestType,
    SupportRequest,
)
from bot.kpis.durations import (
    SECONDS_PER_HOUR,
    BusinessClock,
    Durations,
    hours_between,
    summarise_durations,
)
from bot.kpis.objections import objection_themes
from bot.requests.deadlines import PROMISE_COLUMNS, Promise, late_at
from bot.requests.lifecycle import OPEN_STATES
from bot.requests.queue import paused_intervals

__all__ = [
    "RequestStats",
    "TypeCount",
    "delivered_on_time",
    "filed_per_type",
    "request_stats",
]

_PAGE_ROWS: Final = 5000


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


class _Step(NamedTuple):
    to_status: RequestStatus
    created_at: datetime


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


async def filed_per_type(session: AsyncSession, *, team_id: str, window: Window) -> dict[str, int]:
    """Requests filed in the window (their `created_at` in it), per request type: the one
    definition of "filed", for `request_stats` and the digest's line on the week before."""
    rows = (
        await session.exec(
            select(SupportRequest.request_type, sa.func.count())
            .where(
                col(SupportRequest.team_id) == team_id,
                _in_window(col(SupportRequest.created_at), window),
            )
            .group_by(col(SupportRequest.request_type))
        )
    ).all()
    return {RequestType(kind).value: int(n) for kind, n in rows}


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
    clock = BusinessClock(calendar)

    filed_by_type = await filed_per_type(session, team_id=team_id, window=window)

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
            deliver_hours.append(hours_between(created_at, delivered_at))
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
            claim_hours.append(hours_between(created_at, claimed_at))
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
