-- +goose Up
-- Reconciliation: a gap is a widget claim (a callback) that no signed webhook
-- has matched, or a user whose webhooks arrived without any connect link of
-- ours. Rows are written when a callback is stored or an event projected, and
-- closed by the matching webhook, so pages never scan the event log.
-- kind: account_connected, account_error, uploads_created, account_removed
-- (one row per claiming callback) or no_link (one row per user).

CREATE TABLE gaps (
    id          INTEGER PRIMARY KEY,
    kind        TEXT      NOT NULL,
    user_key    INTEGER   NOT NULL,
    account_id  TEXT      NOT NULL DEFAULT '',
    callback_id INTEGER,
    event_id    TEXT      NOT NULL DEFAULT '',
    claimed_at  TIMESTAMP NOT NULL,
    closed_at   TIMESTAMP,
    closed_by   TEXT      NOT NULL DEFAULT '',
    -- checked_at: when the background sweep last checked it with Smile.
    checked_at  TIMESTAMP,
    lag_seconds INTEGER
);
CREATE UNIQUE INDEX gaps_callback ON gaps (callback_id) WHERE callback_id IS NOT NULL;
CREATE UNIQUE INDEX gaps_no_link ON gaps (user_key) WHERE kind = 'no_link';
CREATE INDEX gaps_user ON gaps (user_key, kind, claimed_at);
CREATE INDEX gaps_state ON gaps (closed_at, claimed_at, id);
CREATE INDEX gaps_kind_state ON gaps (kind, closed_at, claimed_at);

-- Accounts whose data has gone stale and accounts whose user must act are
-- listed from the projections.
CREATE INDEX data_availability_updated ON data_availability (last_updated_at, account_id);
CREATE INDEX accounts_monitor ON accounts (monitor_status, last_seen_at);

-- +goose Down
DROP INDEX accounts_monitor;
DROP INDEX data_availability_updated;
DROP TABLE gaps;
