"""The timeline's rows in a table of their own, with a column per filter and indexes for pages.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE

# One row per report and generation, written where `view_rows` is written for the other
# views (projections/timeline_entries.py), never there as well. Every column but `doc` is
# read off the row the view rendered (`TimelineRow`): `doc` is that row as the API serves it
# (canonical JSON), the rest are its filters, typed so PostgreSQL can index them.
# - The page order is `sort_key`'s, in three columns: the occurrence's anchor, the
#   reporting's anchor, the filing position (24 bytes in an index, not 78 of text).
# - `tags` are what the equality filters compare, with the occurrence's span class
#   ("kind:strike@0", "region:kursk-oblast@0", "actor:ukraine@0", "source:reuters@0",
#   "verification:denied@0"), so that one GIN index finds the rows of any of them together
#   and its statistics say which values each class holds; the other columns are what the
#   sums of sources and regions count.
# - `*_from`/`*_to` are the occurrence's (reporting's) earliest and latest moments, NULL
#   where it is open; `*_span` is the class of its width (0 a moment, 1 a day at most, 2 a
#   month at most, 3 longer or open at its end, 4 open at its start): a range filter looks
#   for a class's rows from the range's start minus the class's width, a slice of the
#   order, not from the first row.
CREATE_ENTRIES = """
CREATE TABLE timeline_entries (
    generation integer NOT NULL,
    report_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    reported_at timestamptz NOT NULL,
    filed_at bigint NOT NULL,
    kind text NOT NULL,
    region_key text,
    region text,
    country text,
    actors text[] NOT NULL,
    source text NOT NULL,
    outlet text,
    side text NOT NULL,
    verification text NOT NULL,
    retracted boolean NOT NULL,
    tags text[] NOT NULL,
    occurred_from timestamptz,
    occurred_to timestamptz,
    occurred_span smallint NOT NULL,
    reported_from timestamptz,
    reported_to timestamptz,
    reported_span smallint NOT NULL,
    doc text NOT NULL,
    PRIMARY KEY (generation, report_id)
)
"""

# A page walks the order, class by class (projections/timeline_pages.py), or, when its
# filters are rare, gathers their rows through the tags or the reporting times and sorts
# those. Few indexes: each one is upkeep for every row a rebuild loads.
INDEXES = (
    "CREATE INDEX timeline_entries_order ON timeline_entries "
    "(generation, occurred_span, occurred_at, reported_at, filed_at)",
    "CREATE INDEX timeline_entries_tags ON timeline_entries USING gin (tags)",
    "CREATE INDEX timeline_entries_reported ON timeline_entries "
    "(generation, reported_span, reported_from)",
)

# Runners and rebuilds write it as they write view_rows; a rebuild deletes a retired
# generation's entries.
GRANT = f"GRANT SELECT, INSERT, UPDATE, DELETE ON timeline_entries TO {SERVICE_ROLE}"

# The timeline's rows written before this revision are in view_rows: derived data, folded
# anew into the new table by the next runner (through the bulk rebuild, as a view never
# built is) or by `timeline rebuild timeline`.
START_OVER = (
    "DELETE FROM view_rows WHERE view = 'timeline'",
    "DELETE FROM projection_generations WHERE view = 'timeline'",
)


def upgrade() -> None:
    op.execute(CREATE_ENTRIES)
    for index in INDEXES:
        op.execute(index)
    op.execute(GRANT)
    for statement in START_OVER:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE timeline_entries")
    # The code before this revision keeps the timeline in view_rows: it starts over there.
    op.execute("DELETE FROM projection_generations WHERE view = 'timeline'")
