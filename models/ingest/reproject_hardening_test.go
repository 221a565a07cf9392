package ingest_test

import (
	"context"
	"errors"
	"testing"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// TestReproject_WriterNeverUsesStaleCache: the rebuild used to bump the
// projection generation only after its commit, so a batch the writer began in
// between projected onto its cache of before the rebuild. The log is edited
// behind the writer's back so the rebuilt rows differ from its cache, and the
// next event arrives right after the rebuild commits.
func TestReproject_WriterNeverUsesStaleCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		eventLog := ingest.New(s)
		in := storetest.Writer(t, s)
		bodies := storetest.SyntheticHistory(1)
		last := bodies[len(bodies)-1] // ACCOUNT_DISCONNECTED
		for _, b := range bodies[:len(bodies)-1] {
			storetest.Submit(t, in, b)
		}
		removed := storetest.Incoming(t, bodies[5]).Envelope.ID // INCOMES_ADDED
		if err := s.DB().Exec("DELETE FROM events WHERE event_id = ?", removed).Error; err != nil {
			t.Fatal(err)
		}
		ingest.SetRebuildHook(eventLog, func(_ context.Context, stage string) {
			if stage == ingest.AfterRebuildCommit {
				storetest.Submit(t, in, last)
			}
		})
		if _, err := eventLog.Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := storetest.DumpProjections(t, s)
		ingest.SetRebuildHook(eventLog, func(context.Context, string) {})
		if _, err := eventLog.Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		if want := storetest.DumpProjections(t, s); got != want {
			t.Errorf("the batch after the rebuild used rows of before it:\n--- got\n%s\n--- want\n%s", got, want)
		}
	})
}

// TestStopRebuilds_CancelsAndWaits: shutdown used to abandon a dashboard
// rebuild mid-flight. Now it is cancelled, rolls back, and StopRebuilds
// returns once it has.
func TestStopRebuilds_CancelsAndWaits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		eventLog := ingest.New(s)
		in := storetest.Writer(t, s)
		for _, b := range storetest.SyntheticHistory(2) {
			storetest.Submit(t, in, b)
		}
		if err := s.DB().Exec("UPDATE accounts SET login_name = 'edited'").Error; err != nil {
			t.Fatal(err)
		}
		locked := make(chan struct{})
		ingest.SetRebuildHook(eventLog, func(ctx context.Context, stage string) {
			if stage == ingest.RebuildLocked {
				close(locked)
				<-ctx.Done()
			}
		})
		rebuilt := make(chan error, 1)
		go func() { _, err := eventLog.Reproject(context.Background()); rebuilt <- err }()
		<-locked
		if err := eventLog.StopRebuilds(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-rebuilt; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v from the stopped rebuild, want context.Canceled", err)
		}
		edited := storetest.Count(t, s.DB().Model(&models.Account{}).Where("login_name = ?", "edited"))
		if edited != 2 {
			t.Errorf("got %d accounts as before the rebuild, want 2: a stopped rebuild changes nothing", edited)
		}
		// The writer is free again, and no new rebuild starts.
		storetest.Submit(t, in, []byte(`{"id":"et-after-stop","version":1,"type":"USER_CREATED","createdAt":"2026-06-01T00:00:00Z","data":{"userId":"u-after"}}`))
		if _, err := eventLog.Reproject(context.Background()); !errors.Is(err, ingest.ErrRebuildsStopped) {
			t.Errorf("got %v, want ErrRebuildsStopped", err)
		}
	})
}
