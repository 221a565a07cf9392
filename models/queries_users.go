package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// UsersQuery selects a page of the users list, most recently active first.
type UsersQuery struct {
	// Search matches the start of a Smile user id, an account login name, a
	// provider id or an external reference.
	Search string
	// Status and Provider keep users with at least one account matching both.
	Status   string
	Provider string
	// After is the cursor of the previous page's last row ("" for the first page).
	After string
	Limit int
}

// UserRow is one line of the users list.
type UserRow struct {
	SmileUser
	Accounts []Account
	// ExternalRefs are the references of the connect links that made or
	// opened this user.
	ExternalRefs []string
}

// UsersPage is one keyset page of users.
type UsersPage struct {
	Users []UserRow
	// Next is the cursor of the following page, "" on the last.
	Next string
	// Total counts every user the query matches, bounded.
	Total Count
}

// Users lists users by last activity with keyset pagination. The walk uses the
// (last_seen_at, user_key) index backwards: users with events first, then users
// with none yet (made by a connect link), newest first. Filters are probes per
// row on the accounts indexes, so a page costs about Limit index lookups when
// the filter is common.
func (s *Store) Users(ctx context.Context, q UsersQuery) (UsersPage, error) {
	limit := pageSize(q.Limit)
	c, err := parseCursor(q.After, 3)
	if err != nil {
		return UsersPage{}, err
	}
	where, args := q.filters()
	var rows []SmileUser
	if c == nil || c[0] == 1 { // phase 1: users with activity
		keyset := "u.last_seen_at IS NOT NULL"
		kargs := append([]any{}, args...)
		if c != nil {
			// A row value, not an OR: with bound parameters SQLite turns the OR
			// into two index scans and a sort of everything older.
			keyset += " AND (u.last_seen_at, u.user_key) < (?, ?)"
			kargs = append(kargs, fromNanos(c[1]), c[2])
		}
		err := s.db.WithContext(ctx).Raw("SELECT u.* FROM smile_users u WHERE "+keyset+where+
			" ORDER BY u.last_seen_at DESC, u.user_key DESC LIMIT ?", append(kargs, limit+1)...).Scan(&rows).Error
		if err != nil {
			return UsersPage{}, fmt.Errorf("models: list users: %w", err)
		}
	}
	if len(rows) <= limit { // phase 2: users without events
		var after int64 = 1 << 62
		if c != nil && c[0] == 2 {
			after = c[2]
		}
		var more []SmileUser
		err := s.db.WithContext(ctx).Raw("SELECT u.* FROM smile_users u WHERE u.last_seen_at IS NULL AND u.user_key < ?"+where+
			" ORDER BY u.user_key DESC LIMIT ?", append(append([]any{after}, args...), limit+1-len(rows))...).Scan(&more).Error
		if err != nil {
			return UsersPage{}, fmt.Errorf("models: list users without events: %w", err)
		}
		rows = append(rows, more...)
	}
	page := UsersPage{}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		if last.LastSeenAt != nil {
			page.Next = cursor{1, nanos(*last.LastSeenAt), last.UserKey}.String()
		} else {
			page.Next = cursor{2, 0, last.UserKey}.String()
		}
	}
	if page.Users, err = s.withAccounts(ctx, rows); err != nil {
		return UsersPage{}, err
	}
	if page.Total, err = s.boundedCount(ctx, "FROM smile_users u WHERE 1=1"+where, args...); err != nil {
		return UsersPage{}, err
	}
	return page, nil
}

