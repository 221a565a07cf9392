package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"smiledash/migrations"
	"smiledash/models"
	"smiledash/models/internal/randtoken"
	"strconv"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// ProjectorOptions tunes the projector.
type ProjectorOptions struct {
	// MaxBatch caps the events one projector transaction applies (default
	// 2048): larger batches amortise loading rows and committing, smaller ones
	// hold the writer for less time. Within it the projector sizes its
	// batches to take about BatchTime each.
	MaxBatch int
	// BatchTime is how long a projector transaction should take (default
	// 25 ms): on SQLite appends wait for it, so it bounds what the projector
	// adds to a webhook's latency.
	BatchTime time.Duration
	// IdleBatchTime is how long a projector transaction may take while no
	// webhooks are being appended (Busy false; default 500 ms): catching up
	// alone after a burst, batches of ~600 events projected 1.7 times as
	// fast as batches of ~65, each commit writing its pages once, and
	// batches of ~1,900 (500 ms) 1.11 times as fast as those of ~900
	// (250 ms; IngestRandomUsers/sqlite/project, 150,000 events). After a
	// 60-second burst, with the writer's 256 MB cache, the projector caught
	// up in 158 s with 500 ms and 208 s with 250 ms. A webhook arriving then
	// waits for at most one such batch.
	IdleBatchTime time.Duration
	// Gather is how long a woken projector lets events gather before a batch
	// that would not be full (default 100 ms). Projecting right after every
	// append made the projector take the SQLite writer as often as the
	// appends, each time for as few events, which halved ingest; gathered,
	// its batches are ten times larger and the appends keep the writer.
	Gather time.Duration
	// Busy, if set, tells whether webhooks are being appended: while they
	// are, the projector waits Yield before each batch, so a burst is
	// acknowledged at the append path's rate and projected after it (the
	// lag is shown). The Writer sets it to its Busy on SQLite.
	Busy func() bool
	// Yield is how long the projector waits before a batch while Busy
	// (default 500 ms). Gathering for 100 ms only, it held the SQLite writer
	// a quarter of the time during a burst and cut the acknowledged rate by
	// as much.
	Yield time.Duration
	// Saturated, if set, tells whether the appends keep the writer busy
	// nearly all the time (saturation.go): a burst beyond what the writer
	// can take at once. The projector then leaves the writer to them, for at
	// most MaxDefer at a time, and projects the burst after it. The Writer
	// sets it on SQLite.
	Saturated func() bool
	// MaxDefer bounds how long the projector defers to a saturated writer
	// (default 2 minutes). Past it the projector takes its batches as when
	// Busy, so that an overload that does not end cannot starve the
	// projections; a 60-second burst is projected within 3 minutes of its end.
	MaxDefer time.Duration
	// Poll is how often an idle projector looks for events it was not woken
	// for: those other replicas appended (default 200 ms).
	Poll time.Duration
	// LagWarn is the lag past which the projector says loudly that it is
	// behind (default DefaultLagWarn). Webhooks are still acknowledged: the log
	// is the truth.
	LagWarn time.Duration
	Logger  *slog.Logger
	// OnBatch, if set, is called after every projector transaction.
	OnBatch func(ProjectorReport)
}

// DefaultLagWarn is how far behind the projector may fall before warnings.
const DefaultLagWarn = time.Minute

// ProjectorReport describes one projector transaction, for metrics.
type ProjectorReport struct {
	Projected int
	Parked    int
	Duration  time.Duration
	Err       error
}

// Projector folds the event log into the projections (users, accounts,
// uploads, tasks, data availability, the overview's counters and the
// reconciliation gaps), behind the acknowledgement: it follows the log from
// the position recorded in projector_state, applies a batch of events in one
// transaction of the writer handle and moves the position in that same
// transaction, so each event is projected exactly once. An event that cannot
// be projected is parked (parked_events) instead of stopping the others.
//
// On PostgreSQL each batch takes the projection lock without waiting: with
// several replicas one projects while the others' projectors stand by, and
// any of them takes over when it stops. On SQLite the single writer
// connection serialises the projector with the appends. Either way a
// projector keeps the rows it wrote in a cache and loads only the rows it has
// not seen, as long as projector_state says it was the last to write them.
type Projector struct {
	eventLog *Log
	opts     ProjectorOptions
	log      *slog.Logger
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}

	// id names this projector in projector_state.owner; cache holds the
	// rows it wrote, valid while the owner is still id (no other projector,
	// rebuild or erasure has written since, in any process).
	id    string
	cache *projectionCache
	gaps  *gapHook

	projected, parked atomic.Int64
	// catchingUp is set while the last batch was full: more is waiting.
	catchingUp atomic.Bool
	lastWarn   time.Time
	// deferredSince is when the projector began deferring to a saturated
	// writer, zero while it is not; deferWarned, that it said it stopped.
	deferredSince time.Time
	deferWarned   bool
	// batch is the next batch's size, adapted to take about BatchTime
	// (IdleBatchTime while no webhooks are being appended).
	batch int
}

