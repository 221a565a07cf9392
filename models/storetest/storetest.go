// Package storetest opens real, migrated stores for tests: a SQLite file in a
// temporary directory, and, when SMILEDASH_TEST_POSTGRES_URL is set, a fresh
// PostgreSQL schema that is dropped afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"gorm.io/gorm"

	"smiledash/models"
)

// PostgresEnv names the variable holding a PostgreSQL URL for tests.
const PostgresEnv = "SMILEDASH_TEST_POSTGRES_URL"

// SQLite opens a migrated store on a new SQLite file.
func SQLite(t testing.TB) *models.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "test.db"))
}

// Postgres opens a migrated store in a new schema, or skips the test when
// SMILEDASH_TEST_POSTGRES_URL is not set.
func Postgres(t testing.TB) *models.Store {
	t.Helper()
	return open(t, PostgresDSN(t))
}

// PostgresDSN creates a new, empty schema and returns the URL that selects it
// (search_path), for a server or store opened on it; the schema is dropped
// after the test. It skips the test when SMILEDASH_TEST_POSTGRES_URL is not set.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", PostgresEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	return schemaURL(t, base, schema)
}

// schemaURL is the PostgreSQL URL base with its search_path set to schema.
func schemaURL(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Each runs f against SQLite and, when configured, PostgreSQL.
func Each(t *testing.T, f func(t *testing.T, s *models.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

func open(t testing.TB, dsn string) *models.Store {
	t.Helper()
	ctx := context.Background()
	s, err := models.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Count runs q's COUNT(*) and fails the test if the query does: a count that
// silently stays 0 would make assertions about it pass or fail for the wrong
// reason.
func Count(t testing.TB, q *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}
