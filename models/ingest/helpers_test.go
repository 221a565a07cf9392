package ingest_test

import (
	"context"
	"testing"
	"time"

	"smiledash/models"
)

// Fixed clocks of the tests, as in models' own tests.
var (
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	qt0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

// openedLink is a connect link its end user has opened: bound to smileID.
func openedLink(t *testing.T, s *models.Store, ref, smileID string) models.Link {
	t.Helper()
	ctx := context.Background()
	l, err := s.CreateLink(ctx, models.NewLink{ExternalRef: ref, Label: "Ana", CreatedBy: "test", Now: t0})
	if err != nil {
		t.Fatalf("create link: %v", err)
	}
	if l, err = s.AttachSmileUser(ctx, l.ID, smileID); err != nil {
		t.Fatal(err)
	}
	return l
}
