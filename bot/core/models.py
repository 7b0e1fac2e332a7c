"""Database tables. Every row is keyed by Slack team so no workspace can see another's data.

The CRM tables live in `models_crm` and the outbox in `models_outbox`; all are importable from here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.columns import UTCDateTime, enum_column, utc_column
from bot.core.models_crm import LeadCount, Opportunity, Quota
from bot.core.models_outbox import OutboxMessage, OutboxState
from bot.requests.types import RequestType

__all__ = [
    "Counter",
    "DeliveryRating",
    "DeliveryStatus",
    "DigestPost",
    "FeedbackAction",
    "Function",
    "Goal",
    "JobClaim",
    "LeadCount",
    "Opportunity",
    "OutboxMessage",
    "OutboxState",
    "Quota",
    "RequestEscalation",
    "RequestEvent",
    "RequestStatus",
    "RequestType",
    "Role",
    "RosterMember",
    "RunStatus",
    "SlackEvent",
    "SlackUser",
    "SupportRequest",
    "SurveyDelivery",
    "SurveyKind",
    "SurveyResponse",
    "SurveyResponseHistory",
    "SurveyRun",
    "SurveyRunTally",
    "TeamSetting",
    "UTCDateTime",
    "Workspace",
]


class Role(StrEnum):
    SALES = "sales"
    SUPPORT = "support"
    DEMAND_GEN = "demandgen"


class RequestStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    DELIVERED = "delivered"
    DECLINED = "declined"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (self.DELIVERED, self.DECLINED, self.CANCELLED)


class Workspace(SQLModel, table=True):
    """A Slack workspace the bot has seen."""

    team_id: str = Field(primary_key=True, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=utc_column())
    # Set by app_uninstalled; cleared only by an install (never by a request). Data stays.
    uninstalled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Migration 0007: bumped when a roster sync starts or a settings save changes a user group;
    # a sync writes only while it is still the latest (see bot.workspace.roster).
    roster_generation: int = Field(default=0)


class TeamSetting(SQLModel, table=True):
    """One workspace setting; the value is JSON, validated by bot.workspace.settings."""

    __tablename__ = "team_setting"

    team_id: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())
    updated_by: str | None = Field(default=None, max_length=32)


class RosterMember(SQLModel, table=True):
    """Who is in Sales, Marketing Support or Demand Gen, mirrored from Slack user groups."""

    __tablename__ = "roster_member"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    role: Role = Field(sa_column=enum_column(Role, primary_key=True))
    synced_at: datetime = Field(sa_column=utc_column())


class Counter(SQLModel, table=True):
    """Per-workspace sequences, so references read MS-1, MS-2… in each workspace."""

    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(default=0)


class SupportRequest(SQLModel, table=True):
    """A request from sales to the Marketing Support queue."""

    __tablename__ = "support_request"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "number", name="uq_support_request_team_number"),
        sa.UniqueConstraint("team_id", "source_key", name="uq_support_request_team_source"),
        sa.Index("ix_support_request_team_requester", "team_id", "requester_id"),
        sa.Index("ix_support_request_team_status", "team_id", "status"),
        sa.Index("ix_support_request_team_created", "team_id", "created_at"),
        # Migration 0006: the KPI windows read claims, deliveries and changes by range.
        sa.Index("ix_support_request_team_claimed", "team_id", "claimed_at", "created_at"),
        sa.Index("ix_support_request_team_delivered", "team_id", "status", "delivered_at"),
        sa.Index("ix_support_request_team_updated", "team_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    number: int
    request_type: RequestType = Field(sa_column=enum_column(RequestType))
    status: RequestStatus = Field(sa_column=enum_column(RequestStatus))
    account: str | None = Field(default=None, max_length=200)
    amount_cents: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    due_date: date | None = None
    details: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    crm_link: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    requester_id: str = Field(max_length=32)
    requester_in_sales: bool | None = None
    source: str = Field(max_length=16)
    # What made the request (a view id, a command's trigger id): a retried or double-submitted
    # delivery carries the same key, and the unique constraint turns it into the first request.
    source_key: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    assignee_id: str | None = Field(default=None, max_length=32)
    intake_channel: str | None = Field(default=None, max_length=32)
    intake_ts: str | None = Field(default=None, max_length=32)
    intake_permalink: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    intake_error: str | None = Field(default=None, max_length=255)
    # When the SLA runs out (business hours); due_date is what people see.
    sla_deadline: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    due_from_sla: bool = Field(default=False)
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    deliverable_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    outcome_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Bumped by every transition: a conditional update on it makes concurrent clicks safe.
    version: int = Field(default=1)


class RequestEvent(SQLModel, table=True):
    """One transition of a request: who, when, from, to, and any note (for turnaround maths)."""

    __tablename__ = "request_event"
    __table_args__ = (
        sa.Index("ix_request_event_request", "request_id", "created_at"),
        sa.Index("ix_request_event_team_created", "team_id", "created_at"),
        sa.Index("ix_request_event_request_status", "request_id", "to_status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id")
    team_id: str = Field(max_length=32)
    actor_id: str = Field(max_length=32)
    action: str = Field(max_length=32)
    from_status: RequestStatus = Field(sa_column=enum_column(RequestStatus))
    to_status: RequestStatus = Field(sa_column=enum_column(RequestStatus))
    assignee_id: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(sa_column=utc_column())


class RequestEscalation(SQLModel, table=True):
    """An SLA reminder step sent for a request; the primary key makes each step happen once."""

    __tablename__ = "request_escalation"

    request_id: int = Field(foreign_key="support_request.id", primary_key=True)
    step: str = Field(primary_key=True, max_length=32)
    cycle: int = Field(default=1, primary_key=True)
    sent_at: datetime = Field(sa_column=utc_column())


class DeliveryRating(SQLModel, table=True):
    """The requester's rating of one delivery; a reopen discards it and the next delivery asks again."""

    __tablename__ = "delivery_rating"
    __table_args__ = (sa.UniqueConstraint("delivery_event_id", name="uq_delivery_rating_event"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id")
    delivery_event_id: int = Field(foreign_key="request_event.id")
    team_id: str = Field(max_length=32)
    rater_id: str = Field(max_length=32)
    score: int | None = None
    helped: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=64)
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    discarded: bool = Field(default=False)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class SurveyKind(StrEnum):
    ENABLEMENT = "enablement"
    PIPELINE = "pipeline"

    @property
    def label(self) -> str:
        return (
            "Enablement satisfaction" if self == SurveyKind.ENABLEMENT else "Pipeline contribution"
        )


class RunStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    ANSWERED = "answered"


class SlackUser(SQLModel, table=True):
    """What we know of a Slack user that scheduling needs (time zone), refreshed with the roster."""

    __tablename__ = "slack_user"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    tz: str | None = Field(default=None, max_length=64)
    deleted: bool = Field(default=False)
    is_bot: bool = Field(default=False)
    updated_at: datetime = Field(sa_column=utc_column())


class SurveyRun(SQLModel, table=True):
    """One survey of one kind for one workspace and ISO week; unique so it exists once."""

    __tablename__ = "survey_run"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "kind", "period_start", name="uq_survey_run_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kind: SurveyKind = Field(sa_column=enum_column(SurveyKind))
    period_start: date
    period_end: date
    opens_at: datetime = Field(sa_column=utc_column())
    closes_at: datetime = Field(sa_column=utc_column())
    status: RunStatus = Field(sa_column=enum_column(RunStatus))
    created_at: datetime = Field(sa_column=utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SurveyRunTally(SQLModel, table=True):
    """A closed run's counts, rolled up once in the transaction that closed it
    (`bot.surveys.tallies`): equal to counting its responses from scratch, or absent."""

    __tablename__ = "survey_run_tally"

    run_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("survey_run.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    team_id: str = Field(max_length=32)
    kind: SurveyKind = Field(sa_column=enum_column(SurveyKind))
    computed_at: datetime = Field(sa_column=utc_column())
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON object


class SurveyDelivery(SQLModel, table=True):
    """One recipient of one run: claimed in the database before the DM goes out."""

    __tablename__ = "survey_delivery"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "user_id", name="uq_survey_delivery_recipient"),
        sa.Index("ix_survey_delivery_due", "run_id", "status", "send_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="survey_run.id")
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    status: DeliveryStatus = Field(sa_column=enum_column(DeliveryStatus))
    send_at: datetime = Field(sa_column=utc_column())
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=255)
    attempts: int = Field(default=0)
    reminder_status: str | None = Field(default=None, max_length=16)
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SurveyResponse(SQLModel, table=True):
    """One person's answer to one run (editable until it closes). Enablement answers are
    anonymous everywhere they are shown; the user id is kept only to allow edits."""

    __tablename__ = "survey_response"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "user_id", name="uq_survey_response_person"),
        sa.Index("ix_survey_response_team_kind", "team_id", "kind"),
        # Covering indexes (0006): per-run sums read the index alone.
        sa.Index(
            "ix_survey_response_run_pipeline",
            "run_id",
            "kind",
            "opportunities",
            "pipeline_cents",
            "sourced_count",
            "sourced_cents",
            "influenced_count",
            "influenced_cents",
        ),
        sa.Index("ix_survey_response_run_score", "run_id", "kind", "score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="survey_run.id")
    team_id: str = Field(max_length=32)
    kind: SurveyKind = Field(sa_column=enum_column(SurveyKind))
    user_id: str = Field(max_length=32)
    score: int | None = None
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    help_with: str | None = Field(default=None, max_length=32)
    opportunities: int | None = None
    pipeline_cents: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    sourced_count: int | None = None
    sourced_cents: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    influenced_count: int | None = None
    influenced_cents: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    activities: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # JSON list
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class SurveyResponseHistory(SQLModel, table=True):
    """Each saved version of a response, so edits never lose what was said before."""

    __tablename__ = "survey_response_history"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="survey_response.id")
    saved_at: datetime = Field(sa_column=utc_column())
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))


