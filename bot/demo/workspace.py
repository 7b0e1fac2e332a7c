"""A realistic demo workspace: weeks of requests, pulse surveys, pipeline and goals.

`alignbot demo` fills a fresh database with it and prints the digests and scorecards; the
tests use it as a fixture workspace and `bench/digests.py` grows it (`scale`) to a million
survey responses. Everything is deterministic for a given `seed` and `now`, and every row is
consistent with what the bot itself would have written:

* requests move through the lifecycle (`bot.requests.lifecycle`) with one `RequestEvent` per
  transition, and `status`, `assignee_id`, `claimed_at`, `delivered_at`, `version` and
  `updated_at` match the events; due dates and SLA deadlines come from the business calendar;
* survey runs are weekly (closed, except the current week's), with one delivery per sales rep
  and one response per answered delivery (plus its history row, as `bot.surveys.runs` keeps);
* pipeline answers report the rep's own CRM opportunities of that week, so the survey and
  the CRM tell the same story and sourced + influenced never exceed the total;
* the quarter's quota is set so open pipeline covers what is left of it 2.5 times.

Rows go in with core bulk inserts in chunks (ids assigned here, so children can point at their
parents without a round trip), which keeps a million-response workspace to minutes.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period, period_of, period_starting, send_time, zone
from bot.calendar.sla import BusinessCalendar
from bot.core.models import (
    Counter,
    DeliveryStatus,
    FeedbackAction,
    Quota,
    RequestStatus,
    RequestType,
    Role,
    RunStatus,
    SurveyKind,
)
from bot.core.text import format_reference
from bot.kpis.goals import quarter_bounds, quarter_of, set_goal
from bot.requests.filing import REQUEST_COUNTER
from bot.requests.lifecycle import Action
from bot.workspace.roster import SlackUserFacts, replace_role_members, store_slack_users
from bot.workspace.settings import WorkspaceSettings, ensure_workspace, save_settings

__all__ = [
    "ADMIN",
    "DEMANDGEN_DIGEST_CHANNEL",
    "DEMO_TIMEZONE",
    "INTAKE_CHANNEL",
    "SUPPORT_DIGEST_CHANNEL",
    "TARGET_COVERAGE",
    "generate_demo",
    "rep_id",
]

DEMO_TIMEZONE: Final = "America/New_York"
INTAKE_CHANNEL: Final = "C0DEMOINTAKE"
SUPPORT_DIGEST_CHANNEL: Final = "C0DEMOSUPPORTDIGEST"
DEMANDGEN_DIGEST_CHANNEL: Final = "C0DEMODGDIGEST"
SALES_GROUP: Final = "S0DEMOSALES"
SUPPORT_GROUP: Final = "S0DEMOMKTSUPPORT"
DEMANDGEN_GROUP: Final = "S0DEMODEMANDGEN"
ADMIN: Final = "U0DEMOADMIN"
LEADER: Final = "U0DEMOVPSALES"

SUPPORT_PER_SCALE: Final = 4
DEMANDGEN_PER_SCALE: Final = 2
CHUNK: Final = 1000
# Per sales rep and week.
REQUESTS_PER_REP_WEEK: Final = 0.37
OPPORTUNITY_CHANCES: Final = 3  # up to 3 new opportunities a week,
OPPORTUNITY_CHANCE: Final = 0.2  # each with this chance: 0.6 a week on average
TARGET_COVERAGE: Final = 2.5
LEAD_CONVERSION: Final = 0.11
LEAD_CONVERSION_GOAL: Final = 0.12

Row = dict[str, Any]
S = RequestStatus
A = Action
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
Progress = Callable[[str], None]


def rep_id(index: int) -> str:
    """The demo's sales reps: U0REP001, U0REP002… (wider past 999)."""
    return f"U0REP{index:03d}"


def _support_id(index: int) -> str:
    return f"U0MKT{index:03d}"


def _demandgen_id(index: int) -> str:
    return f"U0DG{index:03d}"


# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

