package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// unresolvedWorld stores, with no projector running, events of u-new (no
// user row: only unresolved events), of u-old (a row, resolved events and an
// unresolved one) and of u-other, each with a duplicate delivery record, the
// first of each user's events parked, and everything indexed for search.
func unresolvedWorld(t *testing.T, s *models.Store) {
	t.Helper()
	for _, u := range []struct {
		id                   string
		resolved, unresolved int
	}{{"u-new", 0, 2}, {"u-old", 2, 1}, {"u-other", 1, 1}} {
		for i := range u.resolved + u.unresolved {
			ev := storetest.Unresolved(t, s, fmt.Sprintf("et-%s-%d", u.id, i), u.id, qt0.Add(time.Duration(i)*time.Minute))
			if i < u.resolved {
				storetest.Resolve(t, s, ev.Seq, u.id)
			}
			d := models.Delivery{ReceivedAt: qt0, SourceIP: "192.0.2.9", Outcome: models.OutcomeDuplicate,
				Reason: models.ReasonDuplicate, Status: 200, EventID: ev.EventID, EventType: ev.Type}
			if err := s.DB().Create(&d).Error; err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				p := models.ParkedEvent{Seq: ev.Seq, EventID: ev.EventID, Error: "test", ParkedAt: qt0}
				if err := s.DB().Create(&p).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for {
		n, err := s.IndexSearch(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
}

// TestEraseUser_UnresolvedEvents: erasing a user takes their unresolved events
// and what hangs off them too, including a user who exists only as such
// events; other users' rows stay, and the audit entry names no one.
func TestEraseUser_UnresolvedEvents(t *testing.T) {
	for _, tc := range []struct {
		user           string
		events, parked int64
	}{{"u-new", 2, 1}, {"u-old", 3, 1}} {
		t.Run(tc.user, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *models.Store) {
				ctx := context.Background()
				unresolvedWorld(t, s)
				other := tablesHolding(t, s, "u-other")
				parked := storetest.Count(t, s.DB().Model(&models.ParkedEvent{}))
				revoker := &fakeRevoker{}
				report, err := ingest.New(s).EraseUser(ctx, ingest.EraseRequest{SmileUserID: tc.user, Actor: "admin@example.test", Revoker: revoker, Now: t0})
				if err != nil {
					t.Fatal(err)
				}
				if found := tablesHolding(t, s, tc.user); len(found) > 0 {
					t.Errorf("after erasure the user's id is still in %v", found)
				}
				if report.Removed["events"] != tc.events || report.Removed["deliveries"] != tc.events {
					t.Errorf("report %v; want %d events and their %d delivery records", report.Removed, tc.events, tc.events)
				}
				if n := storetest.Count(t, s.DB().Model(&models.ParkedEvent{})); n != parked-tc.parked {
					t.Errorf("got %d parked events, want %d", n, parked-tc.parked)
				}
				if want := []string{"a-" + tc.user}; !slices.Equal(revoker.revoked, want) {
					t.Errorf("revoked at Smile %v, want %v", revoker.revoked, want)
				}
				if got := tablesHolding(t, s, "u-other"); !slices.Equal(got, other) {
					t.Errorf("another user's rows changed: before %v, after %v", other, got)
				}
				audits, err := s.AuditLog(ctx, models.AuditQuery{Action: models.AuditUserErased})
				if err != nil || len(audits.Entries) != 1 {
					t.Fatalf("got audits %v, %v; want one", audits, err)
				}
				if a := audits.Entries[0]; a.Target != ingest.ErasureKey(tc.user) || strings.Contains(a.Target+a.Details, tc.user) {
					t.Errorf("audit entry %q %q: want the hashed id and no personal data", a.Target, a.Details)
				}
				if _, err := s.UserByID(ctx, tc.user); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("got %v finding the erased user, want not found", err)
				}
			})
		})
	}
}
