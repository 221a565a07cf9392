-- +goose Up
-- Fidelity to Smile (issue 8): event flags, lifecycle ranks for same-second
-- ordering, and Smile's own status and task-type words in stored projections.
-- Same-second ties already stored were broken by event id; `smiledash
-- reproject` re-resolves them by Smile's lifecycle.

-- Flags on an event: what Smile sent that was loose or suspicious but was read
-- anyway (created_at_no_zone, created_at_future), comma-separated.
ALTER TABLE events ADD COLUMN flags TEXT NOT NULL DEFAULT '';
-- Events already stored that are dated more than a day after their receipt.
UPDATE events SET flags = 'created_at_future' WHERE created_at > received_at + INTERVAL '1 day';

-- Same-second order: a projected status remembers the lifecycle rank of the
-- state it holds, so an event of the same second replaces it only if it ranks
-- higher in Smile's lifecycle (or equal, with a higher event id).
ALTER TABLE accounts ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archives ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invites ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE verifications ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE smile_users ADD COLUMN session_rank INTEGER NOT NULL DEFAULT 0;

-- Smile's words: connection statuses for accounts, archive states, and the
-- PROCESSING status of records and verifications.
UPDATE accounts SET status = 'PENDING' WHERE status = 'CREATED';
UPDATE accounts SET status = 'ERROR' WHERE status = 'FAILED';
UPDATE archives SET status = 'ERROR' WHERE status = 'FAILED';
UPDATE records SET status = 'PROCESSING' WHERE status = 'CREATED';
UPDATE verifications SET status = 'PROCESSING' WHERE status = 'STARTED';

UPDATE accounts SET status_rank = CASE status
    WHEN 'PENDING' THEN 1 WHEN 'AWAITING_MFA' THEN 2 WHEN 'CONNECTED' THEN 3 WHEN 'ERROR' THEN 3
    WHEN 'DISCONNECTED' THEN 4 ELSE 0 END;
UPDATE archives SET status_rank = CASE status
    WHEN 'STARTED' THEN 1 WHEN 'ANALYZED' THEN 2 WHEN 'UNSUPPORTED' THEN 2 WHEN 'ERROR' THEN 2
    WHEN 'REVOKED' THEN 3 ELSE 0 END;
UPDATE invites SET status_rank = CASE status WHEN 'INVITED' THEN 1 WHEN 'LINKED' THEN 2 ELSE 0 END;
UPDATE tasks SET status_rank = CASE status WHEN '' THEN 0 WHEN 'STARTED' THEN 1 ELSE 2 END;
UPDATE records SET status_rank = CASE status WHEN '' THEN 0 WHEN 'PROCESSING' THEN 1 ELSE 2 END;
UPDATE verifications SET status_rank = CASE status WHEN '' THEN 0 WHEN 'PROCESSING' THEN 1 ELSE 2 END;
UPDATE smile_users SET session_rank = CASE session_status
    WHEN 'IN_PROGRESS' THEN 1 WHEN 'COMPLETED' THEN 2 WHEN 'REVOKED' THEN 3 ELSE 0 END;

-- Account refreshes are Smile's UPDATE_ACCOUNT tasks, not our ACCOUNT_SYNC.
-- Where a source already has an UPDATE_ACCOUNT row, fold the sync row into it
-- (later status by the same order as ingest, runs summed, latest finish).
UPDATE tasks SET (status, error_code, datapoints, status_at, status_rank, status_event_id) = (
        SELECT s.status, s.error_code, s.datapoints, s.status_at, s.status_rank, s.status_event_id
        FROM tasks s WHERE s.source_id = tasks.source_id AND s.task_type = 'ACCOUNT_SYNC')
    WHERE task_type = 'UPDATE_ACCOUNT' AND EXISTS (
        SELECT 1 FROM tasks s WHERE s.source_id = tasks.source_id AND s.task_type = 'ACCOUNT_SYNC'
        AND s.status_at IS NOT NULL AND (tasks.status_at IS NULL OR s.status_at > tasks.status_at
            OR (s.status_at = tasks.status_at AND (s.status_rank > tasks.status_rank
                OR (s.status_rank = tasks.status_rank AND s.status_event_id > tasks.status_event_id)))));
UPDATE tasks SET
    runs = runs + (SELECT s.runs FROM tasks s WHERE s.source_id = tasks.source_id AND s.task_type = 'ACCOUNT_SYNC'),
    finished_at = (SELECT GREATEST(tasks.finished_at, s.finished_at)
        FROM tasks s WHERE s.source_id = tasks.source_id AND s.task_type = 'ACCOUNT_SYNC')
    WHERE task_type = 'UPDATE_ACCOUNT'
    AND EXISTS (SELECT 1 FROM tasks s WHERE s.source_id = tasks.source_id AND s.task_type = 'ACCOUNT_SYNC');
DELETE FROM tasks WHERE task_type = 'ACCOUNT_SYNC'
    AND EXISTS (SELECT 1 FROM tasks u WHERE u.source_id = tasks.source_id AND u.task_type = 'UPDATE_ACCOUNT');
UPDATE tasks SET task_type = 'UPDATE_ACCOUNT' WHERE task_type = 'ACCOUNT_SYNC';

-- The records page lists records and verifications newest first.
CREATE INDEX records_first_seen ON records (first_seen_at, id);
CREATE INDEX verifications_first_seen ON verifications (first_seen_at, id);

-- +goose Down
DROP INDEX verifications_first_seen;
DROP INDEX records_first_seen;
UPDATE tasks SET task_type = 'ACCOUNT_SYNC' WHERE task_type = 'UPDATE_ACCOUNT' AND source_type = 'ACCOUNT'
    AND NOT EXISTS (SELECT 1 FROM tasks a WHERE a.source_id = tasks.source_id AND a.task_type = 'ACCOUNT_SYNC');
UPDATE verifications SET status = 'STARTED' WHERE status = 'PROCESSING';
UPDATE records SET status = 'CREATED' WHERE status = 'PROCESSING';
UPDATE archives SET status = 'FAILED' WHERE status = 'ERROR';
UPDATE accounts SET status = 'FAILED' WHERE status = 'ERROR';
UPDATE accounts SET status = 'CREATED' WHERE status = 'PENDING';
ALTER TABLE smile_users DROP COLUMN session_rank;
ALTER TABLE verifications DROP COLUMN status_rank;
ALTER TABLE records DROP COLUMN status_rank;
ALTER TABLE tasks DROP COLUMN status_rank;
ALTER TABLE invites DROP COLUMN status_rank;
ALTER TABLE archives DROP COLUMN status_rank;
ALTER TABLE accounts DROP COLUMN status_rank;
ALTER TABLE events DROP COLUMN flags;
