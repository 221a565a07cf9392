package models

import (
	"context"
	"fmt"
)

// DeliveriesQuery selects a page of delivery attempts, newest first.
type DeliveriesQuery struct {
	// Outcome is OutcomeRejected, OutcomeDuplicate or "" for both.
	Outcome string
	Reason  string
	Before  string
	Limit   int
}

// DeliveriesPage is one keyset page of delivery attempts.
type DeliveriesPage struct {
	Deliveries []Delivery
	Next       string
}

// Deliveries lists attempts by id, newest first, on the (outcome, id) index.
// The table is pruned to a bounded size by the writer, so even a reason filter
// (checked row by row) scans a bounded number of rows.
func (s *Store) Deliveries(ctx context.Context, q DeliveriesQuery) (DeliveriesPage, error) {
	if !IsStorableText(q.Outcome) || !IsStorableText(q.Reason) {
		// No stored record holds a NUL or invalid UTF-8, and PostgreSQL would
		// refuse the comparison: such a filter matches nothing.
		return DeliveriesPage{}, nil
	}
	limit := pageSize(q.Limit)
	c, err := parseCursor(q.Before, 1)
	if err != nil {
		return DeliveriesPage{}, err
	}
	db := s.db.WithContext(ctx).Order("id DESC").Limit(limit + 1)
	if c != nil {
		db = db.Where("id < ?", c[0])
	}
	if q.Outcome != "" {
		db = db.Where("outcome = ?", q.Outcome)
	}
	if q.Reason != "" {
		db = db.Where("reason = ?", q.Reason)
	}
	var rows []Delivery
	if err := db.Find(&rows).Error; err != nil {
		return DeliveriesPage{}, fmt.Errorf("models: list deliveries: %w", err)
	}
	page := DeliveriesPage{Deliveries: rows}
	if len(rows) > limit {
		page.Deliveries = rows[:limit]
		page.Next = cursor{rows[limit-1].ID}.String()
	}
	return page, nil
}

// Overview is what the dashboard's first page shows.
type Overview struct {
	// Counts are the maintained per-type event counts, largest first.
	Counts []EventCount
	Total  int64
	// Users counts users, bounded; Active24h those with an event in the last day.
	Users Count
	// Rejections are the latest refused webhook attempts.
	Rejections []Delivery
	// Failures are the latest ACCOUNT_FAILED and ARCHIVE_FAILED webhooks.
	Failures []EventRow
}

// Overview reads maintained counters and short index scans only.
func (s *Store) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	db := s.db.WithContext(ctx)
	if err := db.Order("stored DESC, type").Find(&o.Counts).Error; err != nil {
		return Overview{}, fmt.Errorf("models: event counts: %w", err)
	}
	for _, c := range o.Counts {
		o.Total += c.Stored
	}
	var err error
	if o.Users, err = s.boundedCount(ctx, "FROM smile_users"); err != nil {
		return Overview{}, err
	}
	if err := db.Where("outcome = ?", OutcomeRejected).Order("id DESC").Limit(10).Find(&o.Rejections).Error; err != nil {
		return Overview{}, fmt.Errorf("models: recent rejections: %w", err)
	}
	for _, typ := range []string{"ACCOUNT_FAILED", "ARCHIVE_FAILED"} {
		page, err := s.Events(ctx, EventsQuery{Type: typ, Limit: 10})
		if err != nil {
			return Overview{}, err
		}
		o.Failures = append(o.Failures, page.Events...)
	}
	return o, nil
}
