package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// retentionBodiesSetting remembers the highest event seq whose body retention
// has dealt with, so each run starts where the last one stopped instead of
// rescanning the whole log.
const retentionBodiesSetting = "retention_bodies_after_seq"

// CompactOldBodies replaces the raw bodies of up to batch events received
// before cutoff with their compact form (CompactBody), in one short
// transaction, and returns how many it rewrote and whether it reached events
// still too young (so a caller loops until done). Events are taken in seq
// order from where the previous call stopped; an event whose body no longer
// parses is left as it is and passed over.
func (s *Store) CompactOldBodies(ctx context.Context, cutoff time.Time, batch int, now time.Time) (n int, done bool, err error) {
	err = s.retentionTx(ctx, func(tx *gorm.DB) error {
		after, err := retentionPosition(tx)
		if err != nil {
			return err
		}
		var rows []Event
		if err := tx.Select("seq", "received_at", "body").Where("seq > ?", after).Order("seq").Limit(batch).Find(&rows).Error; err != nil {
			return fmt.Errorf("read events after %d: %w", after, err)
		}
		if len(rows) < batch {
			done = true
		}
		old := rows
		for i, r := range rows {
			if !r.ReceivedAt.Before(cutoff) {
				old, done = rows[:i], true
				break
			}
		}
		for _, b := range old {
			if _, ok := RetainedOf(b.Body); ok {
				continue
			}
			compact, err := CompactBody(b.Body, now)
			if err != nil {
				continue // no longer parses: kept as it is, for inspection
			}
			if err := tx.Exec("UPDATE events SET body = ? WHERE seq = ?", compact, b.Seq).Error; err != nil {
				return fmt.Errorf("compact event %d: %w", b.Seq, err)
			}
			n++
		}
		if len(old) == 0 {
			return nil
		}
		return setRetentionPosition(tx, old[len(old)-1].Seq)
	})
	if err != nil {
		return 0, false, fmt.Errorf("models: compact old bodies: %w", err)
	}
	return n, done, nil
}

// PruneDeliveries deletes up to batch delivery records (rejections and
// duplicate retries) received before cutoff, oldest first, and returns how
// many went. The events themselves, and their delivery counts, stay.
func (s *Store) PruneDeliveries(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	var n int64
	err := s.retentionTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM deliveries WHERE id IN "+
			"(SELECT id FROM deliveries WHERE received_at < ? ORDER BY id LIMIT ?)", cutoff.UTC(), batch)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("models: prune deliveries: %w", err)
	}
	return n, nil
}

// retentionTx runs f in a transaction of the writer handle: on SQLite it
// queues behind the ingest writer's group commits instead of contending for
// the file lock, and each batch is short, so ingest waits at most one.
func (s *Store) retentionTx(ctx context.Context, f func(tx *gorm.DB) error) error {
	tx := s.writer.WithContext(ctx).Begin()
	if tx.Error != nil {
		return fmt.Errorf("begin: %w", tx.Error)
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback().Error)
	}
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func retentionPosition(tx *gorm.DB) (int64, error) {
	var v []string
	if err := tx.Raw("SELECT value FROM settings WHERE name = ?", retentionBodiesSetting).Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read retention position: %w", err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("retention position %q: %w", v[0], err)
	}
	return n, nil
}

func setRetentionPosition(tx *gorm.DB, seq int64) error {
	err := tx.Exec("INSERT INTO settings (name, value) VALUES (?, ?) "+
		"ON CONFLICT (name) DO UPDATE SET value = excluded.value", retentionBodiesSetting, strconv.FormatInt(seq, 10)).Error
	if err != nil {
		return fmt.Errorf("save retention position: %w", err)
	}
	return nil
}