func (q UsersQuery) filters() (string, []any) {
	var b strings.Builder
	var args []any
	if search := strings.TrimSpace(q.Search); search != "" {
		lo, hi := prefixRange(search)
		b.WriteString(" AND (u.id >= ? AND u.id < ? OR u.user_key IN (SELECT user_key FROM accounts" +
			" WHERE login_name >= ? AND login_name < ? OR provider_id >= ? AND provider_id < ?)" +
			" OR u.user_key IN (SELECT user_key FROM connect_links WHERE external_ref >= ? AND external_ref < ?))")
		args = append(args, lo, hi, lo, hi, lo, hi, lo, hi)
	}
	if q.Status != "" || q.Provider != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM accounts a WHERE a.user_key = u.user_key")
		if q.Status != "" {
			b.WriteString(" AND a.status = ?")
			args = append(args, q.Status)
		}
		if q.Provider != "" {
			b.WriteString(" AND a.provider_id = ?")
			args = append(args, q.Provider)
		}
		b.WriteString(")")
	}
	return b.String(), args
}

// withAccounts loads the accounts of a page of users in one query.
func (s *Store) withAccounts(ctx context.Context, users []SmileUser) ([]UserRow, error) {
	out := make([]UserRow, len(users))
	if len(users) == 0 {
		return out, nil
	}
	keys := make([]int64, len(users))
	at := make(map[int64]int, len(users))
	for i, u := range users {
		keys[i], at[u.UserKey] = u.UserKey, i
		out[i].SmileUser = u
	}
	var accounts []Account
	err := s.db.WithContext(ctx).Where("user_key IN ?", keys).Order("first_seen_at, id").Find(&accounts).Error
	if err != nil {
		return nil, fmt.Errorf("models: accounts of users: %w", err)
	}
	for _, a := range accounts {
		i := at[a.UserKey]
		out[i].Accounts = append(out[i].Accounts, a)
	}
	refs, err := s.externalRefs(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		i := at[r.UserKey]
		out[i].ExternalRefs = append(out[i].ExternalRefs, r.ExternalRef)
	}
	return out, nil
}

type userRef struct {
	UserKey     int64
	ExternalRef string
}

// externalRefs returns the distinct connect-link references of some users.
func (s *Store) externalRefs(ctx context.Context, keys []int64) ([]userRef, error) {
	var refs []userRef
	err := s.db.WithContext(ctx).Raw("SELECT DISTINCT user_key, external_ref FROM connect_links WHERE user_key IN ? "+
		"ORDER BY user_key, external_ref", keys).Scan(&refs).Error
	if err != nil {
		return nil, fmt.Errorf("models: external references: %w", err)
	}
	return refs, nil
}

// Providers lists the provider ids seen on accounts, for the users filter. It
// walks the accounts_provider index, skipping from one provider to the next.
func (s *Store) Providers(ctx context.Context) ([]string, error) {
	var out []string
	last := ""
	for len(out) < 200 {
		var next []string
		err := s.db.WithContext(ctx).Raw("SELECT provider_id FROM accounts WHERE provider_id > ? ORDER BY provider_id LIMIT 1", last).
			Scan(&next).Error
		if err != nil {
			return nil, fmt.Errorf("models: providers: %w", err)
		}
		if len(next) == 0 {
			break
		}
		last = next[0]
		out = append(out, last)
	}
	return out, nil
}

// UserByID returns a user by Smile user id. A user the projector has not
// created yet, known only from unresolved events, is a placeholder with only
// the id (see SmileUser.Pending): their just-received webhooks are on view
// before the projector has run.
func (s *Store) UserByID(ctx context.Context, id string) (SmileUser, error) {
	var users []SmileUser
	if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&users).Error; err != nil {
		return SmileUser{}, fmt.Errorf("models: user %s: %w", id, err)
	}
	if len(users) > 0 {
		return users[0], nil
	}
	pending, err := s.hasUnresolved(ctx, id)
	if err != nil {
		return SmileUser{}, err
	}
	if !pending {
		return SmileUser{}, fmt.Errorf("models: user %s: %w", id, ErrNotFound)
	}
	return SmileUser{ID: id}, nil
}

// ActiveUsersSince counts users with an event since t, bounded.
func (s *Store) ActiveUsersSince(ctx context.Context, t time.Time) (Count, error) {
	return s.boundedCount(ctx, "FROM smile_users u WHERE u.last_seen_at >= ?", t)
}
