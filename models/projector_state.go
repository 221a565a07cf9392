package models

import (
	"context"
	"fmt"
	"smiledash/migrations"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// How the projector follows the log (projector_state, migration 00017).
//
// SQLite has one writer connection, so events commit in sequence order: the
// position is the last projected seq.
//
// On PostgreSQL replicas append side by side and a sequence number can commit
// after a larger one, so "seq > position" could skip an event. Each event row
// records its appending transaction (events.tx, an xid8). The projector reads
// only events of transactions older than every transaction still running
// (pg_snapshot_xmin of its snapshot): those are all finished, so no event can
// appear behind it later. It takes them in (tx, seq) order, and its position
// is the (tx, seq) of the last one. Events from before that column have no
// tx: they were projected when they were stored.

const projectorName = "projections"

// LogPosition is how far the projector has got.
type LogPosition struct {
	Tx  int64 // PostgreSQL only: the appending transaction's id
	Seq int64
	// Owner is who wrote the projections last: a projector's id, or
	// OwnerRebuild, OwnerErase.
	Owner string
}

// Owners of the projections other than a projector.
const (
	OwnerRebuild = "rebuild"
	OwnerErase   = "erase"
)

// ClaimProjections records that owner wrote projections (an erasure), so a
// projector's cache of them is dropped, in this process or any other.
func (s *Store) ClaimProjections(tx *gorm.DB, owner string) error {
	if err := tx.Exec("UPDATE projector_state SET owner = ? WHERE name = ?", owner, projectorName).Error; err != nil {
		return fmt.Errorf("models: claim projections: %w", err)
	}
	return nil
}

// ProjectionLockArgs is the PostgreSQL advisory lock (two int4 keys) held by
// whoever writes projections (one replica's projector at a time, a rebuild,
// an erasure, a callback opening a gap; appending to the log never takes it),
// as SQL: the class 7243 and the store's schema, so stores in different
// schemas of one database (tests, or several deployments) do not wait for
// each other.
const ProjectionLockArgs = "7243, hashtext(current_schema())"

// LockProjections takes the projection lock for tx on PostgreSQL, waiting for
// it or not; SQLite's single writer connection already serialises writers.
func (s *Store) LockProjections(tx *gorm.DB, wait bool) (bool, error) {
	if s.dialect != migrations.Postgres {
		return true, nil
	}
	if wait {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(" + ProjectionLockArgs + ")").Error; err != nil {
			return false, fmt.Errorf("models: projection lock: %w", err)
		}
		return true, nil
	}
	var locked bool
	if err := tx.Raw("SELECT pg_try_advisory_xact_lock(" + ProjectionLockArgs + ")").Scan(&locked).Error; err != nil {
		return false, fmt.Errorf("models: projection lock: %w", err)
	}
	return locked, nil
}

