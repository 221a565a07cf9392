package live_test

import (
	"testing"

	"smiledash/models/live"
)

// TestBus_SubscribeAndCancel checks every subscriber hears a change once and
// a cancelled one hears nothing more.
func TestBus_SubscribeAndCancel(t *testing.T) {
	var bus live.Bus
	var first, second []int64
	cancel := bus.Subscribe(func(c live.Change) { first = append(first, c.ID) })
	defer bus.Subscribe(func(c live.Change) { second = append(second, c.ID) })()
	bus.Publish(live.Change{ID: 1})
	cancel()
	bus.Publish(live.Change{ID: 2})
	if len(first) != 1 || first[0] != 1 {
		t.Errorf("cancelled subscriber: got %v, want [1]", first)
	}
	if len(second) != 2 || second[0] != 1 || second[1] != 2 {
		t.Errorf("subscriber: got %v, want [1 2]", second)
	}
}
