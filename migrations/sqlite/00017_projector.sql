-- +goose Up
-- Issue 11: a webhook is acknowledged once its event row commits; the
-- projector follows the log behind it. projector_state holds how far it has
-- got (position_seq: the last event projected; position_tx is PostgreSQL's and
-- stays 0 here), committed with the projections it wrote, so nothing is
-- projected twice and nothing acknowledged is skipped.
CREATE TABLE projector_state (
    name         TEXT      PRIMARY KEY,
    position_tx  INTEGER   NOT NULL DEFAULT 0,
    position_seq INTEGER   NOT NULL DEFAULT 0,
    -- who wrote the projections last (a projector's id, "rebuild", "erase"):
    -- a projector trusts its cache of the rows it wrote only while that is
    -- still itself.
    owner        TEXT        NOT NULL DEFAULT '',
    updated_at   TIMESTAMP
);
-- Until now every stored event was projected when it was stored.
INSERT INTO projector_state (name, position_seq, updated_at)
    SELECT 'projections', COALESCE(MAX(seq), 0), CURRENT_TIMESTAMP FROM events;

-- An event the projections could not take: parked rather than failing the
-- webhook or blocking the events behind it; a rebuild tries it again.
CREATE TABLE parked_events (
    seq       INTEGER   PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    event_id  TEXT      NOT NULL,
    error     TEXT      NOT NULL,
    parked_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE parked_events;
DROP TABLE projector_state;
