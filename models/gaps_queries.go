package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"smiledash/migrations"
)

// Gap list filters by status. GapUnresolved is waiting or open; GapAll is
// everything but matched claims (which were never gaps).
const (
	GapUnresolved = "unresolved"
	GapAll        = "all"
)

// GapStatuses lists the status filters Gaps accepts.
var GapStatuses = []string{GapOpen, GapWaiting, GapClosed, GapUnresolved, GapAll, GapMatched}

// GapQuery selects gaps; zero fields do not filter. Status defaults to
// GapOpen, Now to the current time.
type GapQuery struct {
	Status    string
	Kind      string
	UserID    string // Smile user id
	AccountID string
	Before    string // cursor from a previous page
	Limit     int
	Now       time.Time
}

// GapPage is one page of gaps, newest claim first.
type GapPage struct {
	Gaps []Gap
	Next string
}

// ErrBadGapFilter is returned for an unknown status or kind.
var ErrBadGapFilter = fmt.Errorf("models: unknown gap status or kind")

// Gaps lists gaps, keyset-paged on (claimed_at, id) through gaps_state (open
// and waiting gaps), gaps_claimed (statuses with closed gaps), gaps_kind_state
// (open gaps of one kind), gaps_user or gaps_account: the cost follows the
// page, not the store.
func (s *Store) Gaps(ctx context.Context, q GapQuery) (GapPage, error) {
	if q.Status == "" {
		q.Status = GapOpen
	}
	if !slices.Contains(GapStatuses, q.Status) || (q.Kind != "" && !slices.Contains(GapKinds, q.Kind)) {
		return GapPage{}, ErrBadGapFilter
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	after, err := parseCursor(q.Before, 2)
	if err != nil {
		return GapPage{}, err
	}
	window := s.GapWindow()
	db := s.db.WithContext(ctx).Table(s.gapListTable(q)).
		Select("g.id, g.kind, g.user_key, g.account_id, g.callback_id, g.event_id, g.claimed_at, g.closed_at, g.closed_by, g.lag_seconds, g.checked_at, u.id AS user_id").
		Joins("JOIN smile_users u ON u.user_key = g.user_key")
	db = gapStatusWhere(db, q.Status, q.Now.UTC().Add(-window), int64(window/time.Second))
	if q.Kind != "" {
		db = db.Where("g.kind = ?", q.Kind)
	}
	if q.UserID != "" {
		db = db.Where("u.id = ?", q.UserID)
	}
	if q.AccountID != "" {
		db = db.Where("g.account_id = ?", q.AccountID)
	}
	if after != nil {
		at := fromNanos(after[0])
		db = db.Where("(g.claimed_at < ? OR (g.claimed_at = ? AND g.id < ?))", at, at, after[1])
	}
	limit := pageSize(q.Limit)
	var rows []Gap
	if err := db.Order("g.claimed_at DESC, g.id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return GapPage{}, fmt.Errorf("models: list gaps: %w", err)
	}
	page := GapPage{Gaps: rows}
	if len(rows) > limit {
		page.Gaps = rows[:limit]
		last := page.Gaps[limit-1]
		page.Next = cursor{nanos(last.ClaimedAt), last.ID}.String()
	}
	for i := range page.Gaps {
		page.Gaps[i].Status = GapStatus(page.Gaps[i], q.Now, window)
	}
	return page, nil
}

// gapListTable names the gaps table for a list, steering SQLite to
// gaps_claimed (newest claim first, checking each row) when the status takes
// in closed gaps and no user or account narrows the list. Without statistics
// (nothing runs ANALYZE) its planner would rather read every late gap
// (gaps_late) or every gap of a kind and sort them: thousands of rows, tens of
// milliseconds, where the walk reads about a page's worth. PostgreSQL's
// planner has statistics and picks gaps_claimed on its own.
func (s *Store) gapListTable(q GapQuery) string {
	closed := q.Status == GapClosed || q.Status == GapMatched || q.Status == GapAll
	if s.dialect == migrations.SQLite && closed && q.UserID == "" && q.AccountID == "" {
		return "gaps g INDEXED BY gaps_claimed"
	}
	return "gaps g"
}

// OpenGaps is the first page of open gaps (past the window, no webhook yet).
func (s *Store) OpenGaps(ctx context.Context, limit int) ([]Gap, error) {
	page, err := s.Gaps(ctx, GapQuery{Status: GapOpen, Limit: limit})
	return page.Gaps, err
}

func gapStatusWhere[T interface {
	Where(query any, args ...any) T
}](db T, status string, cutoff time.Time, windowSeconds int64) T {
	switch status {
	case GapWaiting:
		return db.Where("g.closed_at IS NULL AND g.claimed_at >= ?", cutoff)
	case GapOpen:
		return db.Where("g.closed_at IS NULL AND g.claimed_at < ?", cutoff)
	case GapClosed:
		return db.Where("g.closed_at IS NOT NULL AND g.lag_seconds > ?", windowSeconds)
	case GapMatched:
		return db.Where("g.closed_at IS NOT NULL AND g.lag_seconds <= ?", windowSeconds)
	case GapUnresolved:
		return db.Where("g.closed_at IS NULL")
	default: // GapAll
		return db.Where("(g.closed_at IS NULL OR g.lag_seconds > ?)", windowSeconds)
	}
}

// GapCounts is how many gaps there are, by status, and open ones by kind.
// Each count stops at the usual cap (10,000), so pages stay fast however
// many gaps there are.
type GapCounts struct {
	Waiting    Count
	Open       Count
	Closed     Count // closed by a late webhook
	OpenByKind map[string]Count
}

// GapCounts counts gaps as of now (zero: the current time), each a bounded
// range scan of gaps_kind_state, gaps_state or (closed late) gaps_late. The
// open total is the sum of the open counts by kind, which the same cap bounds
// exactly as counting it would: a capped kind, or a sum over the cap, means
// more than the cap are open. That saves reading up to the cap's worth of
// index entries again on every overview and attention page.
func (s *Store) GapCounts(ctx context.Context, now time.Time) (GapCounts, error) {
	if now.IsZero() {
		now = time.Now()
	}
	window := s.GapWindow()
	cutoff := now.UTC().Add(-window)
	out := GapCounts{OpenByKind: map[string]Count{}}
	var err error
	for _, k := range GapKinds {
		n, err := s.boundedCount(ctx, "FROM gaps WHERE kind = ? AND closed_at IS NULL AND claimed_at < ?", k, cutoff)
		if err != nil {
			return out, err
		}
		if n.N > 0 {
			out.OpenByKind[k] = n
		}
		out.Open.N += n.N
		out.Open.AtLeast = out.Open.AtLeast || n.AtLeast
	}
	if out.Open.N > countCap {
		out.Open = Count{N: countCap, AtLeast: true}
	}
	if out.Waiting, err = s.boundedCount(ctx, "FROM gaps WHERE closed_at IS NULL AND claimed_at >= ?", cutoff); err != nil {
		return out, err
	}
	if out.Closed, err = s.boundedCount(ctx, "FROM gaps WHERE closed_at IS NOT NULL AND lag_seconds > ?", int64(window/time.Second)); err != nil {
		return out, err
	}
	return out, nil
}

// UserGaps is a user's gaps, newest first, at most 100, without matched claims.
func (s *Store) UserGaps(ctx context.Context, userKey int64, now time.Time) ([]Gap, error) {
	window := s.GapWindow()
	var rows []Gap
	err := s.db.WithContext(ctx).Table("gaps g").Select("g.*").
		Where("g.user_key = ? AND (g.closed_at IS NULL OR g.lag_seconds > ?)", userKey, int64(window/time.Second)).
		Order("g.claimed_at DESC, g.id DESC").Limit(100).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: gaps of user %d: %w", userKey, err)
	}
	for i := range rows {
		rows[i].Status = GapStatus(rows[i], now, window)
	}
	return rows, nil
}
