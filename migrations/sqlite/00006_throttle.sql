-- +goose Up
-- Throttle counters: one row per limited thing (a sign-in email from an
-- address, an address, a trusted browser, a connect link, a widget session).
-- Each is a fixed window that starts with its first hit and is taken with one
-- conditional upsert, so concurrent requests (and replicas) cannot overshoot.
-- window_end is Unix milliseconds; refused counts refusals in the window, so
-- the first refusal of a burst can be reported once.
CREATE TABLE throttle_counters (
    key        TEXT    NOT NULL PRIMARY KEY,
    window_end INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    refused    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX throttle_counters_window_end ON throttle_counters (window_end);

-- Sign-in failures are now throttle counters.
DROP TABLE login_attempts;

-- +goose Down
CREATE TABLE login_attempts (
    id    INTEGER PRIMARY KEY,
    at    TIMESTAMP NOT NULL,
    email TEXT      NOT NULL,
    ip    TEXT      NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
DROP TABLE throttle_counters;
