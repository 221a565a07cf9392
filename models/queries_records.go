package models

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"smiledash/smile"
)

// Kinds of user-less entity the records page lists.
const (
	KindRecords       = "records"
	KindVerifications = "verifications"
)

// RecordsQuery selects a page of records (RECORD_* webhooks) or verifications
// (VERIFICATION_* webhooks), newest first.
type RecordsQuery struct {
	Kind   string // KindRecords (default) or KindVerifications
	ID     string // one record or verification; "" for all
	Before string // cursor: the previous page's Next
	Limit  int
}

// RecordRow is one record or verification with its status and result.
type RecordRow struct {
	ID            string
	RecordType    string // SOCIAL_SECURITY; "" for verifications
	Status        string
	ResultCode    string
	ResultMessage string
	StatusAt      *time.Time
	FirstSeenAt   time.Time
}

// RecordsPage is one keyset page of records or verifications.
type RecordsPage struct {
	Rows []RecordRow
	Next string
}

// Records lists records or verifications by first appearance, newest first,
// on the (first_seen_at, id) index.
func (s *Store) Records(ctx context.Context, q RecordsQuery) (RecordsPage, error) {
	limit := pageSize(q.Limit)
	cols := "id, record_type, status, result_code, result_message, status_at, first_seen_at FROM records"
	if q.Kind == KindVerifications {
		cols = "id, '' AS record_type, status, result_code, result_message, status_at, first_seen_at FROM verifications"
	}
	var where []string
	var args []any
	if q.ID != "" {
		where, args = append(where, "id = ?"), append(args, q.ID)
	}
	if q.Before != "" {
		at, id, err := parseRecordCursor(q.Before)
		if err != nil {
			return RecordsPage{}, err
		}
		where = append(where, "(first_seen_at < ? OR (first_seen_at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	query := "SELECT " + cols
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var rows []RecordRow
	err := s.db.WithContext(ctx).Raw(query+" ORDER BY first_seen_at DESC, id DESC LIMIT ?", append(args, limit+1)...).Scan(&rows).Error
	if err != nil {
		return RecordsPage{}, fmt.Errorf("models: list %s: %w", q.Kind, err)
	}
	page := RecordsPage{Rows: rows}
	if len(rows) > limit {
		last := rows[limit-1]
		page.Rows = rows[:limit]
		page.Next = strconv.FormatInt(nanos(last.FirstSeenAt), 10) + "." + hex.EncodeToString([]byte(last.ID))
	}
	return page, nil
}

// parseRecordCursor reads "<first seen, Unix ns>.<id in hex>".
func parseRecordCursor(s string) (time.Time, string, error) {
	n, id, ok := strings.Cut(s, ".")
	ns, err := strconv.ParseInt(n, 10, 64)
	raw, herr := hex.DecodeString(id)
	if !ok || err != nil || herr != nil {
		return time.Time{}, "", ErrBadCursor
	}
	return fromNanos(ns), string(raw), nil
}

// UnknownEventTypes lists the stored event types that are not among Smile's
// documented ones (Smile adds types), from the maintained per-type counts.
func (s *Store) UnknownEventTypes(ctx context.Context) ([]string, error) {
	var types []string
	if err := s.db.WithContext(ctx).Raw("SELECT type FROM event_counts WHERE stored > 0 ORDER BY type").Scan(&types).Error; err != nil {
		return nil, fmt.Errorf("models: stored event types: %w", err)
	}
	unknown := types[:0]
	for _, t := range types {
		if !smile.EventType(t).Known() {
			unknown = append(unknown, t)
		}
	}
	return unknown, nil
}
