"""What App Home shows each person: their own requests, the queue, what is overdue.

Pure queries over a session, no Slack: the handler works out who is looking (roles, admin
standing, settings) and the Block Kit builder decides how much of each list fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import RequestStatus, Role, SupportRequest
from bot.requests.deadlines import late_at
from bot.requests.lifecycle import OPEN_STATES, Actor
from bot.workspace.settings import WorkspaceSettings

# How many requests a list shows at first, and how many more each "Show more" adds. The
# cap keeps a crafted button value from asking the database for the whole table; Slack's
# 100-block limit on a home view stops far below it anyway.
DEFAULT_PAGE = 10
PAGE_STEP = 10
MAX_PAGE = 100
RECENTLY_CLOSED = timedelta(days=30)

CLOSED_STATES = frozenset(status for status in RequestStatus if not status.is_open)


class HomeList(StrEnum):
    """The lists App Home can show; the values travel in "Show more" buttons."""

    MY_OPEN = "my_open"
    MY_CLOSED = "my_closed"
    UNCLAIMED = "support_unclaimed"
    MINE = "support_mine"
    OVERDUE = "support_overdue"


@dataclass(frozen=True)
class HomePaging:
    """How many rows each list asked for, and which list the person last expanded."""

    limits: Mapping[HomeList, int] = field(default_factory=dict)
    focus: HomeList | None = None

    def limit(self, key: HomeList) -> int:
        return clamp_limit(self.limits.get(key, DEFAULT_PAGE))

    def expanded(self, key: HomeList, limit: int) -> HomePaging:
        """The same paging with `key` showing `limit` rows; it gets first call on space."""
        return HomePaging(limits={**self.limits, key: clamp_limit(limit)}, focus=key)


def clamp_limit(limit: int) -> int:
    return max(1, min(MAX_PAGE, limit))


@dataclass(frozen=True)
class Page:
    """The first rows of a list (at most the limit asked for) and how many there are in all."""

    requests: Sequence[SupportRequest]
    total: int


@dataclass(frozen=True)
class WorkspaceSummary:
    """What an admin needs to see at a glance: is the bot set up, is anything piling up."""

    intake_channel: str | None
    sales_group_set: bool
    support_group_set: bool
    demandgen_group_set: bool
    open_requests: int


@dataclass(frozen=True)
class Home:
    """Everything one person's App Home shows; a list is None when its section is hidden."""

    user_id: str
    # When the tab was built, and the workspace's zone: "overdue" is judged at this instant.
    now: datetime
    zone: ZoneInfo
    intake_channel: str | None
    show_demand_gen_note: bool
    my_open: Page | None = None
    my_closed: Page | None = None
    unclaimed: Page | None = None
    mine: Page | None = None
    overdue: Page | None = None
    workspace: WorkspaceSummary | None = None

    @property
    def shows_requests(self) -> bool:
        return self.my_open is not None


_DUE_FIRST = (
    col(SupportRequest.due_date).is_(None),
    col(SupportRequest.due_date),
    col(SupportRequest.number),
)


def _open() -> Any:
    return col(SupportRequest.status).in_(list(OPEN_STATES))


async def _page(
    session: AsyncSession,
    team_id: str,
    *where: Any,
    limit: int,
    order_by: Sequence[Any] = _DUE_FIRST,
) -> Page:
    """One page of the team's requests that match `where`, and how many match in all."""
    where = (col(SupportRequest.team_id) == team_id, *where)
    rows = await session.exec(
        select(SupportRequest).where(*where).order_by(*order_by).limit(clamp_limit(limit))
    )
    total = await session.exec(select(sa.func.count()).select_from(SupportRequest).where(*where))
    return Page(requests=list(rows.all()), total=int(total.one()))


async def my_open_requests(
    session: AsyncSession, *, team_id: str, requester_id: str, limit: int
) -> Page:
    """The person's requests still being worked on, soonest due first."""
    mine = col(SupportRequest.requester_id) == requester_id
    return await _page(session, team_id, mine, _open(), limit=limit)


async def my_recently_closed(
    session: AsyncSession, *, team_id: str, requester_id: str, since: datetime, limit: int
) -> Page:
    """Requests delivered, declined or cancelled since `since`, latest first."""
    return await _page(
        session,
        team_id,
        col(SupportRequest.requester_id) == requester_id,
        col(SupportRequest.status).in_(list(CLOSED_STATES)),
        col(SupportRequest.updated_at) >= since,
        order_by=(col(SupportRequest.updated_at).desc(), col(SupportRequest.number).desc()),
        limit=limit,
    )


