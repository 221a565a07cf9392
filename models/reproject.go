package models

import (
	"context"
	"fmt"

	"smiledash/migrations"
	"smiledash/smile"
)

// projectionTables are rebuilt from the event log by Reproject.
var projectionTables = []string{
	"data_availability", "tasks", "invites", "archives", "accounts", "records", "verifications", "event_counts",
}

// Reproject rebuilds every projection from the stored events, in one transaction
// on the writer's connection, and returns how many events it replayed. Users keep
// their keys (events refer to them); their projected columns are reset and
// recomputed. In a running server the ingest writer waits meanwhile and drops
// its cache afterwards; with several replicas, the advisory lock serialises it
// with every replica's writer.
func (s *Store) Reproject(ctx context.Context) (n int, err error) {
	pr, err := s.newProjector(false)
	if err != nil {
		return 0, err
	}
	defer pr.close()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("models: reproject begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			err = fmt.Errorf("models: reproject: %w", err)
			return
		}
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("models: reproject commit: %w", err)
			return
		}
		s.projectionGen.Add(1)
	}()
	if s.dialect == migrations.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7243)"); err != nil {
			return 0, fmt.Errorf("lock: %w", err)
		}
	}
	for _, table := range projectionTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
			return 0, fmt.Errorf("clear %s: %w", table, err)
		}
	}
	// Reconciliation: reopen every claim's gap; the replay closes them (gaps.go).
	if err := s.resetGaps(ctx, tx); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, "UPDATE smile_users SET created_at = NULL, first_seen_at = NULL, last_seen_at = NULL, "+
		"event_count = 0, session_status = '', session_channel = '', session_at = NULL, session_event_id = ''")
	if err != nil {
		return 0, fmt.Errorf("reset users: %w", err)
	}
	g := s.gormOn(tx)
	const chunk = 2000
	var after int64
	for {
		var rows []Event
		if err := g.WithContext(ctx).Select("seq", "user_key", "flags", "body").Where("seq > ?", after).Order("seq").Limit(chunk).Find(&rows).Error; err != nil {
			return n, fmt.Errorf("read events after %d: %w", after, err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		events := make([]ProjectedEvent, 0, len(rows))
		for _, row := range rows {
			ev, err := projectedFromStored(row)
			if err != nil {
				return n, err
			}
			events = append(events, ev)
		}
		if _, err := pr.project(ctx, tx, events); err != nil {
			return n, err
		}
		n += len(rows)
		after = rows[len(rows)-1].Seq
	}
}

// projectedFromStored decodes a stored event again from its raw body.
func projectedFromStored(row Event) (ProjectedEvent, error) {
	env, err := smile.ParseEnvelope(row.Body)
	if err != nil {
		return ProjectedEvent{}, fmt.Errorf("stored event %d no longer parses: %w", row.Seq, err)
	}
	var userKey int64
	if row.UserKey != nil {
		userKey = *row.UserKey
	}
	return newProjectedEvent(env, userKey, row.Flags), nil
}
