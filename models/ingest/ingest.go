package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"smiledash/migrations"
	"smiledash/models"
	"sync"
	"sync/atomic"
	"time"
)

// maxCachedUserKeys bounds the writer's map of Smile user ids to user keys.
const maxCachedUserKeys = 200_000

// ErrIngestClosed is returned by Submit once shutdown has begun.
var ErrIngestClosed = errors.New("ingest: ingest is shutting down")

type pending struct {
	ctx  context.Context // ends at the submission's deadline
	in   *Incoming
	done chan outcome
}

type outcome struct {
	result Result
	err    error
}

// Writer is this process's writer of the event log. Handlers Submit
// verified events and wait; the writer commits whatever is queued in one
// transaction (group commit), then wakes every waiter and its projector. A
// handler is answered only after its event is durable; the projections follow.
type Writer struct {
	eventLog   *Log
	opts       WriterOptions
	log        *slog.Logger
	queue      chan pending
	rejections chan Rejection

	mu      sync.RWMutex // guards closed against Submit racing Close
	closed  bool
	stopped chan struct{}

	// userKeys caches Smile user id → user_key; keys never change once made.
	// PostgreSQL only: on SQLite the projector resolves users (users.go).
	userKeys   map[string]int64
	sincePrune int
	// projector projects what this writer appends (projector.go).
	projector *Projector
	// lastBatch is when the writer last finished a batch of events (Unix
	// nanoseconds), for Busy.
	lastBatch *atomic.Int64
	// load measures how much of the time the writer spends committing, for
	// Saturated.
	load *writerLoad
}

// NewWriter starts the writer goroutine. Close stops it after draining.
func (l *Log) NewWriter(opts WriterOptions) (*Writer, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.MaxDeliveries <= 0 {
		opts.MaxDeliveries = 100_000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultIngestTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Projector.Logger = cmp.Or(opts.Projector.Logger, opts.Logger)
	queue := make(chan pending, opts.QueueSize)
	lastBatch := new(atomic.Int64)
	load := new(writerLoad)
	if opts.Projector.Busy == nil && l.dialect == migrations.SQLite {
		// Only SQLite's appends wait for the projector (one writer connection).
		opts.Projector.Busy = func() bool { return busy(queue, lastBatch) }
		// Saturated implies Busy, so a deferring projector always pauses Yield
		// before it looks again, even in the window after the last commit.
		opts.Projector.Saturated = func() bool { return busy(queue, lastBatch) && load.saturated(time.Now()) }
	}
	in := &Writer{
		eventLog:   l,
		opts:       opts,
		log:        opts.Logger,
		queue:      queue,
		rejections: make(chan Rejection, 1024),
		stopped:    make(chan struct{}),
		userKeys:   map[string]int64{},
		projector:  l.StartProjector(opts.Projector),
		lastBatch:  lastBatch,
		load:       load,
	}
	go in.run()
	return in, nil
}

// Submit hands a verified event to the writer and waits until it is committed,
// for at most the ingest timeout. If it gives up first (ctx ended, or the
// writer could not commit in time, e.g. while a rebuild or another replica
// holds the writer) it returns an error and the event may still be stored;
// Smile's retry then finds it as a duplicate. A NUL in the event's text
// fields is stored as U+FFFD in the projections; the raw body is kept as is.
func (in *Writer) Submit(ctx context.Context, inc *Incoming) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	p := pending{ctx: ctx, in: storable(inc), done: make(chan outcome, 1)}
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
		return 0, fmt.Errorf("ingest: ingest queue full: %w", ctx.Err())
	}
	select {
	case o := <-p.done:
		return o.result, o.err
	case <-ctx.Done():
		return 0, fmt.Errorf("ingest: ingest not committed in time: %w", ctx.Err())
	}
}

// Reject records a refused attempt without blocking the caller. When the writer
// is behind, rejections are dropped (and reported false) rather than queued
// without bound: a flood of bad requests must not slow real events.
func (in *Writer) Reject(r Rejection) bool {
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
func (in *Writer) QueueDepth() int { return len(in.queue) }

// busyWindow is how recently the writer must have appended events for Busy
// to say webhooks are coming in. The writer takes the whole queue at each
// batch, so under full load the queue is often empty for an instant: the
// queue alone let background work in between almost every batch.
const busyWindow = 50 * time.Millisecond

// Busy tells whether webhooks are being appended: some are queued, or the
// writer appended some within the last 50 ms. Background writers on SQLite
// (the projector, the search indexer) defer to it.
func (in *Writer) Busy() bool { return busy(in.queue, in.lastBatch) }

func busy(queue chan pending, lastBatch *atomic.Int64) bool {
	return len(queue) > 0 || time.Since(time.Unix(0, lastBatch.Load())) < busyWindow
}

// Close stops accepting events, commits everything already queued and waits for
// the writer to finish, or for ctx to end.
func (in *Writer) Close(ctx context.Context) error {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.queue)
	}
	in.mu.Unlock()
	select {
	case <-in.stopped:
	case <-ctx.Done():
		return fmt.Errorf("ingest: ingest drain: %w", ctx.Err())
	}
	return in.projector.Close(ctx)
}

// SyncProjections waits until everything stored so far is projected (see
// Log.SyncProjections).
func (in *Writer) SyncProjections(ctx context.Context) error {
	return in.eventLog.SyncProjections(ctx)
}

// Projector is the projector following what this writer appends.
func (in *Writer) Projector() *Projector { return in.projector }

