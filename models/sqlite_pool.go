package models

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// On SQLite the event log and the projections are written through one
// connection (Store.writer), while pages, sign-ins, widget callbacks and
// links write through the pool. A pool write waits for SQLite's file lock in
// busy-timeout sleeps of up to 100 ms; a writer that runs transactions back
// to back (the projector or the search indexer catching up, webhooks at full
// rate) holds the lock at almost every instant the pool writer looks, so the
// write could fail with "database is locked" after the 5 s busy timeout (a
// server restarted on a store whose search index was 680,000 events behind
// could not store its first setting). The pool therefore counts its writes in
// flight, and the writer connection's users wait for them between their
// transactions (YieldToPoolWrites): a pool write then gets the lock at its
// next look.

// countingPool is the SQLite pool as GORM sees it: statements run as on the
// *sql.DB, and writes are counted from the moment they ask for the lock
// (Exec, or a transaction, which begins IMMEDIATE) until they release it.
type countingPool struct {
	*sql.DB
	writes *atomic.Int64
}

func (p countingPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	p.writes.Add(1)
	defer p.writes.Add(-1)
	return p.DB.ExecContext(ctx, query, args...)
}

// BeginTx implements gorm.ConnPoolBeginner.
func (p countingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	p.writes.Add(1)
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		p.writes.Add(-1)
		return nil, err
	}
	return &countingTx{Tx: tx, writes: p.writes}, nil
}

// GetDBConn implements gorm.GetDBConnector, for Store.sqlDB and gorm's DB().
func (p countingPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// countingTx is a pool transaction, counted until it commits or rolls back.
type countingTx struct {
	*sql.Tx
	writes *atomic.Int64
	ended  atomic.Bool
}

func (t *countingTx) Commit() error {
	defer t.end()
	return t.Tx.Commit()
}

func (t *countingTx) Rollback() error {
	defer t.end()
	return t.Tx.Rollback()
}

func (t *countingTx) end() {
	if t.ended.CompareAndSwap(false, true) {
		t.writes.Add(-1)
	}
}

// maxYield bounds YieldToPoolWrites: a pool transaction left open by mistake
// must not stop the writer for good.
const maxYield = time.Second

// YieldToPoolWrites waits, between two transactions of the writer connection,
// until no pool write is waiting for SQLite's lock or holding it (at most a
// second, or until ctx ends). It returns at once on PostgreSQL and whenever
// the pool is not writing, which is almost always.
func (s *Store) YieldToPoolWrites(ctx context.Context) {
	if s.poolWrites == nil || s.poolWrites.Load() == 0 {
		return
	}
	deadline := time.Now().Add(maxYield)
	for s.poolWrites.Load() > 0 && time.Now().Before(deadline) {
		if !sleep(ctx, time.Millisecond) {
			return
		}
	}
}
