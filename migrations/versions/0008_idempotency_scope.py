"""Idempotency keys belong to the caller that sent them: a scope beside each key.

Before this revision a key was global, so another API key sending the same Idempotency-Key
and body received the first caller's answer (and its report ids). Now a key is looked up
within the sender's scope: the API key's id for HTTP, `local` for the CLI and the demo
(store/event_store.py, LOCAL_SCOPE). The events table is untouched (the library's layout).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import importlib

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The link before the first event: 32 zero bytes (store/chain.py, GENESIS).
GENESIS = "'\\x" + "00" * 32 + "'::bytea"

# Keys recorded before scopes existed were sent by somebody we no longer know: they get the
# scope '*', and keep answering any caller as they did (the demo's own keys among them, so
# `timeline demo` on an older data directory still adds nothing). New keys never get '*'.
# The key comes first in the primary key: a lookup names one key and at most two scopes.
ADD_SCOPE = """
ALTER TABLE timeline_idempotency_keys
    ADD COLUMN scope text NOT NULL DEFAULT '*',
    DROP CONSTRAINT timeline_idempotency_keys_pkey,
    ADD PRIMARY KEY (key, scope)
"""
DROP_SCOPE_DEFAULT = "ALTER TABLE timeline_idempotency_keys ALTER COLUMN scope DROP DEFAULT"

DROP_UNSCOPED_APPEND = (
    "DROP FUNCTION timeline_append(uuid[], bigint[], text[], bytea[], text, bytea)"
)

# 0004's function with the caller's scope: it looks a key up in that scope (or among the
# unscoped keys from before) and records new keys in it; unchanged otherwise.
CREATE_APPEND_FUNCTION = f"""
CREATE FUNCTION timeline_append(
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
    LOCK TABLE timeline_events IN EXCLUSIVE MODE;

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


def upgrade() -> None:
    op.execute(ADD_SCOPE)
    op.execute(DROP_SCOPE_DEFAULT)
    op.execute(DROP_UNSCOPED_APPEND)
    op.execute(CREATE_APPEND_FUNCTION)


def downgrade() -> None:
    # One global key again: of the callers that used a key, the first one keeps it; the
    # others' records go (their retries would now get that first caller's answer).
    audit_chain = importlib.import_module("migrations.versions.0004_audit_chain")
    op.execute(
        "DROP FUNCTION timeline_append(uuid[], bigint[], text[], bytea[], text, text, bytea)"
    )
    op.execute(audit_chain.CREATE_APPEND_FUNCTION.replace("CREATE OR REPLACE", "CREATE"))
    op.execute(
        """
        DELETE FROM timeline_idempotency_keys k USING timeline_idempotency_keys first
        WHERE first.key = k.key AND first.first_position < k.first_position
        """
    )
    op.execute(
        """
        ALTER TABLE timeline_idempotency_keys
            DROP CONSTRAINT timeline_idempotency_keys_pkey,
            DROP COLUMN scope,
            ADD PRIMARY KEY (key)
        """
    )
