"""Block Kit for the weekly digests and the scorecard, plus a plain-text rendering for the CLI."""

from __future__ import annotations

from datetime import date

from bot.blocks.common import Block, context, divider, fields_section, header, section
from bot.core.models import Goal
from bot.core.outbox import KIND_DIGEST, Outgoing
from bot.core.text import escape_and_truncate, format_money, truncate
from bot.kpis.catalogue import METRICS, format_scored, format_value
from bot.kpis.digests import DemandGenDigest, SupportDigest, sourced_cents, sourced_count
from bot.kpis.durations import Durations
from bot.kpis.feedback import THEMES
from bot.kpis.scorecard import Scorecard, format_attainment
from bot.kpis.support import RequestStats
from bot.requests.types import RequestType
from bot.surveys.gate import withheld_weeks_note
from bot.surveys.privacy import Aggregate
from bot.surveys.responses import ACTIVITY_OPTIONS, HELP_OPTIONS

SPARK = "▁▂▃▄▅▆▇█"
NO_DATA = "no data yet"


def sparkline(values: list[float | None]) -> str:
    """An 8-week trend in text: one bar per week, `·` where the figure is withheld or missing."""
    known = [value for value in values if value is not None]
    if not known:
        return "·" * len(values)
    low, high = min(known), max(known)
    span = high - low
    bars = []
    for value in values:
        if value is None:
            bars.append("·")
        elif span == 0:
            bars.append(SPARK[len(SPARK) // 2])
        else:
            bars.append(SPARK[round((value - low) / span * (len(SPARK) - 1))])
    return "".join(bars)


def percent(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def change(now: float, before: float, *, money: bool = False) -> str:
    """`▲ 3 vs last week` / `▼ $12,000` / `= last week`."""
    delta = now - before
    if delta == 0:
        return "same as last week"
    shown = format_money(int(abs(delta))) if money else f"{abs(delta):g}"
    return f"{'▲' if delta > 0 else '▼'} {shown} vs last week"


def hours(durations: Durations) -> str:
    if durations.count == 0 or durations.median is None:
        return "—"
    p90 = f", p90 {durations.p90:.1f} h" if durations.p90 is not None else ""
    return f"median {durations.median:.1f} h{p90}"


def vs_goal(goals: dict[str, Goal], metric: str, actual: float | None) -> str:
    goal = goals.get(metric)
    if goal is None:
        return ""
    if actual is None:
        return f" · goal {format_value(metric, goal.target)}"
    share = actual / goal.target if goal.target else None
    return f" · {percent(share)} of goal {format_value(metric, goal.target)}"


def satisfaction_text(aggregate: Aggregate) -> str:
    # Withheld first: a withheld week may have no scores at all, and saying "no data yet"
    # then would tell that none of its few respondents gave one.
    if aggregate.withheld:
        return "withheld: not enough responses to keep answers anonymous"
    if aggregate.respondents == 0:
        return NO_DATA
    return f"{aggregate.display()} / 5"


def open_label(stats: RequestStats) -> str:
    """ "Open at week end" for a week that has ended, "Open now" for one in progress: the
    figure is measured at that instant (`bot.kpis.metrics.request_stats`)."""
    return "Open at week end" if stats.window_ended else "Open now"


def overdue_label(stats: RequestStats) -> str:
    return "Overdue at week end" if stats.window_ended else "Overdue now"


def build_support_digest(digest: SupportDigest) -> tuple[str, list[Block]]:
    this = digest.this
    title = f"Marketing Support · {digest.window.label}"
    if this.filed == 0 and this.delivered == 0 and this.open_at_end == 0:
        blocks: list[Block] = [header(title), section(f"_{NO_DATA}: no requests this week._")]
    else:
        blocks = [
            header(title),
            fields_section(
                [
                    f"*Filed*\n{this.filed} ({change(this.filed, digest.last_filed)})",
                    f"*Delivered*\n{this.delivered} · {percent(this.on_time_rate)} on time"
                    + vs_goal(digest.goals, "on_time_delivery_rate", this.on_time_rate),
                    f"*{open_label(this)}*\n{this.open_at_end}",
                    f"*{overdue_label(this)}*\n{this.overdue_at_end}",
                    f"*Time to claim* (business hours)\n{hours(this.time_to_claim_business)}",
                    f"*Time to deliver* (business hours)\n{hours(this.time_to_deliver_business)}",
                ]
            ),
        ]
        by_type = ", ".join(
            f"{RequestType(kind).label} {counts.filed}"
            for kind, counts in sorted(this.by_type.items(), key=lambda item: -item[1].filed)
            if counts.filed
        )
        if by_type:
            blocks.append(context(f"Filed by type: {by_type}"))
        if this.top_objections:
            objections = ", ".join(
                f"{escape_and_truncate(theme, 40)} ({count})"
                for theme, count in this.top_objections[:5]
            )
            blocks.append(section(f"*Objections sales asked help with most:* {objections}"))
        if this.ratings:
            blocks.append(
                section(
                    f"*Delivery ratings:* {this.rating_average:.1f} / 5 from {this.ratings} · "
                    f"helped the deal: {percent(this.helped_share)}"
                )
            )
    sat = digest.satisfaction
    trend = sparkline([aggregate.value for _label, aggregate in sat.trend])
    left_out = withheld_weeks_note(sat.withheld_weeks, minimum=sat.minimum)
    blocks.append(divider())
    blocks.append(
        section(
            f"*Sales' satisfaction with enablement:* {satisfaction_text(sat.mean)}"
            + vs_goal(digest.goals, "enablement_satisfaction", sat.mean.value)
            + f"\n8-week trend `{trend}`"
            + (f" · {left_out}" if left_out else "")
            + f" · survey response rate {percent(sat.response_rate)}"
            f" ({sat.answered} of {sat.reached})"
        )
    )
    if sat.help_most:
        wishes = ", ".join(
            f"{HELP_OPTIONS.get(key, key)} ({count})" for key, count in sat.help_most[:3]
        )
        blocks.append(context(f"What would help most: {wishes}"))
    if sat.comments:
        quoted = "\n".join(f"> {escape_and_truncate(comment, 280)}" for comment in sat.comments[:5])
        blocks.append(section(f"*In their words* (anonymous)\n{quoted}"))
    if digest.actions:
        said = "\n".join(
            f"• {escape_and_truncate(action.text, 300)}"
            + (f" _({THEMES.get(action.theme, action.theme)})_" if action.theme else "")
            for action in digest.actions
        )
        blocks.append(section(f"*You said, we did*\n{said}"))
    goal = digest.goals.get("requests_delivered")
    if goal is not None:
        blocks.append(
            context(
                f"{digest.quarter}: {digest.quarter_delivered} delivered of a {format_value('requests_delivered', goal.target)} goal"
            )
        )
    text = f"{title}: {this.filed} filed, {this.delivered} delivered, satisfaction {satisfaction_text(sat.mean)}"
    return truncate(text, 3000), blocks[:50]


def build_demandgen_digest(digest: DemandGenDigest) -> tuple[str, list[Block]]:
    this, last, qtd, cover = digest.this, digest.last, digest.quarter_to_date, digest.coverage
    title = f"Demand Gen · {digest.window.label}"
    has_data = (
        this.survey_respondents or this.crm_opportunities or this.leads or cover.open_pipeline_cents
    )
    blocks: list[Block] = [header(title)]
    if not has_data and not qtd.crm_opportunities and not qtd.survey_respondents:
        blocks.append(
            section(f"_{NO_DATA}: no pipeline survey answers or imported opportunities yet._")
        )
    else:
        source = "CRM" if this.crm_opportunities else "pipeline survey"
        blocks.append(
            fields_section(
                [
                    f"*Marketing-sourced pipeline*\n{format_money(sourced_cents(this))} · {sourced_count(this)} opps "
                    f"({change(sourced_cents(this), sourced_cents(last), money=True)})",
                    f"*Lead → opportunity*\n{percent(this.lead_to_opportunity_rate)} of {this.leads} leads"
                    + vs_goal(
                        digest.goals, "lead_to_opportunity_rate", this.lead_to_opportunity_rate
                    ),
                    f"*Marketing-influenced pipeline*\n{format_money(this.influenced_cents)} · {this.influenced_count} opps",
                    f"*{digest.quarter} sourced to date*\n{format_money(sourced_cents(qtd))}"
                    + vs_goal(digest.goals, "sourced_pipeline", float(sourced_cents(qtd))),
                ]
            )
        )
        spark = sparkline([float(value) for _label, value in digest.weekly_sourced])
        blocks.append(context(f"Sourced pipeline, 8 weeks: `{spark}` · source: {source}"))
    if cover.quota_cents is None:
        coverage_line = "*Pipeline coverage:* no quota set for this quarter (`alignbot import quotas` or settings)."
    else:
        ratio = f"{cover.ratio:.1f}x" if cover.ratio is not None else "—"
        coverage_line = (
            f"*Pipeline coverage:* {ratio} ({cover.status}) — open pipeline "
            f"{format_money(cover.open_pipeline_cents)} against "
            f"{format_money(cover.remaining_quota_cents or 0)} of quota still to close"
            + (f" as of {cover.as_of:%a %b} {cover.as_of.day}" if cover.as_of else "")
            + ". Healthy is 2x–3x."
        )
        if cover.imported_on is not None:
            coverage_line += f" _CRM amounts and stages as of import {cover.imported_on:%Y-%m-%d}._"
    blocks.append(section(coverage_line))
    if this.activities:
        ranked = "\n".join(
            f"{rank}. {ACTIVITY_OPTIONS.get(item.activity, item.activity)} — {format_money(item.pipeline_cents)} "
            f"({item.mentions} mention{'s' if item.mentions != 1 else ''})"
            for rank, item in enumerate(this.activities[:5], start=1)
        )
        blocks.append(section(f"*Activities by pipeline contributed*\n{ranked}"))
    text = f"{title}: {format_money(sourced_cents(this))} marketing-sourced pipeline"
    return truncate(text, 3000), blocks[:50]


def build_digest(digest: SupportDigest | DemandGenDigest) -> tuple[str, list[Block]]:
    """Either weekly digest (see `bot.kpis.digests.digest_for`), as notification text and blocks."""
    if isinstance(digest, SupportDigest):
        return build_support_digest(digest)
    return build_demandgen_digest(digest)


def build_scorecard(scorecard: Scorecard) -> str:
    """`/align scorecard`: each input, its weight and attainment, and the total."""
    lines = [
        f"*{scorecard.function.label} scorecard · {scorecard.quarter}* (cap {scorecard.cap:.0%})"
    ]
    for line in scorecard.lines:
        actual = format_scored(line.metric, line.actual)
        target = format_scored(line.metric, line.target)
        detail = line.note or (
            f"{format_attainment(line.attainment)} of goal → counts {format_attainment(line.capped)}"
            f" × {line.weight:.0%} = {format_attainment(line.contribution)}"
        )
        label = METRICS[line.metric].label if line.metric in METRICS else line.metric
        remark = f" · {line.remark}" if line.remark else ""
        lines.append(
            f"• *{label}* ({line.weight:.0%}): {actual} vs goal {target} — {detail}{remark}"
        )
    total = format_attainment(scorecard.total)
    lines.append(
        f"*Bonus attainment: {total}*"
        + ("" if scorecard.complete else " _(incomplete: see the notes above)_")
    )
    return truncate("\n".join(lines), 3000)


def digest_post(
    kind: str, week_start: date, channel: str, text: str, blocks: list[Block]
) -> Outgoing:
    """A week's digest as an outbox row (once per kind and week, by its idempotency key)."""
    return Outgoing(
        kind=KIND_DIGEST,
        channel=channel,
        idempotency_key=f"digest:{kind}:{week_start.isoformat()}",
        payload={
            "text": text,
            "blocks": blocks,
            "digest_kind": kind,
            "period_start": week_start.isoformat(),
            "about": f"{kind} digest, week of {week_start.isoformat()}",
        },
        ordering_key=f"digest:{kind}",
    )
