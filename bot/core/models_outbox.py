"""The outbox table: Slack writes the bot owes (re-exported by `bot.core.models`; the rules
that move a row live in `bot.core.outbox`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.columns import enum_column, utc_column

__all__ = ["OutboxMessage", "OutboxState"]


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a dispatcher until `claimed_until`
    SENT = "sent"
    DEAD = "dead"  # Slack will never take it (or 24 h of trying): an admin was told
    SKIPPED = "skipped"  # nothing left to say (an update whose message was never posted)


class OutboxMessage(SQLModel, table=True):
    """One Slack write the bot owes, stored in the transaction of the change it reports.

    A dispatcher sends it (bot.core.outbox says how rows move; jobs.dispatcher sends them).
    Rows of one `ordering_key` go out in id order; `message_key` names the Slack message a
    post creates, so later updates and thread lines find it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "idempotency_key", name="uq_outbox_idempotency"),
        sa.Index("ix_outbox_due", "state", "next_attempt_at"),
        sa.Index("ix_outbox_order", "ordering_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    ordering_key: str = Field(max_length=96)
    message_key: str | None = Field(default=None, max_length=96)
    idempotency_key: str = Field(max_length=128)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    state: OutboxState = Field(sa_column=enum_column(OutboxState))
    attempts: int = Field(default=0)
    # True once an attempt ended without an answer: Slack may have posted it, so look first.
    maybe_sent: bool = Field(default=False)
    created_at: datetime = Field(sa_column=utc_column())
    next_attempt_at: datetime = Field(sa_column=utc_column())
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sent_channel: str | None = Field(default=None, max_length=32)
    sent_ts: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=255)
