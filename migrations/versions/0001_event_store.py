"""The event store: the eventsourcing library's table layout plus transaction time,
idempotency keys, and the append function that takes the library's table lock.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Same columns, key, index name and storage parameters as eventsourcing's
# PostgresApplicationRecorder for an application named "Timeline", so the library reads
# and writes this table as its own; `recorded_at` is ours (transaction time).
CREATE_EVENTS = """
CREATE TABLE timeline_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
)
"""

CREATE_NOTIFICATION_INDEX = """
CREATE UNIQUE INDEX timeline_events_notification_id_idx
    ON timeline_events (notification_id ASC)
"""

# The composite type the library's recorder inserts through.
CREATE_LIBRARY_TYPE = """
CREATE TYPE stored_event_uuid AS (
    originator_id uuid, originator_version bigint, topic text, state bytea
)
"""

CREATE_IDEMPOTENCY_KEYS = """
CREATE TABLE timeline_idempotency_keys (
    key text PRIMARY KEY,
    fingerprint bytea NOT NULL,
    first_position bigint NOT NULL,
    last_position bigint NOT NULL,
    recorded_at timestamptz NOT NULL
)
"""

# One round trip per append, answered with one row whatever the batch size. Under the
# library's EXCLUSIVE table lock, appends are serialised, so notification ids follow commit
# order and a tailing reader never skips one; the idempotency check runs under the same
# lock, so two retries cannot both write. An append's events get the contiguous positions
# first_position, first_position + 1, ... in the order given (a block reserved from the
# table's own sequence, which the library's recorder also draws from under the same lock),
# so the caller can pair positions with its events without the rows being sent back.
# recorded_at never goes backwards along the log, even if the wall clock does.
#
# A retry with a known key and the same fingerprint writes nothing and returns the first
# append's positions, report ids and versions (a retry may carry fresh ids, e.g. a report
# filed without a caller-chosen id).
CREATE_APPEND_FUNCTION = """
CREATE FUNCTION timeline_append(
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

    out_recorded_at := greatest(clock_timestamp(), (
        SELECT e.recorded_at FROM timeline_events e ORDER BY e.notification_id DESC LIMIT 1));
    out_replayed := false;

    -- Reserve the block: nobody else draws from the sequence while we hold the lock.
    out_first_position := nextval('timeline_events_notification_id_seq');
    IF v_count > 1 THEN
        PERFORM setval('timeline_events_notification_id_seq', out_first_position + v_count - 1);
    END IF;

    INSERT INTO timeline_events
        (notification_id, originator_id, originator_version, topic, state, recorded_at)
    SELECT out_first_position + t.n - 1, t.id, t.version, t.topic, t.state, out_recorded_at
    FROM unnest(p_ids, p_versions, p_topics, p_states) WITH ORDINALITY
        AS t(id, version, topic, state, n);

    IF p_key IS NOT NULL THEN
        INSERT INTO timeline_idempotency_keys
        VALUES (p_key, p_fingerprint, out_first_position, out_first_position + v_count - 1,
                out_recorded_at);
    END IF;

    NOTIFY timeline_events;
END
$$
"""


def upgrade() -> None:
    op.execute(CREATE_EVENTS)
    op.execute(CREATE_NOTIFICATION_INDEX)
    op.execute(CREATE_LIBRARY_TYPE)
    op.execute(CREATE_IDEMPOTENCY_KEYS)
    op.execute(CREATE_APPEND_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION timeline_append")
    op.execute("DROP TABLE timeline_idempotency_keys")
    op.execute("DROP TYPE stored_event_uuid")
    op.execute("DROP TABLE timeline_events")
