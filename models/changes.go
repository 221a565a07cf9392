package models

import "smiledash/models/live"

// Change is a stored timeline item as live views hear of it (package live).
type Change = live.Change

// Kinds of timeline item, which are also the kinds of change.
const (
	ChangeEvent    = live.KindEvent
	ChangeCallback = live.KindCallback
	ChangeAction   = live.KindAction
	ChangeDelivery = live.KindDelivery
	// ChangeProjection names no timeline item: the projections moved on.
	ChangeProjection = live.KindProjection
)

// Changes is the bus this store publishes every stored timeline item to,
// after its transaction commits. Live views subscribe to it; on PostgreSQL
// live.Bridge relays it between replicas.
func (s *Store) Changes() *live.Bus { return &s.changes }

func (s *Store) publish(c Change) { s.changes.Publish(c) }