// StartProjector starts a projector goroutine; Close stops it.
func (l *Log) StartProjector(opts ProjectorOptions) *Projector {
	p := l.newProjector(opts)
	go p.run()
	return p
}

func (l *Log) newProjector(opts ProjectorOptions) *Projector {
	id, err := randtoken.New(8)
	if err != nil {
		id = strconv.FormatInt(time.Now().UnixNano(), 36) // unique enough to own a cache
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 2048
	}
	if opts.BatchTime <= 0 {
		opts.BatchTime = 25 * time.Millisecond
	}
	if opts.IdleBatchTime <= 0 {
		opts.IdleBatchTime = 500 * time.Millisecond
	}
	if opts.Gather <= 0 {
		opts.Gather = 100 * time.Millisecond
	}
	if opts.Yield <= 0 {
		opts.Yield = 500 * time.Millisecond
	}
	if opts.MaxDefer <= 0 {
		opts.MaxDefer = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.LagWarn <= 0 {
		opts.LagWarn = DefaultLagWarn
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Projector{eventLog: l, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1), batch: min(256, opts.MaxBatch),
		stop: make(chan struct{}), done: make(chan struct{}), gaps: newGapHook(),
		id: "projector-" + id, cache: newProjectionCache()}
	return p
}

// Wake tells the projector there are new events, without waiting.
func (p *Projector) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Close stops the projector once its current batch is done. What it has not
// projected yet stays in the log for the next start.
func (p *Projector) Close(ctx context.Context) error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ingest: projector stop: %w", ctx.Err())
	}
}

// CatchingUp tells whether the projector's last batch was full, so more of
// the log is waiting for it: the search indexer lets it go first.
func (p *Projector) CatchingUp() bool { return p.catchingUp.Load() }

// Projected and Parked count the events this projector has applied and parked.
func (p *Projector) Projected() int64 { return p.projected.Load() }
func (p *Projector) Parked() int64    { return p.parked.Load() }

func (p *Projector) run() {
	defer close(p.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-p.done:
		}
	}()
	retry := p.opts.Poll
	for {
		if p.opts.Busy != nil && p.opts.Busy() && !p.pause(p.opts.Yield) {
			return // appends first
		}
		if p.deferToWriter() {
			continue
		}
		limit := p.batch // step resizes it
		n, err := p.step(ctx, false)
		p.catchingUp.Store(err == nil && n >= limit)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			// The database is down or refused the batch as a whole; the
			// events stay in the log. Back off, up to ten seconds.
			p.log.Error("Projector batch failed; retrying", slog.Duration("in", retry), slog.Any("error", err))
			retry = min(2*retry, 10*time.Second)
			if !p.sleep(retry) {
				return
			}
			continue
		case n >= limit:
			retry = p.opts.Poll
			if p.stopped() {
				return
			}
			continue // more is waiting
		}
		retry = p.opts.Poll
		if !p.sleep(p.opts.Poll) || !p.gather() {
			return
		}
	}
}

// deferToWriter tells whether to skip this batch for a saturated writer:
// yes until it has been saturated for MaxDefer, which is said once.
func (p *Projector) deferToWriter() bool {
	if p.opts.Saturated == nil || !p.opts.Saturated() {
		p.deferredSince, p.deferWarned = time.Time{}, false
		return false
	}
	if p.deferredSince.IsZero() {
		p.deferredSince = time.Now()
	}
	if time.Since(p.deferredSince) < p.opts.MaxDefer {
		return true
	}
	if !p.deferWarned {
		p.deferWarned = true
		p.log.Warn("Webhooks have kept the writer saturated; projecting alongside them, which slows their acknowledgements",
			slog.Duration("saturated_for", time.Since(p.deferredSince).Round(time.Second)))
	}
	return false
}

