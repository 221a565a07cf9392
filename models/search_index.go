package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"smiledash/migrations"
)

// Search documents come from two sources, each followed by its own position.
const (
	searchSourceEvents    = "events"
	searchSourceCallbacks = "callbacks"
)

// Kinds of search documents, the same names timelines use.
const (
	SearchKindEvent    = ChangeEvent
	SearchKindCallback = ChangeCallback
)

// searchGapGrace is how long the PostgreSQL indexer waits for a missing
// sequence number before passing it by. Concurrent transactions commit out of
// order there, so a row may appear below the position after a later one is
// visible; sequence numbers are also burnt by duplicates (ON CONFLICT DO
// NOTHING) and rollbacks, and those never appear. SQLite has one writer and
// assigns numbers at commit order, so it never waits.
const searchGapGrace = 10 * time.Second

// searchSourceRow is one event or callback read for indexing.
type searchSourceRow struct {
	ID      int64
	Type    string
	UserKey *int64
	// PendingUser is an unresolved event's Smile user id (UnresolvedOf).
	PendingUser string
	AccountID   string
	At          time.Time
	ReceivedAt  time.Time
	Body        []byte
}

// words are what the row is indexed under: its payload's words, then the
// filter words of its user and account (see filterWords).
func (r searchSourceRow) words() []string {
	var key int64
	if r.UserKey != nil {
		key = *r.UserKey
	}
	return append(searchWords(r.Body), filterWords(key, r.AccountID)...)
}

// searchSources are the two logs the indexer follows.
var searchSources = []struct{ name, kind, query string }{
	{searchSourceEvents, SearchKindEvent,
		"SELECT seq AS id, type, user_key, pending_user, account_id, created_at AS at, received_at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?"},
	{searchSourceCallbacks, SearchKindCallback,
		"SELECT id, name AS type, user_key, '' AS pending_user, account_id, received_at AS at, received_at, args AS body FROM callbacks WHERE id > ? ORDER BY id LIMIT ?"},
}

// IndexSearch indexes up to batch new events and batch new callbacks, each
// source in its own transaction that also moves that source's position, so a
// crash between batches neither loses nor repeats anything. It returns how many
// documents it indexed; fewer than 2×batch means it has caught up.
func (s *Store) IndexSearch(ctx context.Context, batch int) (int, error) {
	total := 0
	for _, src := range searchSources {
		n, err := s.indexSearchSource(ctx, src.name, src.kind, src.query, batch)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (s *Store) indexSearchSource(ctx context.Context, source, kind, query string, batch int) (int, error) {
	indexed := 0
	// The writer handle: on SQLite its single connection takes turns with the
	// appends and the projector, where a transaction of its own would wait
	// for SQLite's write lock in busy-timeout sleeps and make the appends
	// wait in turn (ingest fell from 3,200-3,500 to 2,500 events/s, p99 from
	// 55 to 168 ms). On PostgreSQL it is the shared pool.
	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// FOR UPDATE makes a second replica's indexer wait here and then see
		// the position this one committed. On SQLite the writer connection
		// serialises indexers the same way.
		lock := ""
		if s.dialect == migrations.Postgres {
			lock = " FOR UPDATE"
		}
		var pos int64
		if err := tx.Raw("SELECT position FROM search_positions WHERE source = ?"+lock, source).Row().Scan(&pos); err != nil {
			return fmt.Errorf("search position of %s: %w", source, err)
		}
		var rows []searchSourceRow
		if err := tx.Raw(query, pos, batch).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read %s after %d: %w", source, pos, err)
		}
		rows = resolvedPrefix(s.contiguous(rows, pos, time.Now()))
		if len(rows) == 0 {
			return nil
		}
		if err := s.insertSearchDocs(ctx, tx, kind, rows); err != nil {
			return err
		}
		last := rows[len(rows)-1].ID
		if err := tx.Exec("UPDATE search_positions SET position = ? WHERE source = ?", last, source).Error; err != nil {
			return fmt.Errorf("move search position of %s: %w", source, err)
		}
		indexed = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("models: index %s for search: %w", source, err)
	}
	return indexed, nil
}

// contiguous cuts rows at the first recent gap in the sequence on PostgreSQL
// (see searchGapGrace).
func (s *Store) contiguous(rows []searchSourceRow, pos int64, now time.Time) []searchSourceRow {
	if s.dialect != migrations.Postgres {
		return rows
	}
	want := pos + 1
	for i, r := range rows {
		if r.ID != want && now.Sub(r.ReceivedAt) < searchGapGrace {
			return rows[:i]
		}
		want = r.ID + 1
	}
	return rows
}

// resolvedPrefix cuts rows just before the first event whose user the
// projector has not resolved yet: a document copies the event's user_key when
// it is indexed, so that event's would have no user for ever. The position
// stays before it, and a later pass indexes it once the projector has set its
// key.
func resolvedPrefix(rows []searchSourceRow) []searchSourceRow {
	for i, r := range rows {
		if r.UserKey == nil && r.PendingUser != "" {
			return rows[:i]
		}
	}
	return rows
}

