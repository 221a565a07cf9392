package ingest_test

import (
	"context"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile/smiletest"
)

// TestEventEffects_UnresolvedEvent: an event whose user the projector has not
// created yet is not replayed (as a user-less event or otherwise) until it is
// resolved, and user-less events' replays leave it out.
func TestEventEffects_UnresolvedEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		log := ingest.New(s)
		at := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC) // the fixture's createdAt
		record := models.Event{EventID: "et-record", Type: "RECORD_CREATED", CreatedAt: at, ReceivedAt: at, SourceIP: "127.0.0.1",
			Body: smiletest.Event("RECORD_CREATED")}
		if err := s.DB().Create(&record).Error; err != nil {
			t.Fatal(err)
		}
		ev := storetest.Unresolved(t, s, "et-pending", "u-new", at.Add(-time.Hour))
		eff, err := log.EventEffects(ctx, ev)
		if err != nil || !eff.Unresolved || len(eff.Changes) != 0 || eff.Replayed != 0 {
			t.Fatalf("got %+v, %v; want an unresolved event with no changes", eff, err)
		}
		if eff, err := log.EventEffects(ctx, record); err != nil || eff.Replayed != 0 || eff.Unresolved {
			t.Fatalf("got %+v, %v; want the record's replay without the unresolved event", eff, err)
		}
		key := storetest.Resolve(t, s, ev.Seq, "u-new")
		ev.UserKey, ev.PendingUser = &key, ""
		eff, err = log.EventEffects(ctx, ev)
		if err != nil || eff.Unresolved || len(eff.Changes) == 0 {
			t.Fatalf("got %+v, %v; want the resolved event's changes", eff, err)
		}
	})
}
