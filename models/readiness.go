package models

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"gorm.io/gorm/clause"

	"smiledash/migrations"
)

// readinessSetting is the settings row CheckWritable rewrites.
const readinessSetting = "readiness_probe"

// WriteCheckEvery is how often, at most, readiness commits a write. Load
// balancers probe every few seconds from several places; on SQLite each write
// takes the one write lock the ingest writer needs, so probes read on every
// call and write only this often. A full disk is therefore noticed within
// this interval (plus one probe period), and so is its repair.
const WriteCheckEvery = 10 * time.Second

// NotReadyError says why the store cannot take traffic. Reason is a fixed
// phrase fit for an unauthenticated probe's answer; Err keeps the cause for
// the log.
type NotReadyError struct {
	Reason string
	Err    error
}

func (e *NotReadyError) Error() string {
	if e.Err == nil {
		return "models: not ready: " + e.Reason
	}
	return "models: not ready: " + e.Reason + ": " + e.Err.Error()
}

func (e *NotReadyError) Unwrap() error { return e.Err }

func notReady(reason string, err error) error { return &NotReadyError{Reason: reason, Err: err} }

// Readiness answers whether the store can take traffic: it answers, every
// migration is applied, it is not read-only, and a write commits. It is safe
// for concurrent use; probes share one write check per WriteCheckEvery.
type Readiness struct {
	store       *Store
	migrator    *migrations.Migrator
	migratorErr error
	every       time.Duration
	now         func() time.Time
	// last is the latest write check; probes read it without a lock.
	last atomic.Pointer[writeCheck]
	// writing admits one write check at a time, so probes arriving together
	// when last has expired wait for one write instead of each making one.
	writing chan struct{}
}

// writeCheck is the outcome of one CheckWritable call.
type writeCheck struct {
	at  time.Time
	err error
}

// NewReadiness returns the readiness check of s, committing a write at most
// once per every by the clock now.
func NewReadiness(s *Store, every time.Duration, now func() time.Time) *Readiness {
	// The migrator is built once: building it lists the embedded migration
	// files, which a probe every few seconds need not repeat.
	m, err := s.Migrator()
	return &Readiness{store: s, migrator: m, migratorErr: err, every: every, now: now, writing: make(chan struct{}, 1)}
}

// Check returns nil when the store is ready, or a *NotReadyError. Every call
// pings, reads the applied migrations and, on PostgreSQL, whether
// transactions are read-only; the write is the cached result of the latest
// CheckWritable, redone once it is older than the interval.
func (r *Readiness) Check(ctx context.Context) error {
	if err := r.store.Ping(ctx); err != nil {
		return notReady("database unreachable", err)
	}
	if r.migratorErr != nil {
		return notReady("migrations unreadable", r.migratorErr)
	}
	pending, err := r.migrator.Pending(ctx)
	if err != nil {
		return notReady("migration state unreadable", err)
	}
	if pending {
		return notReady("migrations pending", nil)
	}
	if err := r.store.checkReadOnly(ctx); err != nil {
		return err
	}
	if err := r.writable(ctx); err != nil {
		return notReady("database cannot commit", err)
	}
	return nil
}

// writable returns the latest write check's result, first making a new one
// if it is older than the interval. A failure is cached like a success: while
// the disk is full every probe would fail the same way, and each attempt
// queues for SQLite's write lock.
func (r *Readiness) writable(ctx context.Context) error {
	if c := r.fresh(); c != nil {
		return c.err
	}
	select {
	case r.writing <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("models: wait for the readiness write: %w", ctx.Err())
	}
	defer func() { <-r.writing }()
	// Another probe may have written while this one waited.
	if c := r.fresh(); c != nil {
		return c.err
	}
	at := r.now()
	err := r.store.CheckWritable(ctx, at)
	if err != nil && ctx.Err() != nil {
		// This probe gave up (its client left, or its deadline passed): the
		// answer is unready, but the next probe tries again rather than
		// inheriting one impatient caller's failure.
		return err
	}
	r.last.Store(&writeCheck{at: at, err: err})
	return err
}

// fresh returns the latest write check if it is younger than the interval.
func (r *Readiness) fresh() *writeCheck {
	c := r.last.Load()
	if c == nil {
		return nil
	}
	if age := r.now().Sub(c.at); age < 0 || age >= r.every {
		// A clock stepped backwards makes the result as stale as an old one.
		return nil
	}
	return c
}

// checkReadOnly reads, without writing, whether PostgreSQL refuses writes: a
// standby after failover, or default_transaction_read_only, answers pings
// and reads while every webhook would fail. SQLite has no such state.
func (s *Store) checkReadOnly(ctx context.Context) error {
	if s.dialect != migrations.Postgres {
		return nil
	}
	var readOnly string
	if err := s.db.WithContext(ctx).Raw("SELECT current_setting('transaction_read_only')").Scan(&readOnly).Error; err != nil {
		return notReady("database unreadable", err)
	}
	if readOnly == "on" {
		return notReady("database is read-only", nil)
	}
	return nil
}

// CheckWritable commits one small write (the time, in a settings row), so
// that readiness means "can commit", not only "answers": a full disk, or a
// PostgreSQL that has become read-only (a standby after failover,
// default_transaction_read_only), still answers pings and reads while every
// webhook gets 503.
func (s *Store) CheckWritable(ctx context.Context, now time.Time) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value"}),
	}).Create(&setting{Name: readinessSetting, Value: now.UTC().Format(time.RFC3339Nano)}).Error
	if err != nil {
		return fmt.Errorf("models: readiness write: %w", err)
	}
	return nil
}