func (s *Store) insertSearchDocs(ctx context.Context, tx *gorm.DB, kind string, rows []searchSourceRow) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("search index: not in a transaction")
	}
	if s.dialect == migrations.Postgres {
		st, err := sqlTx.PrepareContext(ctx, "INSERT INTO search_docs (kind, source_id, type, user_key, account_id, at, words) "+
			"VALUES ($1, $2, $3, $4, $5, $6, $7::tsvector)")
		if err != nil {
			return fmt.Errorf("prepare search insert: %w", err)
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, kind, r.ID, r.Type, r.UserKey, r.AccountID, r.At.UTC(), tsvectorLiteral(r.words())); err != nil {
				return fmt.Errorf("index %s %d: %w", kind, r.ID, err)
			}
		}
		return nil
	}
	doc, err := sqlTx.PrepareContext(ctx, "INSERT INTO search_docs (kind, source_id, type, user_key, account_id, at) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("prepare search insert: %w", err)
	}
	defer doc.Close()
	text, err := sqlTx.PrepareContext(ctx, "INSERT INTO search_text (docid, body) VALUES (?, ?)")
	if err != nil {
		return fmt.Errorf("prepare search text insert: %w", err)
	}
	defer text.Close()
	for _, r := range rows {
		res, err := doc.ExecContext(ctx, kind, r.ID, r.Type, r.UserKey, r.AccountID, r.At.UTC())
		if err != nil {
			return fmt.Errorf("index %s %d: %w", kind, r.ID, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("index %s %d: %w", kind, r.ID, err)
		}
		if _, err := text.ExecContext(ctx, id, joinWords(r.words())); err != nil {
			return fmt.Errorf("index text of %s %d: %w", kind, r.ID, err)
		}
	}
	return nil
}

func joinWords(words []string) string {
	n := 0
	for _, w := range words {
		n += len(w) + 1
	}
	b := make([]byte, 0, n)
	for i, w := range words {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return string(b)
}

// SearchLag is how many events and callbacks the search index has not reached
// yet, counted up to countCap.
func (s *Store) SearchLag(ctx context.Context) (Count, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE seq > (SELECT position FROM search_positions WHERE source = 'events') LIMIT ?) e) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM callbacks WHERE id > (SELECT position FROM search_positions WHERE source = 'callbacks') LIMIT ?) c)`,
		countCap+1, countCap+1).Row().Scan(&n)
	if err != nil {
		return Count{}, fmt.Errorf("models: search index lag: %w", err)
	}
	if n > countCap {
		return Count{N: countCap, AtLeast: true}, nil
	}
	return Count{N: n}, nil
}

// SearchIndexerOptions tunes RunSearchIndexer.
type SearchIndexerOptions struct {
	Logger *slog.Logger
	// Batch is how many rows of each source one transaction indexes (default
	// 500 on PostgreSQL, 200 on SQLite, where appends wait for the writer
	// connection while a batch holds it: 200 documents take about 15 ms).
	Batch int
	// Poll is how often an idle indexer looks for rows other replicas stored
	// (default 2s); rows this process stores wake it at once.
	Poll time.Duration
	// Gather is how long a woken indexer lets rows gather before indexing
	// (default 100 ms): indexing after every small append took the writer as
	// often as the appends did, for a few rows each time.
	Gather time.Duration
	// Busy, if set, tells whether webhooks are being appended; while they
	// are, the indexer takes at most one batch per Yield, so a burst is
	// acknowledged first and indexed behind it. serve sets it to the
	// ingester's Busy.
	Busy func() bool
	// Yield is how long the indexer waits before each batch while Busy
	// (default 1 s).
	Yield time.Duration
}

// RunSearchIndexer keeps the search index following the event log and the
// callbacks until ctx ends. Errors are logged and retried after a pause: the
// index is a projection and can always catch up.
func (s *Store) RunSearchIndexer(ctx context.Context, opt SearchIndexerOptions) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
		if s.dialect == migrations.SQLite {
			opt.Batch = 200
		}
	}
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	if opt.Gather <= 0 {
		opt.Gather = 100 * time.Millisecond
	}
	if opt.Yield <= 0 {
		opt.Yield = time.Second
	}
	wake := make(chan struct{}, 1)
	cancel := s.changes.Subscribe(func(c Change) {
		if c.Kind == ChangeEvent || c.Kind == ChangeCallback {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	})
	defer cancel()
	ticker := time.NewTicker(opt.Poll)
	defer ticker.Stop()
	for {
		if opt.Busy != nil && opt.Busy() && !sleep(ctx, opt.Yield) {
			return
		}
		s.YieldToPoolWrites(ctx)
		n, err := s.IndexSearch(ctx, opt.Batch)
		if err != nil && ctx.Err() == nil {
			opt.Logger.Error("Search indexing failed", slog.Any("error", err))
		}
		if err == nil && n > 0 {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			if !sleep(ctx, opt.Gather) {
				return
			}
		case <-ticker.C:
		}
	}
}
