"""A damage row names each source's latest withdrawn tally instead of every one withdrawn,
so that its size no longer grows with the log; its withdrawn tallies' versions are grouped
by source, as its standing totals' are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The damage view's rows and versions were written under the old rule: it starts over, and
# its next runner builds it anew through the bulk rebuild (as 0011 and 0012 did).
START_OVER = (
    "DELETE FROM view_rows WHERE view = 'damage'",
    "DELETE FROM report_versions WHERE view = 'damage'",
    "DELETE FROM projection_generations WHERE view = 'damage'",
)


def upgrade() -> None:
    for statement in START_OVER:
        op.execute(statement)


def downgrade() -> None:
    # The old rows would be drawn under the old rule again by a rebuild of that code.
    for statement in START_OVER:
        op.execute(statement)
