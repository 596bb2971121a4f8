"""The quarantine: events a view skipped, and reports a row could not show, with the reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Operational state, not the log: which events each view skipped (projections/core.py says
# when an event is skipped), recorded by the runner in the same transaction as the batch's
# rows and tracking position. `key` is '' for an event a view skipped whole, else the key of
# the row that could not show the report. A retry or rebuild that takes an event after all
# marks it resolved (`resolved_at`, `resolution`) rather than deleting it.
CREATE_QUARANTINE = """
CREATE TABLE projection_quarantine (
    view text NOT NULL,
    position bigint NOT NULL,
    key text NOT NULL DEFAULT '',
    report_id uuid,
    error text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolution text,
    PRIMARY KEY (view, position, key)
)
"""
# `timeline status` counts what is still quarantined, per view.
CREATE_OPEN_INDEX = """
CREATE INDEX projection_quarantine_open ON projection_quarantine (view) WHERE resolved_at IS NULL
"""


def upgrade() -> None:
    op.execute(CREATE_QUARANTINE)
    op.execute(CREATE_OPEN_INDEX)


def downgrade() -> None:
    op.execute("DROP TABLE projection_quarantine")
