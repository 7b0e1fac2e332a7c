"""Block Kit for the weekly pulse surveys: the DMs, their modals, and `/align survey`."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import (
    Block,
    actions,
    button,
    context,
    header,
    input_block,
    modal,
    option,
    section,
    state_value,
)
from bot.core.errors import UserError
from bot.core.models import (
    SupportRequest,
    SurveyDelivery,
    SurveyKind,
    SurveyResponse,
    SurveyRun,
)
from bot.core.outbox import KIND_SURVEY_REMINDER, Outgoing
from bot.core.text import escape_mrkdwn, format_money, format_reference, truncate
from bot.surveys.responses import (
    ACTIVITY_OPTIONS,
    FIELD_ACTIVITIES,
    FIELD_INFLUENCED_COUNT,
    FIELD_INFLUENCED_VALUE,
    FIELD_NEW_COUNT,
    FIELD_NEW_VALUE,
    FIELD_SOURCED_COUNT,
    FIELD_SOURCED_VALUE,
    HELP_OPTIONS,
    PipelineForm,
)
from bot.surveys.runs import RunSummary

ACTION_SCORE = "survey_score"  # + _1 … _5
ACTION_COMMENT = "survey_comment"
ACTION_PIPELINE_OPEN = "survey_pipeline_open"
ACTION_PIPELINE_NONE = "survey_pipeline_none"
ENABLEMENT_MODAL = "survey_enablement_form"
PIPELINE_MODAL = "survey_pipeline_form"
FIELD_COMMENT = "comment"
FIELD_HELP = "help_with"

ANONYMOUS_NOTE = (
    ":lock: *Anonymous.* Your name is never shown with your score or comment, in any digest, "
    "command or export, and results appear only when at least {minimum} people have answered."
)
NAMED_NOTE = (
    ":bust_in_silhouette: *Not anonymous.* This is pipeline data: leaders see these numbers "
    "with your name, so they know whose pipeline it is."
)


def _week(run: SurveyRun) -> str:
    return f"week of {run.period_start:%a %-d %b}"


def _closes(run: SurveyRun) -> str:
    return f"{(run.period_end):%a %-d %b}"


def build_enablement_dm(
    run: SurveyRun, *, minimum: int, response: SurveyResponse | None = None, reminder: bool = False
) -> tuple[str, list[Block]]:
    question = "How satisfied were you with marketing's enablement support this week?"
    text = ("Reminder: " if reminder else "") + f"Weekly pulse ({_week(run)}): {question}"
    value = str(run.id)
    blocks: list[Block] = [
        header(("Reminder · " if reminder else "") + "Weekly pulse: enablement"),
        section(f"*{question}*\n1 = not at all, 5 = very satisfied"),
        actions(
            "survey_scores",
            *[
                button(
                    f"{score}{' ✓' if response and response.score == score else ''}",
                    f"{ACTION_SCORE}_{score}",
                    value=f"{value}:{score}",
                    style="primary" if response and response.score == score else None,
                )
                for score in range(1, 6)
            ],
            button("Add a comment", ACTION_COMMENT, value=value),
        ),
        context(ANONYMOUS_NOTE.format(minimum=minimum)),
    ]
    if response is not None and response.score is not None:
        extra = " and a comment" if response.comment else ""
        blocks.append(
            context(
                f":white_check_mark: Thanks: you answered {response.score}/5{extra}. "
                f"You can change it until {_closes(run)}."
            )
        )
    return truncate(text, 3000), blocks


def build_enablement_modal(run: SurveyRun, response: SurveyResponse | None) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": 3000,
    }
    if response and response.comment:
        comment["initial_value"] = response.comment
    help_element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": "value",
        "options": [option(label, key) for key, label in HELP_OPTIONS.items()],
    }
    if response and response.help_with in HELP_OPTIONS:
        help_element["initial_option"] = option(
            HELP_OPTIONS[response.help_with], response.help_with
        )
    blocks = [
        context(":lock: Anonymous: never shown with your name."),
        input_block(FIELD_COMMENT, "Anything to add?", comment, optional=True),
        input_block(FIELD_HELP, "What would help you most?", help_element, optional=True),
    ]
    return modal(
        ENABLEMENT_MODAL,
        "Enablement pulse",
        blocks,
        submit="Save",
        private_metadata=json.dumps({"run_id": run.id}),
    )


def build_pipeline_dm(
    run: SurveyRun, *, response: SurveyResponse | None = None, reminder: bool = False
) -> tuple[str, list[Block]]:
    question = "What did marketing contribute to your new pipeline this week?"
    text = ("Reminder: " if reminder else "") + f"Weekly pulse ({_week(run)}): {question}"
    value = str(run.id)
    blocks: list[Block] = [
        header(("Reminder · " if reminder else "") + "Weekly pulse: pipeline"),
        section(
            f"*{question}*\nNew opportunities you created this week, how much of that marketing "
            "sourced or influenced, and which activities helped. Takes a minute."
        ),
        actions(
            "survey_pipeline",
            button(
                "Answer" if response is None else "Change my answer",
                ACTION_PIPELINE_OPEN,
                value=value,
                style="primary",
            ),
            button("No new opportunities", ACTION_PIPELINE_NONE, value=value),
        ),
        context(NAMED_NOTE),
    ]
    if response is not None:
        blocks.append(
            context(
                f":white_check_mark: Thanks: {response.opportunities or 0} new "
                f"({format_money(response.pipeline_cents or 0)}), "
                f"{response.sourced_count or 0} sourced ({format_money(response.sourced_cents or 0)}), "
                f"{response.influenced_count or 0} influenced "
                f"({format_money(response.influenced_cents or 0)}). "
                f"You can change it until {_closes(run)}."
            )
        )
    return truncate(text, 3000), blocks


def _number_input(block_id: str, label: str, initial: str | None, placeholder: str) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": 30,
        "placeholder": {"type": "plain_text", "text": placeholder},
    }
    if initial:
        element["initial_value"] = initial
    return input_block(block_id, label, element, optional=True)


def build_pipeline_modal(
    run: SurveyRun, response: SurveyResponse | None, recent: list[SupportRequest]
) -> dict[str, Any]:
    def initial_count(value: int | None) -> str | None:
        return str(value) if response is not None and value is not None else None

    def initial_money(value: int | None) -> str | None:
        return format_money(value) if response is not None and value is not None else None

    r = response
    options = [
        option(label, key) for key, label in ACTIVITY_OPTIONS.items() if key != "support_request"
    ]
    options += [
        option(
            truncate(f"{format_reference(request.number)} (delivered) {request.account or ''}", 75),
            f"ms:{request.id}",
        )
        for request in recent[:20]
    ]
    if not recent:
        options.insert(6, option(ACTIVITY_OPTIONS["support_request"], "support_request"))
    activity_element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": "Pick any that helped"},
        "options": options,
    }
    chosen = json.loads(r.activities) if r is not None and r.activities else []
    initial = [o for o in options if o["value"] in chosen]
    if initial:
        activity_element["initial_options"] = initial
    # Each figure's field, label, the response's column, how a stored value is shown, example.
    figures = (
        (FIELD_NEW_COUNT, "New opportunities this week", "opportunities", initial_count, "3"),
        (FIELD_NEW_VALUE, "Their total value", "pipeline_cents", initial_money, "$250k"),
        (
            FIELD_SOURCED_COUNT,
            "Of which marketing-sourced (count)",
            "sourced_count",
            initial_count,
            "1",
        ),
        (FIELD_SOURCED_VALUE, "Marketing-sourced value", "sourced_cents", initial_money, "$80k"),
        (
            FIELD_INFLUENCED_COUNT,
            "Of which marketing-influenced (count)",
            "influenced_count",
            initial_count,
            "1",
        ),
        (
            FIELD_INFLUENCED_VALUE,
            "Marketing-influenced value",
            "influenced_cents",
            initial_money,
            "$50k",
        ),
    )
    blocks = [
        context(NAMED_NOTE),
        *(
            _number_input(field, label, shown(getattr(r, column) if r else None), example)
            for field, label, column, shown, example in figures
        ),
        input_block(
            FIELD_ACTIVITIES,
            "Which marketing activities contributed?",
            activity_element,
            optional=True,
        ),
    ]
    return modal(
        PIPELINE_MODAL,
        "Pipeline pulse",
        blocks,
        submit="Save",
        private_metadata=json.dumps({"run_id": run.id}),
    )


def parse_pipeline_modal(view: dict[str, Any]) -> PipelineForm:
    def text(block_id: str) -> str | None:
        value = state_value(view, block_id).get("value")
        return str(value) if value is not None else None

    selected = state_value(view, FIELD_ACTIVITIES).get("selected_options") or []
    return PipelineForm(
        new_count=text(FIELD_NEW_COUNT),
        new_value=text(FIELD_NEW_VALUE),
        sourced_count=text(FIELD_SOURCED_COUNT),
        sourced_value=text(FIELD_SOURCED_VALUE),
        influenced_count=text(FIELD_INFLUENCED_COUNT),
        influenced_value=text(FIELD_INFLUENCED_VALUE),
        activities=tuple(str(o.get("value")) for o in selected if o.get("value")),
    )


def parse_enablement_modal(view: dict[str, Any]) -> tuple[str, str | None]:
    comment = str(state_value(view, FIELD_COMMENT).get("value") or "")
    chosen = (state_value(view, FIELD_HELP).get("selected_option") or {}).get("value")
    return comment, (str(chosen) if chosen else None)


def run_metadata(view: dict[str, Any]) -> int | None:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return None
    run_id = loaded.get("run_id") if isinstance(loaded, dict) else None
    return run_id if isinstance(run_id, int) else None


def parse_survey_button(action: dict[str, Any]) -> tuple[int, str]:
    """`run:choice` from a survey button (the run id, and the score or option clicked)."""
    run_part, _, choice = str(action.get("value") or "").partition(":")
    if not run_part.isdigit():
        raise UserError("That button is out of date.")
    return int(run_part), choice


def parse_survey_score(action: dict[str, Any]) -> tuple[int, int]:
    """A 1–5 click on the enablement question: the run id and the score."""
    run_id, choice = parse_survey_button(action)
    if not choice.isdigit():
        raise UserError("That button is out of date.")
    return run_id, int(choice)


def build_survey_status(summaries: list[RunSummary], *, admin: bool) -> str:
    """`/align survey`: counts and rates only; who did not answer is never listed."""
    if not summaries:
        return (
            "No survey is running this week. Surveys go to the Sales user group on schedule "
            "(see `/align settings`)."
        )
    lines = ["*Weekly pulse surveys*"]
    for summary in summaries:
        run = summary.run
        rate = f"{summary.response_rate:.0%}" if summary.response_rate is not None else "—"
        lines.append(
            f"• *{SurveyKind(run.kind).label}* ({_week(run)}): {summary.reached} reached, "
            f"{summary.answered} answered ({rate} response rate), {summary.pending} still to send, "
            f"{summary.failed} failed"
        )
        if summary.failed and admin:
            reasons = ", ".join(
                f"{escape_mrkdwn(reason)} × {count}"
                for reason, count in sorted(summary.failure_reasons.items())
            )
            lines.append(f"   failures: {reasons}")
    if admin:
        lines.append("_`/align survey send` retries failed DMs now._")
    return truncate("\n".join(lines), 3000)


def build_failure_summary(kind: SurveyKind, failures: dict[str, int]) -> str:
    reasons = ", ".join(
        f"{escape_mrkdwn(reason)} × {count}" for reason, count in sorted(failures.items())
    )
    total = sum(failures.values())
    return (
        f":warning: {kind.label} survey: {total} DM{'s' if total != 1 else ''} could not be "
        f"delivered ({reasons}). They won't be retried on their own; `/align survey` shows the "
        "status and `/align survey send` tries again."
    )


def survey_reminder(delivery: SurveyDelivery, text: str, blocks: list[dict[str, Any]]) -> Outgoing:
    """A non-responder's one reminder as an outbox row (its delivery learns when it went)."""
    return Outgoing(
        kind=KIND_SURVEY_REMINDER,
        channel=delivery.user_id,
        idempotency_key=f"survey-reminder:{delivery.id}",
        payload={"text": text, "blocks": blocks, "delivery_id": delivery.id},
        ordering_key=f"dm:{delivery.user_id}:survey",
    )
