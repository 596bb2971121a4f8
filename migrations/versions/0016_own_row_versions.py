"""The timeline and the strikes keep their reports' versions too, so that a page of either
about the past is found by index (projections/past_pages.py) instead of folding the log; the
timeline's versions are read in its order, occurrence then reporting then filing.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The timeline's versions in the timeline's order, with what a page's scan filters on, so
# that it reads the index alone. Only the timeline's: no other view is read in this order,
# and an index every view's versions paid for would slow every batch.
IN_TIME_ORDER = (
    "CREATE INDEX report_versions_in_time_order ON report_versions "
    "(generation, occurred_at, reported_at, filed_position) "
    "INCLUDE (from_position, to_position, grp, report_id) WHERE view = 'timeline'"
)

# Their versions so far were never kept: both start over, and their next runner builds
# them anew through the bulk rebuild, versions included (as 0011 did for the others).
START_OVER = (
    "DELETE FROM timeline_entries",
    "DELETE FROM view_rows WHERE view = 'strikes'",
    "DELETE FROM report_versions WHERE view IN ('timeline', 'strikes')",
    "DELETE FROM projection_generations WHERE view IN ('timeline', 'strikes')",
)


def upgrade() -> None:
    for statement in START_OVER:
        op.execute(statement)
    op.execute(IN_TIME_ORDER)


def downgrade() -> None:
    op.execute("DROP INDEX report_versions_in_time_order")
    for statement in START_OVER:
        op.execute(statement)
