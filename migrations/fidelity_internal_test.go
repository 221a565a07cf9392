package migrations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
)

// TestSmileFidelityConvertsStoredRows fills the projections with the words
// used before migration 00007 (CREATED/FAILED accounts, ACCOUNT_SYNC tasks,
// CREATED records, STARTED verifications), applies it, and requires Smile's
// words, the lifecycle ranks, the future-date flag and merged sync tasks.
func TestSmileFidelityConvertsStoredRows(t *testing.T) {
	ctx := context.Background()
	dbs := map[Dialect]func(t *testing.T) *sql.DB{
		SQLite: func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "m.db")+"?_foreign_keys=on")
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		Postgres: pgSchemaForFidelity,
	}
	for dialect, open := range dbs {
		t.Run(string(dialect), func(t *testing.T) {
			db := open(t)
			defer db.Close()
			m, err := New(db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.provider.UpTo(ctx, 6); err != nil {
				t.Fatal(err)
			}
			rebind := func(q string) string {
				if dialect != Postgres {
					return q
				}
				for i := 1; strings.Contains(q, "?"); i++ {
					q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
				}
				return q
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, rebind(q), args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO smile_users (user_key, id, session_status) VALUES (1, 'u-1', 'COMPLETED')`)
			at := "2026-05-01 00:00:00+00:00"
			later := "2026-05-02 00:00:00+00:00"
			for _, a := range [][2]string{{"a-created", "CREATED"}, {"a-failed", "FAILED"}, {"a-connected", "CONNECTED"}, {"a-gone", "DISCONNECTED"}} {
				exec(`INSERT INTO accounts (id, user_key, status, first_seen_at, last_seen_at) VALUES (?, 1, ?, ?, ?)`, a[0], a[1], at, at)
			}
			exec(`INSERT INTO archives (id, user_key, status, first_seen_at, last_seen_at) VALUES ('ar-1', 1, 'FAILED', ?, ?)`, at, at)
			exec(`INSERT INTO records (id, status, first_seen_at) VALUES ('ss-1', 'CREATED', ?)`, at)
			exec(`INSERT INTO verifications (id, status, first_seen_at) VALUES ('ver-1', 'STARTED', ?)`, at)
			// a-connected has only a sync row; a-gone has both an UPDATE_ACCOUNT row and a later sync.
			exec(`INSERT INTO tasks (source_id, task_type, user_key, status, status_at, status_event_id, runs, finished_at) VALUES ('a-connected', 'ACCOUNT_SYNC', 1, 'SUCCEEDED', ?, 'e1', 2, ?)`, at, at)
			exec(`INSERT INTO tasks (source_id, task_type, user_key, status, status_at, status_event_id, runs, finished_at) VALUES ('a-gone', 'UPDATE_ACCOUNT', 1, 'STARTED', ?, 'e2', 1, ?)`, at, at)
			exec(`INSERT INTO tasks (source_id, task_type, user_key, status, status_at, status_event_id, runs, finished_at) VALUES ('a-gone', 'ACCOUNT_SYNC', 1, 'FAILED', ?, 'e3', 3, ?)`, later, later)
			exec(`INSERT INTO events (event_id, type, created_at, received_at, source_ip, secret_index, body) VALUES ('ev-ok', 'USER_CREATED', ?, ?, '', 0, ?)`, at, at, []byte("{}"))
			exec(`INSERT INTO events (event_id, type, created_at, received_at, source_ip, secret_index, body) VALUES ('ev-future', 'USER_CREATED', ?, ?, '', 0, ?)`, "2026-07-01 00:00:00+00:00", at, []byte("{}"))

			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			query := func(q string) string {
				t.Helper()
				rows, err := db.QueryContext(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				defer rows.Close()
				var out []string
				for rows.Next() {
					var a, b, c string
					if err := rows.Scan(&a, &b, &c); err != nil {
						t.Fatal(err)
					}
					out = append(out, a+" "+b+" "+c)
				}
				return strings.Join(out, "; ")
			}
			for q, want := range map[string]string{
				`SELECT id, status, CAST(status_rank AS TEXT) FROM accounts ORDER BY id`:                                                                        "a-connected CONNECTED 3; a-created PENDING 1; a-failed ERROR 3; a-gone DISCONNECTED 4",
				`SELECT id, status, CAST(status_rank AS TEXT) FROM archives`:                                                                                    "ar-1 ERROR 2",
				`SELECT id, status, CAST(status_rank AS TEXT) FROM records`:                                                                                     "ss-1 PROCESSING 1",
				`SELECT id, status, CAST(status_rank AS TEXT) FROM verifications`:                                                                               "ver-1 PROCESSING 1",
				`SELECT id, session_status, CAST(session_rank AS TEXT) FROM smile_users`:                                                                        "u-1 COMPLETED 2",
				`SELECT source_id || ' ' || task_type, status || ' ' || CAST(status_rank AS TEXT), CAST(runs AS TEXT) FROM tasks ORDER BY source_id, task_type`: "a-connected UPDATE_ACCOUNT SUCCEEDED 2 2; a-gone UPDATE_ACCOUNT FAILED 2 4",
				`SELECT event_id, flags, type FROM events ORDER BY event_id`:                                                                                    "ev-future created_at_future USER_CREATED; ev-ok  USER_CREATED",
			} {
				if got := query(q); got != want {
					t.Errorf("%s:\n got %s\nwant %s", q, got, want)
				}
			}
		})
	}
}

// pgSchemaForFidelity opens a fresh PostgreSQL schema, or skips.
func pgSchemaForFidelity(t *testing.T) *sql.DB {
	t.Helper()
	url := os.Getenv("SMILEDASH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set SMILEDASH_TEST_POSTGRES_URL to run them")
	}
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "fid_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA "` + schema + `"`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA "` + schema + `" CASCADE`) })
	db, err := sql.Open("pgx", url+"&search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
