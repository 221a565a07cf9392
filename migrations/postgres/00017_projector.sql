-- +goose Up
-- Issue 11: a webhook is acknowledged once its event row commits; the
-- projector follows the log behind it. Replicas append concurrently, so a
-- sequence number may commit after a larger one: the projector follows the
-- log by the appending transaction's id instead, reading only events of
-- transactions older than every one still running (pg_snapshot_xmin), in
-- (tx, seq) order. Events stored before this version have no tx: they were
-- projected when stored.
ALTER TABLE events ADD COLUMN tx xid8;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_tx_seq ON events (tx, seq);

-- How far the projector has got: the (tx, seq) of the last event projected,
-- committed with the projections it wrote.
CREATE TABLE projector_state (
    name         TEXT        PRIMARY KEY,
    position_tx  BIGINT      NOT NULL DEFAULT 0,
    position_seq BIGINT      NOT NULL DEFAULT 0,
    -- who wrote the projections last (a projector's id, "rebuild", "erase"):
    -- a projector trusts its cache of the rows it wrote only while that is
    -- still itself.
    owner        TEXT        NOT NULL DEFAULT '',
    updated_at   TIMESTAMPTZ
);
-- Every event appended from now on belongs to a later transaction than this one.
INSERT INTO projector_state (name, position_tx, position_seq, updated_at)
    VALUES ('projections', pg_current_xact_id()::text::bigint, 0, now());

-- An event the projections could not take: parked rather than failing the
-- webhook or blocking the events behind it; a rebuild tries it again.
CREATE TABLE parked_events (
    seq       BIGINT      PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    event_id  TEXT        NOT NULL,
    error     TEXT        NOT NULL,
    parked_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE parked_events;
DROP TABLE projector_state;
DROP INDEX events_tx_seq;
ALTER TABLE events DROP COLUMN tx;
