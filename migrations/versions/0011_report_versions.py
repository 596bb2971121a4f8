"""The versions of the reports behind the aggregate views, each with the positions it held
between: what past-tense answers are read from instead of folding the log; and the log's
events by the time they were recorded.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE

# One row per version of a report a view follows, per row key it feeds (projections/
# history.py): the version held from the event at `from_position` up to the one at
# `to_position` (excluded; the largest bigint while it still holds). The other columns are
# what a view's past answer picks the reports it needs by, never the report itself (that
# is folded again from its own few events, by the log's originator index):
# - `grp` and `class`: the view's own groups and classes of reports ("current" and "peak"
#   claims of a holding; a source's running totals);
# - the fold's order (occurrence anchor, reporting anchor, filing position), and `rank`
#   where a view picks a class's highest (a holding's largest area) rather than its latest;
# - `counts_from`: the earliest valid time (`as_of`) at which the report counts.
CREATE_VERSIONS = """
CREATE TABLE report_versions (
    view text NOT NULL,
    generation integer NOT NULL,
    key text NOT NULL,
    grp text NOT NULL,
    class smallint NOT NULL,
    occurred_at timestamptz NOT NULL,
    reported_at timestamptz NOT NULL,
    filed_position bigint NOT NULL,
    report_id uuid NOT NULL,
    from_position bigint NOT NULL,
    to_position bigint NOT NULL,
    counts_from timestamptz NOT NULL,
    rank bytea,
    PRIMARY KEY (view, generation, report_id, key, from_position)
)
"""

# A class's latest version at a position and date is found scanning its order back from the
# date; its highest, scanning its rank down. Both carry what the scan filters on, so that
# PostgreSQL reads only the index.
INDEXES = (
    "CREATE INDEX report_versions_order ON report_versions "
    "(view, generation, key, grp, class, occurred_at, reported_at, filed_position) "
    "INCLUDE (from_position, to_position, counts_from, report_id)",
    "CREATE INDEX report_versions_rank ON report_versions "
    "(view, generation, key, grp, class, rank, occurred_at, reported_at, filed_position) "
    "INCLUDE (from_position, to_position, counts_from, report_id) WHERE rank IS NOT NULL",
)

# "What was known at T" starts from the log's last event recorded by T: found in one step of
# this index, where scanning back from the head took time in proportion to how long ago T
# was (store/event_store.py, POSITION_AT).
RECORDED_AT_INDEX = (
    "CREATE INDEX timeline_events_recorded_at ON timeline_events (recorded_at, notification_id)"
)

GRANT = f"GRANT SELECT, INSERT, UPDATE, DELETE ON report_versions TO {SERVICE_ROLE}"

# A rebuild loads hundreds of thousands of rows by COPY and serves them at once: until the
# autovacuum daemon samples them (a minute or more later), the planner guesses at them, and
# guessed wrong by a factor of 200 on a timeline page (2 s instead of 8 ms at 10^6 events).
# Only a table's owner may ANALYZE it (before PostgreSQL 17's MAINTAIN), so the service calls
# this function, with the owner's rights and a pinned search_path, after a rebuild's load.
ANALYZE_FUNCTION = """
CREATE FUNCTION timeline_analyze_views() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ANALYZE view_rows;
    ANALYZE timeline_entries;
    ANALYZE report_versions;
END
$$
"""
ANALYZE_DEFINER = """
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION timeline_analyze_views() SECURITY DEFINER '
                   'SET search_path = %I, pg_temp', current_schema());
END
$$
"""
ANALYZE_GRANTS = (
    "REVOKE ALL ON FUNCTION timeline_analyze_views() FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION timeline_analyze_views() TO {SERVICE_ROLE}",
)

# The views that keep versions, built before this revision, have none: they start over,
# and their next runner builds them anew through the bulk rebuild, versions included (as
# 0010 did for the timeline). Until then past-tense answers about them fold the log.
INDEXED_VIEWS = (
    "holdings",
    "damage",
    "forces",
    "front",
    "holdings-series",
    "forces-history",
    "front-series",
)
START_OVER = tuple(
    statement
    for view in INDEXED_VIEWS
    for statement in (
        f"DELETE FROM view_rows WHERE view = '{view}'",
        f"DELETE FROM projection_generations WHERE view = '{view}'",
    )
)


def upgrade() -> None:
    op.execute(CREATE_VERSIONS)
    for index in INDEXES:
        op.execute(index)
    op.execute(RECORDED_AT_INDEX)
    op.execute(GRANT)
    op.execute(ANALYZE_FUNCTION)
    op.execute(ANALYZE_DEFINER)
    for statement in ANALYZE_GRANTS:
        op.execute(statement)
    for statement in START_OVER:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION timeline_analyze_views()")
    op.execute("DROP INDEX timeline_events_recorded_at")
    op.execute("DROP TABLE report_versions")
