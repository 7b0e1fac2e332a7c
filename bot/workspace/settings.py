"""Per-workspace settings: stored one key per row, validated as a whole before saving.

Also the workspace row itself (installed or not, its roster generation) and, since every
writer below keys its rows by workspace, the one list of which writer wins when a scheduled
job and a Slack handler write the same rows at the same time. Each rule is enforced by the
database (a conditional update, a unique key or a row lock in the writing transaction), never
by timing or by a flag in one process's memory:

- Settings (`team_setting`): only people write them (the settings modal, the CLI); jobs only
  read. A save changing a user group takes the next roster generation in its own transaction
  (`save_settings`), so a sync that read the settings before it can no longer write.
- Roster (`roster_member`, `slack_user`): the latest roster sync wins, whether the clock or a
  settings save started it. `bot.workspace.roster.begin_roster_sync` takes the next generation; each
  write first runs `UPDATE workspace … WHERE roster_generation = <its own>` in the write's
  transaction and is dropped when no row matched (a newer sync or save exists). A user's
  facts (`slack_user`: time zone, deactivated) are also written by the `user_change` event;
  each write carries when Slack said it (a sync: when it began; an event: its `event_time`),
  and the upsert keeps the newer (`bot.workspace.roster.store_slack_user_change`).
- Installed or not (`workspace.uninstalled_at`): an uninstall wins over every request that
  arrives or is still being handled after it. Requests only insert a missing row
  (`bot.workspace.installs.ensure_workspace`, insert-or-ignore); only an install clears
  `uninstalled_at` (`mark_installed`), and the uninstall is `UPDATE … WHERE uninstalled_at IS NULL`.
- Request state (`support_request`): only people move a request (`bot.requests.queue.apply_action`,
  conditional on the version read). Jobs never update it: reminders insert one
  `request_escalation` row per step (its primary key makes it once); retention blanks the
  text of closed requests with one `UPDATE … WHERE status is closed`, which the database
  re-checks against a reopen committed meanwhile, and a reopen writes none of those columns.
- Survey runs and deliveries: the job opens a run insert-or-ignore and closes it with
  `UPDATE … WHERE status = 'open'`; the close wins over an answer, which checks the run is
  open in the transaction that stores it, with the run's row locked (SQLite's write lock; on
  PostgreSQL `SELECT … FOR UPDATE` in `bot.surveys.responses`), so an answer never lands in a
  week already closed. DMs are claimed
  (`pending → sending` with a token) and recorded only while the claim holds, so a person's
  answer (`answered`, written unconditionally) is never turned back into `sent`, and a resend
  only reopens `failed` deliveries.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar.business import (
    BusinessCalendar,
    parse_business_hours,
    parse_holidays,
    parse_workdays,
)
from bot.calendar.periods import WeeklySchedule, parse_weekly_schedule
from bot.core.errors import UserError
from bot.core.models import Function, TeamSetting, Workspace
from bot.kpis.scorecard import parse_weights
from bot.requests.keywords import TYPE_KEYWORDS
from bot.requests.sla import DEFAULT_SLA_BUSINESS_DAYS
from bot.requests.types import RequestType

logger = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class WorkspaceSettings(BaseModel):
    """What an admin configures for one workspace. Field names are the CLI's setting keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intake_channel: str | None = None
    support_digest_channel: str | None = None
    demandgen_digest_channel: str | None = None
    sales_usergroup: str | None = None
    support_usergroup: str | None = None
    demandgen_usergroup: str | None = None
    admins: tuple[str, ...] = ()
    support_leads: tuple[str, ...] = ()
    leaders: tuple[str, ...] = ()
    timezone: str = "UTC"
    business_hours: str = "09:00-17:00"
    workdays: str = "mon-fri"
    holidays: tuple[str, ...] = ()
    # Turnaround per request type in business days, overriding DEFAULT_SLA_BUSINESS_DAYS.
    sla_days: dict[str, int] = Field(default_factory=dict)
    surveys_enabled: bool = True
    enablement_survey_schedule: str = "mon 10:00"
    pipeline_survey_schedule: str = "mon 10:00"
    survey_local_time: bool = True
    survey_reminder_days: int = 2
    survey_min_respondents: int = 5
    digest_schedule: str = "fri 16:00"
    # Scorecard weights as text ("sourced_pipeline=75, campaign_effectiveness=25"); empty uses
    # the playbook's defaults. Validated by bot.kpis.scorecard when saved.
    demandgen_weights: str = ""
    support_weights: str = ""
    attainment_cap: float = 1.5
    # Free text (request details, notes, comments) is erased this many days after it stops
    # being needed; the numbers stay. `alignbot export` keeps a full copy before that.
    retention_days: int = 365

    @field_validator("enablement_survey_schedule", "pipeline_survey_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return str(_user_value(parse_weekly_schedule, value))

    @field_validator("digest_schedule")
    @classmethod
    def _digest_schedule(cls, value: str) -> str:
        return str(_user_value(parse_weekly_schedule, value))

    @field_validator("attainment_cap")
    @classmethod
    def _cap(cls, value: float) -> float:
        if not 1.0 <= value <= 3.0:
            raise ValueError("the attainment cap is between 100% (1.0) and 300% (3.0)")
        return value

    @model_validator(mode="after")
    def _weights_parse(self) -> WorkspaceSettings:
        for function, text in (
            (Function.DEMAND_GEN, self.demandgen_weights),
            (Function.SUPPORT, self.support_weights),
        ):
            if text:
                try:
                    parse_weights(text, function)
                except UserError as error:
                    raise ValueError(error.message) from None
        return self

    @field_validator("survey_reminder_days")
    @classmethod
    def _reminder_days(cls, value: int) -> int:
        if not 0 <= value <= 6:
            raise ValueError("the reminder goes 1 to 6 days after the survey (0 turns it off)")
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention_days(cls, value: int) -> int:
        if not 30 <= value <= 3650:
            raise ValueError("free text is kept between 30 and 3650 days")
        return value

    @field_validator("survey_min_respondents")
    @classmethod
    def _min_respondents(cls, value: int) -> int:
        if value < 3:
            raise ValueError("the anonymity minimum is never below 3 respondents")
        if value > 1000:
            raise ValueError("the anonymity minimum can be at most 1000")
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, end = _user_value(parse_business_hours, value)
        return f"{start:%H:%M}-{end:%H:%M}"

    @field_validator("workdays")
    @classmethod
    def _workdays(cls, value: str) -> str:
        _user_value(parse_workdays, value)
        return value.strip().lower()

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        days = _user_value(parse_holidays, " ".join(value))
        return tuple(day.isoformat() for day in sorted(days))

    @field_validator("sla_days")
    @classmethod
    def _sla_days(cls, value: dict[str, int]) -> dict[str, int]:
        for key, days in value.items():
            if key not in RequestType.__members__.values():
                raise ValueError(f"{key!r} is not a request type ({', '.join(RequestType)})")
            if not 1 <= days <= 60:
                raise ValueError(f"turnaround for {key} must be 1 to 60 business days")
        return dict(value)

    @field_validator("intake_channel", "support_digest_channel", "demandgen_digest_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not CHANNEL_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack channel ID (like C0123ABCD)")
        return value

    @field_validator("sales_usergroup", "support_usergroup", "demandgen_usergroup")
    @classmethod
    def _usergroup(cls, value: str | None) -> str | None:
        if value is not None and not USERGROUP_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack user group ID (like S0123ABCD)")
        return value

    @field_validator("admins", "support_leads", "leaders")
    @classmethod
    def _admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for user_id in value:
            if not USER_ID.match(user_id):
                raise ValueError(f"{user_id!r} is not a Slack user ID (like U0123ABCD)")
        return tuple(dict.fromkeys(value))

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"{value!r} is not a time zone name (like Europe/Berlin or America/New_York)"
            ) from None
        return value

    @model_validator(mode="after")
    def _functions_stay_apart(self) -> WorkspaceSettings:
        # The playbook's first rule: Demand Gen never works the support queue.
        if self.demandgen_usergroup and self.demandgen_usergroup == self.support_usergroup:
            raise ValueError(
                "Marketing Support and Demand Gen must be different user groups: "
                "Demand Gen never receives support requests"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def calendar(self) -> BusinessCalendar:
        start, end = parse_business_hours(self.business_hours)
        return BusinessCalendar(
            timezone=self.timezone,
            workdays=parse_workdays(self.workdays),
            start=start,
            end=end,
            holidays=parse_holidays(" ".join(self.holidays)),
        )

    @staticmethod
    def survey_schedule_of(text: str) -> WeeklySchedule:
        return parse_weekly_schedule(text)

    def survey_schedule(self, kind: str) -> WeeklySchedule:
        text = (
            self.enablement_survey_schedule
            if kind == "enablement"
            else self.pipeline_survey_schedule
        )
        return parse_weekly_schedule(text)

    def sla_days_for(self, request_type: RequestType) -> int:
        return self.sla_days.get(request_type.value, DEFAULT_SLA_BUSINESS_DAYS[request_type])


def _user_value(parse: Callable[[str], T], text: str) -> T:
    """Run a bot.calendar.business parser, turning its UserError into the ValueError pydantic reports."""
    try:
        return parse(text)
    except UserError as error:
        raise ValueError(error.message) from None


USERGROUP_KEYS = ("sales_usergroup", "support_usergroup", "demandgen_usergroup")

SETTING_KEYS: dict[str, str] = {
    "intake_channel": "Channel where new Marketing Support requests are posted",
    "support_digest_channel": "Channel for the weekly Marketing Support digest",
    "demandgen_digest_channel": "Channel for the weekly Demand Gen digest",
    "sales_usergroup": "Slack user group of the sales reps",
    "support_usergroup": "Slack user group of Marketing Support (works the queue)",
    "demandgen_usergroup": "Slack user group of Demand Gen (never assigned requests)",
    "admins": "Extra bot admins besides workspace admins and owners (user IDs, comma-separated)",
    "support_leads": "Marketing Support leads, told when a request is overdue (user IDs)",
    "leaders": "Sales and marketing leaders who may see the queue and reports (user IDs)",
    "timezone": "Workspace time zone, e.g. Europe/Berlin",
    "business_hours": "Business hours for SLAs, e.g. 09:00-17:00",
    "workdays": "Working days for SLAs, e.g. mon-fri",
    "holidays": "Holidays skipped by SLAs (ISO dates, comma-separated)",
    "sla_days": "Turnaround per type in business days, e.g. deal_deck=3,objection_help=1",
    "surveys_enabled": "Send the weekly pulse surveys (true/false)",
    "enablement_survey_schedule": "When the enablement survey goes out, e.g. mon 10:00",
    "pipeline_survey_schedule": "When the pipeline survey goes out, e.g. mon 10:00",
    "survey_local_time": "Send at each recipient's own local time (true/false)",
    "survey_reminder_days": "Days after the survey to remind non-responders once (0 = never)",
    "survey_min_respondents": "Anonymity minimum for satisfaction figures (never below 3)",
    "digest_schedule": "When the weekly digests are posted, e.g. fri 16:00 (workspace time)",
    "demandgen_weights": "Demand Gen scorecard weights, e.g. sourced_pipeline=75,campaign_effectiveness=25",
    "support_weights": "Marketing Support scorecard weights, e.g. quota_attainment=75,enablement_satisfaction=25",
    "attainment_cap": "Cap on each scorecard attainment, e.g. 1.5 (= 150%)",
    "retention_days": "Days after which free text (details, notes, comments) is erased; numbers stay",
}


def _field_error(error: ValidationError) -> UserError:
    first = error.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else None
    message = str(first["msg"]).removeprefix("Value error, ")
    return UserError(f"{key}: {message}" if key else message, field=key)


def validated(values: Mapping[str, Any]) -> WorkspaceSettings:
    """Build settings from raw values, or raise UserError naming the bad key."""
    try:
        return WorkspaceSettings.model_validate(dict(values))
    except ValidationError as error:
        raise _field_error(error) from None


def parse_setting_value(key: str, text: str) -> Any:
    """Turn the CLI's text into a value for `key` ('' or 'none' clears it)."""
    if key not in SETTING_KEYS:
        known = ", ".join(SETTING_KEYS)
        raise UserError(f"Unknown setting {key!r}. Known settings: {known}")
    cleaned = text.strip()
    default = WorkspaceSettings.model_fields[key].default
    if cleaned.lower() in ("", "none", "null", "-"):
        return default
    if key in ("admins", "support_leads", "leaders", "holidays"):
        return tuple(part.strip() for part in cleaned.replace(" ", ",").split(",") if part.strip())
    if key in ("surveys_enabled", "survey_local_time"):
        if cleaned.lower() in ("true", "yes", "on", "1"):
            return True
        if cleaned.lower() in ("false", "no", "off", "0"):
            return False
        raise UserError(f"{key} is true or false, not {cleaned!r}", field=key)
    if key == "attainment_cap":
        try:
            value = float(cleaned.rstrip("%")) / (100 if cleaned.endswith("%") else 1)
        except ValueError:
            raise UserError(
                f"attainment_cap is a number like 1.5 or 150%, not {cleaned!r}", field=key
            ) from None
        return value
    if key in ("survey_reminder_days", "survey_min_respondents", "retention_days"):
        if not cleaned.isdigit():
            raise UserError(f"{key} is a whole number, not {cleaned!r}", field=key)
        return int(cleaned)
    if key == "sla_days":
        try:
            return _parse_sla_days(cleaned)
        except UserError as error:
            raise UserError(error.message, field=key) from None
    return cleaned


def _parse_sla_days(text: str) -> dict[str, int]:
    """`deal_deck=3, objection=1` (type names or /mktg keywords) -> {type value: days}."""
    result: dict[str, int] = {}
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        name, _, days = part.partition("=")
        name = name.strip().lower()
        request_type = TYPE_KEYWORDS.get(name) or next(
            (member for member in RequestType if member.value == name), None
        )
        if request_type is None or not days.strip().isdigit():
            raise UserError(
                f"Couldn't read {part.strip()!r}: write type=days, e.g. deal_deck=3,objection=1"
            )
        result[request_type.value] = int(days)
    return result


async def next_roster_generation(session: AsyncSession, *, team_id: str) -> int | None:
    """Take the workspace's next roster generation inside the caller's transaction (None when
    the workspace has no row). The update locks the row until that transaction ends, so a
    roster write checking the older generation waits for it, then finds itself superseded."""
    result = await session.exec(
        update(Workspace)
        .where(col(Workspace.team_id) == team_id)
        .values(roster_generation=col(Workspace.roster_generation) + 1)
    )
    if int(result.rowcount) == 0:
        return None
    generation = await session.exec(
        select(Workspace.roster_generation).where(Workspace.team_id == team_id)
    )
    return int(generation.one())


async def load_settings(session: AsyncSession, team_id: str) -> WorkspaceSettings:
    rows = (await session.exec(select(TeamSetting).where(TeamSetting.team_id == team_id))).all()
    return _parsed(team_id, {row.key: row.value for row in rows})


async def load_settings_of(
    session: AsyncSession, team_ids: Iterable[str]
) -> dict[str, WorkspaceSettings]:
    """Many workspaces' settings in one query, for a scheduled tick deciding who has work.

    Parsed settings are remembered by their stored text: a tick every few minutes over a
    thousand workspaces then validates only the ones whose settings changed."""
    wanted = set(team_ids)
    stored: dict[str, dict[str, str]] = {team: {} for team in wanted}
    rows = await session.exec(select(TeamSetting.team_id, TeamSetting.key, TeamSetting.value))
    for team, key, value in rows.all():
        if team in stored:
            stored[team][key] = value
    return {team: _parsed(team, values) for team, values in stored.items()}


_PARSED_KEEP = 20_000
_parsed_by_text: dict[tuple[str, frozenset[tuple[str, str]]], WorkspaceSettings] = {}


def _parsed(team_id: str, stored: Mapping[str, str]) -> WorkspaceSettings:
    key = (team_id, frozenset(stored.items()))
    settings = _parsed_by_text.get(key)
    if settings is None:
        settings = _validated(team_id, stored)
        if len(_parsed_by_text) >= _PARSED_KEEP:
            _parsed_by_text.clear()
        _parsed_by_text[key] = settings
    return settings  # frozen: callers share it safely


def _validated(team_id: str, stored: Mapping[str, str]) -> WorkspaceSettings:
    values: dict[str, Any] = {}
    for key, text in stored.items():
        if key in SETTING_KEYS:
            values[key] = json.loads(text)
    try:
        return WorkspaceSettings.model_validate(values)
    except ValidationError:
        # A value valid when saved may be invalid under newer rules: keep the rest working.
        logger.warning("workspace_settings_invalid team=%s", team_id, exc_info=True)
        good = {}
        for key, value in values.items():
            try:
                WorkspaceSettings.model_validate({key: value})
            except ValidationError:
                continue
            good[key] = value
        return WorkspaceSettings.model_validate(good)


async def save_settings(
    session: AsyncSession,
    *,
    team_id: str,
    changes: Mapping[str, Any],
    updated_by: str | None,
    now: datetime,
) -> WorkspaceSettings:
    """Validate the merged settings, then write only the changed keys, in one transaction.

    A change of user group also takes the next roster generation in that transaction: a roster
    sync that read the old groups before this save then writes nothing (see bot.workspace.roster)."""
    current = await load_settings(session, team_id)
    merged = validated({**current.model_dump(), **changes})
    if any(getattr(merged, key) != getattr(current, key) for key in USERGROUP_KEYS):
        await next_roster_generation(session, team_id=team_id)
    for key in changes:
        value = getattr(merged, key)
        encoded = json.dumps(list(value) if isinstance(value, tuple) else value)
        row = await session.get(TeamSetting, (team_id, key))
        if row is None:
            session.add(
                TeamSetting(
                    team_id=team_id, key=key, value=encoded, updated_at=now, updated_by=updated_by
                )
            )
        else:
            row.value, row.updated_at, row.updated_by = encoded, now, updated_by
    await session.commit()
    return merged
