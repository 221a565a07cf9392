-- +goose Up
-- Connect links hand an end user the widget page; widget sessions are the
-- per-page credentials the page's callbacks and token refreshes carry.

CREATE TABLE connect_links (
    id             INTEGER PRIMARY KEY,
    code           TEXT      NOT NULL UNIQUE,
    external_ref   TEXT      NOT NULL,
    label          TEXT      NOT NULL DEFAULT '',
    smile_user_id  TEXT      NOT NULL DEFAULT '',
    user_key       INTEGER   REFERENCES smile_users (user_key),
    created_at     TIMESTAMP NOT NULL,
    created_by     TEXT      NOT NULL DEFAULT '',
    expires_at     TIMESTAMP,
    revoked_at     TIMESTAMP,
    open_count     INTEGER   NOT NULL DEFAULT 0,
    last_opened_at TIMESTAMP
);
CREATE INDEX connect_links_external_ref ON connect_links (external_ref, id);
CREATE INDEX connect_links_user ON connect_links (user_key);

-- Only a SHA-256 of each session token is kept: a leaked database cannot be
-- replayed against the callback endpoint.
CREATE TABLE widget_sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT      NOT NULL UNIQUE,
    link_id       INTEGER   NOT NULL REFERENCES connect_links (id),
    smile_user_id TEXT      NOT NULL,
    user_key      INTEGER   REFERENCES smile_users (user_key),
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE INDEX widget_sessions_link ON widget_sessions (link_id, id);
CREATE INDEX widget_sessions_expires ON widget_sessions (expires_at);

-- +goose Down
DROP TABLE widget_sessions;
DROP TABLE connect_links;
