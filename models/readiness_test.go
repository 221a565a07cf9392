package models_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/migrations"
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
	// Readiness tells by reading, on every probe, however recent its last
	// write check.
	err = models.NewReadiness(ro, time.Hour, time.Now).Check(ctx)
	if nr, ok := errors.AsType[*models.NotReadyError](err); !ok || nr.Reason != "database is read-only" {
		t.Errorf("readiness: got %v, want not ready: database is read-only", err)
	}
}

// probeClock is a settable clock for Readiness.
type probeClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *probeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }

func (c *probeClock) set(at time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.at = at }

// probeWrite returns the time the last readiness write stored.
func probeWrite(t *testing.T, s *models.Store) string {
	t.Helper()
	got, err := s.Setting(context.Background(), "readiness_probe")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestReadiness_WritesOncePerInterval: load balancers probe every few seconds
// from several places; only the first probe of each interval writes (on
// SQLite every write queues for the ingest writer's lock), the others read.
func TestReadiness_WritesOncePerInterval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clock := &probeClock{at: t0}
		r := models.NewReadiness(s, 10*time.Second, clock.now)
		for _, after := range []time.Duration{0, time.Second, 5 * time.Second, 9 * time.Second} {
			clock.set(t0.Add(after))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if err := r.Check(ctx); err != nil {
						t.Errorf("probe at +%s: %v", after, err)
					}
				})
			}
			wg.Wait()
			if got, want := probeWrite(t, s), t0.Format(time.RFC3339Nano); got != want {
				t.Fatalf("after probes at +%s: last write %s, want only the first probe's, %s", after, got, want)
			}
		}
		next := t0.Add(10 * time.Second)
		clock.set(next)
		if err := r.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := probeWrite(t, s), next.Format(time.RFC3339Nano); got != want {
			t.Errorf("once the interval passed: last write %s, want %s", got, want)
		}
	})
}

// TestReadiness_CommitFailure: a database that answers reads but refuses
// writes (a full SQLite disk; a trigger stands in for it here) is unready,
// and stays so until the next write check, which notices the repair.
func TestReadiness_CommitFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		refuse := map[migrations.Dialect][]string{
			migrations.SQLite: {`CREATE TRIGGER refuse_probe BEFORE INSERT ON settings
				BEGIN SELECT RAISE(ABORT, 'simulated full disk'); END`},
			migrations.Postgres: {`CREATE FUNCTION refuse_probe() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN RAISE EXCEPTION 'simulated full disk'; END $$`,
				`CREATE TRIGGER refuse_probe BEFORE INSERT ON settings FOR EACH ROW EXECUTE FUNCTION refuse_probe()`},
		}
		repair := map[migrations.Dialect]string{
			migrations.SQLite:   `DROP TRIGGER refuse_probe`,
			migrations.Postgres: `DROP TRIGGER refuse_probe ON settings`,
		}
		for _, q := range refuse[s.Dialect()] {
			if err := s.DB().Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clock := &probeClock{at: t0}
		r := models.NewReadiness(s, 10*time.Second, clock.now)
		wantReason := func(err error, want string) {
			t.Helper()
			nr, ok := errors.AsType[*models.NotReadyError](err)
			if !ok || nr.Reason != want {
				t.Fatalf("got %v, want not ready: %s", err, want)
			}
		}
		wantReason(r.Check(ctx), "database cannot commit")
		if err := s.DB().Exec(repair[s.Dialect()]).Error; err != nil {
			t.Fatal(err)
		}
		clock.set(t0.Add(9 * time.Second))
		wantReason(r.Check(ctx), "database cannot commit")
		clock.set(t0.Add(10 * time.Second))
		if err := r.Check(ctx); err != nil {
			t.Errorf("after the repair and the interval: %v", err)
		}
	})
}

// TestReadiness_Unreachable: a database that refuses connections is unready
// at once, whatever the last write check said.
func TestReadiness_Unreachable(t *testing.T) {
	s, err := models.Open(context.Background(), filepath.Join(t.TempDir(), "ready.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := models.NewReadiness(s, time.Hour, time.Now)
	if err := r.Check(context.Background()); err != nil {
		t.Fatalf("before closing: %v", err)
	}
	s.Close()
	err = r.Check(context.Background())
	if nr, ok := errors.AsType[*models.NotReadyError](err); !ok || nr.Reason != "database unreachable" {
		t.Errorf("got %v, want not ready: database unreachable", err)
	}
}
