package models_test

import (
	"context"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/auth"
)

// testNow is a fixed clock for store tests.
var testNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// createAdmin stores an admin account, for tests of what admins do.
func createAdmin(t *testing.T, s *models.Store, email, role string) auth.Admin {
	t.Helper()
	a, err := auth.New(s).CreateAdmin(context.Background(), auth.NewAdmin{Email: email, Password: "correct horse battery staple", Role: role}, testNow)
	if err != nil {
		t.Fatalf("create admin %s: %v", email, err)
	}
	return a
}