REP_ZONES: Final = (
    ("America/New_York", 40),
    ("America/Chicago", 20),
    ("America/Denver", 8),
    ("America/Los_Angeles", 25),
    ("Europe/London", 5),
    ("America/Sao_Paulo", 2),
)
ACCOUNTS: Final = (
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Logistics",
    "Wayne Financial",
    "Wonka Foods",
    "Hooli",
    "Pied Piper",
    "Soylent",
    "Tyrell Systems",
    "Cyberdyne",
    "Gringotts Bank",
    "Oceanic Airlines",
    "Vandelay Industries",
    "Massive Dynamic",
    "Aperture Labs",
    "Black Mesa",
    "Blue Sun",
    "Monarch Retail",
    "Nakatomi Trading",
    "Dunder Mifflin",
    "Sterling Cooper",
    "Bluth Company",
    "Prestige Worldwide",
    "Gekko & Co",
    "Virtucon",
    "Oscorp",
    "Rekall",
    "Weyland Mining",
    "Zorg Industries",
    "Ollivanders",
    "Krusty Brands",
    "Los Pollos Hermanos",
    "Paper Street Soap",
    "Duff Beverages",
)
COMPETITORS: Final = ("Northwind", "Contoso", "Fabrikam", "the incumbent")
REQUEST_TYPE_WEIGHTS: Final = (
    (RequestType.DEAL_DECK, 25),
    (RequestType.OBJECTION_HELP, 20),
    (RequestType.COMPETITIVE_INTEL, 15),
    (RequestType.ROI_CASE, 12),
    (RequestType.CASE_STUDY, 10),
    (RequestType.CUSTOM_CONTENT, 8),
    (RequestType.OTHER, 6),
    (RequestType.EVENT_SUPPORT, 4),
)
DETAILS: Final[dict[RequestType, tuple[str, ...]]] = {
    RequestType.DEAL_DECK: (
        "Exec overview deck for the CFO meeting",
        "Renewal pitch for the steering committee",
        "QBR deck with this year's usage highlights",
        "Expansion proposal for their EMEA team",
        "First-call deck tailored to retail",
    ),
    RequestType.OBJECTION_HELP: (
        "Prospect says we're too expensive vs. {competitor}; need a pricing rebuttal",
        "CFO pushing back on price: we're 20% over their budget. Talking points on payback?",
        "Their security team wants our SOC 2 report and answers on data residency",
        "They're comparing us with {competitor} and think switching from it is too much work",
        "IT worries about the integration with Salesforce and SSO; need a technical answer",
        "Procurement says timing is bad: budget freeze until next quarter",
        "Champion says we lack a feature they need (offline mode). Is it on the roadmap?",
        "Legal review: they need our DPA and GDPR answers before signing",
        "Can't justify the ROI to their board; need a business case they can reuse",
        "Asked for a discount to match {competitor}'s price",
        "Worried about implementation time and onboarding their 400 users",
        "Compliance asked about HIPAA and our audit logs",
    ),
    RequestType.COMPETITIVE_INTEL: (
        "How do we win a head-to-head bake-off against {competitor}?",
        "Latest pricing intel on {competitor}",
        "Battlecard for {competitor} in mid-market",
    ),
    RequestType.ROI_CASE: (
        "Business case for the board: 3-year ROI and payback",
        "TCO comparison against their current tooling",
        "ROI model for a 200-seat rollout",
    ),
    RequestType.CASE_STUDY: (
        "Need a case study from a similar healthcare customer",
        "Reference story for a manufacturing prospect",
        "Customer proof point for a 10,000-employee rollout",
    ),
    RequestType.CUSTOM_CONTENT: (
        "One-pager for their procurement team",
        "Short demo video the champion can share internally",
        "Mutual action plan template",
    ),
    RequestType.EVENT_SUPPORT: (
        "Booth material for the regional user group",
        "Invitations for the customer dinner at the roadshow",
    ),
    RequestType.OTHER: (
        "Logo approval for the customer's press release",
        "Swag for the kickoff meeting",
        "Translate the overview deck into German",
    ),
}
DECLINE_NOTES: Final = (
    "Out of scope: the self-serve template library has this",
    "Duplicate of an earlier request",
    "Not enough detail to start; please refile with the brief",
)
CANCEL_NOTES: Final = ("Deal slipped to next quarter", "Found it in the content hub", None)
COMMENTS_GOOD: Final = (
    "The new battlecards saved me an hour before the Globex call.",
    "Turnaround on the ROI model was fast. Thank you!",
    "Case study library is finally easy to search.",
    "Loved the objection-handling session on pricing.",
    "The renewal deck template is great.",
)
COMMENTS_BAD: Final = (
    "Took four days to get a deck; the deal had moved on.",
    "We still have no case study for healthcare.",
    "Competitive material on Northwind is out of date.",
    "Hard to find the latest pricing one-pager.",
    "Requests sit unclaimed for too long on Fridays.",
)
COMMENTS_MEH: Final = (
    "Fine this week, nothing special.",
    "More ROI examples for mid-market would help.",
    "Would like a short video version of the pitch.",
)
HELP_WEIGHTS: Final = (
    ("case_studies", 30),
    ("competitive", 25),
    ("roi", 20),
    ("objections", 18),
    ("other", 7),
)
HELP_KEYS: Final = [key for key, _weight in HELP_WEIGHTS]
HELP_WEIGHT_VALUES: Final = [weight for _key, weight in HELP_WEIGHTS]
RATING_REASONS: Final = ("late", "brief", "quality", "format", "other")
RATING_COMMENTS: Final = (
    "Exactly what the CFO needed.",
    "Great, but a day later than I hoped.",
    "Customer loved the case study.",
    "Needed more numbers.",
)
# Lead source -> the pipeline-survey activity it corresponds to (None: not marketing).
LEAD_SOURCES: Final[tuple[tuple[str, str | None, int], ...]] = (
    ("Webinar", "webinar", 8),
    ("Trade Show", "event", 6),
    ("Content Download", "content", 8),
    ("Email Campaign", "email", 5),
    ("Paid Search", "paid", 5),
    ("Organic Search", "seo", 5),
    ("Outbound Prospecting", None, 30),
    ("Partner Referral", None, 12),
    ("Customer Referral", None, 9),
    ("Existing Customer", None, 12),
)
INFLUENCE_ACTIVITIES: Final = (("content", 4), ("webinar", 3), ("event", 2), ("email", 2))
OPEN_STAGES: Final = ("Discovery", "Qualification", "Proposal", "Negotiation")
PRODUCTS: Final = ("Platform", "Analytics add-on", "Enterprise upgrade", "Renewal", "Expansion")


# --------------------------------------------------------------------------------------
# Bulk writing
# --------------------------------------------------------------------------------------

# A child table's rows are only written after its parents' (foreign keys are enforced).
PARENTS: Final[dict[str, tuple[str, ...]]] = {
    "request_event": ("support_request",),
    "delivery_rating": ("support_request", "request_event"),
    "survey_delivery": ("survey_run",),
    "survey_response": ("survey_run",),
    "survey_response_history": ("survey_response",),
}


class _Writer:
    """Buffers rows per table and writes them with core executemany inserts in chunks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.buffers: dict[str, list[Row]] = defaultdict(list)
        self.written: dict[str, int] = defaultdict(int)

    @staticmethod
    def table(name: str) -> sa.Table:
        return SQLModel.metadata.tables[name]

    async def add(self, name: str, row: Row) -> None:
        buffer = self.buffers[name]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            await self.flush(name)

    async def flush(self, name: str) -> None:
        for parent in PARENTS.get(name, ()):
            await self.flush(parent)
        rows = self.buffers.pop(name, None)
        if not rows:
            return
        connection = await self.session.connection()
        await connection.execute(sa.insert(self.table(name)), rows)
        self.written[name] += len(rows)

    async def flush_all(self) -> None:
        for name in list(self.buffers):
            await self.flush(name)

    async def next_id(self, name: str) -> int:
        table = self.table(name)
        current = (
            await (await self.session.connection()).execute(sa.select(sa.func.max(table.c.id)))
        ).scalar()
        return int(current or 0) + 1

    async def fix_sequences(self, names: Sequence[str]) -> None:
        """PostgreSQL: move each serial past the ids assigned here, so later inserts work."""
        connection = await self.session.connection()
        if connection.dialect.name != "postgresql":
            return
        for name in names:
            await connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"GREATEST((SELECT MAX(id) FROM {name}), 1))"
                )
            )


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


@dataclass
class _Delivered:
    """A rep's delivered request, offered as "a delivered support request" activity."""

    at: datetime
    request_id: int
    number: int


