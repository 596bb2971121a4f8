"""Questions about the past of the timeline and the strikes read their rows' versions
instead of folding the log (projections/past_pages.py):
- the strikes keep their reports' versions in `report_versions`, as the aggregate views do,
  indexed in the order things happened too (for `/v1/strikes/by-date`);
- the timeline keeps the rows it replaced, each with the log positions between which it
  held, in `timeline_superseded` (the columns of `timeline_entries`, indexed alike), and
  each entry says since when it holds (`changed_at`): the rows at a position N are the
  entries changed by N and the superseded rows holding at N.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE

# Both start over (their versions were never kept): the next runner builds them anew
# through the bulk rebuild, versions included (as 0011 did for the others).
START_OVER = (
    "DELETE FROM timeline_entries",
    "DELETE FROM view_rows WHERE view = 'strikes'",
    "DELETE FROM report_versions WHERE view IN ('timeline', 'strikes')",
    "DELETE FROM projection_generations WHERE view IN ('timeline', 'strikes')",
)

# The entries are empty by now: the column needs no default.
CHANGED_AT = "ALTER TABLE timeline_entries ADD COLUMN changed_at bigint NOT NULL"
SUPERSEDED = """
CREATE TABLE timeline_superseded (
    LIKE timeline_entries,
    to_position bigint NOT NULL,
    PRIMARY KEY (generation, report_id, changed_at)
)
"""
# The indexes a page reads `timeline_entries` by (0010), for its past.
INDEXES = (
    "CREATE INDEX timeline_superseded_order ON timeline_superseded "
    "(generation, occurred_span, occurred_at, reported_at, filed_at)",
    "CREATE INDEX timeline_superseded_tags ON timeline_superseded USING gin (tags)",
    "CREATE INDEX timeline_superseded_reported ON timeline_superseded "
    "(generation, reported_span, reported_from)",
    # Near the head of the log few rows were replaced after the position asked: those are
    # gathered by when they were replaced (projections/timeline_pages.py, `Past`).
    "CREATE INDEX timeline_superseded_until ON timeline_superseded (generation, to_position)",
)
# The strikes' versions in the order things happened: `/v1/strikes/by-date` walks it,
# backwards for the newest first. Only the strikes': an index every view's versions paid
# for would slow every batch.
STRIKES_IN_TIME_ORDER = (
    "CREATE INDEX report_versions_strikes_in_time_order ON report_versions "
    "(generation, occurred_at, reported_at, filed_position) "
    "INCLUDE (from_position, to_position, report_id) WHERE view = 'strikes'"
)
GRANT = f"GRANT SELECT, INSERT, UPDATE, DELETE ON timeline_superseded TO {SERVICE_ROLE}"
ANALYZE_FUNCTION = """
CREATE OR REPLACE FUNCTION timeline_analyze_views() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ANALYZE view_rows;
    ANALYZE timeline_entries;
    ANALYZE timeline_superseded;
    ANALYZE report_versions;
END
$$
"""
# CREATE OR REPLACE resets what 0011 set: the owner's rights, the pinned search_path.
ANALYZE_DEFINER = """
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION timeline_analyze_views() SECURITY DEFINER '
                   'SET search_path = %I, pg_temp', current_schema());
END
$$
"""
ANALYZE_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION timeline_analyze_views() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ANALYZE view_rows;
    ANALYZE timeline_entries;
    ANALYZE report_versions;
END
$$
"""


def upgrade() -> None:
    for statement in START_OVER:
        op.execute(statement)
    op.execute(CHANGED_AT)
    op.execute(SUPERSEDED)
    for statement in INDEXES:
        op.execute(statement)
    op.execute(STRIKES_IN_TIME_ORDER)
    op.execute(GRANT)
    op.execute(ANALYZE_FUNCTION)
    op.execute(ANALYZE_DEFINER)


def downgrade() -> None:
    op.execute(ANALYZE_FUNCTION_BEFORE)
    op.execute(ANALYZE_DEFINER)
    op.execute("DROP INDEX report_versions_strikes_in_time_order")
    op.execute("DROP TABLE timeline_superseded")
    for statement in START_OVER:
        op.execute(statement)
    op.execute("ALTER TABLE timeline_entries DROP COLUMN changed_at")