// gather waits Gather after a wake-up, so the next batch is a batch; false
// once the projector is stopping.
func (p *Projector) gather() bool { return p.pause(p.opts.Gather) }

// pause waits d; false once the projector is stopping.
func (p *Projector) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.stop:
		return false
	case <-t.C:
		return true
	}
}

// sleep waits for a wake-up or d; false once the projector is stopping.
func (p *Projector) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.stop:
		return false
	case <-p.wake:
		return true
	case <-t.C:
		return true
	}
}

func (p *Projector) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// step projects the next batch of the log and returns how many events it
// applied or parked. Without wait, on PostgreSQL, it returns 0 at once when
// another replica's projector holds the projection lock.
func (p *Projector) step(ctx context.Context, wait bool) (n int, err error) {
	start := time.Now()
	parked := 0
	defer func() {
		if n > 0 || err != nil {
			p.report(ProjectorReport{Projected: n - parked, Parked: parked, Duration: time.Since(start), Err: err})
		}
	}()
	p.eventLog.store.YieldToPoolWrites(ctx)
	tx := p.eventLog.writer.WithContext(ctx).Begin()
	if tx.Error != nil {
		return 0, fmt.Errorf("ingest: projector begin: %w", tx.Error)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback().Error
		}
	}()
	if locked, err := p.eventLog.store.LockProjections(tx, wait); err != nil || !locked {
		return 0, err
	}
	pos, err := p.eventLog.store.ProjectorPosition(tx)
	if err != nil {
		return 0, err
	}
	rows, err := p.eventLog.unprojected(tx, pos, p.batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	if pos.Owner != p.id {
		// Someone else wrote projections since this projector's last batch.
		p.cache = newProjectionCache()
	}
	projected, parked, err := p.applyRows(ctx, tx, rows, p.cache)
	if err != nil {
		return 0, err
	}
	last := rows[len(rows)-1]
	if err := p.eventLog.store.SetProjectorPosition(tx, models.LogPosition{Tx: last.Tx, Seq: last.Seq, Owner: p.id}); err != nil {
		return 0, err
	}
	if err := tx.Commit().Error; err != nil {
		return 0, fmt.Errorf("ingest: projector commit: %w", err)
	}
	committed = true
	if projected != nil {
		p.cache.remember(projected)
	} else {
		p.cache = newProjectionCache() // rows were written around it
	}
	p.afterCommit(rows, parked)
	p.resize(len(rows), time.Since(start))
	return len(rows), nil
}

// resize sizes the next batch to take about BatchTime (IdleBatchTime while no
// webhooks are being appended) at the rate this one went, within
// [64, MaxBatch], changing by at most a factor of two.
//
// On PostgreSQL appends do not wait for the projector, so its batches are as
// large as MaxBatch allows: each costs a few dozen round trips, whatever its size.
func (p *Projector) resize(n int, took time.Duration) {
	if p.eventLog.dialect == migrations.Postgres {
		p.batch = p.opts.MaxBatch
		return
	}
	if n < p.batch || took <= 0 {
		return // a partial batch says nothing about a full one
	}
	budget := p.opts.BatchTime
	if p.opts.Busy == nil || !p.opts.Busy() {
		budget = p.opts.IdleBatchTime
	}
	want := int(float64(n) * float64(budget) / float64(took))
	p.batch = max(min(64, p.opts.MaxBatch), min(p.opts.MaxBatch, 2*p.batch, max(want, p.batch/2)))
}

