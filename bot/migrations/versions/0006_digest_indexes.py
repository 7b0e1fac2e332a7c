"""digest indexes: range scans on claimed, delivered and updated times per workspace

The digests, the scorecard and the export read a window of requests claimed or delivered in
it, the "open at the window's end" figure reads the requests changed since, and the ratings
figure reads the delivery events of the window; without these indexes each of those scanned
every request (or every rating) the workspace ever had.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_support_request_team_claimed", "support_request", ["team_id", "claimed_at"]),
    ("ix_support_request_team_delivered", "support_request", ["team_id", "delivered_at"]),
    ("ix_support_request_team_updated", "support_request", ["team_id", "updated_at"]),
    ("ix_request_event_team_created", "request_event", ["team_id", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
