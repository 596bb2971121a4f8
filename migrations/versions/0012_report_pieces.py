"""Each version of a report behind a history's month row keeps the report's piece of that
row, so that a runner puts a touched month row together from its versions instead of
folding every report of the month again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The piece (msgspec JSON of `core.MonthPiece`) of a `Pieced` view's report at this
# version (projections/history.py); NULL for other views, and where the view could not make
# one (the row is then drawn by folding its reports).
ADD_PIECE = "ALTER TABLE report_versions ADD COLUMN piece bytea"

# The histories' versions so far have no pieces: they start over, and their next runner
# builds them anew through the bulk rebuild, pieces included (as 0011 did).
PIECED_VIEWS = ("holdings-series", "forces-history", "front-series")
START_OVER = tuple(
    statement
    for view in PIECED_VIEWS
    for statement in (
        f"DELETE FROM view_rows WHERE view = '{view}'",
        f"DELETE FROM report_versions WHERE view = '{view}'",
        f"DELETE FROM projection_generations WHERE view = '{view}'",
    )
)


def upgrade() -> None:
    op.execute(ADD_PIECE)
    for statement in START_OVER:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE report_versions DROP COLUMN piece")
