package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EventsQuery selects a page of stored events, newest arrival first.
type EventsQuery struct {
	Type string
	// Family keeps the types of one event family (EventFamilies); no index
	// serves it, so it is checked within the scan window.
	Family  string
	UserKey int64 // 0 for any user; -1 matches no key
	// UserID, the user's Smile id, keeps their unresolved events too
	// (UnresolvedOf), alone or besides UserKey's.
	UserID    string
	AccountID string
	// Duplicated keeps events delivered more than once.
	Duplicated bool
	// From and To bound Smile's createdAt; zero means unbounded.
	From, To time.Time
	Before   string // cursor: the previous page's last seq, or where a bounded scan stopped
	// After keeps events stored after this seq (exclusive): the live tail asks
	// for what arrived since the newest row it shows, and a gap between two
	// shown rows is filled with After and Before.
	After int64
	Limit int
}

// EventRow is one line of the events list (no body).
type EventRow struct {
	Seq         int64
	EventID     string
	Type        string
	CreatedAt   time.Time
	ReceivedAt  time.Time
	UserKey     *int64
	UserID      string
	AccountID   string
	SourceIP    string
	SecretIndex int
	Deliveries  int64
	Flags       string // comma-separated; see Event.Flags
}

// EventsPage is one keyset page of events.
type EventsPage struct {
	Events []EventRow
	Next   string
	// ScannedTo is set when the page stopped at the scan window rather than at
	// Limit rows: filters without an index look at scanWindow events per page.
	ScannedTo int64
}

// scanWindow is how many events a page scans, by primary key, for filters that
// no index serves (account, duplicates, time range without type or user).
const scanWindow = 20_000

// Events lists stored events by seq, newest first. A type filter walks the
// (type, seq) index and a user filter the (user_key, created_at, seq) index;
// other filters are checked row by row over at most scanWindow events per page,
// and the page says how far back it looked, so no request scans the whole log.
func (s *Store) Events(ctx context.Context, q EventsQuery) (EventsPage, error) {
	limit := pageSize(q.Limit)
	c, err := parseCursor(q.Before, 1)
	if err != nil {
		return EventsPage{}, err
	}
	var where []string
	var args []any
	if c != nil {
		where, args = append(where, "e.seq < ?"), append(args, c[0])
	}
	if q.After > 0 {
		where, args = append(where, "e.seq > ?"), append(args, q.After)
	}
	indexed := q.Type != "" || q.UserKey != 0 || q.UserID != ""
	floor := int64(0)
	if !indexed && (q.AccountID != "" || q.Family != "" || q.Duplicated || !q.From.IsZero() || !q.To.IsZero()) {
		top := int64(1 << 62)
		if c != nil {
			top = c[0]
		} else if top, err = s.maxSeq(ctx); err != nil {
			return EventsPage{}, err
		}
		floor = max(top-scanWindow, 0)
		if floor <= q.After {
			floor = 0 // the After bound is tighter than the scan window
		} else {
			where, args = append(where, "e.seq >= ?"), append(args, floor)
		}
	}
	where, args = eventFilters(q, where, args)
	// An unresolved event has no user row yet; it names its user by Smile id.
	query := "SELECT e.seq, e.event_id, e.type, e.created_at, e.received_at, e.user_key, COALESCE(u.id, e.pending_user) AS user_id, e.account_id, " +
		"e.source_ip, e.secret_index, e.deliveries, e.flags FROM events e LEFT JOIN smile_users u ON u.user_key = e.user_key"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var rows []EventRow
	err = s.db.WithContext(ctx).Raw(query+" ORDER BY e.seq DESC LIMIT ?", append(args, limit+1)...).Scan(&rows).Error
	if err != nil {
		return EventsPage{}, fmt.Errorf("models: list events: %w", err)
	}
	page := EventsPage{Events: rows}
	switch {
	case len(rows) > limit:
		page.Events = rows[:limit]
		page.Next = cursor{rows[limit-1].Seq}.String()
	case floor > 0:
		page.ScannedTo, page.Next = floor, cursor{floor}.String()
	}
	return page, nil
}

// EventsBetween counts the events matching q's filters stored after seq
// after and before seq before (both exclusive): what a live list skipped
// between two rows it shows. The count stops at countCap; the range is what
// arrived between two refreshes of one page, so it is short.
func (s *Store) EventsBetween(ctx context.Context, q EventsQuery, after, before int64) (Count, error) {
	where, args := eventFilters(q, []string{"e.seq > ?", "e.seq < ?"}, []any{after, before})
	c, err := s.boundedCount(ctx, "FROM events e WHERE "+strings.Join(where, " AND "), args...)
	if err != nil {
		return Count{}, fmt.Errorf("models: events between %d and %d: %w", after, before, err)
	}
	return c, nil
}

