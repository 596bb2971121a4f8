"""What the importer last read each imported report from: a fingerprint of the source row
(application/imports/fingerprints.py) and the report's version it was read against.

A re-import compares each row's fingerprint with this table in bulk, where it would
otherwise rebuild every report from the log and read every row in full. It is a cache, not
a record: the log alone says what a report holds. A fingerprint counts only while the
report is still at the version it names (a correction, a retraction or a hand-made change
since makes the row read in full again), and a missing one only costs the full comparison.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE

IMPORT_ROWS = """
CREATE TABLE timeline_import_rows (
    report_id uuid PRIMARY KEY,
    row_key text NOT NULL,
    version bigint NOT NULL,
    fingerprint bytea NOT NULL
)
"""
GRANT = f"GRANT SELECT, INSERT, UPDATE ON timeline_import_rows TO {SERVICE_ROLE}"


def upgrade() -> None:
    op.execute(IMPORT_ROWS)
    op.execute(GRANT)


def downgrade() -> None:
    op.execute("DROP TABLE timeline_import_rows")
