"""The demo's CRM: each week's new opportunities per rep (sources, amounts, stages that age
with the weeks) and the week's lead counts, as an import would have stored them."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Final

from bot.calendar.periods import Period
from bot.calendar.windows import parse_quarter_label, quarter_of
from bot.demo.state import Demo, Opp

__all__ = ["ACCOUNTS", "LEAD_SOURCES", "write_opportunities"]

OPPORTUNITY_CHANCES: Final = 3  # up to 3 new opportunities a week,
OPPORTUNITY_CHANCE: Final = 0.2  # each with this chance: 0.6 a week on average
LEAD_CONVERSION: Final = 0.11

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
OPEN_STAGES: Final = ("Discovery", "Qualification", "Proposal", "Negotiation")
PRODUCTS: Final = ("Platform", "Analytics add-on", "Enterprise upgrade", "Renewal", "Expansion")


async def write_opportunities(demo: Demo, index: int, period: Period) -> dict[str, list[Opp]]:
    """The week's new opportunities per rep, written to the CRM table, plus the week's leads."""
    rng, today = demo.rng, demo.today
    quarter = quarter_of(today)
    q_first, q_end, _label = parse_quarter_label(quarter)
    names = [name for name, _activity, _weight in LEAD_SOURCES]
    base_weights = [float(weight) for _name, _activity, weight in LEAD_SOURCES]
    activity_of = {name: activity for name, activity, _weight in LEAD_SOURCES}
    # Marketing's share of new pipeline grows over the weeks: the playbook at work.
    boost = 1.0 + 0.5 * index / max(demo.weeks - 1, 1)
    weights = [
        weight * boost if activity_of[name] else weight
        for name, weight in zip(names, base_weights, strict=True)
    ]
    by_rep: dict[str, list[Opp]] = {}
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
            by_rep.setdefault(rep, []).append(Opp(amount, activity is not None, activity))
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
