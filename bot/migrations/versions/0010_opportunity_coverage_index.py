"""opportunity coverage index: the open-pipeline sum read from an index alone

Coverage's open pipeline (close date in the quarter or unset, still open at the measuring date,
created by then) read every opportunity of the workspace with a table lookup each: 0.6 s of a
digest at 344k opportunities. This index holds every column that sum reads.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_opportunity_team_close_open",
        "opportunity",
        ["team_id", "close_date", "is_closed", "created_date", "amount_cents"],
    )


def downgrade() -> None:
    op.drop_index("ix_opportunity_team_close_open", table_name="opportunity")
