"""Least privilege: the service role reads the log and appends to it through one function.

The service (`timeline serve`, `timeline project` and the commands that read or append)
logs in as `timeline_service` or a member of it; the migrating role owns the tables. The
owner alone may TRUNCATE, ALTER TABLE ... DISABLE TRIGGER or set session_replication_role,
the three ways past the append-only guard (0004); the service role may do none of them,
nor UPDATE, DELETE or even INSERT into the log.

`timeline_append` takes the log's EXCLUSIVE lock, which PostgreSQL grants only to a role
that may UPDATE, DELETE or TRUNCATE the table. So the function runs as its owner (SECURITY
DEFINER) and the service role may only call it: every event reaches the log through its
checks and its chain link. A later CREATE OR REPLACE of the function must say SECURITY
DEFINER and SET search_path again (a replacement keeps the grants, not these).

`timeline migrate` creates the role before the migrations run (store/roles.py); the block
below creates it only for a plain `alembic upgrade` run by a role that may.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE
APPEND = "timeline_append(uuid[], bigint[], text[], bytea[], text, text, bytea)"

CREATE_SERVICE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
        CREATE ROLE {SERVICE_ROLE} NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'the role {SERVICE_ROLE} does not exist and % may not create it',
        current_user USING HINT = '`timeline migrate` prints the statements to run';
END
$$
"""

# Everything the service role may do, table by table. A new table gets its line here (or in
# the migration that adds it), with what its writers need and nothing more.
SERVICE_GRANTS = (
    # The log: read it; write it only through timeline_append.
    "SELECT ON timeline_events",
    "SELECT ON timeline_idempotency_keys",
    f"EXECUTE ON FUNCTION {APPEND}",
    # The views: runners write rows and move their tracking positions (SELECT ... FOR UPDATE
    # needs UPDATE); a rebuild retires a generation and deletes its rows.
    "SELECT, INSERT, UPDATE ON projection_generations",
    "SELECT, INSERT, UPDATE, DELETE ON view_rows",
    # The quarantine: recorded with a batch, marked resolved by a retry or rebuild.
    "SELECT, INSERT, UPDATE ON projection_quarantine",
    # API keys: looked up, created, revoked by stamping (a revoked key's row stays).
    "SELECT, INSERT, UPDATE ON api_keys",
    # A process starts only on a schema at the revision its code needs (store/migrate.py).
    "SELECT ON alembic_version",
)

# Called by its owner's rights, the function must not find the caller's objects first: a
# temporary table named timeline_idempotency_keys, say (pg_temp goes last, named).
DEFINER = f"""
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION {APPEND} SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END
$$
"""


def upgrade() -> None:
    op.execute(CREATE_SERVICE_ROLE)
    op.execute(DEFINER)
    # Functions are executable by PUBLIC unless revoked: this one only by the service role.
    op.execute(f"REVOKE EXECUTE ON FUNCTION {APPEND} FROM PUBLIC")
    for grant in SERVICE_GRANTS:
        op.execute(f"GRANT {grant} TO {SERVICE_ROLE}")


def downgrade() -> None:
    # The role stays: it belongs to the server, and other databases may grant to it.
    for grant in SERVICE_GRANTS:
        op.execute(f"REVOKE {grant} FROM {SERVICE_ROLE}")
    op.execute(f"GRANT EXECUTE ON FUNCTION {APPEND} TO PUBLIC")
    op.execute(f"ALTER FUNCTION {APPEND} SECURITY INVOKER RESET search_path")