// applyRows projects rows in tx, first resolving the users the writer left
// pending (users.go). Should the batch fail for its content, it is
// rolled back to a savepoint and redone event by event, each under its own
// savepoint, and the events the projections refuse are parked: one bad event
// must not hold up the rest. Projected is nil when that happened (the rows
// were then read around the cache, which must be dropped).
func (p *Projector) applyRows(ctx context.Context, tx *gorm.DB, rows []logRow, cache *projectionCache) (
	projected *projection, parked int, err error) {
	if err := resolvePendingUsers(tx, rows); err != nil {
		return nil, 0, err
	}
	events, poisoned := decodeLog(rows)
	for _, bad := range poisoned {
		if err := parkEvent(tx, bad.row, bad.err); err != nil {
			return nil, 0, err
		}
	}
	if err := tx.SavePoint("batch").Error; err != nil {
		return nil, 0, fmt.Errorf("ingest: projector savepoint: %w", err)
	}
	projected, perr := p.project(ctx, tx, events, cache)
	if perr == nil {
		return projected, len(poisoned), nil
	}
	if models.IsUnavailable(perr) {
		return nil, 0, perr
	}
	if err := tx.RollbackTo("batch").Error; err != nil {
		return nil, 0, fmt.Errorf("ingest: projector roll back batch: %w", errors.Join(perr, err))
	}
	parked = len(poisoned)
	bySeq := make(map[int64]logRow, len(rows))
	for _, r := range rows {
		bySeq[r.Seq] = r
	}
	for i, ev := range events {
		if err := tx.SavePoint("event").Error; err != nil {
			return nil, 0, fmt.Errorf("ingest: projector savepoint: %w", err)
		}
		_, perr := p.project(ctx, tx, events[i:i+1], nil)
		if perr == nil {
			continue
		}
		if models.IsUnavailable(perr) {
			return nil, 0, perr
		}
		if err := tx.RollbackTo("event").Error; err != nil {
			return nil, 0, fmt.Errorf("ingest: projector roll back %s: %w", ev.Stamp.EventID, errors.Join(perr, err))
		}
		if err := parkEvent(tx, bySeq[ev.Seq], perr); err != nil {
			return nil, 0, err
		}
		parked++
	}
	return nil, parked, nil
}

func (p *Projector) afterCommit(rows []logRow, parked int) {
	p.projected.Add(int64(len(rows) - parked))
	p.parked.Add(int64(parked))
	if parked > 0 {
		p.log.Error("Events parked: the projections could not take them; a rebuild retries them", slog.Int("count", parked))
	}
	// Pages showing users, accounts or the overview refresh.
	p.eventLog.publish(models.Change{Kind: models.ChangeProjection, ID: rows[len(rows)-1].Seq, At: time.Now().UTC()})
	if lag := time.Since(rows[len(rows)-1].ReceivedAt); lag > p.opts.LagWarn && time.Since(p.lastWarn) > 10*time.Second {
		p.lastWarn = time.Now()
		p.log.Warn("Projections are behind the event log", slog.Duration("lag", lag.Round(time.Second)),
			slog.Duration("warn_after", p.opts.LagWarn))
	}
}

func (p *Projector) report(r ProjectorReport) {
	if p.opts.OnBatch != nil {
		p.opts.OnBatch(r)
	}
}

// project applies events in tx: load the touched rows (from cache where it
// has them), apply each event, write the rows that changed, then the
// overview's counters and the reconciliation gaps. It returns the rows for
// the cache, to be remembered once tx commits.
func (p *Projector) project(ctx context.Context, tx *gorm.DB, events []ProjectedEvent, cache *projectionCache) (*projection, error) {
	if len(events) == 0 {
		return nil, nil
	}
	pr, err := loadProjection(ctx, tx, touchedBy(events), cache)
	if err != nil {
		return nil, fmt.Errorf("ingest: project: %w", err)
	}
	before := pr.loaded()
	for _, ev := range events {
		pr.apply(ev)
	}
	if err := pr.save(tx, before); err != nil {
		return nil, fmt.Errorf("ingest: project: %w", err)
	}
	if err := models.SaveHourly(tx, pr.hourly); err != nil {
		return nil, fmt.Errorf("ingest: project: %w", err)
	}
	if err := p.gaps.project(tx, events); err != nil {
		return nil, fmt.Errorf("ingest: project: %w", err)
	}
	return pr, nil
}

// poisonedRow is a stored event that no longer decodes.
type poisonedRow struct {
	row logRow
	err error
}

// decodeLog turns log rows into projected events, setting aside those whose
// stored body no longer parses.
func decodeLog(rows []logRow) ([]ProjectedEvent, []poisonedRow) {
	events := make([]ProjectedEvent, 0, len(rows))
	var bad []poisonedRow
	for _, r := range rows {
		ev, err := projectedFromStored(models.Event{Seq: r.Seq, UserKey: r.UserKey, Flags: r.Flags, Body: r.Body})
		if err != nil {
			bad = append(bad, poisonedRow{row: r, err: err})
			continue
		}
		ev.Seq = r.Seq
		events = append(events, ev)
	}
	return events, bad
}