// eventFilters adds q's filters (not its cursor bounds) to a WHERE clause.
func eventFilters(q EventsQuery, where []string, args []any) ([]string, []any) {
	for _, f := range []struct {
		on   bool
		cond string
		arg  any
	}{
		{q.Type != "", "e.type = ?", q.Type},
		{q.AccountID != "", "e.account_id = ?", q.AccountID},
		{q.Duplicated, "e.deliveries > ?", 1},
		{!q.From.IsZero(), "e.created_at >= ?", q.From.UTC()},
		{!q.To.IsZero(), "e.created_at < ?", q.To.UTC()},
	} {
		if f.on {
			where, args = append(where, f.cond), append(args, f.arg)
		}
	}
	if cond, uargs := userFilter(q); cond != "" {
		where, args = append(where, cond), append(args, uargs...)
	}
	switch {
	case q.Family == FamilyOther:
		where, args = append(where, "e.type NOT IN ?"), append(args, familyTypes(FamilyOther))
	case q.Family != "" && len(familyTypes(q.Family)) == 0:
		where = append(where, "1 = 0") // no such family
	case q.Family != "":
		where, args = append(where, "e.type IN ?"), append(args, familyTypes(q.Family))
	}
	return where, args
}

// userFilter is the condition for q's user: events by key, unresolved ones by
// Smile id. Each part is a range of events_user_time (the second over its NULL
// keys), so the OR stays indexed.
func userFilter(q EventsQuery) (string, []any) {
	const unresolved = "e.user_key IS NULL AND e.pending_user = ?" // UnresolvedOf, on e
	switch {
	case q.UserID != "" && q.UserKey > 0:
		return "(e.user_key = ? OR (" + unresolved + "))", []any{q.UserKey, q.UserID}
	case q.UserID != "":
		return unresolved, []any{q.UserID}
	case q.UserKey != 0:
		return "e.user_key = ?", []any{q.UserKey}
	}
	return "", nil
}

func (s *Store) maxSeq(ctx context.Context) (int64, error) {
	var n *int64
	if err := s.db.WithContext(ctx).Raw("SELECT MAX(seq) FROM events").Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("models: newest event: %w", err)
	}
	if n == nil {
		return 0, nil
	}
	return *n + 1, nil
}

// EventDetail is one stored event with its delivery history.
type EventDetail struct {
	Event
	UserID string
	// Attempts are the deliveries of the same id after the first: duplicates,
	// and rejections that named this id.
	Attempts []Delivery
	// Unprojected says the projector has not reached the event yet; Parked,
	// that it could not project it (and why).
	Unprojected bool
	Parked      *ParkedEvent
}

// EventBySeq returns one event with its body and every other delivery attempt
// of its id.
func (s *Store) EventBySeq(ctx context.Context, seq int64) (EventDetail, error) {
	var d EventDetail
	if err := s.db.WithContext(ctx).Where("seq = ?", seq).Take(&d.Event).Error; err != nil {
		return EventDetail{}, fmt.Errorf("models: event %d: %w", seq, notFound(err))
	}
	return d, s.fillEventDetail(ctx, &d)
}

// EventByEventID returns one event by Smile's envelope id.
func (s *Store) EventByEventID(ctx context.Context, id string) (EventDetail, error) {
	var d EventDetail
	if err := s.db.WithContext(ctx).Where("event_id = ?", id).Take(&d.Event).Error; err != nil {
		return EventDetail{}, fmt.Errorf("models: event %s: %w", id, notFound(err))
	}
	return d, s.fillEventDetail(ctx, &d)
}

func (s *Store) fillEventDetail(ctx context.Context, d *EventDetail) error {
	db := s.db.WithContext(ctx)
	if d.UserKey != nil {
		var u SmileUser
		if err := db.Select("id").Where("user_key = ?", *d.UserKey).Take(&u).Error; err != nil {
			return fmt.Errorf("models: user of event %d: %w", d.Seq, notFound(err))
		}
		d.UserID = u.ID
	} else {
		d.UserID = d.PendingUser
	}
	if err := db.Where("event_id = ?", d.EventID).Order("id").Limit(500).Find(&d.Attempts).Error; err != nil {
		return fmt.Errorf("models: attempts of event %d: %w", d.Seq, err)
	}
	pos, err := s.ProjectorPosition(db)
	if err != nil {
		return err
	}
	cond, args := s.Beyond(pos)
	var pending int64
	if err := db.Model(&Event{}).Where("seq = ?", d.Seq).Where(cond, args...).Count(&pending).Error; err != nil {
		return fmt.Errorf("models: is event %d projected: %w", d.Seq, err)
	}
	// An unresolved event is unprojected whatever the position says: the
	// projector resolves its user when it projects it.
	d.Unprojected = pending > 0 || d.Unresolved()
	var parked []ParkedEvent
	if err := db.Where("seq = ?", d.Seq).Limit(1).Find(&parked).Error; err != nil {
		return fmt.Errorf("models: is event %d parked: %w", d.Seq, err)
	}
	if len(parked) > 0 {
		d.Parked = &parked[0]
	}
	return nil
}

// LatestSecretIndex tells which configured secret verified the newest event.
func (s *Store) LatestSecretIndex(ctx context.Context) (index int, ok bool, err error) {
	var rows []Event
	if err := s.db.WithContext(ctx).Select("secret_index").Order("seq DESC").Limit(1).Find(&rows).Error; err != nil {
		return 0, false, fmt.Errorf("models: latest secret index: %w", err)
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	return rows[0].SecretIndex, true, nil
}
