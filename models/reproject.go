package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"smiledash/smile"
)

// projectionTables are rebuilt from the event log by Reproject.
var projectionTables = []string{
	"data_availability", "tasks", "invites", "archives", "accounts", "records", "verifications", "event_counts",
}

// Reproject rebuilds every projection from the stored events, in one transaction,
// and returns how many events it replayed. Users keep their keys (events refer to
// them); their projected columns are reset and recomputed. Run it with the server
// stopped: the transaction holds the write lock while it runs.
func (s *Store) Reproject(ctx context.Context) (int, error) {
	replayed := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, table := range projectionTables {
			if err := tx.Exec("DELETE FROM " + table).Error; err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		err := tx.Exec("UPDATE smile_users SET created_at = NULL, first_seen_at = NULL, last_seen_at = NULL, " +
			"event_count = 0, session_status = '', session_channel = '', session_at = NULL, session_event_id = ''").Error
		if err != nil {
			return fmt.Errorf("reset users: %w", err)
		}
		const chunk = 2000
		var after int64
		for {
			var rows []Event
			err := tx.Select("seq", "user_key", "body").Where("seq > ?", after).Order("seq").Limit(chunk).Find(&rows).Error
			if err != nil {
				return fmt.Errorf("read events after %d: %w", after, err)
			}
			if len(rows) == 0 {
				return nil
			}
			events := make([]ProjectedEvent, 0, len(rows))
			for _, row := range rows {
				ev, err := projectedFromStored(row)
				if err != nil {
					return err
				}
				events = append(events, ev)
			}
			if err := s.project(ctx, tx, events); err != nil {
				return err
			}
			replayed += len(rows)
			after = rows[len(rows)-1].Seq
		}
	})
	if err != nil {
		return replayed, fmt.Errorf("models: reproject: %w", err)
	}
	return replayed, nil
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
	return ProjectedEvent{Stamp: Stamp{At: env.CreatedAt, EventID: env.ID}, Type: env.Type, UserKey: userKey, Data: env.Data}, nil
}
