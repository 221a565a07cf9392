package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Throttle is one limit: at most Max units (requests, or bytes) per Window.
// Windows are fixed and start with the first hit of a key, so a quiet key
// always gets its whole allowance, and a test never straddles a boundary.
type Throttle struct {
	Max    int64
	Window time.Duration
}

// Verdict is what taking from a throttle decided.
type Verdict struct {
	Allowed bool
	// RetryAfter is how long until the refusing window ends (refusals only).
	RetryAfter time.Duration
	// FirstRefusal is set on exactly one refusal per key and window, across
	// every replica: the one that reports the burst.
	FirstRefusal bool
}

// takeThrottleSQL takes cost units from a key in one statement: it starts a
// new window when there is none or the last one has ended, adds to the current
// window only while the total stays within the limit, and returns nothing when
// it would not. SQLite runs it under its single write lock; PostgreSQL's
// ON CONFLICT DO UPDATE locks the row and re-checks the WHERE against the
// newest version, so concurrent takers (and replicas) never overshoot.
// Parameters: key, new window end, cost, now (four times), limit.
const takeThrottleSQL = `INSERT INTO throttle_counters (key, window_end, n, refused) VALUES (?, ?, ?, 0)
ON CONFLICT (key) DO UPDATE SET
  n = CASE WHEN throttle_counters.window_end <= ? THEN excluded.n ELSE throttle_counters.n + excluded.n END,
  refused = CASE WHEN throttle_counters.window_end <= ? THEN 0 ELSE throttle_counters.refused END,
  window_end = CASE WHEN throttle_counters.window_end <= ? THEN excluded.window_end ELSE throttle_counters.window_end END
WHERE throttle_counters.window_end <= ? OR throttle_counters.n + excluded.n <= ?
RETURNING n`

// refuseThrottleSQL counts a refusal and returns the count and the window's
// end: the refusal that makes the count 1 is the first of its burst.
const refuseThrottleSQL = `UPDATE throttle_counters SET refused = refused + 1 WHERE key = ? RETURNING refused, window_end`

// TakeThrottle counts cost units against key under limit at now. Refused
// takes count nothing against the limit (a refused request costs nothing
// more), but are counted so that the first refusal of each window can be
// reported once.
func (s *Store) TakeThrottle(ctx context.Context, key string, limit Throttle, cost int64, now time.Time) (Verdict, error) {
	if limit.Max <= 0 || limit.Window <= 0 || cost <= 0 {
		return Verdict{}, fmt.Errorf("models: throttle %s: limit %d per %s, cost %d: %w", key, limit.Max, limit.Window, cost, errBadThrottle)
	}
	nowMS := now.UnixMilli()
	db := s.db.WithContext(ctx)
	var taken []int64
	if cost <= limit.Max {
		err := db.Raw(takeThrottleSQL, key, nowMS+limit.Window.Milliseconds(), cost, nowMS, nowMS, nowMS, nowMS, limit.Max).
			Scan(&taken).Error
		if err != nil {
			return Verdict{}, fmt.Errorf("models: take throttle %s: %w", key, err)
		}
	}
	if len(taken) == 1 {
		if taken[0] == cost { // a new window: a good moment to drop ended ones
			s.pruneThrottles(ctx, nowMS)
		}
		return Verdict{Allowed: true}, nil
	}
	var row []struct {
		Refused   int64
		WindowEnd int64
	}
	if err := db.Raw(refuseThrottleSQL, key).Scan(&row).Error; err != nil {
		return Verdict{}, fmt.Errorf("models: count refusal of throttle %s: %w", key, err)
	}
	v := Verdict{RetryAfter: limit.Window}
	if len(row) == 1 {
		v.FirstRefusal = row[0].Refused == 1
		v.RetryAfter = time.Duration(row[0].WindowEnd-nowMS) * time.Millisecond
	}
	// A window started by a request that read the clock after this one can
	// end a little more than one window from this request's now.
	v.RetryAfter = min(max(v.RetryAfter, time.Millisecond), limit.Window)
	return v, nil
}

var errBadThrottle = errors.New("models: invalid throttle")

// RefundThrottle gives back cost units taken from key in its current window,
// e.g. for a sign-in that turned out to be right. It never goes below zero and
// never touches an ended window.
func (s *Store) RefundThrottle(ctx context.Context, key string, cost int64, now time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE throttle_counters SET n = n - ? WHERE key = ? AND window_end > ? AND n >= ?`,
		cost, key, now.UnixMilli(), cost).Error
	if err != nil {
		return fmt.Errorf("models: refund throttle %s: %w", key, err)
	}
	return nil
}

// ResetThrottle forgets a key's window.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM throttle_counters WHERE key = ?`, key).Error; err != nil {
		return fmt.Errorf("models: reset throttle %s: %w", key, err)
	}
	return nil
}

// pruneThrottles drops windows that ended: an ended window counts as no
// window, so this only keeps the table as small as the set of active keys.
// A failure is harmless (the rows are dropped next time), so it is not
// returned.
func (s *Store) pruneThrottles(ctx context.Context, nowMS int64) {
	_ = s.db.WithContext(ctx).Exec(`DELETE FROM throttle_counters WHERE window_end < ?`, nowMS).Error
}

// ThrottleKey names a counter: a kind, then parts hashed so that anything a
// client typed (an email with NUL bytes, a 10 KB address) makes a short key
// PostgreSQL can store.
func ThrottleKey(kind string, parts ...string) string {
	return kind + ":" + hashToken(strings.Join(parts, "\x00"))[:32]
}