func (in *Writer) run() {
	defer close(in.stopped)
	batch := make([]pending, 0, in.opts.MaxBatch)
	for {
		first, ok, rejected := in.next()
		if rejected != nil {
			// Rejection-only traffic is committed in batches too, so a flood
			// of bad requests costs one transaction per batch, not per request.
			in.commitAll(nil, in.takeRejections([]Rejection{*rejected}))
			continue
		}
		if !ok {
			in.flushRejections()
			return
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
		if batch = in.dropExpired(batch); len(batch) > 0 {
			in.commitAll(batch, in.takeRejections(nil))
		}
	}
}

// next waits for work, preferring events: it returns the first queued event
// (ok false once the queue is closed and empty), or a rejection when no event
// is waiting.
func (in *Writer) next() (first pending, ok bool, rejected *Rejection) {
	select {
	case first, ok = <-in.queue:
		return first, ok, nil
	default:
	}
	select {
	case first, ok = <-in.queue:
		return first, ok, nil
	case r := <-in.rejections:
		return pending{}, false, &r
	}
}

// dropExpired answers submissions whose deadline passed while they were
// queued (their handler has already answered 503) instead of storing them: a
// writer that was held up then catches up at once.
func (in *Writer) dropExpired(batch []pending) []pending {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- outcome{err: fmt.Errorf("ingest: ingest: %w", err)}
			continue
		}
		live = append(live, p)
	}
	return live
}

// maxRejectionsPerBatch bounds how many rejection records one transaction writes.
const maxRejectionsPerBatch = 512

// takeRejections appends queued rejections to out, up to a batch's worth.
func (in *Writer) takeRejections(out []Rejection) []Rejection {
	for len(out) < maxRejectionsPerBatch {
		select {
		case r := <-in.rejections:
			out = append(out, r)
		default:
			return out
		}
	}
	return out
}

func (in *Writer) flushRejections() {
	for rs := in.takeRejections(nil); len(rs) > 0; rs = in.takeRejections(nil) {
		in.commitAll(nil, rs)
	}
}

// commitAll commits a batch. If its events fail as a whole, each is retried
// alone, so one event the database refuses cannot block the others, and the
// batch's rejection records are then committed on their own. A batch that
// failed because the database is unavailable or held (a lock or deadline) is
// not retried: each retry would wait as long again.
func (in *Writer) commitAll(batch []pending, rejections []Rejection) {
	start := time.Now()
	results, stored, lost, err := in.commit(batch, rejections)
	if err != nil && len(batch) > 0 && (len(batch) > 1 || len(rejections) > 0) && !models.IsUnavailable(err) {
		in.log.Warn("Ingest batch failed, retrying events one by one", slog.Int("size", len(batch)),
			slog.Int("rejections", len(rejections)), slog.Any("error", err))
		for i := range batch {
			in.commitAll(batch[i:i+1], nil)
		}
		if len(rejections) > 0 {
			in.commitAll(nil, rejections)
		}
		return
	}
	if err != nil {
		lost = len(rejections)
	}
	report := BatchReport{Size: len(batch), Stored: stored, Rejections: len(rejections), RejectionsLost: lost,
		Duration: time.Since(start), Err: err}
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
		in.log.Error("Ingest batch failed", slog.Int("size", len(batch)), slog.Int("rejections_lost", lost), slog.Any("error", err))
	}
	if len(batch) > 0 {
		end := time.Now()
		in.lastBatch.Store(end.UnixNano())
		in.load.observe(start, end)
	}
	if len(stored) > 0 {
		in.projector.Wake()
	}
	for _, ev := range stored {
		in.eventLog.publish(models.Change{Kind: models.ChangeEvent, ID: ev.Seq, UserKey: ev.UserKey, UserID: ev.UserID,
			AccountID: ev.AccountID, At: ev.CreatedAt, Label: ev.Type})
	}
	if err == nil && (len(rejections) > 0 || report.Duplicates > 0) {
		in.eventLog.publish(models.Change{Kind: models.ChangeDelivery, At: time.Now().UTC()})
	}
	if in.opts.OnBatch != nil {
		in.opts.OnBatch(report)
	}
}

// commit appends a batch in one transaction bounded by the ingest timeout:
// events first, then the delivery records (duplicates and rejections) under a
// savepoint, so a record the database refuses costs only itself. lost counts
// such records. The projections follow behind, in the projector's own
// transactions (projector.go): an event is acknowledged once it is in the log.
func (in *Writer) commit(batch []pending, rejections []Rejection) (results []Result, stored []CommittedEvent, lost int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), in.opts.Timeout)
	defer cancel()
	in.eventLog.store.YieldToPoolWrites(ctx)
	tx := in.eventLog.writer.WithContext(ctx).Begin()
	if tx.Error != nil {
		return nil, nil, 0, fmt.Errorf("ingest: ingest begin: %w", tx.Error)
	}
	newKeys := map[string]int64{}
	defer func() {
		if err != nil {
			_ = tx.Rollback().Error
			return
		}
		if err = tx.Commit().Error; err != nil {
			err = fmt.Errorf("ingest: ingest commit: %w", err)
			return
		}
		for id, key := range newKeys {
			if len(in.userKeys) > maxCachedUserKeys {
				clear(in.userKeys) // bound memory; keys are reloaded on demand
			}
			in.userKeys[id] = key
		}
	}()
	var duplicates []Rejection
	if len(batch) > 0 {
		if results, stored, duplicates, err = in.appendBatch(tx, batch, newKeys); err != nil {
			return nil, nil, 0, err
		}
	}
	records := append(duplicates, rejections...)
	if lost, err = in.recordDeliveries(tx, records); err != nil {
		return nil, nil, 0, err
	}
	// A lost duplicate record is still a duplicate answered 200; only lost
	// rejections are reported.
	lost = max(0, lost-len(duplicates))
	return results, stored, lost, nil
}
