-- +goose Up
-- The overview (issue 10): hourly event counters, so charts and totals over a
-- range read at most one row per hour, type, provider and error code instead
-- of the events; and two indexes for the connection funnel's first steps.

-- hour is the Unix second the hour starts (UTC), by Smile's createdAt.
-- provider_id is the account's provider (ACCOUNT_CREATED, _CONNECTED and
-- _FAILED only, for the funnel), error_code the code of a failure event; both
-- '' when they do not apply. The projection adds
-- to it in the same transaction as event_counts.
CREATE TABLE event_hourly (
    hour        BIGINT  NOT NULL,
    type        TEXT    NOT NULL,
    provider_id TEXT    NOT NULL DEFAULT '',
    error_code  TEXT    NOT NULL DEFAULT '',
    stored      BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, type, provider_id, error_code)
);

-- Events stored before this version, by hour and type only: `smiledash
-- reproject` fills in their providers and error codes.
INSERT INTO event_hourly (hour, type, stored)
    SELECT CAST(extract(epoch FROM date_trunc('hour', created_at AT TIME ZONE 'UTC')) AS BIGINT), type, COUNT(*)
    FROM events GROUP BY 1, 2;

-- The same counters by UTC day (day is the Unix second it starts), for the
-- 7- and 30-day ranges: a month reads about 30 rows per type, not 720.
CREATE TABLE event_daily (
    day         BIGINT NOT NULL,
    type        TEXT    NOT NULL,
    provider_id TEXT    NOT NULL DEFAULT '',
    error_code  TEXT    NOT NULL DEFAULT '',
    stored      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, type, provider_id, error_code)
);
INSERT INTO event_daily (day, type, provider_id, error_code, stored)
    SELECT hour / 86400 * 86400, type, provider_id, error_code, SUM(stored) FROM event_hourly GROUP BY 1, 2, 3, 4;

-- Funnel: links opened (link_opened actions) and widgets that talked to us
-- (callbacks) in a range, per link, without reading the rows.
CREATE INDEX actions_kind_at ON actions (kind, at, link_id);
CREATE INDEX callbacks_received_link ON callbacks (received_at, link_id);

-- +goose Down
DROP INDEX callbacks_received_link;
DROP INDEX actions_kind_at;
DROP TABLE event_daily;
DROP TABLE event_hourly;
