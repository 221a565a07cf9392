package migrations_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"smiledash/migrations"
)

// TestUpTwice applies every migration to an empty database, then again: the
// second run must apply nothing and leave nothing pending.
func TestUpTwice(t *testing.T) {
	ctx := context.Background()
	dbs := map[migrations.Dialect]func(t *testing.T) *sql.DB{
		migrations.SQLite: func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "m.db")+"?_foreign_keys=on")
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		migrations.Postgres: postgresSchema,
	}
	for dialect, open := range dbs {
		t.Run(string(dialect), func(t *testing.T) {
			db := open(t)
			defer db.Close()
			m, err := migrations.New(db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			first, err := m.Up(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if first == 0 {
				t.Fatal("applied no migrations to an empty database")
			}
			second, err := m.Up(ctx)
			if err != nil || second != 0 {
				t.Fatalf("second run: applied %d, err %v; want 0, nil", second, err)
			}
			pending, err := m.Pending(ctx)
			if err != nil || pending {
				t.Fatalf("got pending=%v err=%v, want nothing pending", pending, err)
			}
			status, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range status {
				if !s.Applied {
					t.Errorf("%s not applied", s.Name)
				}
			}
		})
	}
}

// TestDialectsHaveTheSameMigrations keeps the SQLite and PostgreSQL histories in step.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, pg := names("sqlite"), names("postgres")
	if len(sqlite) != len(pg) {
		t.Fatalf("sqlite has %v, postgres has %v", sqlite, pg)
	}
	for i := range sqlite {
		if sqlite[i] != pg[i] {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, sqlite[i], pg[i])
		}
	}
}

func postgresSchema(t *testing.T) *sql.DB {
	url := os.Getenv("SMILEDASH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set SMILEDASH_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them")
	}
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "mig_" + hex.EncodeToString(b[:])
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
