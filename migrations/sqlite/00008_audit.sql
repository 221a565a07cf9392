-- +goose Up
-- The audit log: who changed admin accounts, API tokens, connect links and the
-- projections, and every sign-in and failed sign-in. Rows name the acting
-- admin by id and email; they hold no passwords, tokens or other secrets. The
-- actor id is not a foreign key: the record outlives a removed account.

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             TIMESTAMP NOT NULL,
    actor_admin_id INTEGER,
    actor          TEXT      NOT NULL DEFAULT '',
    action         TEXT      NOT NULL,
    target         TEXT      NOT NULL DEFAULT '',
    details        TEXT      NOT NULL DEFAULT ''
);
-- Pages are read newest first by id (the primary key); filtering by action uses this.
CREATE INDEX audit_log_action ON audit_log (action, id);

-- +goose Down
DROP TABLE audit_log;
