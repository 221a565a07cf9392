-- +goose Up
-- Indexes for the dashboard's users search. They are on accounts, which ingest
-- rewrites once per account event anyway; no index is added to events, whose
-- every index slows ingest: the pages read events through the existing
-- (user_key, created_at, seq) and (type, seq) indexes, the primary key, and
-- bounded scans for the remaining filters.
CREATE INDEX accounts_login ON accounts (login_name);
CREATE INDEX accounts_provider ON accounts (provider_id, status);

-- +goose Down
DROP INDEX accounts_provider;
DROP INDEX accounts_login;
