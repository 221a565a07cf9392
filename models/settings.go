package models

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

type setting struct {
	Name  string `gorm:"column:name;primaryKey"`
	Value string `gorm:"column:value"`
}

func (setting) TableName() string { return "settings" }

// Setting returns a stored setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var row setting
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return "", fmt.Errorf("models: setting %s: %w", name, notFound(err))
	}
	return row.Value, nil
}

// SettingOrCreate returns the stored value of name, storing value first if there
// is none. Replicas racing to create it all end up with the same value.
func (s *Store) SettingOrCreate(ctx context.Context, name, value string) (string, error) {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&setting{Name: name, Value: value}).Error
	if err != nil {
		return "", fmt.Errorf("models: create setting %s: %w", name, err)
	}
	return s.Setting(ctx, name)
}
