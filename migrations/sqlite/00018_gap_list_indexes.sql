-- +goose Up
-- The attention page's gap list and counts at 100,000 users and 120,000
-- gaps (models/gaps_queries.go), each an index range instead of a scan of
-- every gap:
-- gaps_claimed lists statuses that take in closed gaps (closed late, matched,
-- all) newest claim first;
CREATE INDEX gaps_claimed ON gaps (claimed_at, id);
-- gaps_account lists one account's gaps;
CREATE INDEX gaps_account ON gaps (account_id, claimed_at, id);
-- gaps_late counts gaps closed later than the window, which is configurable,
-- so it is compared at query time.
CREATE INDEX gaps_late ON gaps (lag_seconds) WHERE closed_at IS NOT NULL;

-- +goose Down
DROP INDEX gaps_late;
DROP INDEX gaps_account;
DROP INDEX gaps_claimed;
