"""The demo's support requests: who asks for what, each request's row and history (walked by
`bot.demo.histories`), and the requesters' ratings of deliveries."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.periods import Period
from bot.core.models import Counter, RequestStatus, RequestType
from bot.demo.crm import ACCOUNTS
from bot.demo.histories import Event, lifecycle_history, request_fields, scripted_history
from bot.demo.people import INTAKE_CHANNEL
from bot.demo.state import Delivered, Demo, moment_in
from bot.requests.filing import REQUEST_COUNTER
from bot.requests.lifecycle import Action

__all__ = ["first_request_number", "save_request_counter", "write_requests"]

S = RequestStatus
# Per sales rep and week.
REQUESTS_PER_REP_WEEK: Final = 0.37
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
RATING_REASONS: Final = ("late", "brief", "quality", "format", "other")
RATING_COMMENTS: Final = (
    "Exactly what the CFO needed.",
    "Great, but a day later than I hoped.",
    "Customer loved the case study.",
    "Needed more numbers.",
)


def _details(demo: Demo, request_type: RequestType) -> str:
    template = demo.rng.choice(DETAILS[request_type])
    return template.replace("{competitor}", demo.rng.choice(COMPETITORS))


async def write_requests(demo: Demo, index: int, period: Period) -> None:
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
        await _write_request(demo, index, period, requester, kind, fate)


async def _write_request(
    demo: Demo,
    index: int,
    period: Period,
    requester: str,
    kind: RequestType,
    fate: RequestStatus | None,
) -> None:
    """One request: its row, its events (a forced `fate` or a natural course) and ratings."""
    rng, calendar = demo.rng, demo.calendar
    created = moment_in(demo, period)
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
        lifecycle_history(demo, index, created, deadline, requester)
        if fate is None
        else scripted_history(fate, created, demo.now, requester, demo.rng.choice(demo.support))
    )

    event_ids = [demo.new_id("request_event") for _event in events]
    fields = request_fields(events)
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
            "status": fields.status.value,
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
            "assignee_id": fields.assignee_id,
            "intake_channel": INTAKE_CHANNEL,
            "intake_ts": f"{int(created.timestamp())}.{number % 1_000_000:06d}",
            "intake_permalink": None,
            "intake_error": None,
            "sla_deadline": deadline,
            "due_from_sla": chosen_due is None,
            "claimed_at": fields.claimed_at,
            "delivered_at": fields.delivered_at,
            "deliverable_url": fields.deliverable_url,
            "outcome_note": fields.outcome_note,
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
    delivered_at = fields.delivered_at
    if fields.status == RequestStatus.DELIVERED and delivered_at is not None:
        if kind != RequestType.OTHER:
            recent = demo.delivered_by_rep.setdefault(requester, [])
            recent.append(Delivered(delivered_at, request_id, number))
            del recent[:-4]
        if delivered_at >= demo.quarter_start:
            demo.totals.delivered_in_quarter += 1
    await _write_ratings(demo, index, request_id, requester, events, event_ids)


async def _write_ratings(
    demo: Demo,
    index: int,
    request_id: int,
    requester: str,
    events: list[Event],
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


async def first_request_number(session: AsyncSession, team_id: str) -> int:
    """The last reference number already used (none in a fresh workspace)."""
    row = await session.get(Counter, (team_id, REQUEST_COUNTER))
    return row.value if row is not None else 0


async def save_request_counter(demo: Demo) -> None:
    """Leave the counter where filing continues after the demo's requests."""
    row = await demo.session.get(Counter, (demo.team_id, REQUEST_COUNTER))
    if row is None:
        demo.session.add(
            Counter(team_id=demo.team_id, name=REQUEST_COUNTER, value=demo.request_number)
        )
    else:
        row.value = demo.request_number
    await demo.session.flush()
