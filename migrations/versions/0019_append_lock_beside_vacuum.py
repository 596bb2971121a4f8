"""The log's appenders serialize on an advisory lock, so autovacuum can clean the log.

Until this revision `timeline_append` (and `timeline_append_group` once per group) took
`LOCK TABLE timeline_events IN EXCLUSIVE MODE`, the eventsourcing library's lock, and so did
the trigger before any other INSERT or COPY into the log (`timeline_chain_lock`, 0004). That
mode
conflicts with the SHARE UPDATE EXCLUSIVE lock autovacuum holds on a table it vacuums or
analyzes. Under a steady flow of appends, each time the log had grown enough to be
vacuumed, an append queued behind autovacuum for `deadlock_timeout` (one second), until
PostgreSQL cancelled the vacuum; every append behind it waited as long (the one-second
stalls of POST /v1/reports once a minute, issue 15), and the log was never vacuumed. An
anti-wraparound vacuum is not cancelled: it would have held every append for as long as it
ran.

Now an append takes ROW EXCLUSIVE on the table (what its INSERT takes anyway; autovacuum
does not conflict with it) and then a transaction advisory lock keyed on the table's oid,
held to the commit; the trigger takes the same advisory lock before any other INSERT or
COPY. The writers still go one at a time, so positions still follow commit order and a
reader tailing the log never skips an event. Every writer takes its table lock first and
the advisory lock second, so none can wait for another in a circle. A writer that takes the
library's EXCLUSIVE lock (the eventsourcing library's own recorder, or `timeline restore`)
still excludes the appenders and is excluded by them: EXCLUSIVE conflicts with ROW
EXCLUSIVE.

The functions are otherwise those of 0004, 0008 and 0017, whole, as a migration keeps the
SQL it ran. A replacement keeps the grants but not SECURITY DEFINER and the search path, which are
set again as 0009 and 0017 set them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

import importlib

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The link before the first event: 32 zero bytes (store/chain.py, GENESIS).
GENESIS = "'\\x" + "00" * 32 + "'::bytea"
APPEND = "timeline_append(uuid[], bigint[], text[], bytea[], text, text, bytea)"
APPEND_GROUP = (
    "timeline_append_group(integer[], uuid[], bigint[], text[], bytea[], text[], text[], bytea[])"
)

CREATE_APPEND_FUNCTION = f"""
CREATE OR REPLACE FUNCTION timeline_append(
    p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[],
    p_scope text, p_key text, p_fingerprint bytea,
    OUT out_first_position bigint, OUT out_recorded_at timestamptz, OUT out_replayed boolean,
    OUT out_positions bigint[], OUT out_report_ids uuid[], OUT out_versions bigint[]
) LANGUAGE plpgsql AS $$
#variable_conflict error
DECLARE
    v_known timeline_idempotency_keys%ROWTYPE;
    v_count integer := cardinality(p_ids);
    v_gap record;
    v_hash bytea;
    v_hashes bytea[];
    v_state bytea;
    v_n integer := 0;
