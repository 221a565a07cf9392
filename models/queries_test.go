package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile/smiletest"
)

var qt0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func seedQueries(t *testing.T, s *models.Store) {
	t.Helper()
	in := storetest.Writer(t, s)
	for _, body := range storetest.FixtureBodies() {
		storetest.Submit(t, in, body)
	}
	for i := range 30 {
		user := fmt.Sprintf("u-%02d", i)
		storetest.Submit(t, in, storetest.EventBody("et-c-"+user, "ACCOUNT_CREATED", qt0.Add(time.Duration(i)*time.Minute),
			map[string]any{"userId": user, "accountId": "a-" + user, "providers": []string{"prov" + fmt.Sprint(i%3)}, "loginName": "login-" + user}))
	}
	storetest.Submit(t, in, storetest.EventBody("et-f-u-07", "ACCOUNT_FAILED", qt0.Add(time.Hour),
		map[string]any{"userId": "u-07", "accountId": "a-u-07", "errorCode": "INVALID_CREDENTIALS", "providers": []string{"prov1"}}))
}

func TestUsers_SearchFilterAndKeyset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedQueries(t, s)
		ctx := context.Background()
		var seen []string
		after := ""
		for range 10 {
			page, err := s.Users(ctx, models.UsersQuery{After: after, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Users {
				seen = append(seen, u.ID)
			}
			if page.Total.N != 31 || page.Total.AtLeast {
				t.Errorf("got total %+v, want 31", page.Total)
			}
			if after = page.Next; after == "" {
				break
			}
		}
		if len(seen) != 31 || seen[0] != smiletest.FixtureUserID || seen[1] != "u-07" || seen[2] != "u-29" {
			t.Fatalf("got %d users starting %v, want 31 starting with the fixture user, u-07, u-29", len(seen), seen[:3])
		}
		for _, tc := range []struct {
			name string
			q    models.UsersQuery
			want int
		}{
			{"user id prefix", models.UsersQuery{Search: "u-1"}, 10},
			{"login name", models.UsersQuery{Search: "login-u-05"}, 1},
			{"provider", models.UsersQuery{Search: "prov2"}, 10},
			{"status", models.UsersQuery{Status: models.AccountError}, 2},
			{"status and provider", models.UsersQuery{Status: models.AccountError, Provider: "prov1"}, 1},
			{"nothing", models.UsersQuery{Search: "zzz"}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.Users(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Users) != tc.want || page.Total.N != int64(tc.want) {
					t.Errorf("got %d users (total %d), want %d", len(page.Users), page.Total.N, tc.want)
				}
			})
		}
		if _, err := s.Users(ctx, models.UsersQuery{After: "garbage"}); err != models.ErrBadCursor {
			t.Errorf("got %v, want ErrBadCursor", err)
		}
	})
}

func TestTimeline_MergesSourcesInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedQueries(t, s)
		ctx := context.Background()
		u, err := s.UserByID(ctx, smiletest.FixtureUserID)
		if err != nil {
			t.Fatal(err)
		}
		key := u.UserKey
		if err := s.CreateCallback(ctx, &models.Callback{ReceivedAt: qt0.AddDate(0, 0, 1), UserKey: &key, Name: "onClose", Args: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAction(ctx, &models.Action{At: qt0.AddDate(0, 0, 2), UserKey: &key, Kind: models.ActionReprojected}); err != nil {
			t.Fatal(err)
		}
		var all []models.TimelineItem
		before := ""
		for {
			page, err := s.Timeline(ctx, models.TimelineQuery{UserKey: key, Before: before, Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.Items...)
			if before = page.Next; before == "" {
				break
			}
		}
		if int64(len(all)) != u.EventCount+2 {
			t.Fatalf("got %d items, want %d events + 2", len(all), u.EventCount)
		}
		for i := 1; i < len(all); i++ {
			if all[i].At.After(all[i-1].At) {
				t.Fatalf("item %d (%s) is newer than item %d", i, all[i].At, i-1)
			}
		}
		only, err := s.Timeline(ctx, models.TimelineQuery{UserKey: key, Kinds: []string{models.ChangeCallback}})
		if err != nil || len(only.Items) != 1 || only.Items[0].Label != "onClose" {
			t.Errorf("got %+v, %v; want the one callback", only.Items, err)
		}
		acc, err := s.Timeline(ctx, models.TimelineQuery{UserKey: key, AccountID: smiletest.FixtureAccountID, Limit: 200})
		if err != nil || len(acc.Items) == 0 {
			t.Fatalf("got %d, %v", len(acc.Items), err)
		}
		for _, it := range acc.Items {
			if it.AccountID != smiletest.FixtureAccountID {
				t.Errorf("got account %q in an account-filtered timeline", it.AccountID)
			}
		}
	})
}

func TestEvents_FiltersAndEffects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedQueries(t, s)
		ctx := context.Background()
		page, err := s.Events(ctx, models.EventsQuery{Type: "ACCOUNT_CREATED", Limit: 20})
		if err != nil || len(page.Events) != 20 || page.Next == "" {
			t.Fatalf("got %d events next %q, %v; want 20 and a cursor", len(page.Events), page.Next, err)
		}
		rest, err := s.Events(ctx, models.EventsQuery{Type: "ACCOUNT_CREATED", Before: page.Next, Limit: 20})
		if err != nil || len(rest.Events) != 11 || rest.Next != "" {
			t.Fatalf("got %d events next %q, %v; want 11 (30 + the fixture) and no cursor", len(rest.Events), rest.Next, err)
		}
		acc, err := s.Events(ctx, models.EventsQuery{AccountID: "a-u-07"})
		if err != nil || len(acc.Events) != 2 || acc.Events[0].UserID != "u-07" {
			t.Fatalf("got %+v, %v; want the two events of a-u-07", acc.Events, err)
		}
		ranged, err := s.Events(ctx, models.EventsQuery{From: qt0, To: qt0.Add(10 * time.Minute)})
		if err != nil || len(ranged.Events) != 10 {
			t.Fatalf("got %d events, %v; want 10", len(ranged.Events), err)
		}
		d, err := s.EventByEventID(ctx, "et-f-u-07")
		if err != nil {
			t.Fatal(err)
		}
		eff, err := ingest.New(s).EventEffects(ctx, d.Event)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"status": "ERROR", "error_code": "INVALID_CREDENTIALS"}
		for _, c := range eff.Changes {
			if c.Table == "accounts" && want[c.Field] != "" {
				if c.After != want[c.Field] {
					t.Errorf("got %s %s -> %q, want %q", c.Table, c.Field, c.After, want[c.Field])
				}
				delete(want, c.Field)
			}
		}
		if len(want) != 0 || eff.Replayed != 1 {
			t.Errorf("missing changes %v in %+v (replayed %d, want 1)", want, eff.Changes, eff.Replayed)
		}
		if _, err := s.EventBySeq(ctx, 999999); err == nil {
			t.Error("got no error for a missing event")
		}
		o, err := s.Overview(ctx)
		if err != nil || o.Total == 0 || len(o.Failures) == 0 {
			t.Errorf("got overview %+v, %v", o, err)
		}
	})
}
