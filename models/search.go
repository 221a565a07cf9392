package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"smiledash/migrations"
)

// ErrEmptySearch is returned for a search with no words in it.
var ErrEmptySearch = errors.New("models: nothing to search for")

// SearchQuery is a full-text search with optional filters, all combined.
type SearchQuery struct {
	// Text is what a person typed: words, "quoted phrases", a trailing * for
	// a prefix. Every term must match.
	Text string
	// Kind keeps only events or only callbacks; empty keeps both.
	Kind string
	// Type is an event type or a callback name.
	Type      string
	UserKey   int64 // 0 for any user; -1 matches nothing
	AccountID string
	Provider  string // the account's provider, as projected
	// From and To bound the event's createdAt or the callback's arrival.
	From, To time.Time
	Before   string // cursor: the previous page's Next
	Limit    int
}

// SearchHit is one matching event or callback.
type SearchHit struct {
	DocID     int64
	Kind      string // SearchKindEvent or SearchKindCallback
	SourceID  int64  // events.seq or callbacks.id
	Type      string
	UserKey   *int64
	UserID    string
	AccountID string
	At        time.Time
	// Snippet is the payload's words around the first match.
	Snippet string
}

// SearchPage is one keyset page of hits, most recently indexed first.
type SearchPage struct {
	Hits []SearchHit
	Next string
}

// searchSelect reads search documents with their user's Smile id.
const searchSelect = "SELECT d.doc_id, d.kind, d.source_id, d.type, d.user_key, u.id AS user_id, d.account_id, d.at "

// Search finds indexed events and callbacks whose payload has every term of
// q.Text, newest indexed first, keyset-paged by document id. Text that looks
// like one id and names a known user, account or event lists that user's,
// account's or event's documents instead, through their indexes (see
// searchByID); anything else goes to the full-text index (FTS4 on SQLite, a
// GIN index on PostgreSQL). The filters are checked on each match.
func (s *Store) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	terms := parseSearch(q.Text)
	if len(terms) == 0 {
		return SearchPage{}, ErrEmptySearch
	}
	limit := pageSize(q.Limit)
	c, err := parseCursor(q.Before, 1)
	if err != nil {
		return SearchPage{}, err
	}
	hits, found, err := s.searchByID(ctx, q, c, limit+1)
	if err == nil && !found {
		hits, err = s.searchText(ctx, q, terms, c, limit+1)
	}
	if err != nil {
		return SearchPage{}, fmt.Errorf("models: search %q: %w", q.Text, err)
	}
	page := SearchPage{Hits: hits}
	if len(hits) > limit {
		page.Hits = hits[:limit]
		page.Next = cursor{hits[limit-1].DocID}.String()
	}
	if err := s.fillSnippets(ctx, page.Hits, terms); err != nil {
		return SearchPage{}, err
	}
	return page, nil
}

// searchText reads up to n documents matching every term in the full-text
// index, newest first, below cursor c.
func (s *Store) searchText(ctx context.Context, q SearchQuery, terms []searchTerm, c cursor, n int) ([]SearchHit, error) {
	// The user's and account's filter words narrow the full-text match; the
	// snippets look for the typed terms only.
	matched := terms
	for _, w := range filterWords(max(q.UserKey, 0), q.AccountID) {
		matched = append(matched[:len(matched):len(matched)], searchTerm{Words: []string{w}})
	}
	var query string
	var args []any
	idCol := "d.doc_id"
	if s.dialect == migrations.Postgres {
		query = searchSelect + "FROM search_docs d LEFT JOIN smile_users u ON u.user_key = d.user_key " +
			"WHERE d.words @@ ?::tsquery"
		args = append(args, tsqueryLiteral(matched))
	} else {
		// CROSS JOIN keeps the full-text index as the outer loop.
		query = searchSelect + "FROM search_text t CROSS JOIN search_docs d LEFT JOIN smile_users u ON u.user_key = d.user_key " +
			"WHERE search_text MATCH ? AND d.doc_id = t.docid"
		args = append(args, ftsMatch(matched))
		idCol = "t.docid" // lets FTS4 walk its doclist backwards from the cursor
	}
	conds, condArgs := searchConds(q, c, idCol)
	var hits []SearchHit
	err := s.db.WithContext(ctx).Raw(query+conds+" ORDER BY "+idCol+" DESC LIMIT ?", append(append(args, condArgs...), n)...).Scan(&hits).Error
	return hits, err
}

// searchConds are q's filters and the cursor as " AND ..." conditions on the
// documents d, whose id column is idCol.
func searchConds(q SearchQuery, c cursor, idCol string) (string, []any) {
	var conds strings.Builder
	var args []any
	for _, f := range []struct {
		on   bool
		cond string
		arg  any
	}{
		{c != nil, idCol + " < ?", cursorArg(c)},
		{q.Kind != "", "d.kind = ?", q.Kind},
		{q.Type != "", "d.type = ?", q.Type},
		{q.UserKey != 0, "d.user_key = ?", q.UserKey},
		{q.AccountID != "", "d.account_id = ?", q.AccountID},
		{q.Provider != "", "EXISTS (SELECT 1 FROM accounts a WHERE a.id = d.account_id AND a.provider_id = ?)", q.Provider},
		{!q.From.IsZero(), "d.at >= ?", q.From.UTC()},
		{!q.To.IsZero(), "d.at < ?", q.To.UTC()},
	} {
		if f.on {
			conds.WriteString(" AND " + f.cond)
			args = append(args, f.arg)
		}
	}
	return conds.String(), args
}

func cursorArg(c cursor) any {
	if c == nil {
		return nil
	}
	return c[0]
}

// fillSnippets reads the payloads of one page of hits (at most MaxPageSize of
// each kind, by primary key) and cuts a snippet around the first match.
func (s *Store) fillSnippets(ctx context.Context, hits []SearchHit, terms []searchTerm) error {
	ids := map[string][]int64{}
	for _, h := range hits {
		ids[h.Kind] = append(ids[h.Kind], h.SourceID)
	}
	bodies := map[string]map[int64][]byte{}
	for kind, list := range ids {
		q := "SELECT seq AS id, body FROM events WHERE seq IN ?"
		if kind == SearchKindCallback {
			q = "SELECT id, args AS body FROM callbacks WHERE id IN ?"
		}
		var rows []struct {
			ID   int64
			Body []byte
		}
		if err := s.db.WithContext(ctx).Raw(q, list).Scan(&rows).Error; err != nil {
			return fmt.Errorf("models: search snippets: %w", err)
		}
		bodies[kind] = make(map[int64][]byte, len(rows))
		for _, r := range rows {
			bodies[kind][r.ID] = r.Body
		}
	}
	for i := range hits {
		h := &hits[i]
		h.Snippet = snippetAround(searchWords(bodies[h.Kind][h.SourceID]), terms, 160)
	}
	return nil
}

// SearchKinds are the kinds of documents a search can be narrowed to.
var SearchKinds = []string{SearchKindEvent, SearchKindCallback}

// HasSearchWords reports whether text has anything Search can look for.
func HasSearchWords(text string) bool { return len(parseSearch(text)) > 0 }
