package models

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// TimelineItem is one entry of a user's merged timeline: a webhook, a widget
// callback (a browser's claim) or one of our own actions.
type TimelineItem struct {
	Kind      string // ChangeEvent, ChangeCallback or ChangeAction
	ID        int64  // events.seq, callbacks.id or actions.id
	At        time.Time
	Label     string // event type, callback name or action kind
	AccountID string
	SourceIP  string
	// EventID, SecretIndex and Deliveries are set for webhooks.
	EventID     string
	SecretIndex int
	Deliveries  int64
	// Actor is set for actions: who did it.
	Actor string
	// Raw is the webhook body, the callback's arguments or the action's detail;
	// only its first TimelineQuery.RawPrefix bytes when that is set.
	Raw []byte
	// RawBytes is the full length of Raw as stored.
	RawBytes int64
}

// TimelineQuery selects a page of a user's timeline, newest first.
type TimelineQuery struct {
	UserKey int64
	// UserID is the user's Smile id: their webhooks the projector has not
	// resolved yet (UnresolvedOf) are on the timeline too. A placeholder
	// user (SmileUser.Pending) has only those.
	UserID    string
	AccountID string
	// Kinds keeps only these kinds; empty means all.
	Kinds  []string
	Before string // cursor of the previous page's last item
	Limit  int
	// From and To bound the items' time (From inclusive, To exclusive); zero
	// means unbounded.
	From, To time.Time
	// RawPrefix, when positive, reads only that many bytes of each item's raw
	// JSON, so a page costs the same whatever the payloads weigh.
	RawPrefix int
}

// TimelinePage is one keyset page of a timeline.
type TimelinePage struct {
	Items []TimelineItem
	Next  string
}

// kindRank breaks ties between items of different kinds at the same instant.
var kindRank = map[string]int64{ChangeEvent: 3, ChangeCallback: 2, ChangeAction: 1}

type timelineSource struct {
	kind, table, at, cols, raw string
}

var timelineSources = []timelineSource{
	{ChangeEvent, "events", "created_at",
		"seq AS id, created_at AS at, type AS label, account_id, source_ip, event_id, secret_index, deliveries, '' AS actor", "body"},
	{ChangeCallback, "callbacks", "received_at",
		"id, received_at AS at, name AS label, account_id, source_ip, '' AS event_id, 0 AS secret_index, 0 AS deliveries, '' AS actor", "args"},
	{ChangeAction, "actions", "at",
		"id, at, kind AS label, account_id, '' AS source_ip, '' AS event_id, 0 AS secret_index, 0 AS deliveries, actor", "detail"},
}

// columns selects src's columns with its raw JSON, whole or its first prefix
// bytes (characters, for the text columns), and its stored length.
func (src timelineSource) columns(prefix int) string {
	raw := src.raw
	if prefix > 0 {
		raw = "substr(" + src.raw + ", 1, " + strconv.Itoa(prefix) + ")"
	}
	return src.cols + ", " + raw + " AS raw, octet_length(" + src.raw + ") AS raw_bytes"
}

// Timeline merges a user's webhooks, callbacks and actions in time order
// (Smile's createdAt for webhooks, arrival for the others), newest first. Each
// source is read with its own (user_key, time, id) index and a keyset
// condition, at most Limit+1 rows each, then merged: a page costs three short
// index range scans however long the history is, and a fourth over the NULL
// keys for the user's unresolved webhooks.
func (s *Store) Timeline(ctx context.Context, q TimelineQuery) (TimelinePage, error) {
	limit := pageSize(q.Limit)
	c, err := parseCursor(q.Before, 3)
	if err != nil {
		return TimelinePage{}, err
	}
	var items []TimelineItem
	for _, src := range timelineSources {
		if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, src.kind) {
			continue
		}
		for _, owner := range q.owners(src) {
			rows, err := s.timelineSource(ctx, src, owner, q, c, limit+1)
			if err != nil {
				return TimelinePage{}, err
			}
			items = append(items, rows...)
		}
	}
	slices.SortFunc(items, func(a, b TimelineItem) int { return compareItems(b, a) })
	page := TimelinePage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := items[limit-1]
		page.Next = cursor{nanos(last.At), kindRank[last.Kind], last.ID}.String()
	}
	return page, nil
}

