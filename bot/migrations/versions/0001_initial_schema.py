"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 16:50:06.980746
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "counter",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "name"),
    )
    op.create_table(
        "roster_member",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "role",
            sa.Enum("sales", "support", "demandgen", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "role"),
    )
    op.create_table(
        "support_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "request_type",
            sa.Enum(
                "deal_deck",
                "objection_help",
                "case_study",
                "roi_case",
                "competitive_intel",
                "custom_content",
                "event_support",
                "other",
                name="requesttype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "claimed",
                "in_progress",
                "waiting",
                "delivered",
                "declined",
                "cancelled",
                name="requeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("crm_link", sa.Text(), nullable=True),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("requester_in_sales", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("intake_channel", sa.String(length=32), nullable=True),
        sa.Column("intake_ts", sa.String(length=32), nullable=True),
        sa.Column("intake_permalink", sa.Text(), nullable=True),
        sa.Column("intake_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "number", name="uq_support_request_team_number"),
        sa.UniqueConstraint("team_id", "source_key", name="uq_support_request_team_source"),
    )
    with op.batch_alter_table("support_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_request_team_requester", ["team_id", "requester_id"], unique=False
        )
        batch_op.create_index("ix_support_request_team_status", ["team_id", "status"], unique=False)

    op.create_table(
        "team_setting",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "key"),
    )
    op.create_table(
        "workspace",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:

    op.drop_table("workspace")
    op.drop_table("team_setting")
    with op.batch_alter_table("support_request", schema=None) as batch_op:
        batch_op.drop_index("ix_support_request_team_status")
        batch_op.drop_index("ix_support_request_team_requester")

    op.drop_table("support_request")
    op.drop_table("roster_member")
    op.drop_table("counter")
