"""Group commit: many appends in one call, one transaction, one lock and one commit.

`timeline_append_group` takes the appends that concurrent requests of one process are waiting
on (store/group_commit.py) and runs `timeline_append` for each, in order, inside one
transaction: every append keeps that function's checks (its idempotency key, the versions
that must follow what is stored), its chain links and its NOTIFY, and gets its own answer.
Each append runs in a block of its own (a subtransaction), so an append the checks refuse
(a stale or skipping version, a report already filed, a key reused with other content) is
undone alone and answered with its SQLSTATE, while the others commit. Any other error ends the
whole call, as it ended the one append before: nothing of the group is written.

The log's EXCLUSIVE lock is taken once, first, and held to the commit, so the group's events
get positions in the order of its appends and commit together: a reader tailing the log
still never skips one. Like `timeline_append`, the function runs with its owner's rights
(only the owner may take that lock) and the service role may only call it.

A refused append's block has drawn from the position sequence before it was undone, so its
numbers are skipped: the log and its chain already allow a gap where an append rolled back.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE
APPEND_GROUP = (
    "timeline_append_group(integer[], uuid[], bigint[], text[], bytea[], text[], text[], bytea[])"
)

# The events of every append, one after another (p_sizes[i] of them for append i), and one
# scope, key and fingerprint per append (a NULL key: none). One row per append, in order:
# timeline_append's answer, or NULL and the SQLSTATE that refused it.
CREATE_APPEND_GROUP = """
CREATE FUNCTION timeline_append_group(
    p_sizes integer[], p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[],
    p_scopes text[], p_keys text[], p_fingerprints bytea[]
) RETURNS TABLE (
    first_position bigint, recorded_at timestamptz, replayed boolean,
    positions bigint[], report_ids uuid[], versions bigint[], refused text
) LANGUAGE plpgsql AS $$
#variable_conflict error
DECLARE
    v_appends integer := coalesce(cardinality(p_sizes), 0);
    v_first integer := 1;
    v_last integer;
BEGIN
    IF v_appends = 0 OR v_appends <> coalesce(cardinality(p_scopes), 0)
            OR v_appends <> coalesce(cardinality(p_keys), 0)
            OR v_appends <> coalesce(cardinality(p_fingerprints), 0) THEN
        RAISE EXCEPTION 'timeline_append_group needs one size, scope, key and fingerprint '
            'per append, and at least one append';
    END IF;

    LOCK TABLE timeline_events IN EXCLUSIVE MODE;

    FOR v_append IN 1 .. v_appends LOOP
        v_last := v_first + p_sizes[v_append] - 1;
        refused := NULL;
        BEGIN
            SELECT * INTO first_position, recorded_at, replayed, positions, report_ids, versions
            FROM timeline_append(
                p_ids[v_first:v_last], p_versions[v_first:v_last], p_topics[v_first:v_last],
                p_states[v_first:v_last], p_scopes[v_append], p_keys[v_append],
                p_fingerprints[v_append]);
        EXCEPTION WHEN unique_violation OR SQLSTATE 'TL409' OR SQLSTATE 'TL422' THEN
            first_position := NULL;
            recorded_at := NULL;
            replayed := NULL;
            positions := NULL;
            report_ids := NULL;
            versions := NULL;
            refused := SQLSTATE;
        END;
        RETURN NEXT;
        v_first := v_last + 1;
    END LOOP;
END
$$
"""

# As 0009 made timeline_append: the owner's rights, a search path the caller cannot put a
# table of its own in front of, and nobody but the service role may call it.
DEFINER = f"""
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION {APPEND_GROUP} SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END
$$
"""


def upgrade() -> None:
    op.execute(CREATE_APPEND_GROUP)
    op.execute(DEFINER)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {APPEND_GROUP} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {APPEND_GROUP} TO {SERVICE_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {APPEND_GROUP}")
