package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// seedSearchIDs stores, besides seedSearch's data, a user whose ids are made
// of common words: user-connected-2024 with account acc-connected-2024, three
// events and a callback whose arguments do not name the user; and an event of
// another user whose note mentions both ids, which only full text finds.
func seedSearchIDs(t *testing.T, s *models.Store) {
	t.Helper()
	seedSearch(t, s)
	in := storetest.Writer(t, s)
	for i, typ := range []string{"ACCOUNT_CREATED", "ACCOUNT_CONNECTED", "EMPLOYMENTS_ADDED"} {
		storetest.Submit(t, in, storetest.EventBody(fmt.Sprintf("et-connected-%d", i), typ, qt0.Add(time.Duration(i)*time.Minute),
			map[string]any{"userId": "user-connected-2024", "accountId": "acc-connected-2024", "employer": "Siam Cement Group"}))
	}
	storetest.Submit(t, in, storetest.EventBody("et-mention", "EMPLOYMENTS_ADDED", qt0,
		map[string]any{"userId": "su-2", "accountId": "acc-su-2", "note": "moved from user-connected-2024 acc-connected-2024"}))
	u, err := s.UserByID(context.Background(), "user-connected-2024")
	if err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal(map[string]any{"eventName": "ConsentPageOpened"})
	if err := s.CreateCallback(context.Background(), &models.Callback{ReceivedAt: qt0.Add(time.Hour), UserKey: &u.UserKey,
		Name: "onUIEvent", Args: args}); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
}

// A typed id that names a user, an account or an event lists exactly that
// user's, account's or event's documents, through the id indexes, with the
// filters and keyset pages of any search; id-like text naming nothing falls
// back to the full-text index.
func TestSearch_IDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		seedSearchIDs(t, s)
		// The indexer reached the callback before the user's events (each
		// source is read in batches of four), so its document is the oldest.
		type hit struct{ kind, typ, user string }
		for _, tc := range []struct {
			name string
			q    models.SearchQuery
			want []hit // newest indexed first
		}{
			{"user id: the user's events and callbacks, not mentions", models.SearchQuery{Text: "user-connected-2024"},
				[]hit{{"event", "EMPLOYMENTS_ADDED", "user-connected-2024"}, {"event", "ACCOUNT_CONNECTED", "user-connected-2024"},
					{"event", "ACCOUNT_CREATED", "user-connected-2024"}, {"callback", "onUIEvent", "user-connected-2024"}}},
			{"account id, spaces around", models.SearchQuery{Text: "  acc-connected-2024 "},
				[]hit{{"event", "EMPLOYMENTS_ADDED", "user-connected-2024"}, {"event", "ACCOUNT_CONNECTED", "user-connected-2024"},
					{"event", "ACCOUNT_CREATED", "user-connected-2024"}}},
			{"event id", models.SearchQuery{Text: "et-connected-1"}, []hit{{"event", "ACCOUNT_CONNECTED", "user-connected-2024"}}},
			{"user id with a type", models.SearchQuery{Text: "user-connected-2024", Type: "ACCOUNT_CREATED"},
				[]hit{{"event", "ACCOUNT_CREATED", "user-connected-2024"}}},
			{"user id with a kind", models.SearchQuery{Text: "user-connected-2024", Kind: models.SearchKindCallback},
				[]hit{{"callback", "onUIEvent", "user-connected-2024"}}},
			{"account id with a time range", models.SearchQuery{Text: "acc-connected-2024", From: qt0.Add(time.Minute), To: qt0.Add(2 * time.Minute)},
				[]hit{{"event", "ACCOUNT_CONNECTED", "user-connected-2024"}}},
			{"event id with an unknown user", models.SearchQuery{Text: "et-connected-1", UserKey: -1}, nil},
			{"a prefix star is full text", models.SearchQuery{Text: "user-connected-2024*"},
				[]hit{{"event", "EMPLOYMENTS_ADDED", "su-2"}, {"event", "EMPLOYMENTS_ADDED", "user-connected-2024"},
					{"event", "ACCOUNT_CONNECTED", "user-connected-2024"}, {"event", "ACCOUNT_CREATED", "user-connected-2024"}}},
			{"a quoted id is full text", models.SearchQuery{Text: `"user-connected-2024"`},
				[]hit{{"event", "EMPLOYMENTS_ADDED", "su-2"}, {"event", "EMPLOYMENTS_ADDED", "user-connected-2024"},
					{"event", "ACCOUNT_CONNECTED", "user-connected-2024"}, {"event", "ACCOUNT_CREATED", "user-connected-2024"}}},
			{"id-like text naming nothing is full text", models.SearchQuery{Text: "moved-from"},
				[]hit{{"event", "EMPLOYMENTS_ADDED", "su-2"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.Search(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []hit
				for _, h := range page.Hits {
					got = append(got, hit{h.Kind, h.Type, h.UserID})
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}

		// Pages of one cover the user's four documents once, newest first.
		var docs []int64
		before := ""
		for range 10 {
			page, err := s.Search(ctx, models.SearchQuery{Text: "user-connected-2024", Limit: 1, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range page.Hits {
				if len(docs) > 0 && h.DocID >= docs[len(docs)-1] {
					t.Fatalf("hit %d after %d: repeated or out of order", h.DocID, docs[len(docs)-1])
				}
				docs = append(docs, h.DocID)
			}
			if before = page.Next; before == "" {
				break
			}
		}
		if len(docs) != 4 {
			t.Errorf("paged through %d documents, want 4", len(docs))
		}
	})
}
