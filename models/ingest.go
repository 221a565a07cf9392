package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"gorm.io/gorm"

	"smiledash/migrations"
)

// maxCachedUserKeys bounds the writer's map of Smile user ids to user keys.
const maxCachedUserKeys = 200_000

// ErrIngestClosed is returned by Submit once shutdown has begun.
var ErrIngestClosed = errors.New("models: ingest is shutting down")

type pending struct {
	in   *Incoming
	done chan outcome
}

type outcome struct {
	result Result
	err    error
}

// Ingester is the single writer of the event log. Handlers Submit verified
// events and wait; the writer commits whatever is queued in one transaction
// (group commit) together with the projections, then wakes every waiter. A
// handler is answered only after its event is durable.
type Ingester struct {
	store      *Store
	opts       IngestOptions
	log        *slog.Logger
	queue      chan pending
	rejections chan Rejection

	mu      sync.RWMutex // guards closed against Submit racing Close
	closed  bool
	stopped chan struct{}

	// userKeys caches Smile user id → user_key; keys never change once made.
	userKeys   map[string]int64
	sincePrune int
	stmts      *ingestStatements
	projector  *projector
}

// NewIngester starts the writer goroutine. Close stops it after draining.
func (s *Store) NewIngester(opts IngestOptions) (*Ingester, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.MaxDeliveries <= 0 {
		opts.MaxDeliveries = 100_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	stmts, err := s.prepareIngest(context.Background())
	if err != nil {
		return nil, err
	}
	// On SQLite this writer is the only one writing projections, so it may
	// cache them; on PostgreSQL other replicas write too.
	pr, err := s.newProjector(s.dialect == migrations.SQLite)
	if err != nil {
		_ = stmts.close()
		return nil, err
	}
	in := &Ingester{
		store:      s,
		opts:       opts,
		log:        opts.Logger,
		queue:      make(chan pending, opts.QueueSize),
		rejections: make(chan Rejection, 1024),
		stopped:    make(chan struct{}),
		userKeys:   map[string]int64{},
		stmts:      stmts,
		projector:  pr,
	}
	go in.run()
	return in, nil
}

// Submit hands a verified event to the writer and waits until it is committed.
// If ctx ends first the event may still be stored; Smile's retry then finds it
// as a duplicate.
func (in *Ingester) Submit(ctx context.Context, inc *Incoming) (Result, error) {
	p := pending{in: inc, done: make(chan outcome, 1)}
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return 0, ErrIngestClosed
	}
	select {
	case in.queue <- p:
		in.mu.RUnlock()
	case <-ctx.Done():
		in.mu.RUnlock()
		return 0, ctx.Err()
	}
	select {
	case o := <-p.done:
		return o.result, o.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Reject records a refused attempt without blocking the caller. When the writer
// is behind, rejections are dropped (and reported false) rather than queued
// without bound: a flood of bad requests must not slow real events.
func (in *Ingester) Reject(r Rejection) bool {
	in.mu.RLock()
	defer in.mu.RUnlock()
	if in.closed {
		return false
	}
	select {
	case in.rejections <- r:
		return true
	default:
		return false
	}
}

// QueueDepth is the number of webhooks waiting for the writer.
func (in *Ingester) QueueDepth() int { return len(in.queue) }

// Close stops accepting events, commits everything already queued and waits for
// the writer to finish, or for ctx to end.
func (in *Ingester) Close(ctx context.Context) error {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.queue)
	}
	in.mu.Unlock()
	select {
	case <-in.stopped:
	case <-ctx.Done():
		return fmt.Errorf("models: ingest drain: %w", ctx.Err())
	}
	return errors.Join(in.stmts.close(), in.projector.close())
}

