-- +goose Up
-- Webhook ingestion: the event log (the source of truth), delivery attempts that
-- are not a first successful delivery, and the projections rebuilt from the log.

-- Smile users seen in events (or created by our connect links). `user_key` is a small
-- integer so that the hot timeline index stays narrow.
CREATE TABLE smile_users (
    user_key          INTEGER PRIMARY KEY,
    id                TEXT      NOT NULL UNIQUE,
    created_at        TIMESTAMP,
    first_seen_at     TIMESTAMP,
    last_seen_at      TIMESTAMP,
    event_count       INTEGER   NOT NULL DEFAULT 0,
    session_status    TEXT      NOT NULL DEFAULT '',
    session_channel   TEXT      NOT NULL DEFAULT '',
    session_at        TIMESTAMP,
    session_event_id  TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX smile_users_last_seen ON smile_users (last_seen_at, user_key);

-- Every webhook stored exactly once, its raw body byte for byte.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY,
    event_id      TEXT      NOT NULL UNIQUE,
    type          TEXT      NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    user_key      INTEGER   REFERENCES smile_users (user_key),
    account_id    TEXT      NOT NULL DEFAULT '',
    source_ip     TEXT      NOT NULL,
    secret_index  INTEGER   NOT NULL,
    deliveries    INTEGER   NOT NULL DEFAULT 1,
    body          BLOB      NOT NULL
);
CREATE INDEX events_user_time ON events (user_key, created_at, seq);
CREATE INDEX events_type_seq ON events (type, seq);

-- Maintained per-type counts, so pages never count the whole log.
CREATE TABLE event_counts (
    type   TEXT    PRIMARY KEY,
    stored INTEGER NOT NULL DEFAULT 0
);

-- Attempts other than an event's first stored delivery: duplicates and rejections.
-- Rejections keep a bounded excerpt; the table is pruned to a bounded size.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    source_ip   TEXT      NOT NULL,
    outcome     TEXT      NOT NULL,
    reason      TEXT      NOT NULL,
    status      INTEGER   NOT NULL,
    event_id    TEXT      NOT NULL DEFAULT '',
    event_type  TEXT      NOT NULL DEFAULT '',
    body_bytes  INTEGER   NOT NULL DEFAULT 0,
    excerpt     TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_outcome ON deliveries (outcome, id);

CREATE TABLE accounts (
    id                TEXT      PRIMARY KEY,
    user_key          INTEGER   NOT NULL REFERENCES smile_users (user_key),
    provider_id       TEXT      NOT NULL DEFAULT '',
    provider_at       TIMESTAMP,
    provider_event_id TEXT      NOT NULL DEFAULT '',
    status            TEXT      NOT NULL DEFAULT '',
    error_code        TEXT      NOT NULL DEFAULT '',
    error_message     TEXT      NOT NULL DEFAULT '',
    status_at         TIMESTAMP,
    status_event_id   TEXT      NOT NULL DEFAULT '',
    login_name        TEXT      NOT NULL DEFAULT '',
    login_at          TIMESTAMP,
    login_event_id    TEXT      NOT NULL DEFAULT '',
    monitor_status    TEXT      NOT NULL DEFAULT '',
    monitor_at        TIMESTAMP,
    monitor_event_id  TEXT      NOT NULL DEFAULT '',
    first_seen_at     TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    event_count       INTEGER   NOT NULL DEFAULT 0
);
CREATE INDEX accounts_user ON accounts (user_key);
CREATE INDEX accounts_status ON accounts (status, provider_id);

CREATE TABLE archives (
    id              TEXT      PRIMARY KEY,
    user_key        INTEGER   NOT NULL REFERENCES smile_users (user_key),
    status          TEXT      NOT NULL DEFAULT '',
    error_code      TEXT      NOT NULL DEFAULT '',
    error_message   TEXT      NOT NULL DEFAULT '',
    status_at       TIMESTAMP,
    status_event_id TEXT      NOT NULL DEFAULT '',
    first_seen_at   TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL
);
CREATE INDEX archives_user ON archives (user_key);

CREATE TABLE invites (
    id              TEXT      PRIMARY KEY,
    user_key        INTEGER   NOT NULL REFERENCES smile_users (user_key),
    status          TEXT      NOT NULL DEFAULT '',
    status_at       TIMESTAMP,
    status_event_id TEXT      NOT NULL DEFAULT '',
    invited_at      TIMESTAMP,
    linked_at       TIMESTAMP
);
CREATE INDEX invites_user ON invites (user_key);

-- The latest run of each (source, task type); Smile's task webhooks carry no task id.
CREATE TABLE tasks (
    source_id       TEXT      NOT NULL,
    task_type       TEXT      NOT NULL,
    user_key        INTEGER   NOT NULL REFERENCES smile_users (user_key),
    source_type     TEXT      NOT NULL DEFAULT '',
    status          TEXT      NOT NULL DEFAULT '',
    error_code      TEXT      NOT NULL DEFAULT '',
    datapoints      TEXT      NOT NULL DEFAULT '',
    status_at       TIMESTAMP,
    status_event_id TEXT      NOT NULL DEFAULT '',
    started_at      TIMESTAMP,
    finished_at     TIMESTAMP,
    runs            INTEGER   NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, task_type)
);
CREATE INDEX tasks_user ON tasks (user_key);

-- What data each account has made available, per datapoint.
CREATE TABLE data_availability (
    account_id      TEXT      NOT NULL,
    datapoint       TEXT      NOT NULL,
    user_key        INTEGER   NOT NULL REFERENCES smile_users (user_key),
    items_added     INTEGER   NOT NULL DEFAULT 0,
    items_updated   INTEGER   NOT NULL DEFAULT 0,
    events          INTEGER   NOT NULL DEFAULT 0,
    in_task         BOOLEAN   NOT NULL DEFAULT FALSE,
    last_updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, datapoint)
);
CREATE INDEX data_availability_user ON data_availability (user_key);

-- Social-security records and identity verifications are not tied to a user.
CREATE TABLE records (
    id              TEXT      PRIMARY KEY,
    record_type     TEXT      NOT NULL DEFAULT '',
    status          TEXT      NOT NULL DEFAULT '',
    result_code     TEXT      NOT NULL DEFAULT '',
    result_message  TEXT      NOT NULL DEFAULT '',
    status_at       TIMESTAMP,
    status_event_id TEXT      NOT NULL DEFAULT '',
    first_seen_at   TIMESTAMP NOT NULL
);

CREATE TABLE verifications (
    id              TEXT      PRIMARY KEY,
    status          TEXT      NOT NULL DEFAULT '',
    result_code     TEXT      NOT NULL DEFAULT '',
    result_message  TEXT      NOT NULL DEFAULT '',
    status_at       TIMESTAMP,
    status_event_id TEXT      NOT NULL DEFAULT '',
    first_seen_at   TIMESTAMP NOT NULL
);

-- Small key/value settings the server generates and must keep (the sandbox webhook secret).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE verifications;
DROP TABLE records;
DROP TABLE data_availability;
DROP TABLE tasks;
DROP TABLE invites;
DROP TABLE archives;
DROP TABLE accounts;
DROP TABLE deliveries;
DROP TABLE event_counts;
DROP TABLE events;
DROP TABLE smile_users;