async def unclaimed_requests(session: AsyncSession, *, team_id: str, limit: int) -> Page:
    """Open requests nobody has picked up yet, soonest due first."""
    unclaimed = col(SupportRequest.status) == RequestStatus.OPEN
    return await _page(session, team_id, unclaimed, limit=limit)


async def assigned_requests(
    session: AsyncSession, *, team_id: str, assignee_id: str, limit: int
) -> Page:
    """Open requests someone holds, soonest due first."""
    held = col(SupportRequest.assignee_id) == assignee_id
    return await _page(session, team_id, held, _open(), limit=limit)


async def overdue_requests(
    session: AsyncSession, *, team_id: str, now: datetime, tz: ZoneInfo, limit: int
) -> Page:
    """Open requests already late at `now` (`bot.requests.deadlines`, the rule the digests count by),
    oldest due first."""
    return await _page(session, team_id, _open(), late_at(now, tz), limit=limit)


async def has_filed(session: AsyncSession, *, team_id: str, requester_id: str) -> bool:
    result = await session.exec(
        select(SupportRequest.id)
        .where(SupportRequest.team_id == team_id, SupportRequest.requester_id == requester_id)
        .limit(1)
    )
    return result.first() is not None


async def count_open(session: AsyncSession, *, team_id: str) -> int:
    result = await session.exec(
        select(sa.func.count())
        .select_from(SupportRequest)
        .where(
            col(SupportRequest.team_id) == team_id,
            col(SupportRequest.status).in_(list(OPEN_STATES)),
        )
    )
    return int(result.one())


async def load_home(
    session: AsyncSession,
    *,
    team_id: str,
    actor: Actor,
    settings: WorkspaceSettings,
    now: datetime,
    paging: HomePaging,
) -> Home:
    """Gather the sections that apply to `actor`; people in several groups see them all.

    Requests: anyone in Sales or who has ever filed one, and anyone the roster doesn't know
    yet (most likely a rep whose group isn't set up), so nobody opens an empty tab. The
    queue: Marketing Support and admins. Demand Gen without Marketing Support gets a note
    instead of the queue, because the queue is never theirs.
    """
    user_id = actor.user_id
    known = bool(actor.roles) or actor.is_admin
    shows_requests = (
        Role.SALES in actor.roles
        or not known
        or await has_filed(session, team_id=team_id, requester_id=user_id)
    )
    my_open: Page | None = None
    my_closed: Page | None = None
    unclaimed: Page | None = None
    mine: Page | None = None
    overdue: Page | None = None
    if shows_requests:
        my_open = await my_open_requests(
            session, team_id=team_id, requester_id=user_id, limit=paging.limit(HomeList.MY_OPEN)
        )
        my_closed = await my_recently_closed(
            session,
            team_id=team_id,
            requester_id=user_id,
            since=now - RECENTLY_CLOSED,
            limit=paging.limit(HomeList.MY_CLOSED),
        )
    if actor.in_support or actor.is_admin:
        unclaimed = await unclaimed_requests(
            session, team_id=team_id, limit=paging.limit(HomeList.UNCLAIMED)
        )
        mine = await assigned_requests(
            session, team_id=team_id, assignee_id=user_id, limit=paging.limit(HomeList.MINE)
        )
        overdue = await overdue_requests(
            session,
            team_id=team_id,
            now=now,
            tz=settings.zone,
            limit=paging.limit(HomeList.OVERDUE),
        )
    workspace: WorkspaceSummary | None = None
    if actor.is_admin:
        workspace = WorkspaceSummary(
            intake_channel=settings.intake_channel,
            sales_group_set=settings.sales_usergroup is not None,
            support_group_set=settings.support_usergroup is not None,
            demandgen_group_set=settings.demandgen_usergroup is not None,
            open_requests=await count_open(session, team_id=team_id),
        )
    return Home(
        user_id=user_id,
        now=now,
        zone=settings.zone,
        intake_channel=settings.intake_channel,
        show_demand_gen_note=actor.in_demand_gen and not actor.in_support,
        my_open=my_open,
        my_closed=my_closed,
        unclaimed=unclaimed,
        mine=mine,
        overdue=overdue,
        workspace=workspace,
    )
