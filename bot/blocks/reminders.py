"""The words of SLA reminders: one line per `bot.requests.reminders.Reminder`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks.requests import format_due, summary_line
from bot.core.outbox import KIND_MESSAGE, Outgoing
from bot.core.text import escape_mrkdwn, format_reference
from bot.requests.reminders import DueEscalation, Reminder, ReminderKind


def request_link(escalation: DueEscalation) -> str:
    """The request's reference, linked to its intake post when there is one."""
    request = escalation.request
    reference = format_reference(request.number)
    if request.intake_permalink:
        return f"<{escape_mrkdwn(request.intake_permalink)}|{reference}>"
    return f"*{reference}*"


def build_reminder_message(reminder: Reminder) -> dict[str, Any]:
    """chat.postMessage arguments for a reminder (the intake channel's ask is not unfurled)."""
    message: dict[str, Any] = {"channel": reminder.channel, "text": build_reminder(reminder)}
    if reminder.kind == ReminderKind.UNCLAIMED:
        message["unfurl_links"] = False
    return message


def reminder_rows(reminders: Sequence[Reminder]) -> list[Outgoing]:
    """The reminders of one SLA step as outbox rows, stored with the step's claim."""
    rows = []
    for reminder in reminders:
        escalation = reminder.escalation
        message = build_reminder_message(reminder)
        channel = str(message.pop("channel"))
        rows.append(
            Outgoing(
                kind=KIND_MESSAGE,
                channel=channel,
                idempotency_key=(
                    f"sla:{escalation.request.id}:{escalation.step.value}:{escalation.cycle}:"
                    f"{reminder.kind.value}:{channel}"
                ),
                payload={**message, "about": format_reference(escalation.request.number)},
                ordering_key=f"sla:{escalation.request.id}:{channel}",
            )
        )
    return rows


def build_reminder(reminder: Reminder) -> str:
    request = reminder.escalation.request
    about = f"{request_link(reminder.escalation)} ({summary_line(request)})"
    due = format_due(request.due_date)
    if reminder.kind == ReminderKind.UNCLAIMED:
        return (
            f":alarm_clock: {about} has waited more than 4 business hours without an owner. "
            "Who can claim it?"
        )
    if reminder.kind == ReminderKind.ASSIGNEE_GONE:
        return (
            f":warning: {about} belongs to <@{request.assignee_id}>, who has left the "
            "workspace. Someone from Marketing Support should reassign it."
        )
    if reminder.kind == ReminderKind.NUDGE:
        return f":hourglass: {about} has used 75% of its turnaround; it is due {due}."
    overdue = f":rotating_light: {about} is overdue (due {due})."
    if reminder.kind == ReminderKind.OVERDUE:
        return overdue + " Deliver it or tell the requester."
    return overdue + f" It is with <@{request.assignee_id}>."
