package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadCursor is returned for a page cursor that this code did not make.
var ErrBadCursor = errors.New("models: bad page cursor")

// PageSize bounds every keyset page.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// countCap bounds the counts pages show: past it a page says "10,000+" rather
// than counting millions of rows on every request.
const countCap = 10_000

// Count is a bounded count: N rows, or at least N when AtLeast is set.
type Count struct {
	N       int64
	AtLeast bool
}

func pageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// cursor is the position after the last row of a page, written as dot-separated
// integers so it is opaque to people yet trivially checked.
type cursor []int64

func (c cursor) String() string {
	parts := make([]string, len(c))
	for i, v := range c {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(parts, ".")
}

func parseCursor(s string, n int) (cursor, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ".")
	if len(parts) != n {
		return nil, ErrBadCursor
	}
	c := make(cursor, n)
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, ErrBadCursor
		}
		c[i] = v
	}
	return c, nil
}

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// boundedCount counts the rows of a subquery, stopping at countCap.
func (s *Store) boundedCount(ctx context.Context, from string, args ...any) (Count, error) {
	var n int64
	q := "SELECT COUNT(*) FROM (SELECT 1 " + from + " LIMIT " + strconv.Itoa(countCap+1) + ") bounded"
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&n).Error; err != nil {
		return Count{}, fmt.Errorf("models: count: %w", err)
	}
	if n > countCap {
		return Count{N: countCap, AtLeast: true}, nil
	}
	return Count{N: n}, nil
}

// prefixRange returns bounds matching every string that starts with p, for an
// index range scan (LIKE would not use the index on either database).
func prefixRange(p string) (lo, hi string) { return p, p + "\U0010FFFF" }
