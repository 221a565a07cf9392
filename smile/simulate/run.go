package simulate

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"smiledash/smile"
)

// dupStream separates the duplicate-choice random streams from the generator's.
const dupStream = 0xd0b1_e5d0_b1e5_d0b1

// maxDrain bounds how much of a response body is read so the connection can be
// reused; a longer answer just costs that connection.
const maxDrain = 64 << 10

// Run sends whole users' webhook sequences to cfg.URL until cfg.Users users have
// been sent or cfg.Duration has elapsed. Each of cfg.Concurrency workers takes
// one user at a time, generates and signs all its events before timing any, then
// POSTs them in createdAt order, one request per event, with the duplicates
// chosen by cfg.Duplicates slipped in shortly after their originals. Any 2xx
// counts as acknowledged; other statuses and transport errors are counted by kind.
// Progress lines go to progress unless it is nil. Users sign up in the
// cfg.Window before cfg.End and nothing is dated after it; cfg.Realtime sends
// each event when its time comes instead, and cfg.Random is the load mode
// (single events for users picked at random).
//
// Run returns an error for an invalid cfg, and the context's error, with the
// report so far, when ctx ends first.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	tmpl, err := requestTemplate(cfg)
	if err != nil {
		return Report{}, err
	}
	client := cfg.HTTPClient
	if client == nil {
		var closeIdle func()
		client, closeIdle = loadClient(cfg.Concurrency)
		defer closeIdle()
	}

	r := &runner{cfg: cfg, client: client, tmpl: tmpl.WithContext(ctx)}
	r.began = time.Now()
	if cfg.Duration > 0 {
		r.deadline = r.began.Add(cfg.Duration)
	}
	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = r.newWorker()
	}
	var wg sync.WaitGroup
	switch {
	case cfg.Realtime:
		wg.Go(func() { r.realtime(ctx, workers) })
	case cfg.Random:
		for _, w := range workers {
			wg.Go(func() { w.runLoad(ctx) })
		}
	default:
		for _, w := range workers {
			wg.Go(func() { w.run(ctx) })
		}
	}
	stop := make(chan struct{})
	var progressDone sync.WaitGroup
	if progress != nil {
		progressDone.Go(func() { r.report(progress, stop) })
	}
	wg.Wait()
	close(stop)
	progressDone.Wait()

	rep := merge(workers, time.Since(r.began))
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("simulate: run interrupted: %w", err)
	}
	return rep, nil
}

// runner is what the workers of one run share.
type runner struct {
	cfg      Config
	client   *http.Client
	tmpl     *http.Request
	began    time.Time
	deadline time.Time     // zero without a Duration
	nextUser atomic.Uint64 // index of the next user to claim
	sent     atomic.Int64  // live totals for the progress lines
	acked    atomic.Int64

	// Random mode: events claimed so far, and the workers' random streams.
	claimed, loadStreams atomic.Uint64
	failed               atomic.Int64 // answered non-2xx or not at all; the rest of sent-acked is in flight
}

// claim returns the index of the next user to send, or false when the run is over.
func (r *runner) claim(ctx context.Context) (uint64, bool) {
	if ctx.Err() != nil || !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
		return 0, false
	}
	i := r.nextUser.Add(1) - 1
	if r.cfg.Users > 0 && i >= uint64(r.cfg.Users) {
		return 0, false
	}
	return i, true
}

// report writes a progress line every interval until stop is closed.
func (r *runner) report(w io.Writer, stop <-chan struct{}) {
	tick := time.NewTicker(r.cfg.ProgressInterval)
	defer tick.Stop()
	lastAcked, lastAt := int64(0), r.began
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			// failed before acked before sent: a request counted in acked or
			// failed is always already in sent, so in flight is never negative.
			failed := r.failed.Load()
			acked := r.acked.Load()
			sent, users := r.sent.Load(), r.nextUser.Load()
			if r.cfg.Users > 0 {
				users = min(users, uint64(r.cfg.Users))
			}
			rate := float64(acked-lastAcked) / now.Sub(lastAt).Seconds()
			line := progressLine{Elapsed: now.Sub(r.began), Users: int64(users), Sent: sent, Acked: acked, Failed: failed, EventsPerSec: rate}
			fmt.Fprintln(w, line)
			lastAcked, lastAt = acked, now
		}
	}
}

// step is one delivery of a user's plan: an event index and whether it is a repeat.
type step struct {
	idx int
	dup bool
}

// repeat is a duplicate delivery of event idx waiting until event due is sent.
type repeat struct{ due, idx int }

// worker sends users one at a time and keeps its own tallies, merged at the end,
// so the hot path shares nothing but two atomic counters.
type worker struct {
	r      *runner
	gen    *Generator
	dupSrc *rand.PCG
	dupRNG *rand.Rand

	// Reused between users.
	evs     []Event
	buf     []byte
	sigs    []string
	plan    []step
	pending []repeat
	scratch []byte // response bodies are drained into it

	users, sent, acked, dups int64
	statuses                 [600]int64       // by HTTP status code
	errs                     map[string]int64 // transport errors by kind
	errSample                string           // the first transport error, for the report
	types                    map[smile.EventType]int64
	latency                  histogram
}

func (r *runner) newWorker() *worker {
	src := rand.NewPCG(r.cfg.Seed, dupStream)
	return &worker{
		r:       r,
		gen:     NewGenerator(r.cfg.Seed, r.cfg.Tenant, r.began).WithWindow(r.cfg.End, r.cfg.Window),
		dupSrc:  src,
		dupRNG:  rand.New(src),
		scratch: make([]byte, 4096),
		errs:    map[string]int64{},
		types:   map[smile.EventType]int64{},
	}
}

func (w *worker) run(ctx context.Context) {
	for {
		i, ok := w.r.claim(ctx)
		if !ok {
			return
		}
		w.prepare(i)
		w.users++
		for _, s := range w.plan {
			if ctx.Err() != nil {
				return
			}
			w.deliver(w.evs[s.idx], w.sigs[s.idx:s.idx+1:s.idx+1], s.dup)
		}
	}
}

// prepare generates, signs and plans user i, before any of it is timed. It reuses
// the previous user's memory: the transport is done with those bodies, as each
// was written in full before its response could come (bodies are far smaller
// than the transport's write buffer, flushed once per request).
func (w *worker) prepare(i uint64) {
	w.evs, w.buf = w.gen.appendUser(i, w.evs[:0], w.buf[:0])
	w.sigs = w.sigs[:0]
	secret := []byte(w.r.cfg.Secret)
	for _, ev := range w.evs {
		w.sigs = append(w.sigs, smile.SignatureFor(secret, ev.Body))
	}
	w.dupSrc.Seed(w.r.cfg.Seed^dupStream, mix(i))
	w.plan, w.pending = w.plan[:0], w.pending[:0]
	p := w.r.cfg.Duplicates
	for idx := range w.evs {
		w.plan = append(w.plan, step{idx: idx})
		if p > 0 && w.dupRNG.Float64() < p {
			// The repeat arrives after zero to three later events, as a retry or a
			// concurrent double delivery would.
			w.pending = append(w.pending, repeat{due: idx + w.dupRNG.IntN(4), idx: idx})
		}
		w.flushDue(idx)
	}
	w.flushDue(len(w.evs))
}

// flushDue moves the repeats due once event idx is sent into the plan.
func (w *worker) flushDue(idx int) {
	kept := w.pending[:0]
	for _, rp := range w.pending {
		if rp.due <= idx {
			w.plan = append(w.plan, step{idx: rp.idx, dup: true})
			continue
		}
		kept = append(kept, rp)
	}
	w.pending = kept
}
