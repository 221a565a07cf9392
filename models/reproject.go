package models

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"smiledash/migrations"
)

// projectionTables are rebuilt from the event log by Reproject.
var projectionTables = []string{
	"data_availability", "tasks", "invites", "archives", "accounts", "records", "verifications", "event_counts",
	"event_hourly", "event_daily", // insight-overview: the overview's counters (queries_overview.go)
}

// Reproject rebuilds every projection from the stored events, in one transaction
// on the writer's connection, and returns how many events it replayed. Users keep
// their keys (events refer to them); their projected columns are reset and
// recomputed. In a running server the ingest writer waits meanwhile (its
// webhooks answer 503 past the ingest timeout) and drops its cache afterwards;
// with several replicas, the advisory lock serialises it with every replica's
// writer. StopRebuilds cancels it: it then rolls back and changes nothing.
func (s *Store) Reproject(ctx context.Context) (n int, err error) {
	ctx, done, err := s.rebuilds.start(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	pr, err := s.newProjector(false)
	if err != nil {
		return 0, err
	}
	defer pr.close()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("models: reproject begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			err = fmt.Errorf("models: reproject: %w", err)
			return
		}
		s.rebuilds.hook(ctx, beforeRebuildCommit)
		// The generation moves while this transaction still holds the writer,
		// so the ingest writer can never begin a batch after the commit with
		// the cache of before it. Should the commit fail, the cache is merely
		// dropped for nothing.
		s.projectionGen.Add(1)
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("models: reproject commit: %w", err)
			return
		}
		s.rebuilds.hook(ctx, afterRebuildCommit)
	}()
	if s.dialect == migrations.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", writerLockKey); err != nil {
			return 0, fmt.Errorf("lock: %w", err)
		}
	}
	s.rebuilds.hook(ctx, rebuildLocked)
	for _, table := range projectionTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
			return 0, fmt.Errorf("clear %s: %w", table, err)
		}
	}
	// Reconciliation: reopen every claim's gap; the replay closes them (gaps.go).
	if err := s.resetGaps(ctx, tx); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, "UPDATE smile_users SET created_at = NULL, first_seen_at = NULL, last_seen_at = NULL, "+
		"event_count = 0, session_status = '', session_channel = '', session_at = NULL, session_event_id = ''")
	if err != nil {
		return 0, fmt.Errorf("reset users: %w", err)
	}
	g := s.gormOn(tx)
	const chunk = 2000
	var after int64
	for {
		var rows []Event
		if err := g.WithContext(ctx).Select("seq", "user_key", "flags", "body").Where("seq > ?", after).Order("seq").Limit(chunk).Find(&rows).Error; err != nil {
			return n, fmt.Errorf("read events after %d: %w", after, err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		events := make([]ProjectedEvent, 0, len(rows))
		for _, row := range rows {
			ev, err := projectedFromStored(row)
			if err != nil {
				return n, err
			}
			events = append(events, ev)
		}
		if _, err := pr.project(ctx, tx, events); err != nil {
			return n, err
		}
		n += len(rows)
		after = rows[len(rows)-1].Seq
	}
}

// projectedFromStored decodes a stored event again from its raw body, as
// Submit decoded it (a NUL in a text field reads U+FFFD).
func projectedFromStored(row Event) (ProjectedEvent, error) {
	env, err := parseStorable(row.Body)
	if err != nil {
		return ProjectedEvent{}, fmt.Errorf("stored event %d no longer parses: %w", row.Seq, err)
	}
	var userKey int64
	if row.UserKey != nil {
		userKey = *row.UserKey
	}
	return newProjectedEvent(env, userKey, row.Flags), nil
}

// ErrRebuildsStopped is returned by Reproject once StopRebuilds has been called.
var ErrRebuildsStopped = errors.New("models: rebuilds are stopped: the server is shutting down")

// rebuildStage names a point of a rebuild where tests may pause it.
type rebuildStage int

const (
	rebuildLocked rebuildStage = iota + 1 // the writer is held, nothing replayed yet
	beforeRebuildCommit
	afterRebuildCommit
)

// rebuildGate tracks running rebuilds so shutdown can cancel them and wait
// until they have rolled back. Its zero value is ready.
type rebuildGate struct {
	mu      sync.Mutex
	stopped bool
	running sync.WaitGroup
	cancels map[*int]context.CancelFunc
	// onStage, set only by tests, runs at each rebuildStage.
	onStage func(context.Context, rebuildStage)
}

// start registers a rebuild and returns its context, cancelled by stop.
func (g *rebuildGate) start(ctx context.Context) (context.Context, func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return nil, nil, ErrRebuildsStopped
	}
	ctx, cancel := context.WithCancel(ctx)
	key := new(int)
	if g.cancels == nil {
		g.cancels = map[*int]context.CancelFunc{}
	}
	g.cancels[key] = cancel
	g.running.Add(1)
	return ctx, func() {
		g.mu.Lock()
		delete(g.cancels, key)
		g.mu.Unlock()
		cancel()
		g.running.Done()
	}, nil
}

func (g *rebuildGate) hook(ctx context.Context, stage rebuildStage) {
	if g.onStage != nil {
		g.onStage(ctx, stage)
	}
}

// StopRebuilds refuses new rebuilds, cancels running ones and waits until they
// have returned (rolled back, or committed if they were already committing),
// or until ctx ends. Call it at shutdown, before closing the ingester and the
// store, so no rebuild is abandoned mid-flight.
func (s *Store) StopRebuilds(ctx context.Context) error {
	g := &s.rebuilds
	g.mu.Lock()
	g.stopped = true
	for _, cancel := range g.cancels {
		cancel()
	}
	g.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		g.running.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("models: wait for rebuilds: %w", ctx.Err())
	}
}
