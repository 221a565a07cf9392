package main

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"smiledash/models"
	"smiledash/models/ingest"
)

// TestBackgroundJobs_StopAwaitsRebuild: a dashboard rebuild used to run on a
// bare goroutine that shutdown neither cancelled nor waited for.
func TestBackgroundJobs_StopAwaitsRebuild(t *testing.T) {
	ctx := context.Background()
	store, err := models.Open(ctx, filepath.Join(t.TempDir(), "bg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var jobs backgroundJobs
	eventLog := ingest.New(store)
	started, finished := make(chan struct{}), atomic.Bool{}
	jobs.run(func() {
		close(started)
		// Rebuild until shutdown refuses: a job still running when stop is called.
		for {
			if _, err := eventLog.Reproject(ctx); errors.Is(err, ingest.ErrRebuildsStopped) {
				finished.Store(true)
				return
			}
		}
	})
	<-started
	if err := jobs.stop(ctx, eventLog); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("stop returned before the rebuild job ended")
	}
}