@dataclass
class _Opp:
    amount_cents: int
    sourced: bool
    activity: str | None


@dataclass
class _Event:
    at: datetime
    action: Action
    from_status: RequestStatus
    to_status: RequestStatus
    actor: str
    assignee: str | None
    note: str | None = None


@dataclass
class _Totals:
    """What the goals and the quota are derived from."""

    open_in_quarter: int = 0
    booked_in_quarter: int = 0
    sourced_in_quarter: int = 0
    delivered_in_quarter: int = 0


@dataclass
class _Demo:
    session: AsyncSession
    rng: random.Random
    now: datetime
    team_id: str
    weeks: int
    reps: list[str]
    support: list[str]
    settings: WorkspaceSettings
    progress: Progress | None
    writer: _Writer
    rep_zones: dict[str, str] = field(default_factory=dict)
    rep_weights: list[float] = field(default_factory=list)
    delivered_by_rep: dict[str, list[_Delivered]] = field(default_factory=dict)
    totals: _Totals = field(default_factory=_Totals)
    next_ids: dict[str, int] = field(default_factory=dict)
    request_number: int = 0
    opportunity_number: int = 0
    quarter_start: datetime = EPOCH

    @cached_property
    def tz(self) -> ZoneInfo:
        return self.settings.zone

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return self.settings.calendar

    @cached_property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def new_id(self, name: str) -> int:
        value = self.next_ids[name]
        self.next_ids[name] = value + 1
        return value


