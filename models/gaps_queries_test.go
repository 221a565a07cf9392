package models_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
)

// Every status and filter of the gap list, read in keyset pages of two,
// lists exactly the gaps GapStatus classifies that way, newest claim first,
// whichever index the query goes through.
func TestGaps_StatusesFiltersAndPages(t *testing.T) {
	rules := []struct {
		callback smile.Callback
		event    smile.EventType
	}{
		{smile.OnAccountConnected, smile.AccountConnected}, {smile.OnAccountError, smile.AccountFailed},
		{smile.OnUploadsCreated, smile.ArchiveStarted}, {smile.OnAccountRemoved, smile.AccountDisconnected},
	}
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		in := storetest.Writer(t, s)
		users := map[int64]string{}
		n := 0
		for u := range 3 {
			user := fmt.Sprintf("gq-user-%d", u)
			key := linkedUser(t, s, user)
			users[key] = user
			for _, r := range rules {
				for j := range 3 { // matched, closed late, never answered
					acc := fmt.Sprintf("acc-gq-%d-%d", u, j)
					at := t0.Add(time.Duration(n) * 7 * time.Minute)
					id := fmt.Sprintf("et-gq-%d", n)
					n++
					if j == 0 {
						storetest.Submit(t, in, gapEvent(id, r.event, user, acc, at.Add(-time.Second)))
					}
					claim(t, s, key, r.callback, acc, at)
					if j == 1 {
						storetest.Submit(t, in, gapEvent(id, r.event, user, acc, at.Add(20*time.Minute)))
					}
				}
			}
		}
		storetest.Submit(t, in, gapEvent("et-gq-nolink", smile.AccountCreated, "gq-unlinked", "acc-gq-x", t0)) // a no_link gap
		now := t0.Add(time.Duration(n-2) * 7 * time.Minute)                                                    // the last claims still wait
		var all []models.Gap
		if err := s.DB().Order("claimed_at DESC, id DESC").Find(&all).Error; err != nil {
			t.Fatal(err)
		}
		inStatus := map[string][]string{models.GapUnresolved: {models.GapOpen, models.GapWaiting},
			models.GapAll: {models.GapOpen, models.GapWaiting, models.GapClosed}}
		for _, status := range models.GapStatuses {
			for _, f := range []models.GapQuery{{}, {Kind: models.GapAccountError}, {UserID: "gq-user-1"}, {AccountID: "acc-gq-2-1"}} {
				var want []int64
				for _, g := range all {
					st := models.GapStatus(g, now, s.GapWindow())
					if (st == status || slices.Contains(inStatus[status], st)) && (f.Kind == "" || g.Kind == f.Kind) &&
						(f.UserID == "" || users[g.UserKey] == f.UserID) && (f.AccountID == "" || g.AccountID == f.AccountID) {
						want = append(want, g.ID)
					}
				}
				q := f
				q.Status, q.Now, q.Limit = status, now, 2
				var got []int64
				for range 40 {
					page, err := s.Gaps(ctx, q)
					if err != nil {
						t.Fatalf("%s %+v: %v", status, f, err)
					}
					for _, g := range page.Gaps {
						got = append(got, g.ID)
					}
					if q.Before = page.Next; q.Before == "" {
						break
					}
				}
				if !slices.Equal(got, want) || (f == models.GapQuery{} && len(want) == 0) {
					t.Errorf("%s %+v: got gaps %v, want %v", status, f, got, want)
				}
			}
		}
	})
}

// The open total is bounded like every count: two kinds under the cap whose
// sum is over it make "at least 10,000", each kind still exact.
func TestGapCounts_OpenTotalBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		for _, kind := range []string{models.GapAccountConnected, models.GapAccountError} {
			err := s.DB().Exec("INSERT INTO gaps (kind, user_key, claimed_at) "+
				"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) SELECT ?, i, ? FROM n",
				kind, t0).Error
			if err != nil {
				t.Fatal(err)
			}
		}
		c, err := s.GapCounts(context.Background(), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if c.Open != (models.Count{N: 10_000, AtLeast: true}) || c.OpenByKind[models.GapAccountError] != (models.Count{N: 6000}) ||
			len(c.OpenByKind) != 2 || c.Waiting.N != 0 || c.Closed.N != 0 {
			t.Errorf("got %+v, want at least 10,000 open, 6,000 of each kind", c)
		}
	})
}
