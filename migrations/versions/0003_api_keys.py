"""The API's tables: API keys, and the index its live views catch up by.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Only a SHA-256 of each key is kept: the key itself is shown once, when it is created.
# A key is revoked by stamping `revoked_at`; its row stays, so a revoked key's name and role
# can still be looked up in an audit. Keys are configuration, not part of the event log.
CREATE_KEYS = """
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    key_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
)
"""

# An API process keeps each view in memory and, when a runner's batch lands, reads only the
# rows written since the position it already holds.
CREATE_CHANGED_INDEX = """
CREATE INDEX view_rows_changed ON view_rows (view, generation, position)
"""


def upgrade() -> None:
    op.execute(CREATE_KEYS)
    op.execute(CREATE_CHANGED_INDEX)


def downgrade() -> None:
    op.execute("DROP INDEX view_rows_changed")
    op.execute("DROP TABLE api_keys")
