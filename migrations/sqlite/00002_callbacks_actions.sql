-- +goose Up
-- The two other sources of a user's timeline besides webhooks: widget callbacks
-- (claims from a browser, never moving account state) and our own actions.

CREATE TABLE callbacks (
    id          INTEGER PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    user_key    INTEGER   REFERENCES smile_users (user_key),
    link_id     INTEGER,
    name        TEXT      NOT NULL,
    account_id  TEXT      NOT NULL DEFAULT '',
    source_ip   TEXT      NOT NULL DEFAULT '',
    user_agent  TEXT      NOT NULL DEFAULT '',
    args        TEXT      NOT NULL DEFAULT 'null'
);
CREATE INDEX callbacks_user_time ON callbacks (user_key, received_at, id);
CREATE INDEX callbacks_link ON callbacks (link_id, id);

CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    user_key   INTEGER   REFERENCES smile_users (user_key),
    link_id    INTEGER,
    account_id TEXT      NOT NULL DEFAULT '',
    kind       TEXT      NOT NULL,
    actor      TEXT      NOT NULL DEFAULT '',
    detail     TEXT      NOT NULL DEFAULT '{}'
);
CREATE INDEX actions_user_time ON actions (user_key, at, id);
CREATE INDEX actions_link ON actions (link_id, id);

-- +goose Down
DROP TABLE actions;
DROP TABLE callbacks;
