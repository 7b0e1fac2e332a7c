"""The demo's pulse surveys: weekly runs of both surveys, a DM per rep, and the answers — the
enablement score getting better over the weeks, pipeline answers that report the rep's own
CRM opportunities — with the history `bot.surveys.runs` keeps of each save."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from bot.calendar.periods import Period, send_time, zone
from bot.core.models import DeliveryStatus, RunStatus, SurveyKind
from bot.core.text import format_reference
from bot.demo.people import DEMO_TIMEZONE
from bot.demo.state import Demo, Opp
from bot.demo.writer import Row
from bot.surveys.responses import RESPONSE_COLUMNS

__all__ = ["write_survey_runs", "write_surveys"]

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

INFLUENCE_ACTIVITIES: Final = (("content", 4), ("webinar", 3), ("event", 2), ("email", 2))


async def write_survey_runs(demo: Demo, periods: list[Period]) -> dict[date, dict[SurveyKind, int]]:
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


async def write_surveys(
    demo: Demo,
    index: int,
    period: Period,
    runs: dict[SurveyKind, int],
    opportunities: dict[str, list[Opp]],
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
                    answered_at = await _write_answer(
                        demo,
                        Ask(index, period, kind, run_id, rep, sent_at, answer_rate, current),
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
class Ask:
    """One survey DM that went out: which week, which survey, to whom, when."""

    index: int
    period: Period
    kind: SurveyKind
    run_id: int
    rep: str
    sent_at: datetime
    answer_rate: float
    current: bool


async def _write_answer(demo: Demo, ask: Ask, opportunities: list[Opp]) -> datetime | None:
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
    values: Row = dict.fromkeys(RESPONSE_COLUMNS)
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
