// Package ingest is the write side of the event log: the Writer appends
// verified webhooks and acknowledges them once their rows commit; the
// Projector follows the log and applies each event to the projections (users,
// accounts, archives, invites, tasks, data availability, records,
// verifications, counters, gaps) exactly once; Reproject rebuilds the
// projections from the log; EraseUser takes a user's history and everything
// derived from it out. EventEffects shows what one event changed by running
// it through the same fold.
//
// Data access: SQL text through GORM's Exec and Raw on the hot paths
// (multi-row appends in ingest_append.go, the log reads in projector_log.go),
// GORM's Create with an ON CONFLICT clause for the projections
// (projection_store.go). Everything goes through the store's writer handle:
// one connection of its own on SQLite, so appends, projection and erasure
// take turns without busy waits; the pool on PostgreSQL, where the projection
// lock (models.ProjectionLockArgs) lets one writer of projections at a time.
// The entities, the projector's position and the page queries stay in
// package models.
package ingest

import (
	"gorm.io/gorm"

	"smiledash/migrations"
	"smiledash/models"
)

// Log is one store's event log, seen from the side that writes it. Make one
// per store and process: it tracks the rebuilds it runs, for StopRebuilds.
type Log struct {
	store    *models.Store
	db       *gorm.DB // the store's pool, for reads
	writer   *gorm.DB // the store's writer handle
	dialect  migrations.Dialect
	rebuilds rebuildGate
}

// New returns the event log of store.
func New(store *models.Store) *Log {
	return &Log{store: store, db: store.DB(), writer: store.Writer(), dialect: store.Dialect()}
}

// Store is the store the log is kept in.
func (l *Log) Store() *models.Store { return l.store }

func (l *Log) publish(c models.Change) { l.store.Changes().Publish(c) }