async def generate_demo(
    session: AsyncSession,
    *,
    now: datetime,
    reps: int = 12,
    seed: int = 7,
    team_id: str = "TDEMO",
    scale: int = 1,
    weeks: int = 12,
    progress: Progress | None = None,
) -> str:
    """Fill a workspace with `weeks` weeks of realistic data ending at `now`; return its id.

    `scale` multiplies the sales roster (and so every volume: requests, surveys,
    opportunities, leads) and the marketing teams: `reps=12, scale=4160, weeks=12` makes
    about a million survey responses and 200,000 requests. The workspace must not exist yet
    (`alignbot demo` starts from a fresh file). `progress` receives a line per step.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if reps < 1 or scale < 1 or weeks < 2:
        raise ValueError("reps and scale must be at least 1, weeks at least 2")
    rng = random.Random(seed)
    tz = ZoneInfo(DEMO_TIMEZONE)
    first_week = period_of(now, tz).start - timedelta(days=7 * (weeks - 1))
    started = period_starting(first_week, tz).opens_at - timedelta(days=3)
    sales = [rep_id(index) for index in range(1, reps * scale + 1)]
    support = [_support_id(index) for index in range(1, SUPPORT_PER_SCALE * scale + 1)]
    demandgen = [_demandgen_id(index) for index in range(1, DEMANDGEN_PER_SCALE * scale + 1)]

    await ensure_workspace(session, team_id=team_id, enterprise_id=None, now=started)
    settings = await save_settings(
        session,
        team_id=team_id,
        changes={
            "intake_channel": INTAKE_CHANNEL,
            "support_digest_channel": SUPPORT_DIGEST_CHANNEL,
            "demandgen_digest_channel": DEMANDGEN_DIGEST_CHANNEL,
            "sales_usergroup": SALES_GROUP,
            "support_usergroup": SUPPORT_GROUP,
            "demandgen_usergroup": DEMANDGEN_GROUP,
            "timezone": DEMO_TIMEZONE,
            "admins": (ADMIN,),
            "support_leads": (support[0],),
            "leaders": (LEADER,),
        },
        updated_by=ADMIN,
        now=started,
    )
    for role, members in (
        (Role.SALES, sales),
        (Role.SUPPORT, support),
        (Role.DEMAND_GEN, demandgen),
    ):
        await replace_role_members(
            session, team_id=team_id, role=role, user_ids=members, now=started
        )
    zones = [name for name, _weight in REP_ZONES]
    zone_weights = [weight for _name, weight in REP_ZONES]
    rep_zones = dict(zip(sales, rng.choices(zones, zone_weights, k=len(sales)), strict=True))
    await store_slack_users(
        session,
        team_id=team_id,
        users=[
            SlackUserFacts(user_id, rep_zones.get(user_id, DEMO_TIMEZONE), False, False)
            for user_id in [*sales, *support, *demandgen, ADMIN, LEADER]
        ],
        now=started,
    )

    demo = _Demo(
        session=session,
        rng=rng,
        now=now,
        team_id=team_id,
        weeks=weeks,
        reps=sales,
        support=support,
        settings=settings,
        progress=progress,
        writer=_Writer(session),
        rep_zones=rep_zones,
        # Some reps lean on Marketing Support far more than others.
        rep_weights=[rng.lognormvariate(0, 0.6) for _ in sales],
    )
    quarter_first, _last = quarter_bounds(quarter_of(demo.today))
    demo.quarter_start = _local(quarter_first, 0.0, tz)
    demo.say(f"roster: {len(sales)} reps, {len(support)} Marketing Support, {len(demandgen)} DG")
    writer = demo.writer
    for name in ("support_request", "request_event", "survey_run", "survey_response"):
        demo.next_ids[name] = await writer.next_id(name)
    demo.request_number = await _counter(session, team_id)

    periods = [
        period_starting(first_week + timedelta(days=7 * index), tz) for index in range(weeks)
    ]
    runs = await _survey_runs(demo, periods)
    for index, period in enumerate(periods):
        await _week(demo, index, period, runs[period.start])
        await writer.flush_all()
        await session.commit()
        demo.say(
            f"week {period.label} ({index + 1}/{weeks}): "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(writer.written.items()))
        )

    await _counter_row(demo)
    await _quota_and_goals(demo, periods)
    await _feedback(demo, periods)
    await writer.flush_all()
    await writer.fix_sequences(
        [
            "support_request",
            "request_event",
            "delivery_rating",
            "survey_run",
            "survey_delivery",
            "survey_response",
            "survey_response_history",
            "opportunity",
            "feedback_action",
        ]
    )
    await session.commit()
    demo.say("done")
    return team_id


async def _counter(session: AsyncSession, team_id: str) -> int:
    row = await session.get(Counter, (team_id, REQUEST_COUNTER))
    return row.value if row is not None else 0


async def _counter_row(demo: _Demo) -> None:
    row = await demo.session.get(Counter, (demo.team_id, REQUEST_COUNTER))
    if row is None:
        demo.session.add(
            Counter(team_id=demo.team_id, name=REQUEST_COUNTER, value=demo.request_number)
        )
    else:
        row.value = demo.request_number
    await demo.session.flush()


# --------------------------------------------------------------------------------------
# Survey runs
# --------------------------------------------------------------------------------------


async def _survey_runs(demo: _Demo, periods: list[Period]) -> dict[date, dict[SurveyKind, int]]:
    runs: dict[date, dict[SurveyKind, int]] = {}
    current = periods[-1].start
    for period in periods:
        runs[period.start] = {}
        for kind in SurveyKind:
            run_id = demo.new_id("survey_run")
            runs[period.start][kind] = run_id
            closed = period.start != current
            await demo.writer.add(
                "survey_run",
                {
                    "id": run_id,
                    "team_id": demo.team_id,
                    "kind": kind.value,
                    "period_start": period.start,
                    "period_end": period.end,
                    "opens_at": period.opens_at,
                    "closes_at": period.closes_at,
                    "status": (RunStatus.CLOSED if closed else RunStatus.OPEN).value,
                    "created_at": period.opens_at + timedelta(minutes=5),
                    "closed_at": (
                        min(period.closes_at + timedelta(minutes=5), demo.now) if closed else None
                    ),
                },
            )
    await demo.writer.flush("survey_run")
    return runs


# --------------------------------------------------------------------------------------
# One week
# --------------------------------------------------------------------------------------


def _local(day: date, hour: float, tz: ZoneInfo) -> datetime:
    minutes = int(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(UTC)


def _moment(demo: _Demo, period: Period) -> datetime:
    """A moment in the period, on a working day and mostly in office hours, not after now."""
    rng = demo.rng
    latest = min(period.closes_at, demo.now)
    day = period.start + timedelta(days=rng.choices(range(5), (22, 22, 21, 20, 15))[0])
    hour = rng.uniform(8.5, 17.5) if rng.random() < 0.9 else rng.uniform(6.0, 21.0)
    moment = _local(day, hour, demo.tz)
    if moment < latest:
        return moment
    span = (latest - period.opens_at).total_seconds()
    return period.opens_at + timedelta(seconds=rng.uniform(0, max(span - 1, 0)))


async def _week(demo: _Demo, index: int, period: Period, runs: dict[SurveyKind, int]) -> None:
    opportunities = await _opportunities(demo, index, period)
    await _requests(demo, index, period)
    await _surveys(demo, index, period, runs, opportunities)


# -- CRM ------------------------------------------------------------------------------


async def _opportunities(demo: _Demo, index: int, period: Period) -> dict[str, list[_Opp]]:
    """The week's new opportunities per rep, written to the CRM table, plus the week's leads."""
    rng, today = demo.rng, demo.today
    quarter = quarter_of(today)
    q_first, q_last = quarter_bounds(quarter)
    q_end = q_last + timedelta(days=1)
    names = [name for name, _activity, _weight in LEAD_SOURCES]
    base_weights = [float(weight) for _name, _activity, weight in LEAD_SOURCES]
    activity_of = {name: activity for name, activity, _weight in LEAD_SOURCES}
    # Marketing's share of new pipeline grows over the weeks: the playbook at work.
    boost = 1.0 + 0.5 * index / max(demo.weeks - 1, 1)
    weights = [
        weight * boost if activity_of[name] else weight
        for name, weight in zip(names, base_weights, strict=True)
    ]
    by_rep: dict[str, list[_Opp]] = {}
    sourced_this_week = 0
    for rep_number, rep in enumerate(demo.reps, start=1):
        count = sum(rng.random() < OPPORTUNITY_CHANCE for _ in range(OPPORTUNITY_CHANCES))
        for _ in range(count):
            created = period.start + timedelta(days=rng.choices(range(5), (24, 22, 20, 19, 15))[0])
            if created > today:
                continue
            source = rng.choices(names, weights)[0]
            activity = activity_of[source]
            dollars = min(max(rng.lognormvariate(math.log(35_000), 0.7), 5_000), 600_000)
            amount = int(round(dollars / 500) * 500 * 100)
            age = (today - created).days
            closed = rng.random() < min(0.75, max(0.0, (age - 10) / 80))
            won = closed and rng.random() < 0.38
            if closed:
                close_date = min(created + timedelta(days=rng.randint(10, max(10, age))), today)
                stage = "Closed Won" if won else "Closed Lost"
            else:
                close_date = created + timedelta(days=rng.randint(30, 100))
                if close_date < today:  # slipped: pushed out a few weeks
                    close_date = today + timedelta(days=rng.randint(3, 30))
                if close_date >= q_end and q_end > today and rng.random() < 0.65:
                    close_date = today + timedelta(days=rng.randint(0, (q_end - today).days - 1))
                stage = OPEN_STAGES[min(age // 21, len(OPEN_STAGES) - 1)]
            in_quarter = q_first <= close_date < q_end
            if not closed and in_quarter:
                demo.totals.open_in_quarter += amount
            if won and in_quarter:
                demo.totals.booked_in_quarter += amount
            if activity is not None:
                sourced_this_week += 1
                if q_first <= created < q_end:
                    demo.totals.sourced_in_quarter += amount
            account = rng.choice(ACCOUNTS)
            demo.opportunity_number += 1
            await demo.writer.add(
                "opportunity",
                {
                    "team_id": demo.team_id,
                    "crm_id": f"006DEMO{demo.opportunity_number:010d}",
                    "name": f"{account} - {rng.choice(PRODUCTS)}",
                    "account": account,
                    "amount_cents": amount,
                    "stage": stage,
                    "close_date": close_date,
                    "created_date": created,
                    "lead_source": source,
                    "marketing_sourced": activity is not None,
                    "owner_email": f"rep{rep_number:03d}@demo.example",
                    "is_won": won,
                    "is_closed": closed,
                    "imported_at": demo.now,
                    "updated_at": demo.now,
                },
            )
            by_rep.setdefault(rep, []).append(_Opp(amount, activity is not None, activity))
    conversion = LEAD_CONVERSION * (0.9 + 0.25 * index / max(demo.weeks - 1, 1))
    leads = max(5, round(sourced_this_week / conversion * rng.uniform(0.9, 1.1)))
    await demo.writer.add(
        "lead_count",
        {
            "team_id": demo.team_id,
            "week_start": period.start,
            "leads": leads,
            "qualified": round(leads * rng.uniform(0.3, 0.45)),
            "updated_at": demo.now,
        },
    )
    return by_rep


# -- Requests -------------------------------------------------------------------------


def _details(demo: _Demo, request_type: RequestType) -> str:
    template = demo.rng.choice(DETAILS[request_type])
    return template.replace("{competitor}", demo.rng.choice(COMPETITORS))


async def _requests(demo: _Demo, index: int, period: Period) -> None:
    rng = demo.rng
    expected = len(demo.reps) * REQUESTS_PER_REP_WEEK * rng.uniform(0.85, 1.15)
    if period.closes_at > demo.now:  # the current week: only what was filed so far
        elapsed = demo.calendar.business_seconds_between(period.opens_at, demo.now)
        expected = max(expected * elapsed / (5 * 8 * 3600), 3.0)
    # However small the roster, the last two weeks show a request in each state the queue
    # can hold (the final states of the older weeks come up by themselves).
    forced: tuple[RequestStatus, ...] = ()
    if index == demo.weeks - 1:
        forced = (S.OPEN, S.CLAIMED, S.IN_PROGRESS, S.WAITING)
    elif index == demo.weeks - 2:
        forced = (S.CANCELLED, S.DECLINED)
    elif index == demo.weeks - 3:
        forced = (S.IN_PROGRESS,)  # stuck for two weeks: overdue
    count = max(1, round(expected), len(forced))
    types = [kind for kind, _weight in REQUEST_TYPE_WEIGHTS]
    type_weights = [weight for _kind, weight in REQUEST_TYPE_WEIGHTS]
    requesters = rng.choices(demo.reps, demo.rep_weights, k=count)
    kinds = rng.choices(types, type_weights, k=count)
    fates = [*forced, *([None] * (count - len(forced)))]
    rng.shuffle(fates)
    for requester, kind, fate in zip(requesters, kinds, fates, strict=True):
        await _request(demo, index, period, requester, kind, fate)


async def _request(
    demo: _Demo,
    index: int,
    period: Period,
    requester: str,
    kind: RequestType,
    fate: RequestStatus | None,
) -> None:
    rng, calendar = demo.rng, demo.calendar
    created = _moment(demo, period)
    demo.request_number += 1
    number = demo.request_number
    request_id = demo.new_id("support_request")
    sla_days = demo.settings.sla_days_for(kind)
    chosen_due: date | None = None
    if rng.random() < 0.3:
        local_day = created.astimezone(demo.tz).date()
        chosen_due = local_day + timedelta(days=rng.randint(2, 12))
    due_date = chosen_due or calendar.due_date_for(created, sla_days)
    deadline = calendar.sla_deadline(created, due_date=chosen_due, days=sla_days)
    events = (
        _lifecycle(demo, index, created, deadline, requester)
        if fate is None
        else _scripted(fate, created, demo.now, requester, demo.rng.choice(demo.support))
    )

    status = RequestStatus.OPEN
    assignee: str | None = None
    claimed_at: datetime | None = None
    delivered_at: datetime | None = None
    deliverable_url: str | None = None
    outcome_note: str | None = None
    event_ids: list[int] = []
    for event in events:
        event_ids.append(demo.new_id("request_event"))
        status, assignee = event.to_status, event.assignee
        if assignee is not None and claimed_at is None:
            claimed_at = event.at
        if event.action == Action.DELIVER:
            delivered_at = event.at
            deliverable_url = event.note
            outcome_note = None
        elif event.action == Action.DECLINE:
            outcome_note = event.note
        elif event.action == Action.REOPEN:
            delivered_at = None
    amount = (
        int(round(min(rng.lognormvariate(math.log(60_000), 0.8), 900_000), -3) * 100)
        if rng.random() < 0.6
        else None
    )
    await demo.writer.add(
        "support_request",
        {
            "id": request_id,
            "team_id": demo.team_id,
            "number": number,
            "request_type": kind.value,
            "status": status.value,
            "account": rng.choice(ACCOUNTS) if rng.random() < 0.85 else None,
            "amount_cents": amount,
            "due_date": due_date,
            "details": _details(demo, kind),
            "crm_link": None,
            "requester_id": requester,
            "requester_in_sales": True,
            "source": "command" if rng.random() < 0.6 else "form",
            "source_key": f"demo:{demo.team_id}:{number}",
            "created_at": created,
            "updated_at": events[-1].at if events else created,
            "assignee_id": assignee,
            "intake_channel": INTAKE_CHANNEL,
            "intake_ts": f"{int(created.timestamp())}.{number % 1_000_000:06d}",
            "intake_permalink": None,
            "intake_error": None,
            "sla_deadline": deadline,
            "due_from_sla": chosen_due is None,
            "claimed_at": claimed_at,
            "delivered_at": delivered_at,
            "deliverable_url": deliverable_url,
            "outcome_note": outcome_note,
            "version": 1 + len(events),
        },
    )
    for event_id, event in zip(event_ids, events, strict=True):  # after their request row
        await demo.writer.add(
            "request_event",
            {
                "id": event_id,
                "request_id": request_id,
                "team_id": demo.team_id,
                "actor_id": event.actor,
                "action": event.action.value,
                "from_status": event.from_status.value,
                "to_status": event.to_status.value,
                "assignee_id": event.assignee,
                "note": event.note,
                "created_at": event.at,
            },
        )
    if status == RequestStatus.DELIVERED and delivered_at is not None:
        if kind != RequestType.OTHER:
            recent = demo.delivered_by_rep.setdefault(requester, [])
            recent.append(_Delivered(delivered_at, request_id, number))
            del recent[:-4]
        if delivered_at >= demo.quarter_start:
            demo.totals.delivered_in_quarter += 1
    await _ratings(demo, index, request_id, requester, events, event_ids)


def _scripted(
    fate: RequestStatus, created: datetime, now: datetime, requester: str, member: str
) -> list[_Event]:
    """Transitions that leave a request in `fate` at `now`, spread between filing and now."""
    span = now - created

    def at(share: float, hours: float = 1e6) -> datetime:
        return min(created + span * share, created + timedelta(hours=hours))

    claim = _Event(at(0.2, 2), A.CLAIM, S.OPEN, S.CLAIMED, member, member)
    start = _Event(at(0.4, 4), A.START, S.CLAIMED, S.IN_PROGRESS, member, member)
    scripts: dict[RequestStatus, list[_Event]] = {
        S.OPEN: [],
        S.CLAIMED: [claim],
        S.IN_PROGRESS: [claim, start],
        S.WAITING: [
            claim,
            start,
            _Event(at(0.6), A.NEED_INFO, S.IN_PROGRESS, S.WAITING, member, member),
        ],
        S.CANCELLED: [
            _Event(at(0.3), A.CANCEL, S.OPEN, S.CANCELLED, requester, None, CANCEL_NOTES[0])
        ],
        S.DECLINED: [
            claim,
            _Event(at(0.5), A.DECLINE, S.CLAIMED, S.DECLINED, member, member, DECLINE_NOTES[0]),
        ],
    }
    return scripts[fate]


def _lifecycle(
    demo: _Demo, index: int, created: datetime, deadline: datetime, requester: str
) -> list[_Event]:
    """The transitions a request went through, as `bot.requests.queue.apply_action` records them, up
    to now (a request filed recently is simply further behind)."""
    rng, calendar = demo.rng, demo.calendar

    def later(start: datetime, business_hours: float) -> datetime:
        return calendar.add_business_seconds(start, max(business_hours, 0.02) * 3600)

    events: list[_Event] = []
    member = rng.choice(demo.support)
    fate = rng.random()
    claim_hours = min(rng.lognormvariate(math.log(1.8), 0.9), 30.0)
    if fate < 0.04:  # cancelled by the requester, sometimes after a claim
        cancel_at = later(created, rng.uniform(0.5, 12))
        status: RequestStatus = S.OPEN
        assignee: str | None = None
        claim_at = later(created, claim_hours)
        if claim_at < cancel_at:
            events.append(_Event(claim_at, A.CLAIM, S.OPEN, S.CLAIMED, member, member))
            status, assignee = S.CLAIMED, member
        events.append(
            _Event(
                cancel_at,
                A.CANCEL,
                status,
                S.CANCELLED,
                requester,
                assignee,
                rng.choice(CANCEL_NOTES),
            )
        )
    elif fate < 0.09:  # declined by Marketing Support
        claim_at = later(created, claim_hours)
        events.append(_Event(claim_at, A.CLAIM, S.OPEN, S.CLAIMED, member, member))
        events.append(
            _Event(
                later(claim_at, rng.uniform(0.3, 6)),
                A.DECLINE,
                S.CLAIMED,
                S.DECLINED,
                member,
                member,
                rng.choice(DECLINE_NOTES),
            )
        )
    else:
        stalled = fate > 0.975  # stuck in progress: these end up overdue
        if rng.random() < 0.15:  # starting an unclaimed request claims it
            start_at = later(created, claim_hours)
            events.append(_Event(start_at, A.START, S.OPEN, S.IN_PROGRESS, member, member))
        else:
            claim_at = later(created, claim_hours)
            events.append(_Event(claim_at, A.CLAIM, S.OPEN, S.CLAIMED, member, member))
            start_at = later(claim_at, rng.uniform(0.2, 6))
            events.append(_Event(start_at, A.START, S.CLAIMED, S.IN_PROGRESS, member, member))
        if rng.random() < 0.05 and len(demo.support) > 1:
            other = rng.choice([person for person in demo.support[:8] if person != member])
            moved = later(start_at, rng.uniform(0.5, 4))
            events.append(_Event(moved, A.REASSIGN, S.IN_PROGRESS, S.IN_PROGRESS, member, other))
            member, start_at = other, moved
        budget = calendar.business_seconds_between(created, deadline)
        # Most work lands inside the SLA; fewer requests run late as the weeks go by.
        late = rng.random() < 0.2 - 0.1 * index / max(demo.weeks - 1, 1)
        share = rng.uniform(1.05, 1.9) if late else rng.uniform(0.25, 0.95)
        deliver_at = max(
            calendar.add_business_seconds(created, share * budget), later(start_at, 0.5)
        )
        if rng.random() < 0.15:  # asked the requester for something first
            asked = start_at + (deliver_at - start_at) * rng.uniform(0.2, 0.6)
            answered = asked + timedelta(hours=rng.uniform(2, 30))
            work_left = calendar.business_seconds_between(asked, deliver_at)
            events.append(_Event(asked, A.NEED_INFO, S.IN_PROGRESS, S.WAITING, member, member))
            events.append(_Event(answered, A.RESUME, S.WAITING, S.IN_PROGRESS, requester, member))
            deliver_at = later(answered, work_left / 3600)
        if not stalled:
            url = f"https://docs.demo.example/d/{demo.request_number}"
            events.append(
                _Event(deliver_at, A.DELIVER, S.IN_PROGRESS, S.DELIVERED, member, member, url)
            )
            if rng.random() < 0.025:  # reopened by the requester, then delivered again
                reopened = deliver_at + timedelta(hours=rng.uniform(4, 60))
                events.append(_Event(reopened, A.REOPEN, S.DELIVERED, S.CLAIMED, requester, member))
                events.append(
                    _Event(
                        later(reopened, rng.uniform(1, 8)),
                        A.DELIVER,
                        S.CLAIMED,
                        S.DELIVERED,
                        member,
                        member,
                        url + "?v=2",
                    )
                )
    return [event for event in events if event.at <= demo.now]


async def _ratings(
    demo: _Demo,
    index: int,
    request_id: int,
    requester: str,
    events: list[_Event],
    event_ids: list[int],
) -> None:
    """The requester's rating of each delivery; a reopen discards the one before it."""
    rng = demo.rng
    for position, event in enumerate(events):
        if event.action != Action.DELIVER or rng.random() > 0.65:
            continue
        rated_at = event.at + timedelta(hours=rng.uniform(1, 48))
        reopen = next(
            (after.at for after in events[position + 1 :] if after.action == Action.REOPEN), None
        )
        if rated_at > demo.now or (reopen is not None and rated_at >= reopen):
            continue
        mean = 3.8 + 0.6 * index / max(demo.weeks - 1, 1)
        score = min(5, max(1, round(rng.gauss(mean, 0.9))))
        helped = rng.choices(("yes", "no", "too_early"), (60, 15, 25))[0]
        await demo.writer.add(
            "delivery_rating",
            {
                "request_id": request_id,
                "delivery_event_id": event_ids[position],
                "team_id": demo.team_id,
                "rater_id": requester,
                "score": score,
                "helped": helped,
                "reason": rng.choice(RATING_REASONS) if score <= 2 else None,
                "comment": rng.choice(RATING_COMMENTS) if rng.random() < 0.25 else None,
                "discarded": reopen is not None,
                "created_at": rated_at,
                "updated_at": rated_at,
            },
        )


