"""The histories (holdings-series, forces-history, front-series) keep one row per key and
day instead of per key and month: a month of a busy series held thousands of reports, and
every batch that touched it put it together and rewrote it whole (670 kB at 10^6 events).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Rows and versions are keyed by month: the histories start over, and their next runner
# builds them anew through the bulk rebuild (as 0012 did).
HISTORIES = ("holdings-series", "forces-history", "front-series")
START_OVER = tuple(
    statement
    for view in HISTORIES
    for statement in (
        f"DELETE FROM view_rows WHERE view = '{view}'",
        f"DELETE FROM report_versions WHERE view = '{view}'",
        f"DELETE FROM projection_generations WHERE view = '{view}'",
    )
)


def upgrade() -> None:
    for statement in START_OVER:
        op.execute(statement)


def downgrade() -> None:
    # Month rows are drawn again by a rebuild of the code that keeps them.
    for statement in START_OVER:
        op.execute(statement)
