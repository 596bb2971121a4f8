"""View rows as JSON text: written and read as the views encode them, never parsed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The rows are msgspec's output (always valid JSON), read back whole by the API and the
# tests, and never queried inside: nothing uses jsonb's operators. As jsonb, PostgreSQL
# parsed every row it was sent into its binary form and printed it back as text for every
# read; that parsing was most of the server's work in a rebuild (bench/rebuild.py: a COPY
# of the rebuild's 830 MB of rows took 9-11 s as jsonb and 6-7 s as text on two streams).
# A `CHECK (doc IS JSON)` would parse again; the views are the only writers.
TO_TEXT = "ALTER TABLE view_rows ALTER COLUMN doc TYPE text USING doc::text"
TO_JSONB = "ALTER TABLE view_rows ALTER COLUMN doc TYPE jsonb USING doc::jsonb"


def upgrade() -> None:
    op.execute(TO_TEXT)


def downgrade() -> None:
    op.execute(TO_JSONB)