# -- Surveys --------------------------------------------------------------------------


async def _surveys(
    demo: _Demo,
    index: int,
    period: Period,
    runs: dict[SurveyKind, int],
    opportunities: dict[str, list[_Opp]],
) -> None:
    """Both pulses of the week: a delivery per rep, a response per answered delivery."""
    rng = demo.rng
    current = period.closes_at > demo.now
    progress = index / max(demo.weeks - 1, 1)
    answer_rate = 0.78 + 0.12 * progress
    schedules = {kind: demo.settings.survey_schedule(kind.value) for kind in SurveyKind}
    failing = {rng.randrange(len(demo.reps)) for _ in range(max(1, len(demo.reps) // 200))}
    for kind in SurveyKind:
        run_id = runs[kind]
        for rep_number, rep in enumerate(demo.reps):
            send_at = send_time(
                period, schedules[kind], zone(demo.rep_zones.get(rep), DEMO_TIMEZONE)
            )
            row: Row = {
                "run_id": run_id,
                "team_id": demo.team_id,
                "user_id": rep,
                "status": DeliveryStatus.PENDING.value,
                "send_at": send_at,
                "claim_token": None,
                "claimed_at": None,
                "sent_at": None,
                "channel": None,
                "message_ts": None,
                "error": None,
                "attempts": 0,
                "reminder_status": None,
                "reminded_at": None,
                "answered_at": None,
            }
            if send_at <= demo.now:
                sent_at = send_at + timedelta(seconds=rng.uniform(1, 90))
                row.update(claimed_at=send_at, attempts=1)
                # A couple of DMs Slack refuses (a deactivated account, a DM-less guest).
                if rep_number in failing and kind == SurveyKind.ENABLEMENT and index % 4 == 1:
                    row.update(status=DeliveryStatus.FAILED.value, error="cannot_dm_user")
                else:
                    answered_at = await _answer(
                        demo,
                        _Ask(index, period, kind, run_id, rep, sent_at, answer_rate, current),
                        opportunities.get(rep, []),
                    )
                    reminder = sent_at + timedelta(days=demo.settings.survey_reminder_days)
                    reminded = (
                        reminder <= demo.now
                        and reminder < period.closes_at
                        and (answered_at is None or answered_at > reminder)
                    )
                    row.update(
                        status=(
                            DeliveryStatus.ANSWERED if answered_at else DeliveryStatus.SENT
                        ).value,
                        sent_at=sent_at,
                        channel=f"D0DM{rep_number + 1:06d}",
                        message_ts=f"{int(sent_at.timestamp())}.{rep_number % 1_000_000:06d}",
                        reminder_status="sent" if reminded else None,
                        reminded_at=reminder if reminded else None,
                        answered_at=answered_at,
                    )
            await demo.writer.add("survey_delivery", row)


@dataclass(frozen=True)
class _Ask:
    """One survey DM that went out: which week, which survey, to whom, when."""

    index: int
    period: Period
    kind: SurveyKind
    run_id: int
    rep: str
    sent_at: datetime
    answer_rate: float
    current: bool


RESPONSE_FIELDS: Final = (
    "score",
    "comment",
    "help_with",
    "opportunities",
    "pipeline_cents",
    "sourced_count",
    "sourced_cents",
    "influenced_count",
    "influenced_cents",
    "activities",
)


async def _answer(demo: _Demo, ask: _Ask, opportunities: list[_Opp]) -> datetime | None:
    """Write the rep's response (if they answered in time), with the history `bot.surveys.runs`
    keeps of each save, and return when they answered."""
    rng = demo.rng
    index, period, kind, rep, sent_at = ask.index, ask.period, ask.kind, ask.rep, ask.sent_at
    answer_rate, current = ask.answer_rate, ask.current
    if rng.random() > answer_rate:
        return None
    answered_at = sent_at + timedelta(hours=min(rng.lognormvariate(math.log(3), 1.2), 100))
    if answered_at > demo.now or answered_at >= period.closes_at:
        return None
    values: Row = dict.fromkeys(RESPONSE_FIELDS)
    if kind == SurveyKind.ENABLEMENT:
        mean = 3.3 + 0.8 * index / max(demo.weeks - 1, 1)
        score = min(5, max(1, round(rng.gauss(mean, 0.9))))
        values["score"] = score
        if rng.random() < 0.25:
            pool = COMMENTS_GOOD if score >= 4 else COMMENTS_BAD if score <= 2 else COMMENTS_MEH
            values["comment"] = rng.choice(pool)
        if rng.random() < 0.65:
            values["help_with"] = rng.choices(HELP_KEYS, HELP_WEIGHT_VALUES)[0]
    else:
        sourced = [opp for opp in opportunities if opp.sourced]
        rest = [opp for opp in opportunities if not opp.sourced]
        influenced = [opp for opp in rest if rng.random() < 0.35]
        activities: list[str] = []
        for opp in sourced:
            if opp.activity and opp.activity not in activities:
                activities.append(opp.activity)
        if influenced:
            names = [name for name, _weight in INFLUENCE_ACTIVITIES]
            weights = [weight for _name, weight in INFLUENCE_ACTIVITIES]
            picked = rng.choices(names, weights)[0]
            if picked not in activities:
                activities.append(picked)
            recent = [
                item
                for item in demo.delivered_by_rep.get(rep, [])
                if answered_at - timedelta(days=30) <= item.at <= answered_at
            ]
            if recent and rng.random() < 0.6:
                item = recent[-1]
                activities.append(f"ms:{item.request_id}:{format_reference(item.number)}")
        # Reps report in round thousands, rounded down, so parts never exceed the total.
        values.update(
            opportunities=len(opportunities),
            pipeline_cents=_thousands(sum(opp.amount_cents for opp in opportunities)),
            sourced_count=len(sourced),
            sourced_cents=_thousands(sum(opp.amount_cents for opp in sourced)),
            influenced_count=len(influenced),
            influenced_cents=_thousands(sum(opp.amount_cents for opp in influenced)),
            activities=json.dumps(activities),
        )
    response_id = demo.new_id("survey_response")
    saves = [(answered_at, values)]
    if rng.random() < 0.05 and not current:  # edited later that week
        edited_at = answered_at + timedelta(hours=rng.uniform(1, 20))
        if edited_at < min(period.closes_at, demo.now):
            first = dict(values)
            if kind == SurveyKind.ENABLEMENT:
                first["comment"] = None
            else:
                first["activities"] = json.dumps([])
            saves = [(answered_at, first), (edited_at, values)]
    await demo.writer.add(
        "survey_response",
        {
            "id": response_id,
            "run_id": ask.run_id,
            "team_id": demo.team_id,
            "kind": kind.value,
            "user_id": rep,
            **values,
            "created_at": answered_at,
            "updated_at": saves[-1][0],
        },
    )
    for saved_at, snapshot in saves:
        await demo.writer.add(
            "survey_response_history",
            {"response_id": response_id, "saved_at": saved_at, "payload": json.dumps(snapshot)},
        )
    return answered_at


def _thousands(cents: int) -> int:
    return cents // 100_000 * 100_000


# -- Quota, goals, feedback -------------------------------------------------------------


async def _quota_and_goals(demo: _Demo, periods: list[Period]) -> None:
    totals = demo.totals
    quarter = quarter_of(demo.today)
    q_first, q_last = quarter_bounds(quarter)
    remaining = max(round(totals.open_in_quarter / TARGET_COVERAGE), 100_000)
    demo.session.add(
        Quota(
            team_id=demo.team_id,
            quarter=quarter,
            owner="*",
            amount_cents=totals.booked_in_quarter + remaining,
            updated_at=demo.now,
        )
    )
    await demo.session.flush()
    # Goals a little above the pace so far: attainment reads as a realistic 80–100%.
    first_data = max(q_first, periods[0].start)
    elapsed = max((demo.today - first_data).days + 1, 1)
    length = (q_last - first_data).days + 1
    pace = length / elapsed
    sourced_goal = max(round(totals.sourced_in_quarter * pace * 1.1, -5), 100_000.0)
    delivered_goal = float(max(round(totals.delivered_in_quarter * pace), 1))
    for metric, target, paired in (
        ("sourced_pipeline", float(sourced_goal), LEAD_CONVERSION_GOAL),
        ("requests_delivered", delivered_goal, 0.9),
        ("enablement_satisfaction", 4.0, None),
        ("quota_attainment", 1.0, None),
    ):
        await set_goal(
            demo.session,
            team_id=demo.team_id,
            quarter=quarter,
            metric=metric,
            target=target,
            paired_target=paired,
            set_by=ADMIN,
            now=demo.now,
        )


async def _feedback(demo: _Demo, periods: list[Period]) -> None:
    """Two "you said, we did" actions from Marketing Support, in the last two weeks."""
    for back, theme, text in (
        (2, "competitive", "Published new battlecards for Northwind and Contoso"),
        (1, "case_studies", "Added two healthcare case studies to the content hub"),
    ):
        period = periods[-1 - back] if back < len(periods) else periods[0]
        created = _local(period.start + timedelta(days=4), 15.0, demo.tz)
        demo.session.add(
            FeedbackAction(
                team_id=demo.team_id,
                week_start=period.start,
                theme=theme,
                text=text,
                created_by=demo.support[0],
                created_at=min(created, demo.now),
            )
        )
    await demo.session.flush()
