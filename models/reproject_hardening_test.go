package models_test

import (
	"context"
	"errors"
	"testing"

	"smiledash/models"
	"smiledash/models/storetest"
)

// TestReproject_WriterNeverUsesStaleCache: the rebuild used to bump the
// projection generation only after its commit, so a batch the writer began in
// between projected onto its cache of before the rebuild. The log is edited
// behind the writer's back so the rebuilt rows differ from its cache, and the
// next event arrives right after the rebuild commits.
func TestReproject_WriterNeverUsesStaleCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := newIngester(t, s)
		bodies := syntheticHistory(1)
		last := bodies[len(bodies)-1] // ACCOUNT_DISCONNECTED
		for _, b := range bodies[:len(bodies)-1] {
			submit(t, in, b)
		}
		removed := incoming(t, bodies[5]).Envelope.ID // INCOMES_ADDED
		if err := s.DB().Exec("DELETE FROM events WHERE event_id = ?", removed).Error; err != nil {
			t.Fatal(err)
		}
		models.SetRebuildHook(s, func(_ context.Context, stage string) {
			if stage == models.AfterRebuildCommit {
				submit(t, in, last)
			}
		})
		if _, err := s.Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := dumpProjections(t, s)
		models.SetRebuildHook(s, func(context.Context, string) {})
		if _, err := s.Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		if want := dumpProjections(t, s); got != want {
			t.Errorf("the batch after the rebuild used rows of before it:\n--- got\n%s\n--- want\n%s", got, want)
		}
	})
}

// TestStopRebuilds_CancelsAndWaits: shutdown used to abandon a dashboard
// rebuild mid-flight. Now it is cancelled, rolls back, and StopRebuilds
// returns once it has.
func TestStopRebuilds_CancelsAndWaits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := newIngester(t, s)
		for _, b := range syntheticHistory(2) {
			submit(t, in, b)
		}
		if err := s.DB().Exec("UPDATE accounts SET login_name = 'edited'").Error; err != nil {
			t.Fatal(err)
		}
		locked := make(chan struct{})
		models.SetRebuildHook(s, func(ctx context.Context, stage string) {
			if stage == models.RebuildLocked {
				close(locked)
				<-ctx.Done()
			}
		})
		rebuilt := make(chan error, 1)
		go func() { _, err := s.Reproject(context.Background()); rebuilt <- err }()
		<-locked
		if err := s.StopRebuilds(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-rebuilt; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v from the stopped rebuild, want context.Canceled", err)
		}
		var edited int64
		s.DB().Model(&models.Account{}).Where("login_name = ?", "edited").Count(&edited)
		if edited != 2 {
			t.Errorf("got %d accounts as before the rebuild, want 2: a stopped rebuild changes nothing", edited)
		}
		// The writer is free again, and no new rebuild starts.
		submit(t, in, []byte(`{"id":"et-after-stop","version":1,"type":"USER_CREATED","createdAt":"2026-06-01T00:00:00Z","data":{"userId":"u-after"}}`))
		if _, err := s.Reproject(context.Background()); !errors.Is(err, models.ErrRebuildsStopped) {
			t.Errorf("got %v, want ErrRebuildsStopped", err)
		}
	})
}
