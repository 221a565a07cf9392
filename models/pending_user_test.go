package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// pendingLog is a log with the projector's backlog in it: u-old has a row and
// resolved events but also two unresolved ones, u-new only unresolved ones, and
// one event names no user.
type pendingLog struct {
	oldKey int64
	// old and fresh are the seqs of u-old's and u-new's events, newest first
	// in timeline order; unresolvedOld are u-old's unresolved ones.
	old, fresh, unresolvedOld []int64
	userless                  int64
}

func seedPending(t *testing.T, s *models.Store) pendingLog {
	t.Helper()
	var p pendingLog
	for i := range 3 {
		ev := storetest.Unresolved(t, s, fmt.Sprintf("et-old-%d", i), "u-old", qt0.Add(time.Duration(2*i)*time.Minute))
		p.oldKey = storetest.Resolve(t, s, ev.Seq, "u-old")
		p.old = append(p.old, ev.Seq)
	}
	// Acknowledged before the projector reached them: between and after the
	// resolved ones in Smile's order.
	for i, at := range []time.Duration{3 * time.Minute, 10 * time.Minute} {
		ev := storetest.Unresolved(t, s, fmt.Sprintf("et-old-late-%d", i), "u-old", qt0.Add(at))
		p.old, p.unresolvedOld = append(p.old, ev.Seq), append(p.unresolvedOld, ev.Seq)
	}
	for i := range 3 {
		p.fresh = append(p.fresh, storetest.Unresolved(t, s, fmt.Sprintf("et-new-%d", i), "u-new", qt0.Add(time.Duration(i)*time.Minute)).Seq)
	}
	userless := models.Event{EventID: "et-userless", Type: "RECORD_CREATED", CreatedAt: qt0, ReceivedAt: qt0, SourceIP: "127.0.0.1",
		Body: storetest.RawEvent("et-userless", "RECORD_CREATED", qt0, `{"recordId":"r-1"}`)}
	if err := s.DB().Create(&userless).Error; err != nil {
		t.Fatal(err)
	}
	p.userless = userless.Seq
	// Timeline order, newest first: minutes 10, 4, 3, 2 and 0.
	p.old = []int64{p.old[4], p.old[2], p.old[3], p.old[1], p.old[0]}
	slices.Reverse(p.fresh)
	return p
}

// TestUserByID_PendingPlaceholder: a user known only from unresolved events
// is a placeholder with their id and no key; their page loads with nothing
// projected, and nothing reads rows by the zero key.
func TestUserByID_PendingPlaceholder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		p := seedPending(t, s)
		ctx := context.Background()
		u, err := s.UserByID(ctx, "u-new")
		if err != nil || u.ID != "u-new" || u.UserKey != 0 || !u.Pending() {
			t.Fatalf("got %+v, %v; want the placeholder of u-new", u, err)
		}
		if old, err := s.UserByID(ctx, "u-old"); err != nil || old.UserKey != p.oldKey || old.Pending() {
			t.Fatalf("got %+v, %v; want u-old's row", old, err)
		}
		if _, err := s.UserByID(ctx, "u-none"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("got %v for an unknown user, want ErrNotFound", err)
		}
		d, err := s.UserDetail(ctx, "u-new")
		if err != nil || d.User.ID != "u-new" || len(d.Accounts)+len(d.Archives)+len(d.Invites)+len(d.Tasks)+len(d.ExternalRefs) != 0 {
			t.Fatalf("got %+v, %v; want the placeholder with nothing projected", d, err)
		}
		// A check is recorded on the user's row, which does not exist yet.
		if _, err := s.CheckUser(ctx, nil, "u-new", "admin@example.com", qt0); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("got %v checking a pending user, want ErrNotFound", err)
		}
	})
}

