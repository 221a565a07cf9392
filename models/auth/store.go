// Package auth holds who may use the dashboard: admin accounts and their
// passwords, sign-in sessions, sign-in throttling with device cookies, and API
// tokens.
//
// Data access: GORM's builder for every entity, on the one database handle
// models.Store opened. It uses models' public API for what it shares with the
// rest of the store: the throttle counters (one SQL upsert, also used by
// connect links) and the settings table (the device cookies' key).
package auth

import (
	"errors"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"

	"smiledash/models"
)

// Store reads and writes admins, sessions and API tokens.
type Store struct {
	db     *gorm.DB
	models *models.Store
	// passwordChecks counts bcrypt comparisons (admins.go).
	passwordChecks atomic.Int64
}

// New returns the auth store over m's database.
func New(m *models.Store) *Store { return &Store{db: m.DB(), models: m} }

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.ErrNotFound
	}
	return err
}

// clipText cuts s to at most n bytes of valid UTF-8.
func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
