package models

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// People paste ids into search: a Smile user id, an account id, an event id.
// The indexer splits such an id into words like any other text, and those
// words are often common ones (user-connected-2024 is "user", "connected",
// "2024"; acc-000000-0 is three words found in most events), so matching the
// id as a phrase makes the full-text index read huge position lists: about a
// second at 1,000,000 events. The id columns have their own indexes, so an
// id is looked up there first and the full-text index is only asked when the
// text names no user, account or event.

// Bounds on what is taken for an id: shorter tokens are too likely to be
// ordinary words or numbers, longer ones are not ids Smile issues.
const (
	minIDLen = 6
	maxIDLen = 128
)

// looksLikeID reports whether text, trimmed, could be one id typed whole: a
// single token of minIDLen to maxIDLen characters, without quotes or a prefix
// star, with a digit, a dash or an underscore in it.
func looksLikeID(text string) bool {
	text = strings.TrimSpace(text)
	if len(text) < minIDLen || len(text) > maxIDLen {
		return false
	}
	marked := false
	for _, r := range text {
		switch {
		case unicode.IsSpace(r), r == '"', r == '*', r == 0: // PostgreSQL's text refuses NUL
			return false
		case unicode.IsDigit(r), r == '-', r == '_':
			marked = true
		}
	}
	return marked
}

// idTargets are what an id names; zero fields name nothing.
type idTargets struct {
	userKey int64 // the user whose id it is: that user's documents
	// accountID is an account's id, accountUser the account's user: the
	// account's documents are found among that user's.
	accountID   string
	accountUser int64
	docID       int64 // the document of the event whose id it is
}

func (t idTargets) found() bool { return t.userKey != 0 || t.accountID != "" || t.docID != 0 }

// resolveID looks id up, in one round trip, as a user id (smile_users' unique
// id), an account id (accounts' primary key) and an event id (events' unique
// event_id, then search_docs_source).
func (s *Store) resolveID(ctx context.Context, id string) (idTargets, error) {
	var user, accountUser, event sql.NullInt64
	err := s.db.WithContext(ctx).Raw(`SELECT
		(SELECT user_key FROM smile_users WHERE id = ?),
		(SELECT user_key FROM accounts WHERE id = ?),
		(SELECT d.doc_id FROM events e JOIN search_docs d ON d.kind = ? AND d.source_id = e.seq WHERE e.event_id = ?)`,
		id, id, SearchKindEvent, id).Row().Scan(&user, &accountUser, &event)
	if err != nil {
		return idTargets{}, fmt.Errorf("look up id: %w", err)
	}
	t := idTargets{userKey: user.Int64, accountUser: accountUser.Int64, docID: event.Int64}
	if accountUser.Valid {
		t.accountID = id
	}
	return t, nil
}

// searchByID answers a search whose text is one known id: up to n documents
// of the user, the account or the event it names (all of them, should it name
// several), newest first, below cursor c, with q's filters. found is false
// when the text does not look like an id or names nothing, for the full-text
// index to answer instead. Each part is a keyset range of one index:
// search_docs_user (for an account, its user's range: a user has few
// accounts), which holds the time and the account so that those filters are
// checked without reading each row, or the primary key.
func (s *Store) searchByID(ctx context.Context, q SearchQuery, c cursor, n int) (hits []SearchHit, found bool, err error) {
	if !looksLikeID(q.Text) {
		return nil, false, nil
	}
	t, err := s.resolveID(ctx, strings.TrimSpace(q.Text))
	if err != nil || !t.found() {
		return nil, false, err
	}
	conds, args := searchConds(q, c, "d.doc_id")
	for _, part := range []struct {
		on   bool
		cond string
		args []any
	}{
		{t.userKey != 0, "d.user_key = ?", []any{t.userKey}},
		{t.accountID != "", "d.user_key = ? AND d.account_id = ?", []any{t.accountUser, t.accountID}},
		{t.docID != 0, "d.doc_id = ?", []any{t.docID}},
	} {
		if !part.on {
			continue
		}
		var rows []SearchHit
		err := s.db.WithContext(ctx).Raw(searchSelect+"FROM search_docs d LEFT JOIN smile_users u ON u.user_key = d.user_key "+
			"WHERE "+part.cond+conds+" ORDER BY d.doc_id DESC LIMIT ?", append(append(part.args, args...), n)...).Scan(&rows).Error
		if err != nil {
			return nil, true, fmt.Errorf("documents of id: %w", err)
		}
		hits = append(hits, rows...)
	}
	// An id naming several things (a user whose account shares its id) lists
	// each document once.
	slices.SortFunc(hits, func(a, b SearchHit) int { return cmp.Compare(b.DocID, a.DocID) })
	hits = slices.CompactFunc(hits, func(a, b SearchHit) bool { return a.DocID == b.DocID })
	return hits[:min(len(hits), n)], true, nil
}