class Function(StrEnum):
    """The two marketing functions the playbook measures apart."""

    DEMAND_GEN = "demandgen"
    SUPPORT = "support"

    @property
    def label(self) -> str:
        return "Demand Gen" if self == Function.DEMAND_GEN else "Marketing Support"


class Goal(SQLModel, table=True):
    """A target for one function, metric and quarter; volume goals carry a paired rate goal."""

    __table_args__ = (
        sa.UniqueConstraint("team_id", "quarter", "function", "metric", name="uq_goal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    quarter: str = Field(max_length=8)
    function: Function = Field(sa_column=enum_column(Function))
    metric: str = Field(max_length=64)
    target: float
    paired_metric: str | None = Field(default=None, max_length=64)
    paired_target: float | None = None
    set_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime = Field(sa_column=utc_column())


class DigestPost(SQLModel, table=True):
    """A weekly digest, claimed before it is posted so it goes out once per period."""

    __tablename__ = "digest_post"

    team_id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=32)
    period_start: date = Field(primary_key=True)
    status: str = Field(max_length=16)
    claimed_at: datetime = Field(sa_column=utc_column())
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=255)


class FeedbackAction(SQLModel, table=True):
    """'You said, we did': something Marketing Support changed because of survey feedback."""

    __tablename__ = "feedback_action"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    week_start: date
    theme: str | None = Field(default=None, max_length=32)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=utc_column())


class JobClaim(SQLModel, table=True):
    """One scheduled job's run for one workspace and period, claimed before it runs.

    Replicas share the database: whichever claims (job, team, period) first runs it."""

    __tablename__ = "job_claim"
    __table_args__ = (sa.Index("ix_job_claim_claimed_at", "claimed_at"),)

    job: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(primary_key=True, max_length=32)
    period_key: str = Field(primary_key=True, max_length=32)
    claimed_at: datetime = Field(sa_column=utc_column())
    claimed_by: str = Field(max_length=64)


class SlackEvent(SQLModel, table=True):
    """An Events API delivery already handled, so a retry or a second replica skips it."""

    __tablename__ = "slack_event"
    __table_args__ = (sa.Index("ix_slack_event_received_at", "received_at"),)

    event_id: str = Field(primary_key=True, max_length=64)
    team_id: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(sa_column=utc_column())