// sqlCond is an SQL condition with its arguments.
type sqlCond struct {
	where string
	args  []any
}

// owners are the conditions selecting q's user's rows of src, each read as
// its own index range: by key, and for webhooks also by Smile id while
// unresolved. The two never overlap, as resolving sets the key.
func (q TimelineQuery) owners(src timelineSource) []sqlCond {
	var out []sqlCond
	if q.UserKey != 0 {
		out = append(out, sqlCond{"user_key = ?", []any{q.UserKey}})
	}
	if q.UserID != "" && src.kind == ChangeEvent {
		out = append(out, sqlCond{UnresolvedOf, []any{q.UserID}})
	}
	return out
}

func (s *Store) timelineSource(ctx context.Context, src timelineSource, owner sqlCond, q TimelineQuery, c cursor, limit int) ([]TimelineItem, error) {
	where := owner.where
	args := append([]any(nil), owner.args...)
	if q.AccountID != "" {
		where += " AND account_id = ?"
		args = append(args, q.AccountID)
	}
	idCol := "id"
	if src.kind == ChangeEvent {
		idCol = "seq"
	}
	if !q.From.IsZero() {
		where += " AND " + src.at + " >= ?"
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		where += " AND " + src.at + " < ?"
		args = append(args, q.To.UTC())
	}
	if c != nil {
		at, rank := fromNanos(c[0]), kindRank[src.kind]
		switch {
		case rank < c[1]:
			where += " AND " + src.at + " <= ?"
			args = append(args, at)
		case rank == c[1]:
			where += " AND (" + src.at + ", " + idCol + ") < (?, ?)" // a row value keeps one index range
			args = append(args, at, c[2])
		default:
			where += " AND " + src.at + " < ?"
			args = append(args, at)
		}
	}
	var rows []TimelineItem
	query := "SELECT " + src.columns(q.RawPrefix) + " FROM " + src.table + " WHERE " + where +
		" ORDER BY " + src.at + " DESC, " + idCol + " DESC LIMIT ?"
	if err := s.db.WithContext(ctx).Raw(query, append(args, limit)...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: timeline %s: %w", src.table, err)
	}
	for i := range rows {
		rows[i].Kind = src.kind
		rows[i].At = rows[i].At.UTC()
	}
	return rows, nil
}

// TimelineItem returns one item by kind and id, for live updates, with at most
// rawPrefix bytes of its raw JSON (all of it when rawPrefix is 0).
func (s *Store) TimelineItem(ctx context.Context, kind string, id int64, rawPrefix int) (TimelineItem, int64, error) {
	for _, src := range timelineSources {
		if src.kind != kind {
			continue
		}
		idCol := "id"
		if kind == ChangeEvent {
			idCol = "seq"
		}
		var rows []struct {
			TimelineItem
			UserKey *int64
		}
		query := "SELECT " + src.columns(rawPrefix) + ", user_key FROM " + src.table + " WHERE " + idCol + " = ?"
		if err := s.db.WithContext(ctx).Raw(query, id).Scan(&rows).Error; err != nil {
			return TimelineItem{}, 0, fmt.Errorf("models: timeline item %s %d: %w", kind, id, err)
		}
		if len(rows) == 0 {
			break
		}
		it := rows[0].TimelineItem
		it.Kind, it.At = kind, it.At.UTC()
		return it, deref64(rows[0].UserKey), nil
	}
	return TimelineItem{}, 0, fmt.Errorf("models: timeline item %s %d: %w", kind, id, ErrNotFound)
}

func compareItems(a, b TimelineItem) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if ra, rb := kindRank[a.Kind], kindRank[b.Kind]; ra != rb {
		return int(ra - rb)
	}
	return int(a.ID - b.ID)
}
