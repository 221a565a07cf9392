package ingest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"smiledash/migrations"
	"smiledash/models"
)

// logRow is what the projector reads of an event.
type logRow struct {
	Seq     int64  `gorm:"column:seq"`
	Tx      int64  `gorm:"column:tx"`
	EventID string `gorm:"column:event_id"`
	UserKey *int64 `gorm:"column:user_key"`
	// PendingUser is set while the user is not resolved yet (users.go).
	PendingUser string    `gorm:"column:pending_user"`
	Flags       string    `gorm:"column:flags"`
	Body        []byte    `gorm:"column:body"`
	ReceivedAt  time.Time `gorm:"column:received_at"`
}

// unprojected reads up to limit events after pos that are safe to project.
func (l *Log) unprojected(tx *gorm.DB, pos models.LogPosition, limit int) ([]logRow, error) {
	var rows []logRow
	var err error
	if l.dialect == migrations.Postgres {
		err = tx.Raw("SELECT seq, tx::text::bigint AS tx, event_id, user_key, pending_user, flags, body, received_at FROM events "+
			"WHERE (tx, seq) > (?::text::xid8, ?) AND tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx, seq LIMIT ?",
			strconv.FormatInt(pos.Tx, 10), pos.Seq, limit).Scan(&rows).Error
	} else {
		err = tx.Raw("SELECT seq, 0 AS tx, event_id, user_key, pending_user, flags, body, received_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
			pos.Seq, limit).Scan(&rows).Error
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: read the log after %d: %w", pos.Seq, err)
	}
	return rows, nil
}

// parkEvent sets aside an event the projections could not take.
func parkEvent(tx *gorm.DB, r logRow, cause error) error {
	msg := models.StorableText(cause.Error())
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	err := tx.Exec("INSERT INTO parked_events (seq, event_id, error, parked_at) VALUES (?, ?, ?, ?) "+
		"ON CONFLICT (seq) DO UPDATE SET error = excluded.error, parked_at = excluded.parked_at",
		r.Seq, r.EventID, msg, time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("ingest: park event %d: %w", r.Seq, err)
	}
	return nil
}

// SyncProjections projects every event stored before the call (or parks it),
// or returns when ctx ends. It projects in the caller's goroutine, taking
// turns with any running projector through the writer connection (SQLite) or
// the projection lock (PostgreSQL), rather than waking one that gathers
// events before a batch: tests and commands want the projections now.
func (l *Log) SyncProjections(ctx context.Context) error {
	var last int64
	if err := l.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&last).Error; err != nil {
		return fmt.Errorf("ingest: sync projections: %w", err)
	}
	own := l.newProjector(ProjectorOptions{})
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		pending, err := l.store.UnprojectedUpTo(ctx, last)
		if err != nil || !pending {
			return err
		}
		n, err := own.step(ctx, true)
		if err != nil {
			return fmt.Errorf("ingest: sync projections: %w", err)
		}
		if n > 0 {
			continue
		}
		// On PostgreSQL an event may be committed yet not safe to project
		// while an older transaction runs (pg_snapshot_xmin).
		select {
		case <-ctx.Done():
			return fmt.Errorf("ingest: sync projections: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}
