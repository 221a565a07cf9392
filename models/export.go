package models

import "context"

// AuditExported is the audit action of an export (issue 11: exports are
// admin actions worth a record).
const AuditExported = "exported"

// Exports walk a list's keyset pages of MaxPageSize rows and hand each row to
// a callback, so memory stays that of one page however many rows match, and a
// slow reader only slows the walk down. The filter is the list page's own, so
// an export holds exactly what the page would show, in the same order. A
// callback error (a client gone away) stops the walk and is returned.

// eachRow calls fn for every row of the pages fetch returns, following each
// page's cursor until one has none.
func eachRow[T any](fetch func(cursor string) ([]T, string, error), fn func(T) error) error {
	next := ""
	for {
		rows, cur, err := fetch(next)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if cur == "" {
			return nil
		}
		next = cur
	}
}

// EachEvent calls fn for every event q selects, newest first.
func (s *Store) EachEvent(ctx context.Context, q EventsQuery, fn func(EventRow) error) error {
	q.Limit = MaxPageSize
	return eachRow(func(c string) ([]EventRow, string, error) {
		if c != "" {
			q.Before = c
		}
		p, err := s.Events(ctx, q)
		return p.Events, p.Next, err
	}, fn)
}

// EachUser calls fn for every user q selects, most recently active first.
func (s *Store) EachUser(ctx context.Context, q UsersQuery, fn func(UserRow) error) error {
	q.Limit = MaxPageSize
	return eachRow(func(c string) ([]UserRow, string, error) {
		if c != "" {
			q.After = c
		}
		p, err := s.Users(ctx, q)
		return p.Users, p.Next, err
	}, fn)
}

// EachTimelineItem calls fn for every item of a user's timeline q selects,
// newest first.
func (s *Store) EachTimelineItem(ctx context.Context, q TimelineQuery, fn func(TimelineItem) error) error {
	q.Limit = MaxPageSize
	return eachRow(func(c string) ([]TimelineItem, string, error) {
		if c != "" {
			q.Before = c
		}
		p, err := s.Timeline(ctx, q)
		return p.Items, p.Next, err
	}, fn)
}

// EachSearchHit calls fn for every hit of a search, newest indexed first.
func (s *Store) EachSearchHit(ctx context.Context, q SearchQuery, fn func(SearchHit) error) error {
	q.Limit = MaxPageSize
	return eachRow(func(c string) ([]SearchHit, string, error) {
		if c != "" {
			q.Before = c
		}
		p, err := s.Search(ctx, q)
		return p.Hits, p.Next, err
	}, fn)
}
