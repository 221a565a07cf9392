-- +goose Up
-- On SQLite the acknowledgement path no longer creates users: a webhook for a
-- Smile user not yet in smile_users is stored with user_key NULL and the user's
-- id here, and the projector creates the user, sets user_key and clears this
-- (models/ingest/users.go). Creating a user on the ack path cost a random page
-- of the smile_users id index per new user; with 100,000 users in random order
-- that was a third of the acknowledgement's page writes. Not indexed: pages
-- find a user's unresolved events through events_user_time's NULL keys, which
-- hold only the projector's backlog (and events that name no user).
ALTER TABLE events ADD COLUMN pending_user TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN pending_user;