func (in *Ingester) run() {
	defer close(in.stopped)
	batch := make([]pending, 0, in.opts.MaxBatch)
	for {
		var first pending
		var ok bool
		select {
		case first, ok = <-in.queue:
			if !ok {
				in.flushRejections()
				return
			}
		case r := <-in.rejections:
			in.commitAll(nil, []Rejection{r})
			continue
		}
		batch = append(batch[:0], first)
		// Handlers woken by the previous commit are runnable but may not have
		// queued their next event yet; yielding once lets them, so the batch
		// fills without a timer.
		runtime.Gosched()
	fill:
		for len(batch) < in.opts.MaxBatch {
			select {
			case p, ok := <-in.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		in.commitAll(batch, in.takeRejections())
	}
}

func (in *Ingester) takeRejections() []Rejection {
	var out []Rejection
	for len(out) < 256 {
		select {
		case r := <-in.rejections:
			out = append(out, r)
		default:
			return out
		}
	}
	return out
}

func (in *Ingester) flushRejections() {
	if rs := in.takeRejections(); len(rs) > 0 {
		in.commitAll(nil, rs)
	}
}

// commitAll commits a batch. If the batch fails as a whole, each event is retried
// alone, so one event the database refuses cannot block the others.
func (in *Ingester) commitAll(batch []pending, rejections []Rejection) {
	start := time.Now()
	results, stored, err := in.commit(batch, rejections)
	if err != nil && len(batch) > 1 {
		in.log.Warn("Ingest batch failed, retrying events one by one", slog.Int("size", len(batch)), slog.Any("error", err))
		for i := range batch {
			in.commitAll(batch[i:i+1], nil)
		}
		return
	}
	report := BatchReport{Size: len(batch), Stored: stored, Rejections: len(rejections), Duration: time.Since(start), Err: err}
	for i, p := range batch {
		if err != nil {
			p.done <- outcome{err: err}
			continue
		}
		if results[i] == Duplicate {
			report.Duplicates++
		}
		p.done <- outcome{result: results[i]}
	}
	if err != nil {
		in.log.Error("Ingest batch failed", slog.Int("size", len(batch)), slog.Any("error", err))
	}
	for _, ev := range stored {
		in.store.publish(Change{Kind: ChangeEvent, ID: ev.Seq, UserKey: ev.UserKey, AccountID: ev.AccountID, At: ev.CreatedAt, Label: ev.Type})
	}
	if err == nil && (len(rejections) > 0 || report.Duplicates > 0) {
		in.store.publish(Change{Kind: ChangeDelivery, At: time.Now().UTC()})
	}
	if in.opts.OnBatch != nil {
		in.opts.OnBatch(report)
	}
}

func (in *Ingester) commit(batch []pending, rejections []Rejection) (results []Result, stored []CommittedEvent, err error) {
	ctx := context.Background()
	tx, err := in.store.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("models: ingest begin: %w", err)
	}
	newKeys := map[string]int64{}
	var projected *projection
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			return
		}
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("models: ingest commit: %w", err)
			return
		}
		in.projector.committed(projected)
		for id, key := range newKeys {
			if len(in.userKeys) > maxCachedUserKeys {
				clear(in.userKeys) // bound memory; keys are reloaded on demand
			}
			in.userKeys[id] = key
		}
	}()
	if in.store.dialect == migrations.Postgres {
		// One writer at a time across replicas: projections are read-modify-write.
		if _, err = tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7243)"); err != nil {
			return nil, nil, fmt.Errorf("models: ingest lock: %w", err)
		}
	}
	st := in.stmts.in(ctx, tx)
	var events []ProjectedEvent
	if in.store.dialect == migrations.Postgres {
		results, stored, events, err = in.insertBatchPostgres(ctx, tx, batch, newKeys)
	} else {
		results, stored, events, err = in.insertBatchSQLite(ctx, st, batch, newKeys)
	}
	if err != nil {
		return nil, nil, err
	}
	if projected, err = in.projector.project(ctx, tx, events); err != nil {
		return nil, nil, err
	}
	if in.store.dialect == migrations.Postgres {
		err = insertRejectionsPostgres(ctx, tx, rejections)
	} else {
		for _, r := range rejections {
			if err = st.recordRejection(r); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	in.sincePrune += len(rejections)
	if in.sincePrune >= 1000 {
		if err := st.pruneDeliveries(in.opts.MaxDeliveries); err != nil {
			return nil, nil, err
		}
		in.sincePrune = 0
	}
	return results, stored, nil
}

// insertBatchSQLite stores the batch's events with one prepared statement each:
// in process, a statement costs microseconds.
func (in *Ingester) insertBatchSQLite(ctx context.Context, st *txStatements, batch []pending, newKeys map[string]int64) (
	results []Result, stored []CommittedEvent, events []ProjectedEvent, err error) {
	results = make([]Result, len(batch))
	for i, p := range batch {
		env := p.in.Envelope
		var userKey int64
		if subject := env.Data.Subject(); subject != "" {
			if userKey, err = in.userKey(ctx, st, subject, newKeys); err != nil {
				return nil, nil, nil, err
			}
		}
		seq, inserted, err := st.insertEvent(p.in, userKey)
		if err != nil {
			return nil, nil, nil, err
		}
		if !inserted {
			results[i] = Duplicate
			if err := st.recordDuplicate(p.in); err != nil {
				return nil, nil, nil, err
			}
			in.sincePrune++
			continue
		}
		results[i] = Stored
		events = append(events, newProjectedEvent(env, userKey, eventFlags(env, p.in.ReceivedAt)))
		stored = append(stored, CommittedEvent{
			Seq: seq, EventID: env.ID, Type: string(env.Type), UserKey: userKey,
			AccountID: env.Data.Account(), CreatedAt: env.CreatedAt,
		})
	}
	return results, stored, events, nil
}

func (in *Ingester) userKey(ctx context.Context, st *txStatements, smileID string, fresh map[string]int64) (int64, error) {
	if k, ok := in.userKeys[smileID]; ok {
		return k, nil
	}
	if k, ok := fresh[smileID]; ok {
		return k, nil
	}
	k, err := st.ensureUser(smileID)
	if err != nil {
		return 0, err
	}
	fresh[smileID] = k
	return k, nil
}

// gormOn returns a GORM handle whose statements run in the given transaction.
func (s *Store) gormOn(tx *sql.Tx) *gorm.DB {
	g := s.db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	g.Statement.ConnPool = tx
	return g
}
