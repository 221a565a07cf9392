package storetest

import (
	"context"
	"os"
	"testing"

	"smiledash/migrations"
	"smiledash/models"
)

// Replica opens a second store on s's database, as another replica of the
// service (PostgreSQL) or a command run beside the server (SQLite) would: its
// own connections, the same tables. It is closed after the test. On
// PostgreSQL it skips the test when SMILEDASH_TEST_POSTGRES_URL is not set.
func Replica(t testing.TB, s *models.Store) *models.Store {
	t.Helper()
	if s.Dialect() != migrations.Postgres {
		return open(t, sqliteFile(t, s))
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to run them", PostgresEnv)
	}
	var schema string
	if err := s.DB().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatalf("replica: read the schema: %v", err)
	}
	r, err := models.Open(context.Background(), schemaURL(t, base, schema))
	if err != nil {
		t.Fatalf("replica: open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// sqliteFile is the file of s's main database.
func sqliteFile(t testing.TB, s *models.Store) string {
	t.Helper()
	var files []struct {
		Name string `gorm:"column:name"`
		File string `gorm:"column:file"`
	}
	if err := s.DB().Raw("PRAGMA database_list").Scan(&files).Error; err != nil {
		t.Fatalf("replica: list databases: %v", err)
	}
	for _, f := range files {
		if f.Name == "main" {
			return f.File
		}
	}
	t.Fatal("replica: no main database")
	return ""
}
