package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// TestEvents_AfterAndBetween: the keyset bounds the live events list uses
// to fetch what arrived after a row and to count and fill a gap.
func TestEvents_AfterAndBetween(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedQueries(t, s)
		ctx := context.Background()
		all, err := s.Events(ctx, models.EventsQuery{Type: "ACCOUNT_CREATED", Limit: 200})
		if err != nil || len(all.Events) != 31 {
			t.Fatalf("got %d events, %v; want 31", len(all.Events), err)
		}
		newest, oldest := all.Events[0].Seq, all.Events[30].Seq
		after, err := s.Events(ctx, models.EventsQuery{Type: "ACCOUNT_CREATED", After: all.Events[10].Seq, Limit: 4})
		if err != nil || len(after.Events) != 4 || after.Events[0].Seq != newest || after.Next == "" {
			t.Fatalf("got %d events from #%d next %q, %v; want the newest 4 and a cursor", len(after.Events), after.Events[0].Seq, after.Next, err)
		}
		gap, err := s.EventsBetween(ctx, models.EventsQuery{Type: "ACCOUNT_CREATED"}, all.Events[10].Seq, after.Events[3].Seq)
		if err != nil || gap.N != 6 || gap.AtLeast {
			t.Fatalf("got a gap of %+v, %v; want 6", gap, err)
		}
		every, err := s.EventsBetween(ctx, models.EventsQuery{}, oldest-1, newest+1)
		if err != nil || every.N < 31 {
			t.Fatalf("got %+v, %v; want every event in the range", every, err)
		}
		// Filters without an index still honour After.
		acc, err := s.Events(ctx, models.EventsQuery{AccountID: "a-u-07", After: all.Events[30].Seq})
		if err != nil || len(acc.Events) != 2 {
			t.Fatalf("got %d events, %v; want both of a-u-07", len(acc.Events), err)
		}
	})
}

// TestTimeline_RawPrefixAndRange: a page reads only the start of each raw
// body, knows its full size, and keeps to a time range.
func TestTimeline_RawPrefixAndRange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		big := strings.Repeat("y", 10_000)
		for i := range 3 {
			storetest.Submit(t, in, storetest.EventBody("et-raw-"+string(rune('a'+i)), "ACCOUNT_CREATED", qt0.Add(time.Duration(i)*time.Hour),
				map[string]any{"userId": "u-raw", "accountId": "a-raw", "note": big}))
		}
		ctx := context.Background()
		u, err := s.UserByID(ctx, "u-raw")
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.Timeline(ctx, models.TimelineQuery{UserKey: u.UserKey, RawPrefix: 100, From: qt0.Add(time.Hour)})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("got %d items, %v; want the 2 from the second hour", len(page.Items), err)
		}
		for _, it := range page.Items {
			if len(it.Raw) != 100 || it.RawBytes < 10_000 {
				t.Errorf("got %d bytes of %d, want 100 of the whole", len(it.Raw), it.RawBytes)
			}
		}
		whole, _, err := s.TimelineItem(ctx, models.ChangeEvent, page.Items[0].ID, 0)
		if err != nil || int64(len(whole.Raw)) != page.Items[0].RawBytes {
			t.Errorf("got %d bytes, %v; want all %d", len(whole.Raw), err, page.Items[0].RawBytes)
		}
		to, err := s.Timeline(ctx, models.TimelineQuery{UserKey: u.UserKey, To: qt0.Add(time.Hour)})
		if err != nil || len(to.Items) != 1 {
			t.Fatalf("got %d items, %v; want the first hour's", len(to.Items), err)
		}
	})
}
