package models

import (
	"sync"
	"time"
)

// Kinds of change listeners hear about.
const (
	ChangeEvent    = "event"
	ChangeCallback = "callback"
	ChangeAction   = "action"
	// ChangeDelivery says delivery attempts (refusals, duplicates) were
	// recorded; it names no item, only that the deliveries list changed.
	ChangeDelivery = "delivery"
)

// Change tells live views that a timeline item was stored.
type Change struct {
	Kind      string // ChangeEvent, ChangeCallback or ChangeAction
	ID        int64  // events.seq, callbacks.id or actions.id
	UserKey   int64  // 0 when the item names no user
	AccountID string
	At        time.Time
	Label     string // event type, callback name or action kind
}

// listeners fan changes out in process. Listeners must not block: the ingest
// writer calls them after every commit.
type listeners struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(Change)
}

// OnChange registers f to hear about every stored timeline item in this process
// and returns a function that unregisters it. f must return quickly.
func (s *Store) OnChange(f func(Change)) (cancel func()) {
	l := &s.listeners
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fns == nil {
		l.fns = map[int]func(Change){}
	}
	id := l.next
	l.next++
	l.fns[id] = f
	return func() {
		l.mu.Lock()
		delete(l.fns, id)
		l.mu.Unlock()
	}
}

func (s *Store) publish(c Change) {
	l := &s.listeners
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, f := range l.fns {
		f(c)
	}
}
