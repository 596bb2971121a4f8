"""The tamper-evident log: a chain hash beside every event, and no UPDATE or DELETE of events.

What is hashed, and why the state goes in by its digest, is written once, in store/chain.py;
`timeline_chain_bytes` below computes the same canonical bytes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import importlib

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The link before the first event: 32 zero bytes (store/chain.py, GENESIS).
GENESIS = "'\\x" + "00" * 32 + "'::bytea"

# A nullable column, so the library's recorder (which names its four columns) still inserts
# and reads the table as its own. Every event has a type and a state (neither writer leaves
# them out), and the chain needs both.
ALTER_EVENTS = """
ALTER TABLE timeline_events
    ADD COLUMN chain_hash bytea,
    ALTER COLUMN topic SET NOT NULL,
    ALTER COLUMN state SET NOT NULL
"""

CREATE_CHAIN_BYTES = """
CREATE FUNCTION timeline_chain_bytes(
    p_position bigint, p_report_id uuid, p_version bigint, p_type text,
    p_recorded_at timestamptz, p_state_digest bytea
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT int8send(p_position) || uuid_send(p_report_id) || int8send(p_version)
        || int4send(octet_length(convert_to(p_type, 'UTF8'))) || convert_to(p_type, 'UTF8')
        || timestamptz_send(p_recorded_at) || p_state_digest
$$
"""

# Events recorded before this migration get their links now, in log order.
BACKFILL = f"""
DO $$
DECLARE
    v_event record;
    v_hash bytea := {GENESIS};
BEGIN
    LOCK TABLE timeline_events IN EXCLUSIVE MODE;
    FOR v_event IN
        SELECT notification_id, originator_id, originator_version, topic, recorded_at, state
        FROM timeline_events ORDER BY notification_id
    LOOP
        v_hash := sha256(v_hash || timeline_chain_bytes(
            v_event.notification_id, v_event.originator_id, v_event.originator_version,
            v_event.topic, v_event.recorded_at, sha256(v_event.state)));
        UPDATE timeline_events SET chain_hash = v_hash
        WHERE notification_id = v_event.notification_id;
    END LOOP;
END
$$
"""

# 0001's function, now linking the events it appends itself, in one loop that carries the
# previous hash in a variable; unchanged otherwise. (Leaving it to the row trigger below,
# which looks the previous row up for each event, brought bench/append.py's batch ratio down
# to about 3 against the library; this way it stays about 4.)
CREATE_APPEND_FUNCTION = f"""
CREATE OR REPLACE FUNCTION timeline_append(
    p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[],
    p_key text, p_fingerprint bytea,
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
    LOCK TABLE timeline_events IN EXCLUSIVE MODE;

    IF p_key IS NOT NULL THEN
        SELECT * INTO v_known FROM timeline_idempotency_keys k WHERE k.key = p_key;
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
        VALUES (p_key, p_fingerprint, out_first_position, out_first_position + v_count - 1,
                out_recorded_at);
    END IF;

    NOTIFY timeline_events;
END
$$
"""

# Any other INSERT or COPY (the library's recorder takes the lock itself) takes the table's
# EXCLUSIVE lock too, so two writers can never link to the same previous event.
CREATE_CHAIN_LOCK = """
CREATE FUNCTION timeline_chain_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE timeline_events IN EXCLUSIVE MODE;
    RETURN NULL;
END
$$
"""

# Links a row that arrives without a chain hash (the library's recorder) to the newest row
# before it; rows of one multi-row INSERT are linked in the order they are inserted, each
# seeing the ones before it.
CREATE_CHAIN_LINK = f"""
CREATE FUNCTION timeline_chain_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_previous_position bigint;
    v_previous_hash bytea;
BEGIN
    SELECT e.notification_id, e.chain_hash INTO v_previous_position, v_previous_hash
    FROM timeline_events e ORDER BY e.notification_id DESC LIMIT 1;
    IF NOT FOUND THEN
        v_previous_hash := {GENESIS};
    ELSIF v_previous_position >= NEW.notification_id THEN
        RAISE EXCEPTION 'the log only grows: position % cannot follow position %',
            NEW.notification_id, v_previous_position USING ERRCODE = 'TL409';
    ELSIF v_previous_hash IS NULL THEN
        RAISE EXCEPTION 'position % has no chain hash: run `timeline verify`',
            v_previous_position USING ERRCODE = 'TL409';
    END IF;
    NEW.chain_hash := sha256(v_previous_hash || timeline_chain_bytes(
        NEW.notification_id, NEW.originator_id, NEW.originator_version, NEW.topic,
        NEW.recorded_at, sha256(NEW.state)));
    RETURN NEW;
END
$$
"""

# Events are facts: a correction or a retraction is a new event. TRUNCATE stays possible
# (the test suite empties the log between tests; it changes no row).
CREATE_APPEND_ONLY = """
CREATE FUNCTION timeline_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline_events is append-only: % of events is not allowed '
        '(record a correction or a retraction as a new event)', TG_OP
        USING ERRCODE = 'TL403';
END
$$
"""

CREATE_TRIGGERS = (
    """
    CREATE TRIGGER timeline_events_chain_lock BEFORE INSERT ON timeline_events
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_chain_lock()
    """,
    """
    CREATE TRIGGER timeline_events_chain_link BEFORE INSERT ON timeline_events
    FOR EACH ROW WHEN (NEW.chain_hash IS NULL) EXECUTE FUNCTION timeline_chain_link()
    """,
    """
    CREATE TRIGGER timeline_events_append_only BEFORE UPDATE OR DELETE ON timeline_events
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_events_append_only()
    """,
)


def upgrade() -> None:
    op.execute(ALTER_EVENTS)
    op.execute(CREATE_CHAIN_BYTES)
    op.execute(BACKFILL)
    op.execute(CREATE_APPEND_FUNCTION)
    op.execute(CREATE_CHAIN_LOCK)
    op.execute(CREATE_CHAIN_LINK)
    op.execute(CREATE_APPEND_ONLY)
    for statement in CREATE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    # 0001's module name starts with a digit, so it is imported by name.
    event_store = importlib.import_module("migrations.versions.0001_event_store")
    op.execute("DROP TRIGGER timeline_events_append_only ON timeline_events")
    op.execute("DROP TRIGGER timeline_events_chain_link ON timeline_events")
    op.execute("DROP TRIGGER timeline_events_chain_lock ON timeline_events")
    op.execute("DROP FUNCTION timeline_events_append_only()")
    op.execute("DROP FUNCTION timeline_chain_link()")
    op.execute("DROP FUNCTION timeline_chain_lock()")
    op.execute(
        event_store.CREATE_APPEND_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    )
    op.execute("DROP FUNCTION timeline_chain_bytes(bigint, uuid, bigint, text, timestamptz, bytea)")
    op.execute(
        """
        ALTER TABLE timeline_events
            DROP COLUMN chain_hash,
            ALTER COLUMN topic DROP NOT NULL,
            ALTER COLUMN state DROP NOT NULL
        """
    )
