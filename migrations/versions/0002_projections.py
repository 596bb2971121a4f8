"""Projection views: generations with their tracking positions, and the view rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# One row per (view, generation). `position` is the tracking position: the last log position
# whose effects are in the generation's rows; it moves in the same transaction as the rows.
# A rebuild builds generation n+1 while n keeps serving, then swaps which one serves.
CREATE_GENERATIONS = """
CREATE TABLE projection_generations (
    view text NOT NULL,
    generation integer NOT NULL,
    state text NOT NULL CHECK (state IN ('building', 'serving', 'retired')),
    position bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (view, generation)
)
"""

CREATE_ONE_SERVING = """
CREATE UNIQUE INDEX projection_generations_one_serving
    ON projection_generations (view) WHERE state = 'serving'
"""

# Rows are JSON documents (the views' msgspec rows), so a view's schema can evolve without a
# migration. No index on the documents yet: a GIN index over them quadrupled the cost of
# writing a rebuild's rows; the API adds the narrow indexes its filters need.
CREATE_ROWS = """
CREATE TABLE view_rows (
    view text NOT NULL,
    generation integer NOT NULL,
    key text NOT NULL,
    doc jsonb NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (view, generation, key)
)
"""


def upgrade() -> None:
    op.execute(CREATE_GENERATIONS)
    op.execute(CREATE_ONE_SERVING)
    op.execute(CREATE_ROWS)


def downgrade() -> None:
    op.execute("DROP TABLE view_rows")
    op.execute("DROP TABLE projection_generations")
