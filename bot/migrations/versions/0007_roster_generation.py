"""roster generation: a roster sync never undoes a newer one, or a newer settings save

Saving `/align settings` syncs the roster at once; a scheduled sync that had read the settings
just before the save used to write its stale (empty) groups over it 40 ms later. Each sync now
takes the next generation of its workspace when it starts (a settings save that changes a user
group takes one too), and every roster write checks, in its own transaction, that the
generation is still the one it took.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("roster_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("roster_generation")
