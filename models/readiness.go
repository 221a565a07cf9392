package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// readinessSetting is the settings row CheckWritable rewrites.
const readinessSetting = "readiness_probe"

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
