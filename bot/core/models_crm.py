"""CRM tables: imported opportunities, weekly lead counts and quarterly quotas (re-exported
by `bot.core.models`)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.columns import utc_column

__all__ = ["LeadCount", "Opportunity", "Quota"]


class Opportunity(SQLModel, table=True):
    """A CRM opportunity (Salesforce or HubSpot report row), upserted by its CRM id."""

    __table_args__ = (
        sa.UniqueConstraint("team_id", "crm_id", name="uq_opportunity_crm_id"),
        sa.Index("ix_opportunity_team_created", "team_id", "created_date"),
        sa.Index("ix_opportunity_team_close", "team_id", "close_date"),
        # Covers coverage's open-pipeline sum (close date in the quarter or unset, open then,
        # created by then): read from the index alone, not a table lookup per opportunity.
        sa.Index(
            "ix_opportunity_team_close_open",
            "team_id",
            "close_date",
            "is_closed",
            "created_date",
            "amount_cents",
        ),
        sa.Index(
            "ix_opportunity_team_won_close", "team_id", "is_won", "close_date", "amount_cents"
        ),
        sa.Index(
            "ix_opportunity_team_closed_close", "team_id", "is_closed", "close_date", "amount_cents"
        ),
        sa.Index(
            "ix_opportunity_team_created_amount",
            "team_id",
            "created_date",
            "marketing_sourced",
            "amount_cents",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    crm_id: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=255)
    account: str | None = Field(default=None, max_length=255)
    amount_cents: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
    stage: str | None = Field(default=None, max_length=128)
    close_date: date | None = None
    created_date: date | None = None
    lead_source: str | None = Field(default=None, max_length=128)
    marketing_sourced: bool = Field(default=False)
    owner_email: str | None = Field(default=None, max_length=255)
    is_won: bool = Field(default=False)
    is_closed: bool = Field(default=False)
    imported_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class LeadCount(SQLModel, table=True):
    """Marketing leads per ISO week, for lead→opportunity conversion (imported or entered)."""

    __tablename__ = "lead_count"

    team_id: str = Field(primary_key=True, max_length=32)
    week_start: date = Field(primary_key=True)
    leads: int = Field(default=0)
    qualified: int = Field(default=0)
    updated_at: datetime = Field(sa_column=utc_column())


class Quota(SQLModel, table=True):
    """Sales quota for a quarter ('2026-Q4'), the workspace total or per owner e-mail."""

    team_id: str = Field(primary_key=True, max_length=32)
    quarter: str = Field(primary_key=True, max_length=8)
    owner: str = Field(primary_key=True, max_length=255, default="*")
    amount_cents: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())
