// Package live fans out news of stored timeline items to the live views: an
// in-process bus (Bus) that the store publishes to after each commit, and on
// PostgreSQL a bridge (Bridge) that relays it between replicas with
// LISTEN/NOTIFY.
//
// Data access: none on SQLite. On PostgreSQL the bridge runs one SQL text,
// pg_notify, through GORM's Exec, and holds one pool connection in LISTEN
// through pgx directly, because neither GORM nor database/sql can wait for a
// notification.
package live

import (
	"sync"
	"time"
)

// Kinds of change; they are also the kinds of timeline item.
const (
	KindEvent    = "event"
	KindCallback = "callback"
	KindAction   = "action"
	// KindDelivery says delivery attempts (refusals, duplicates) were
	// recorded; it names no item, only that the deliveries list changed.
	KindDelivery = "delivery"
	// KindProjection says the projector applied events up to ID (events.seq)
	// to the projections: pages showing users, accounts or the overview's
	// counters refresh.
	KindProjection = "projection"
)

// Change tells live views that a timeline item was stored. Bridge carries it
// between replicas as JSON.
type Change struct {
	Kind    string // KindEvent, KindCallback, KindAction, KindDelivery or KindProjection
	ID      int64  // events.seq, callbacks.id or actions.id
	UserKey int64  // 0 when the item names no user, or its user has no row yet
	// UserID is the item's Smile user id, set by publishers that know it
	// (webhooks): a brand-new user's first events have no key yet, and a
	// user page follows them by id.
	UserID    string
	AccountID string
	At        time.Time
	Label     string // event type, callback name or action kind
}

// Bus fans changes out in process. Its zero value is ready to use. Listeners
// must not block: the ingest writer publishes after every commit.
type Bus struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(Change)
}

// Subscribe registers f to hear about every change published in this process
// and returns a function that unregisters it. f must return quickly.
func (b *Bus) Subscribe(f func(Change)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fns == nil {
		b.fns = map[int]func(Change){}
	}
	id := b.next
	b.next++
	b.fns[id] = f
	return func() {
		b.mu.Lock()
		delete(b.fns, id)
		b.mu.Unlock()
	}
}

// Publish tells every listener about c, in the caller's goroutine.
func (b *Bus) Publish(c Change) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, f := range b.fns {
		f(c)
	}
}
