package live_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/live"
	"smiledash/models/storetest"
)

// TestBridge_RelaysBetweenReplicas runs two stores on one PostgreSQL schema,
// as two replicas would, and checks each hears the other's changes exactly
// once and its own exactly once (no echo).
//
// It never waits for something not to happen. Notifications reach a listener
// in commit order, so absence is shown with a barrier: after X, the other
// replica sends a marker only once it has heard X; a listener whose next
// change after X is that marker heard X once. Listeners never block, and the
// whole test has one deadline.
func TestBridge_RelaysBetweenReplicas(t *testing.T) {
	a := storetest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := storetest.Replica(t, a)
	log := slog.New(slog.DiscardHandler)
	for _, s := range []*models.Store{a, b} {
		stop, err := live.Bridge(ctx, s.DB(), s.Changes(), log)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
	}
	heardA, heardB := listen(t, a.Changes()), listen(t, b.Changes())
	change := func(id int64) live.Change {
		// A user id too: user pages follow a brand-new user's changes by it.
		return live.Change{Kind: live.KindAction, ID: id, UserID: "u-new", Label: "test", At: time.Unix(id, 0).UTC()}
	}
	next := func(name string, ch <-chan live.Change) live.Change {
		t.Helper()
		select {
		case c := <-ch:
			return c
		case <-ctx.Done():
			t.Fatalf("replica %s heard nothing before the deadline", name)
			return live.Change{}
		}
	}
	until := func(name string, ch <-chan live.Change, id int64) {
		t.Helper()
		for next(name, ch).ID != id {
		}
	}

	// LISTEN starts asynchronously: A publishes until B hears one, then the
	// barriers 1000 (A to B) and 2000 (B to A) flush what warming up left.
	warm := time.NewTicker(200 * time.Millisecond)
	defer warm.Stop()
	for id := int64(1); ; id++ {
		a.Changes().Publish(change(id))
		select {
		case <-heardB:
		case <-warm.C:
			if ctx.Err() != nil {
				t.Fatal("replica B heard nothing from replica A")
			}
			continue
		}
		break
	}
	a.Changes().Publish(change(1000))
	until("B", heardB, 1000)
	b.Changes().Publish(change(2000))
	until("A", heardA, 2000)
	until("B", heardB, 2000) // B's own, heard in process

	// X from A: A hears it in process, B through the bridge.
	a.Changes().Publish(change(3000))
	want := []struct {
		name string
		ch   <-chan live.Change
		id   int64
	}{{"A", heardA, 3000}, {"B", heardB, 3000}}
	for _, w := range want {
		if got := next(w.name, w.ch); got != change(w.id) {
			t.Fatalf("replica %s: got %+v, want %+v", w.name, got, change(w.id))
		}
	}
	// Marker M from B, once B heard X: had X echoed back to A, or been relayed
	// twice, A would hear it before M.
	b.Changes().Publish(change(3001))
	if got := next("A", heardA); got.ID != 3001 {
		t.Fatalf("replica A: got %+v after X, want B's marker 3001 (X heard twice?)", got)
	}
	if got := next("B", heardB); got.ID != 3001 {
		t.Fatalf("replica B: got %+v, want its own marker 3001 once", got)
	}
	// Marker N from A, once A heard M: had B's own 2000 or 3001 come back to
	// it, B would hear them before N.
	a.Changes().Publish(change(3002))
	if got := next("B", heardB); got.ID != 3002 {
		t.Fatalf("replica B: got %+v after its marker, want A's marker 3002 (own change echoed?)", got)
	}
}

// listen subscribes a non-blocking listener to bus; the test fails if its
// buffer ever overflows, rather than the publisher blocking.
func listen(t *testing.T, bus *live.Bus) <-chan live.Change {
	t.Helper()
	ch := make(chan live.Change, 1024)
	var overflowed atomic.Bool
	cancel := bus.Subscribe(func(c live.Change) {
		select {
		case ch <- c:
		default:
			overflowed.Store(true)
		}
	})
	t.Cleanup(func() {
		cancel()
		if overflowed.Load() {
			t.Error("a listener's buffer overflowed")
		}
	})
	return ch
}
