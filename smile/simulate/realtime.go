package simulate

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"smiledash/smile"
)

// delivery is one event a realtime run sends, with its signature.
type delivery struct {
	ev  Event
	sig []string
	dup bool
}

// due is an event waiting for its time in a realtime run; seq keeps one user's
// events of the same second in their order.
type due struct {
	at   time.Time
	seq  uint64
	user uint64
	d    delivery
}

type dueHeap []due

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// realtime sends users' histories as they happen: user i signs up in the i-th
// half-minute slot from the run's start, and each event is sent when its time
// comes, so it is never dated after the wall clock. One dispatcher keeps the
// events of every started user in time order and hands each to the worker that
// owns its user, so one user's events arrive in order.
func (r *runner) realtime(ctx context.Context, workers []*worker) {
	// The first user signed up in the half-minute before the run, so the run
	// opens with its USER_CREATED; everyone else's time is still to come.
	gen := NewGenerator(r.cfg.Seed, r.cfg.Tenant, r.began.Add(-userSpacing))
	slot := func(i uint64) time.Time { return gen.start.Add(time.Duration(i) * userSpacing) }
	queues := make([]chan delivery, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		queues[i] = make(chan delivery, 64)
		wg.Go(func() {
			for d := range queues[i] {
				w.deliver(d.ev, d.sig, d.dup)
			}
		})
	}
	defer func() {
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
	}()

	secret := []byte(r.cfg.Secret)
	var pending dueHeap
	var seq, next uint64
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		if !r.deadline.IsZero() && !now.Before(r.deadline) {
			return // what is not due yet has not happened
		}
		// Start every user whose slot has begun (its events all lie in or after it).
		for (r.cfg.Users == 0 || next < uint64(r.cfg.Users)) && !now.Before(slot(next)) {
			evs, _ := gen.appendUser(next, nil, nil)
			for _, ev := range evs {
				sig := []string{smile.SignatureFor(secret, ev.Body)}
				heap.Push(&pending, due{at: ev.CreatedAt, seq: seq, user: next, d: delivery{ev: ev, sig: sig}})
				seq++
			}
			next++
			r.nextUser.Store(next)
			workers[0].users++
		}
		for pending.Len() > 0 && !pending[0].at.After(now) {
			it := heap.Pop(&pending).(due)
			q := queues[it.user%uint64(len(queues))]
			if !r.send(ctx, q, it.d) {
				return
			}
			if p := r.cfg.Duplicates; p > 0 && workers[0].dupRNG.Float64() < p {
				it.d.dup = true
				if !r.send(ctx, q, it.d) {
					return
				}
			}
		}
		allStarted := r.cfg.Users > 0 && next >= uint64(r.cfg.Users)
		if allStarted && pending.Len() == 0 {
			return
		}
		wake := slot(next)
		if allStarted || pending.Len() > 0 && pending[0].at.Before(wake) {
			wake = pending[0].at
		}
		if !r.deadline.IsZero() && r.deadline.Before(wake) {
			wake = r.deadline
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// send hands d to a worker's queue unless ctx ends first.
func (r *runner) send(ctx context.Context, q chan<- delivery, d delivery) bool {
	select {
	case q <- d:
		return true
	case <-ctx.Done():
		return false
	}
}
