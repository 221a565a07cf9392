package main

import (
	"context"
	"fmt"
	"smiledash/models/ingest"
	"sync"
)

// backgroundJobs runs long admin jobs (a rebuild started from the dashboard) on
// their own goroutines and lets shutdown wait for them, so none is abandoned
// mid-flight with the process exiting.
type backgroundJobs struct{ running sync.WaitGroup }

// run is handlers.PagesDeps.Background.
func (j *backgroundJobs) run(job func()) { j.running.Go(job) }

// stop cancels running rebuilds, which roll back and change nothing, then waits
// for every job to return, or for ctx to end. Calling it again is harmless.
func (j *backgroundJobs) stop(ctx context.Context, eventLog *ingest.Log) error {
	if err := eventLog.StopRebuilds(ctx); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		j.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for background jobs: %w", ctx.Err())
	}
}
