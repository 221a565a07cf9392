-- +goose Up
-- Sign-in: admin accounts, server-side sessions (shared by every replica), failed
-- sign-in attempts for throttling, and API tokens. Only SHA-256 hashes of session
-- and API tokens are stored, so a copy of the database lets no one sign in.

CREATE TABLE admins (
    id              INTEGER PRIMARY KEY,
    email           TEXT      NOT NULL,
    password_hash   TEXT      NOT NULL,
    role            TEXT      NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at      TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP
);
-- Emails are compared case-insensitively; the application also stores them lowercased.
CREATE UNIQUE INDEX admins_email ON admins (lower(email));

CREATE TABLE admin_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT      NOT NULL UNIQUE,
    admin_id     INTEGER   NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    csrf_token   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    user_agent   TEXT      NOT NULL DEFAULT '',
    ip           TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- Failed sign-ins only; rows older than the throttle window are pruned.
CREATE TABLE login_attempts (
    id    INTEGER PRIMARY KEY,
    at    TIMESTAMP NOT NULL,
    email TEXT      NOT NULL,
    ip    TEXT      NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
CREATE INDEX login_attempts_at ON login_attempts (at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT      NOT NULL,
    token_hash   TEXT      NOT NULL UNIQUE,
    prefix       TEXT      NOT NULL,
    role         TEXT      NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_by   INTEGER   REFERENCES admins (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE login_attempts;
DROP TABLE admin_sessions;
DROP TABLE admins;
