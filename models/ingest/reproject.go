package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"smiledash/migrations"
	"smiledash/models"
)

// projectionTables are rebuilt from the event log by Reproject.
var projectionTables = []string{
	"parked_events", "data_availability", "tasks", "invites", "archives", "accounts", "records", "verifications", "event_counts",
	"event_hourly", "event_daily", // insight-overview: the overview's counters (queries_overview.go)
}

// Reproject rebuilds every projection from the stored events, in one
// transaction of the writer handle, and returns how many events it replayed.
// Users keep their keys (events refer to them); their projected columns are
// reset and recomputed. Parked events are tried again (and parked again if
// they still fail). The projector's position moves to the end of what was
// replayed, in the same transaction, so the projector carries on from there.
// In a running server appends and the projector wait meanwhile (webhooks answer
// 503 past the ingest timeout on SQLite; on PostgreSQL only the projector
// waits, for the projection lock). StopRebuilds cancels it: it then rolls back
// and changes nothing.
func (l *Log) Reproject(ctx context.Context) (n int, err error) {
	ctx, done, err := l.rebuilds.start(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	pr := l.newProjector(ProjectorOptions{})
	tx := l.writer.WithContext(ctx).Begin()
	if tx.Error != nil {
		return 0, fmt.Errorf("ingest: reproject begin: %w", tx.Error)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback().Error
			err = fmt.Errorf("ingest: reproject: %w", err)
			return
		}
		l.rebuilds.hook(ctx, beforeRebuildCommit)
		if err = tx.Commit().Error; err != nil {
			err = fmt.Errorf("ingest: reproject commit: %w", err)
			return
		}
		l.rebuilds.hook(ctx, afterRebuildCommit)
	}()
	if _, err := l.store.LockProjections(tx, true); err != nil {
		return 0, err
	}
	l.rebuilds.hook(ctx, rebuildLocked)
	// On PostgreSQL, replay the events of every finished transaction; the
	// projector takes the rest from there.
	var horizon string
	if l.dialect == migrations.Postgres {
		if err := tx.Raw("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").Scan(&horizon).Error; err != nil {
			return 0, fmt.Errorf("read the log horizon: %w", err)
		}
	}
	for _, table := range projectionTables {
		if err := tx.Exec("DELETE FROM " + table).Error; err != nil {
			return 0, fmt.Errorf("clear %s: %w", table, err)
		}
	}
	// Reconciliation: reopen every claim's gap; the replay closes them (gaps.go).
	if err := models.ResetGaps(tx); err != nil {
		return 0, err
	}
	err = tx.Exec("UPDATE smile_users SET created_at = NULL, first_seen_at = NULL, last_seen_at = NULL, " +
		"event_count = 0, session_status = '', session_channel = '', session_at = NULL, session_event_id = ''").Error
	if err != nil {
		return 0, fmt.Errorf("reset users: %w", err)
	}
	// The replay folds the log in the projector's order: by seq on SQLite; on
	// PostgreSQL the events from before the projector (no tx) by seq, then by
	// (tx, seq). The projections are meant not to depend on it, but the
	// overview's counters take an account's provider from its row as it
	// stands, so the same order gives the same counts.
	const chunk = 2000
	end := models.LogPosition{Owner: models.OwnerRebuild} // a projector's cache is stale now
	legacy := true                                        // PostgreSQL: still on the events without tx
	for {
		var rows []logRow
		q := tx.Table("events").Select("seq", "event_id", "user_key", "pending_user", "flags", "body", "received_at").Limit(chunk)
		switch {
		case horizon == "":
			q = q.Where("seq > ?", end.Seq).Order("seq")
		case legacy:
			q = q.Where("tx IS NULL AND seq > ?", end.Seq).Order("seq")
		default:
			q = q.Select("seq", "tx::text::bigint AS tx", "event_id", "user_key", "pending_user", "flags", "body", "received_at").
				Where("tx < ?::xid8 AND (tx, seq) > (?::text::xid8, ?)", horizon, strconv.FormatInt(end.Tx, 10), end.Seq).Order("tx, seq")
		}
		if err := q.Find(&rows).Error; err != nil {
			return n, fmt.Errorf("read events after %d: %w", end.Seq, err)
		}
		if len(rows) == 0 {
			if horizon != "" && legacy {
				legacy, end.Seq = false, 0
				continue
			}
			break
		}
		if _, _, err := pr.applyRows(ctx, tx, rows, nil); err != nil {
			return n, err
		}
		n += len(rows)
		end.Tx, end.Seq = rows[len(rows)-1].Tx, rows[len(rows)-1].Seq
	}
	if horizon != "" {
		// Everything before the horizon is replayed; its events come next.
		h, err := strconv.ParseInt(horizon, 10, 64)
		if err != nil {
			return n, fmt.Errorf("log horizon %q: %w", horizon, err)
		}
		end = models.LogPosition{Tx: h, Seq: 0, Owner: models.OwnerRebuild}
	}
	if err := l.store.SetProjectorPosition(tx, end); err != nil {
		return n, err
	}
	return n, nil
}

// projectedFromStored decodes a stored event again from its raw body, as
// Submit decoded it (a NUL in a text field reads U+FFFD).
func projectedFromStored(row models.Event) (ProjectedEvent, error) {
	env, err := models.ParseStoredBody(row.Body)
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
var ErrRebuildsStopped = errors.New("ingest: rebuilds are stopped: the server is shutting down")

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
// or until ctx ends. Call it at shutdown, before closing the writer and the
// store, so no rebuild is abandoned mid-flight.
func (l *Log) StopRebuilds(ctx context.Context) error {
	g := &l.rebuilds
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
		return fmt.Errorf("ingest: wait for rebuilds: %w", ctx.Err())
	}
}