// TestTimeline_IncludesUnresolvedEvents: a user's timeline has their
// unresolved webhooks merged in order with the rest, page by page; a
// placeholder user's has exactly theirs.
func TestTimeline_IncludesUnresolvedEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		p := seedPending(t, s)
		ctx := context.Background()
		key := p.oldKey
		if err := s.CreateCallback(ctx, &models.Callback{ReceivedAt: qt0.Add(5 * time.Minute), UserKey: &key, Name: "onClose", Args: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			q    models.TimelineQuery
			want []int64 // event seqs; callbacks are counted apart
			cbs  int
		}{
			{"user with a row", models.TimelineQuery{UserKey: key, UserID: "u-old"}, p.old, 1},
			{"by key only", models.TimelineQuery{UserKey: key}, without(p.old, p.unresolvedOld), 1},
			{"placeholder", models.TimelineQuery{UserID: "u-new"}, p.fresh, 0},
			{"placeholder, account", models.TimelineQuery{UserID: "u-new", AccountID: "a-u-new"}, p.fresh, 0},
			{"placeholder, time range", models.TimelineQuery{UserID: "u-new", From: qt0.Add(time.Minute)}, p.fresh[:2], 0},
			{"placeholder, other account", models.TimelineQuery{UserID: "u-new", AccountID: "a-u-old"}, nil, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var seqs []int64
				cbs := 0
				var prev *models.TimelineItem
				for q := tc.q; ; {
					q.Limit = 2
					page, err := s.Timeline(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for i, it := range page.Items {
						if prev != nil && it.At.After(prev.At) {
							t.Fatalf("item %s %d is newer than the one before it", it.Kind, it.ID)
						}
						prev = &page.Items[i]
						if it.Kind == models.ChangeEvent {
							seqs = append(seqs, it.ID)
						} else {
							cbs++
						}
					}
					if q.Before = page.Next; q.Before == "" {
						break
					}
				}
				if !slices.Equal(seqs, tc.want) || cbs != tc.cbs {
					t.Errorf("got events %v and %d callbacks, want %v and %d", seqs, cbs, tc.want, tc.cbs)
				}
			})
		}
	})
}

func without(all, drop []int64) []int64 {
	return slices.DeleteFunc(slices.Clone(all), func(x int64) bool { return slices.Contains(drop, x) })
}

// TestEvents_UnresolvedUserColumnAndFilter: the events list names an
// unresolved event's user by Smile id and its user filter keeps them; the
// event page names the user and says it is not projected yet.
func TestEvents_UnresolvedUserColumnAndFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		p := seedPending(t, s)
		ctx := context.Background()
		all, err := s.Events(ctx, models.EventsQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		users := map[int64]string{}
		for _, e := range all.Events {
			users[e.Seq] = e.UserID
		}
		if users[p.fresh[0]] != "u-new" || users[p.unresolvedOld[0]] != "u-old" || users[p.old[1]] != "u-old" || users[p.userless] != "" {
			t.Errorf("got users %v; want u-new, u-old, u-old and none", users)
		}
		for _, tc := range []struct {
			name string
			q    models.EventsQuery
			want []int64
		}{
			{"user with a row", models.EventsQuery{UserKey: p.oldKey, UserID: "u-old"}, p.old},
			{"placeholder", models.EventsQuery{UserID: "u-new"}, p.fresh},
			{"unknown user", models.EventsQuery{UserKey: -1, UserID: "u-none"}, nil},
			{"placeholder and type", models.EventsQuery{UserID: "u-new", Type: "INCOMES_ADDED"}, p.fresh},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.Events(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, e := range page.Events {
					got = append(got, e.Seq)
				}
				want := slices.Sorted(slices.Values(tc.want))
				slices.Reverse(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
				n, err := s.EventsBetween(ctx, tc.q, 0, 1<<40)
				if err != nil || n.N != int64(len(want)) {
					t.Errorf("got %+v between, %v; want %d", n, err, len(want))
				}
			})
		}
		// Even with a projector position past it, an unresolved event is
		// not projected: the projector resolves its user when it projects it.
		if err := s.SetProjectorPosition(s.DB(), models.LogPosition{Tx: 1 << 62, Seq: 1 << 62}); err != nil {
			t.Fatal(err)
		}
		d, err := s.EventBySeq(ctx, p.fresh[0])
		if err != nil || d.UserID != "u-new" || !d.Unprojected {
			t.Fatalf("got user %q unprojected %v, %v; want u-new, not projected", d.UserID, d.Unprojected, err)
		}
		if d, err := s.EventBySeq(ctx, p.old[1]); err != nil || d.UserID != "u-old" || d.Unprojected {
			t.Fatalf("got user %q unprojected %v, %v; want u-old, projected", d.UserID, d.Unprojected, err)
		}
	})
}