func (s *Store) ProjectorPosition(tx *gorm.DB) (LogPosition, error) {
	var pos LogPosition
	res := tx.Raw("SELECT position_tx AS tx, position_seq AS seq, owner FROM projector_state WHERE name = ?", projectorName).Scan(&pos)
	if res.Error != nil {
		return pos, fmt.Errorf("models: projector position: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return pos, fmt.Errorf("models: projector position: no %q row (migrations not applied?)", projectorName)
	}
	return pos, nil
}

func (s *Store) SetProjectorPosition(tx *gorm.DB, pos LogPosition) error {
	err := tx.Exec("UPDATE projector_state SET position_tx = ?, position_seq = ?, owner = ?, updated_at = ? WHERE name = ?",
		pos.Tx, pos.Seq, pos.Owner, time.Now().UTC(), projectorName).Error
	if err != nil {
		return fmt.Errorf("models: move projector position: %w", err)
	}
	return nil
}

// Beyond is the SQL condition (and its arguments) for events the projector
// has not reached at pos, whether or not they are safe to project yet.
func (s *Store) Beyond(pos LogPosition) (string, []any) {
	if s.dialect == migrations.Postgres {
		return "tx IS NOT NULL AND (tx, seq) > (?::text::xid8, ?)", []any{strconv.FormatInt(pos.Tx, 10), pos.Seq}
	}
	return "seq > ?", []any{pos.Seq}
}

// ProjectedBy is the SQL condition (and its arguments) for events the
// projector has reached at pos.
func (s *Store) ProjectedBy(pos LogPosition) (string, []any) {
	cond, args := s.Beyond(pos)
	return "NOT (" + cond + ")", args
}

// ParkedEvent is an event the projections could not take.
type ParkedEvent struct {
	Seq      int64     `gorm:"column:seq;primaryKey"`
	EventID  string    `gorm:"column:event_id"`
	Error    string    `gorm:"column:error"`
	ParkedAt time.Time `gorm:"column:parked_at"`
}

// TableName implements gorm's tabler.
func (ParkedEvent) TableName() string { return "parked_events" }

// ParkedEvents lists up to limit parked events, newest first, and how many there are.
func (s *Store) ParkedEvents(ctx context.Context, limit int) ([]ParkedEvent, int64, error) {
	var total int64
	if err := s.db.WithContext(ctx).Model(&ParkedEvent{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: count parked events: %w", err)
	}
	var out []ParkedEvent
	if err := s.db.WithContext(ctx).Order("seq DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("models: parked events: %w", err)
	}
	return out, total, nil
}

// ParkedEvent says why an event is parked; ErrNotFound when it is not.
func (s *Store) ParkedEvent(ctx context.Context, seq int64) (ParkedEvent, error) {
	var p ParkedEvent
	err := s.db.WithContext(ctx).Where("seq = ?", seq).Take(&p).Error
	return p, notFound(err)
}

// ProjectorLag is how far the projections are behind the event log.
type ProjectorLag struct {
	// Events is how many stored events are not projected yet (counted up to
	// maxLagCount).
	Events int64
	// Oldest is when the oldest of them was received; zero when none.
	Oldest time.Time
	// Parked is how many events the projections could not take.
	Parked int64
}

// Behind is how long the oldest unprojected event has waited at now.
func (l ProjectorLag) Behind(now time.Time) time.Duration {
	if l.Events == 0 || l.Oldest.IsZero() {
		return 0
	}
	return max(now.Sub(l.Oldest), 0)
}

// maxLagCount bounds the count behind ProjectorLag, so a page asking for it
// never scans a huge backlog.
const maxLagCount = 1_000_000

// ProjectorLag reads how far the projections are behind the log.
func (s *Store) ProjectorLag(ctx context.Context) (ProjectorLag, error) {
	var lag ProjectorLag
	db := s.db.WithContext(ctx)
	pos, err := s.ProjectorPosition(db)
	if err != nil {
		return lag, err
	}
	cond, args := s.Beyond(pos)
	if err := db.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE "+cond+" LIMIT ?) AS behind", append(args, maxLagCount)...).
		Scan(&lag.Events).Error; err != nil {
		return lag, fmt.Errorf("models: projector lag: %w", err)
	}
	if lag.Events > 0 {
		order := "seq"
		if s.dialect == migrations.Postgres {
			order = "tx, seq"
		}
		var oldest []time.Time
		if err := db.Raw("SELECT received_at FROM events WHERE "+cond+" ORDER BY "+order+" LIMIT 1", args...).
			Scan(&oldest).Error; err != nil {
			return lag, fmt.Errorf("models: projector lag: %w", err)
		}
		if len(oldest) > 0 {
			lag.Oldest = oldest[0]
		}
	}
	if err := db.Model(&ParkedEvent{}).Count(&lag.Parked).Error; err != nil {
		return lag, fmt.Errorf("models: projector lag: %w", err)
	}
	return lag, nil
}

// UnprojectedUpTo reports whether an event with seq ≤ last is not projected yet.
func (s *Store) UnprojectedUpTo(ctx context.Context, last int64) (bool, error) {
	db := s.db.WithContext(ctx)
	pos, err := s.ProjectorPosition(db)
	if err != nil {
		return false, err
	}
	cond, args := s.Beyond(pos)
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE seq <= ? AND "+cond+" LIMIT 1) AS pending",
		append([]any{last}, args...)...).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("models: sync projections: %w", err)
	}
	return n > 0, nil
}
