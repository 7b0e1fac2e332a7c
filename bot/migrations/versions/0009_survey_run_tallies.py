"""survey run tallies: a closed survey week's counts, rolled up once when it closes

The digests' 8-week satisfaction trend and the pipeline trend and quarter-to-date re-read every
response of up to 13 weeks on every digest, although a week closed is never answered again.
Each closed run's counts are now stored once, in the transaction that closes it
(`bot.surveys.tallies`); readers count live only the runs without one. Runs closed before this
revision are rolled up by the surveys job, a bounded number per tick.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_run_tally",
        sa.Column("run_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["survey_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )


def downgrade() -> None:
    op.drop_table("survey_run_tally")
