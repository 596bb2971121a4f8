"""Holdings, forces and front changed shape: their stored rows are dropped, to be folded anew.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Their rows lost the histories (now the holdings-series, forces-history and front-series
# views) and forces' list of deployments became the latest one, so rows written before
# cannot be read as the rows the code now writes. View rows are derived data: the next
# runner (`timeline serve` or `timeline project`) folds these views again from the log, or
# `timeline rebuild holdings forces front` does it at once. The log is untouched.
RESHAPED = "('holdings', 'forces', 'front')"


def _start_over() -> None:
    op.execute(f"DELETE FROM view_rows WHERE view IN {RESHAPED}")
    op.execute(f"DELETE FROM projection_generations WHERE view IN {RESHAPED}")


def upgrade() -> None:
    _start_over()


def downgrade() -> None:
    # The code before this revision wrote the older shape: start over for it too.
    _start_over()
