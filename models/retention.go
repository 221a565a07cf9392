package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
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
	err = s.retentionTx(ctx, func(tx *sql.Tx) error {
		after, err := s.retentionPosition(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.rebind("SELECT seq, received_at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?"), after, batch)
		if err != nil {
			return fmt.Errorf("read events after %d: %w", after, err)
		}
		type oldBody struct {
			seq  int64
			body []byte
		}
		var old []oldBody
		read := 0
		for rows.Next() {
			var b oldBody
			var received time.Time
			if err := rows.Scan(&b.seq, &received, &b.body); err != nil {
				rows.Close()
				return fmt.Errorf("scan event: %w", err)
			}
			read++
			if !received.Before(cutoff) {
				done = true
				break
			}
			old = append(old, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		if read < batch {
			done = true
		}
		for _, b := range old {
			if _, ok := RetainedOf(b.body); ok {
				continue
			}
			compact, err := CompactBody(b.body, now)
			if err != nil {
				continue // no longer parses: kept as it is, for inspection
			}
			if _, err := tx.ExecContext(ctx, s.rebind("UPDATE events SET body = ? WHERE seq = ?"), compact, b.seq); err != nil {
				return fmt.Errorf("compact event %d: %w", b.seq, err)
			}
			n++
		}
		if len(old) == 0 {
			return nil
		}
		return s.setRetentionPosition(ctx, tx, old[len(old)-1].seq)
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
	err := s.retentionTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind("DELETE FROM deliveries WHERE id IN "+
			"(SELECT id FROM deliveries WHERE received_at < ? ORDER BY id LIMIT ?)"), cutoff.UTC(), batch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("models: prune deliveries: %w", err)
	}
	return n, nil
}

// retentionTx runs f in a transaction on the writer's connection: on SQLite
// it queues behind the ingest writer's group commits instead of contending
// for the file lock, and each batch is short, so ingest waits at most one.
func (s *Store) retentionTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *Store) retentionPosition(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v string
	err := tx.QueryRowContext(ctx, s.rebind("SELECT value FROM settings WHERE name = ?"), retentionBodiesSetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read retention position: %w", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("retention position %q: %w", v, err)
	}
	return n, nil
}

func (s *Store) setRetentionPosition(ctx context.Context, tx *sql.Tx, seq int64) error {
	_, err := tx.ExecContext(ctx, s.rebind("INSERT INTO settings (name, value) VALUES (?, ?) "+
		"ON CONFLICT (name) DO UPDATE SET value = excluded.value"), retentionBodiesSetting, strconv.FormatInt(seq, 10))
	if err != nil {
		return fmt.Errorf("save retention position: %w", err)
	}
	return nil
}
