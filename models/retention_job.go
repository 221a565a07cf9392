package models

import (
	"context"
	"log/slog"
	"time"
)

// Retention defaults, as the README documents them.
const (
	DefaultRetainBodiesDays     = 90
	DefaultRetainDeliveriesDays = 30
	// retentionBatch bounds each transaction, so the writer is never held
	// longer than one batch takes (a few milliseconds).
	retentionBatch = 500
	// DefaultRetentionInterval is how often the job looks for expired data.
	DefaultRetentionInterval = time.Hour
)

// RetentionPolicy says how long raw payloads and delivery records are kept.
// A zero duration keeps them forever.
type RetentionPolicy struct {
	Bodies     time.Duration
	Deliveries time.Duration
	// Interval between runs; DefaultRetentionInterval when zero.
	Interval time.Duration
	// Batch is the rows per transaction; retentionBatch when zero.
	Batch int
	Now   func() time.Time
	Log   *slog.Logger
}

// RetentionResult is what one run removed.
type RetentionResult struct {
	BodiesCompacted   int
	DeliveriesDeleted int64
}

// RunRetention applies the policy once: it compacts old bodies and deletes
// old delivery records, batch by batch, until none is left or ctx ends.
func (s *Store) RunRetention(ctx context.Context, p RetentionPolicy) (RetentionResult, error) {
	var r RetentionResult
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	batch := p.Batch
	if batch <= 0 {
		batch = retentionBatch
	}
	if p.Bodies > 0 {
		cutoff := now().Add(-p.Bodies)
		for ctx.Err() == nil {
			start := time.Now()
			n, done, err := s.CompactOldBodies(ctx, cutoff, batch, now())
			r.BodiesCompacted += n
			if err != nil {
				return r, err
			}
			if done {
				break
			}
			s.pauseAfter(ctx, time.Since(start))
		}
	}
	if p.Deliveries > 0 {
		cutoff := now().Add(-p.Deliveries)
		for ctx.Err() == nil {
			start := time.Now()
			n, err := s.PruneDeliveries(ctx, cutoff, batch)
			r.DeliveriesDeleted += n
			if err != nil {
				return r, err
			}
			if n < int64(batch) {
				break
			}
			s.pauseAfter(ctx, time.Since(start))
		}
	}
	return r, ctx.Err()
}

// pauseAfter waits as long as a batch took (at least 10 ms) before the next,
// so a backlog of old bodies to compact takes at most half of the writer
// connection from webhooks and the projector, then lets any pool write in
// (YieldToPoolWrites, sqlite_pool.go: batches back to back once kept the
// sandbox admin's creation out at startup until "database is locked").
func (s *Store) pauseAfter(ctx context.Context, took time.Duration) {
	sleep(ctx, max(took, 10*time.Millisecond))
	s.YieldToPoolWrites(ctx)
}

// sleep waits d, or until ctx ends; it reports whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// StartRetention runs the policy now and then every Interval on its own
// goroutine, until stop is called; stop waits for a run in progress to end
// its current batch. With nothing to expire (both durations zero) it starts
// nothing.
func (s *Store) StartRetention(p RetentionPolicy) (stop func()) {
	if p.Bodies <= 0 && p.Deliveries <= 0 {
		return func() {}
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			r, err := s.RunRetention(ctx, p)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Error("Retention run failed; retrying at the next interval", slog.Any("error", err))
			case r.BodiesCompacted > 0 || r.DeliveriesDeleted > 0:
				log.Info("Retention removed expired data", slog.Int("bodies_compacted", r.BodiesCompacted),
					slog.Int64("deliveries_deleted", r.DeliveriesDeleted))
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}
