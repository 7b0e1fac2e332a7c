"""digest indexes: range scans on claimed, delivered and updated times per workspace

The digests, the scorecard and the export read a window of requests claimed or delivered in
it, the "open at the window's end" figure reads the requests changed since, and the ratings
figure reads the delivery events of the window; without these indexes each of those scanned
every request (or every rating) the workspace ever had. Coverage and the CRM pipeline figures
sum opportunity amounts over a quarter: covering indexes answer those from the index alone.

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
    # With created_at, the claims of a window are read from the index alone.
    (
        "ix_support_request_team_claimed",
        "support_request",
        ["team_id", "claimed_at", "created_at"],
    ),
    # Status first: "delivered now, delivered in the window" is then one range, index-only
    # for the quarter's count.
    (
        "ix_support_request_team_delivered",
        "support_request",
        ["team_id", "status", "delivered_at"],
    ),
    ("ix_support_request_team_updated", "support_request", ["team_id", "updated_at"]),
    ("ix_request_event_team_created", "request_event", ["team_id", "created_at"]),
    # "Did this request ever wait on its requester?" in one index probe per request.
    (
        "ix_request_event_request_status",
        "request_event",
        ["request_id", "to_status", "created_at"],
    ),
    # Covering indexes for coverage and CRM pipeline sums: the amounts are read from the index
    # instead of one table row per opportunity of the quarter.
    (
        "ix_opportunity_team_won_close",
        "opportunity",
        ["team_id", "is_won", "close_date", "amount_cents"],
    ),
    (
        "ix_opportunity_team_closed_close",
        "opportunity",
        ["team_id", "is_closed", "close_date", "amount_cents"],
    ),
    (
        "ix_opportunity_team_created_amount",
        "opportunity",
        ["team_id", "created_date", "marketing_sourced", "amount_cents"],
    ),
    # Covering indexes for the survey sums per run (pipeline figures, satisfaction trend).
    (
        "ix_survey_response_run_pipeline",
        "survey_response",
        [
            "run_id",
            "kind",
            "opportunities",
            "pipeline_cents",
            "sourced_count",
            "sourced_cents",
            "influenced_count",
            "influenced_cents",
        ],
    ),
    ("ix_survey_response_run_score", "survey_response", ["run_id", "kind", "score"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
