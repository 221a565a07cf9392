package ingest

import (
	"sync/atomic"
	"time"
)

// A writer is saturated when it spends nearly all its time committing: the
// webhooks queue up behind each commit and every moment another transaction
// takes the connection is added to their wait. On SQLite, with the projector
// taking 25–50 ms batches every half second, that put a burst's p99 at 40 ms
// where the appends alone answered within 25 ms (scripts/bench-ingest.sh,
// empty store). A writer that keeps up has time between its commits, and
// the projector's batches then cost the webhooks little.
const (
	// loadWindow is how long each measurement of the writer's load lasts.
	loadWindow = 250 * time.Millisecond
	// saturatedShare is the share of a window spent committing from which
	// the writer counts as saturated. Under the benchmark's full load it
	// commits 93% of the time.
	saturatedShare = 0.8
)

// writerLoad measures the share of time the writer spends committing, over
// successive windows. observe is called by the writer goroutine only;
// saturated by anyone.
type writerLoad struct {
	windowStart time.Time
	busy        time.Duration
	// saturatedUntil is when the last window's verdict expires (Unix
	// nanoseconds): a writer that stops committing stops being saturated
	// within a window.
	saturatedUntil atomic.Int64
}

// observe records a commit that ran from start to end.
func (w *writerLoad) observe(start, end time.Time) {
	if w.windowStart.IsZero() || start.Sub(w.windowStart) > 2*loadWindow {
		w.windowStart, w.busy = start, 0 // idle since: a new window
	}
	w.busy += end.Sub(start)
	elapsed := end.Sub(w.windowStart)
	if elapsed < loadWindow {
		return
	}
	var until int64
	if float64(w.busy) >= saturatedShare*float64(elapsed) {
		until = end.Add(loadWindow).UnixNano()
	}
	w.saturatedUntil.Store(until)
	w.windowStart, w.busy = end, 0
}

// saturated tells whether the last window ended within loadWindow of now
// with the writer committing most of it.
func (w *writerLoad) saturated(now time.Time) bool {
	return now.UnixNano() < w.saturatedUntil.Load()
}