BEGIN
    LOCK TABLE timeline_events IN ROW EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock('timeline_events'::regclass::oid::integer, 0);

    IF p_key IS NOT NULL THEN
        SELECT * INTO v_known FROM timeline_idempotency_keys k
        WHERE k.key = p_key AND k.scope IN (p_scope, '*');
        IF FOUND THEN
            IF v_known.fingerprint <> p_fingerprint THEN
                RAISE EXCEPTION 'idempotency key "%" was already used with different content', p_key
                    USING ERRCODE = 'TL422';
            END IF;
            SELECT v_known.first_position, v_known.recorded_at, true,
                   array_agg(e.notification_id ORDER BY e.notification_id),
                   array_agg(e.originator_id ORDER BY e.notification_id),
                   array_agg(e.originator_version ORDER BY e.notification_id)
            INTO out_first_position, out_recorded_at, out_replayed,
                 out_positions, out_report_ids, out_versions
            FROM timeline_events e
            WHERE e.notification_id BETWEEN v_known.first_position AND v_known.last_position;
            RETURN;
        END IF;
    END IF;

    IF coalesce(v_count, 0) = 0 OR v_count <> cardinality(p_versions)
            OR v_count <> cardinality(p_topics) OR v_count <> cardinality(p_states) THEN
        RAISE EXCEPTION 'timeline_append needs arrays of one equal, non-zero length';
    END IF;

    -- A first event at version v > 1 must follow version v - 1: no gaps in a report's story.
    IF 1 < ANY (p_versions) THEN
        SELECT b.id, b.version INTO v_gap
        FROM (SELECT t.id, min(t.version) AS version
              FROM unnest(p_ids, p_versions) AS t(id, version) GROUP BY t.id) b
        WHERE b.version > 1 AND NOT EXISTS (
            SELECT 1 FROM timeline_events e
            WHERE e.originator_id = b.id AND e.originator_version = b.version - 1)
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'report % has no version %', v_gap.id, v_gap.version - 1
                USING ERRCODE = 'TL409';
        END IF;
    END IF;

    SELECT greatest(clock_timestamp(), e.recorded_at), e.chain_hash
    INTO out_recorded_at, v_hash
    FROM timeline_events e ORDER BY e.notification_id DESC LIMIT 1;
    IF NOT FOUND THEN
        out_recorded_at := clock_timestamp();
        v_hash := {GENESIS};
    ELSIF v_hash IS NULL THEN
        RAISE EXCEPTION 'the newest event has no chain hash: run `timeline verify`'
            USING ERRCODE = 'TL409';
    END IF;
    out_replayed := false;

    -- Reserve the block: nobody else draws from the sequence while we hold the lock.
    out_first_position := nextval('timeline_events_notification_id_seq');
    IF v_count > 1 THEN
        PERFORM setval('timeline_events_notification_id_seq', out_first_position + v_count - 1);
    END IF;

    FOREACH v_state IN ARRAY p_states LOOP
        v_n := v_n + 1;
        v_hash := sha256(v_hash || timeline_chain_bytes(
            out_first_position + v_n - 1, p_ids[v_n], p_versions[v_n], p_topics[v_n],
            out_recorded_at, sha256(v_state)));
        v_hashes[v_n] := v_hash;
    END LOOP;

    INSERT INTO timeline_events
        (notification_id, originator_id, originator_version, topic, state, recorded_at,
         chain_hash)
    SELECT out_first_position + t.n - 1, t.id, t.version, t.topic, t.state, out_recorded_at,
           t.chain_hash
    FROM unnest(p_ids, p_versions, p_topics, p_states, v_hashes) WITH ORDINALITY
        AS t(id, version, topic, state, chain_hash, n);

    IF p_key IS NOT NULL THEN
        INSERT INTO timeline_idempotency_keys
            (scope, key, fingerprint, first_position, last_position, recorded_at)
        VALUES (p_scope, p_key, p_fingerprint, out_first_position,
                out_first_position + v_count - 1, out_recorded_at);
    END IF;

    NOTIFY timeline_events;
END
$$
"""

CREATE_APPEND_GROUP = """
CREATE OR REPLACE FUNCTION timeline_append_group(
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

    LOCK TABLE timeline_events IN ROW EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock('timeline_events'::regclass::oid::integer, 0);

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

# Before any other INSERT or COPY into the log (the trigger timeline_events_chain_lock, 0004):
# the appenders' lock, taken after the writer's own table lock.
CREATE_CHAIN_LOCK = """
CREATE OR REPLACE FUNCTION timeline_chain_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock('timeline_events'::regclass::oid::integer, 0);
    RETURN NULL;
END
$$
"""

DEFINER = """
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION {} SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END
$$
"""


def upgrade() -> None:
    op.execute(CREATE_CHAIN_LOCK)
    op.execute(CREATE_APPEND_FUNCTION)
    op.execute(CREATE_APPEND_GROUP)
    for function in (APPEND, APPEND_GROUP):
        op.execute(DEFINER.replace("{}", function))


def downgrade() -> None:
    for module, statement in (
        ("0004_audit_chain", "CREATE_CHAIN_LOCK"),
        ("0008_idempotency_scope", "CREATE_APPEND_FUNCTION"),
        ("0017_group_append", "CREATE_APPEND_GROUP"),
    ):
        earlier = getattr(importlib.import_module(f"migrations.versions.{module}"), statement)
        op.execute(earlier.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    for function in (APPEND, APPEND_GROUP):
        op.execute(DEFINER.replace("{}", function))
