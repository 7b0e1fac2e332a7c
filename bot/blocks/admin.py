"""Block Kit for `/align`: help and the settings modal."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import Block, context, input_block, modal, option, section, state_value
from bot.core.text import escape_mrkdwn
from bot.workspace.settings import WorkspaceSettings, parse_setting_value

SETTINGS_MODAL = "align_settings"
SETTINGS_CHANNEL_FIELDS = {
    "intake_channel": ("Intake channel for requests", False),
    "support_digest_channel": ("Marketing Support digest channel", True),
    "demandgen_digest_channel": ("Demand Gen digest channel", True),
}
SETTINGS_GROUP_FIELDS = {
    "sales_usergroup": "Sales user group",
    "support_usergroup": "Marketing Support user group",
    "demandgen_usergroup": "Demand Gen user group",
}
NO_GROUP = "-"

ALIGN_HELP = "\n".join(
    [
        "*`/align` — alignbot for leaders and admins*",
        "• `/align settings` — intake and digest channels, who is Sales, Marketing Support and "
        "Demand Gen, time zone (admins)",
        "• `/align queue` — the open Marketing Support queue by status, with due dates "
        "(Marketing Support, leaders, admins)",
        "• `/align survey` — this week's pulse surveys: sent, answered, response rate, failures; "
        "`/align survey send` retries failed DMs (admins)",
        "• `/align digest [support|demandgen] [last|this]` — the weekly digest, just for you",
        "• `/align scorecard [quarter]` — bonus attainment per function, with every input",
        "• `/align goals [quarter]` — set the quarter's goals (admins and leaders)",
        "• `/align wedid <what you changed> [#theme]` — record 'you said, we did' for the digests "
        "(Marketing Support)",
        "• `/align export [from] [to]` — an Excel workbook of the numbers by DM (default: this "
        "quarter; admins and leaders)",
        "• `/align help` — this message",
        "Sales reps file requests with `/mktg` — see `/mktg help`.",
    ]
)


def build_settings_modal(
    settings: WorkspaceSettings, usergroups: list[tuple[str, str]]
) -> dict[str, Any]:
    """`usergroups` are (id, name) pairs from usergroups.list, at most 99 are offered."""
    blocks: list[Block] = [
        context(
            "Requests always go to Marketing Support; Demand Gen is never assigned one, so its "
            "group must differ from Marketing Support's."
        )
    ]
    for key, (label, optional) in SETTINGS_CHANNEL_FIELDS.items():
        element: dict[str, Any] = {
            "type": "conversations_select",
            "action_id": "value",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        current = getattr(settings, key)
        if current:
            element["initial_conversation"] = current
        blocks.append(input_block(key, label, element, optional=optional))
    group_options = [option("(none)", NO_GROUP)] + [
        option(name, group_id) for group_id, name in usergroups[:99]
    ]
    for key, label in SETTINGS_GROUP_FIELDS.items():
        element = {"type": "static_select", "action_id": "value", "options": group_options}
        current = getattr(settings, key)
        chosen = next((o for o in group_options if o["value"] == current), None)
        if chosen is not None:
            element["initial_option"] = chosen
        blocks.append(input_block(key, label, element, optional=True))
    admins_element: dict[str, Any] = {"type": "multi_users_select", "action_id": "value"}
    if settings.admins:
        admins_element["initial_users"] = list(settings.admins)
    blocks.append(
        input_block(
            "admins",
            "Extra admins",
            admins_element,
            optional=True,
            hint="Workspace admins and owners are always admins.",
        )
    )
    for key, label, hint in (
        ("support_leads", "Marketing Support leads", "Told when a request is overdue."),
        ("leaders", "Leaders", "May see the queue and reports."),
    ):
        people: dict[str, Any] = {"type": "multi_users_select", "action_id": "value"}
        if getattr(settings, key):
            people["initial_users"] = list(getattr(settings, key))
        blocks.append(input_block(key, label, people, optional=True, hint=hint))
    blocks.append(
        input_block(
            "timezone",
            "Time zone",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "initial_value": settings.timezone,
                "max_length": 64,
            },
            hint="A name like Europe/Berlin or America/New_York; schedules and due dates use it.",
        )
    )
    for key, label, value, hint in (
        ("business_hours", "Business hours", settings.business_hours, "Like 09:00-17:00."),
        ("workdays", "Working days", settings.workdays, "Like mon-fri or sun-thu."),
        (
            "holidays",
            "Holidays",
            ", ".join(settings.holidays),
            "ISO dates, comma-separated; SLAs skip them.",
        ),
        (
            "sla_days",
            "Turnaround overrides (business days)",
            ", ".join(f"{name}={days}" for name, days in settings.sla_days.items()),
            "Like deck=3, objection=1. Defaults: objection 1, competitive 2, deck 3, "
            "roi 5, content 5, event 5, casestudy 10, other 3.",
        ),
    ):
        text_input: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": 1000,
        }
        if value:
            text_input["initial_value"] = value
        blocks.append(
            input_block(key, label, text_input, optional=key != "business_hours", hint=hint)
        )
    blocks.append(header_divider("Weekly pulse surveys"))
    switches = [
        option("Send the weekly pulse surveys to the Sales group", "surveys_enabled"),
        option("At each recipient's own local time", "survey_local_time"),
    ]
    switch_element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "value",
        "options": switches,
    }
    enabled = [o for o in switches if getattr(settings, o["value"])]
    if enabled:
        switch_element["initial_options"] = enabled
    blocks.append(input_block("survey_switches", "Surveys", switch_element, optional=True))
    for key, label, value, hint in (
        (
            "enablement_survey_schedule",
            "Enablement survey goes out",
            settings.enablement_survey_schedule,
            "A day and time, like mon 10:00.",
        ),
        (
            "pipeline_survey_schedule",
            "Pipeline survey goes out",
            settings.pipeline_survey_schedule,
            "A day and time, like mon 10:00.",
        ),
        (
            "survey_reminder_days",
            "Remind non-responders after (days)",
            str(settings.survey_reminder_days),
            "Once; 0 turns the reminder off.",
        ),
        (
            "survey_min_respondents",
            "Anonymity minimum",
            str(settings.survey_min_respondents),
            "Satisfaction figures need at least this many answers (never below 3).",
        ),
        (
            "retention_days",
            "Erase free text after (days)",
            str(settings.retention_days),
            "Request details, notes and comments older than this are erased; the numbers stay "
            "(30 to 3650).",
        ),
    ):
        blocks.append(
            input_block(
                key,
                label,
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "initial_value": value,
                    "max_length": 20,
                },
                hint=hint,
            )
        )
    if not usergroups:
        blocks.append(
            section(
                "_No user groups found in this workspace. Create Sales, Marketing Support and "
                "Demand Gen groups in Slack, then open these settings again._"
            )
        )
    return modal(SETTINGS_MODAL, "alignbot settings", blocks, submit="Save")


def header_divider(title: str) -> Block:
    return section(f"*{title}*")


def parse_settings_modal(view: dict[str, Any]) -> dict[str, Any]:
    """The changed-or-not values of every field, ready for bot.workspace.settings.save_settings."""
    values: dict[str, Any] = {}
    for key in SETTINGS_CHANNEL_FIELDS:
        values[key] = state_value(view, key).get("selected_conversation")
    for key in SETTINGS_GROUP_FIELDS:
        selected = (state_value(view, key).get("selected_option") or {}).get("value")
        values[key] = None if selected in (None, NO_GROUP) else selected
    for key in ("admins", "support_leads", "leaders"):
        values[key] = tuple(state_value(view, key).get("selected_users") or ())
    values["timezone"] = (state_value(view, "timezone").get("value") or "").strip() or "UTC"
    switches = state_value(view, "survey_switches")
    if switches:
        chosen = {o.get("value") for o in switches.get("selected_options") or []}
        values["surveys_enabled"] = "surveys_enabled" in chosen
        values["survey_local_time"] = "survey_local_time" in chosen
    for key in (
        "business_hours",
        "workdays",
        "holidays",
        "sla_days",
        "enablement_survey_schedule",
        "pipeline_survey_schedule",
        "survey_reminder_days",
        "survey_min_respondents",
        "retention_days",
    ):
        block = state_value(view, key)
        if not block:
            continue  # an older form without the field: leave the setting as it is
        values[key] = parse_setting_value(key, str(block.get("value") or ""))
    return values


def build_settings_saved(settings: WorkspaceSettings, roster_counts: dict[str, int]) -> str:
    def channel(value: str | None) -> str:
        return f"<#{value}>" if value else "not set"

    counts = ", ".join(f"{escape_mrkdwn(role)}: {count}" for role, count in roster_counts.items())
    return "\n".join(
        [
            ":white_check_mark: alignbot settings saved.",
            f"Intake: {channel(settings.intake_channel)} · Support digest: "
            f"{channel(settings.support_digest_channel)} · Demand Gen digest: "
            f"{channel(settings.demandgen_digest_channel)}",
            f"Time zone: {escape_mrkdwn(settings.timezone)}"
            + (f" · Roster synced ({counts})" if counts else ""),
        ]
    )
