"""View rows' keys compare by code point (COLLATE "C"), whatever the database's own collation.

Pages of a view's rows (api/row_pages.py) are read by one range of the rows' index: after a
cursor's key, and within a key's prefix ("kursk-oblast/ukraine/" up to
"kursk-oblast/ukraine0"). Under a linguistic collation (en_US.UTF-8) punctuation is weighed
last, so "kursk-oblast/ukraine0" sorts before "kursk-oblast/ukraine/2024-08-01" and such a
range is empty; and the order would differ from the one the answers are sorted in (Python's,
by code point) elsewhere. Keys are identifiers, not text to alphabetise: "C" is their order.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('ALTER TABLE view_rows ALTER COLUMN key TYPE text COLLATE "C"')


def downgrade() -> None:
    op.execute('ALTER TABLE view_rows ALTER COLUMN key TYPE text COLLATE "default"')
