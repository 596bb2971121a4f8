"""An append sent in parts is recorded at one time: `timeline_append` takes the time.

An append of more than 5,000 events with no idempotency key (an import's) goes as calls of
`timeline_append` of 5,000 events each, one after another in one transaction
(store/group_commit.py, `append_in_parts`): one call of 100,000 events stored them at half
the rate of the same events in parts. Each call recorded its events at its own clock time,
so the parts of one append, committed together, would have carried times seconds apart, and
a question about a moment between them (`known_at`) would have seen the first parts of an
import without the rest: a state the log never held. Now `timeline_append` takes the time
to record at, `p_recorded_at` (NULL, the default: the clock, as before); the parts after the
first pass the first part's time. It never goes back along the log: the newest event's time
wins over an earlier one given.

The function is 0019's otherwise, whole, as a migration keeps the SQL it ran. Its signature
changes, so it is dropped and created again, with the rights 0009 gave it (the owner's
rights, a fixed search path, callable by the service role only); `timeline_append_group`
(0019) calls it with seven arguments, which the default keeps valid.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import importlib

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

SERVICE_ROLE = "timeline_service"  # store/roles.py, SERVICE_ROLE
# The link before the first event: 32 zero bytes (store/chain.py, GENESIS).
GENESIS = "'\\x" + "00" * 32 + "'::bytea"
BEFORE = "timeline_append(uuid[], bigint[], text[], bytea[], text, text, bytea)"
APPEND = "timeline_append(uuid[], bigint[], text[], bytea[], text, text, bytea, timestamptz)"


CREATE_APPEND_FUNCTION = f"""
CREATE FUNCTION timeline_append(
    p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[],
    p_scope text, p_key text, p_fingerprint bytea, p_recorded_at timestamptz DEFAULT NULL,
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

    SELECT greatest(coalesce(p_recorded_at, clock_timestamp()), e.recorded_at), e.chain_hash
    INTO out_recorded_at, v_hash
    FROM timeline_events e ORDER BY e.notification_id DESC LIMIT 1;
    IF NOT FOUND THEN
        out_recorded_at := coalesce(p_recorded_at, clock_timestamp());
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

# As 0009 made it: the owner's rights, a search path the caller cannot put a table of its own
# in front of, and nobody but the service role may call it.
DEFINER = """
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION {} SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END
$$
"""


def _rights(function: str) -> None:
    op.execute(DEFINER.replace("{}", function))
    op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {SERVICE_ROLE}")


def upgrade() -> None:
    op.execute(f"DROP FUNCTION {BEFORE}")
    op.execute(CREATE_APPEND_FUNCTION)
    _rights(APPEND)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {APPEND}")
    earlier = importlib.import_module("migrations.versions.0019_append_lock_beside_vacuum")
    op.execute(earlier.CREATE_APPEND_FUNCTION)
    _rights(BEFORE)
