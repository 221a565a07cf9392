package storetest

import (
	"context"
	"os"
	"testing"

	"smiledash/models"
)

// Replica opens a second store on s's PostgreSQL schema, as another replica
// of the service would: its own connections, the same tables. It is closed
// after the test. It skips the test when SMILEDASH_TEST_POSTGRES_URL is not
// set.
func Replica(t testing.TB, s *models.Store) *models.Store {
	t.Helper()
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
