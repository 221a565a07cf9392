package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

func TestCheckWritable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		first := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for _, at := range []time.Time{first, first.Add(time.Second)} {
			if err := s.CheckWritable(ctx, at); err != nil {
				t.Fatalf("CheckWritable: %v", err)
			}
			got, err := s.Setting(ctx, "readiness_probe")
			if err != nil {
				t.Fatal(err)
			}
			if want := at.Format(time.RFC3339Nano); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
	})
}

// TestCheckWritable_ReadOnlyPostgres: a PostgreSQL that only reads (as a
// standby does) answers pings, and CheckWritable is what tells.
func TestCheckWritable_ReadOnlyPostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	rw, err := models.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ro, err := models.Open(ctx, dsn+"&default_transaction_read_only=on")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	err = ro.CheckWritable(ctx, time.Now())
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("got %v, want a read-only transaction error", err)
	}
}
