package models_test

import (
	"maps"
	"slices"
	"testing"

	"smiledash/models"
	"smiledash/models/storetest"
)

// searchDocUsers maps each indexed event's seq to its document's user_key.
func searchDocUsers(t *testing.T, s *models.Store) map[int64]*int64 {
	t.Helper()
	var docs []struct {
		SourceID int64
		UserKey  *int64
	}
	if err := s.DB().Raw("SELECT source_id, user_key FROM search_docs WHERE kind = ?", models.SearchKindEvent).Scan(&docs).Error; err != nil {
		t.Fatal(err)
	}
	out := map[int64]*int64{}
	for _, d := range docs {
		out[d.SourceID] = d.UserKey
	}
	return out
}

// TestSearchIndexer_WaitsForUnresolvedEvents: the indexer stops just before an
// event whose user is not resolved yet (its document would have no user for
// ever) and indexes it, with its user, once the projector has set its key.
func TestSearchIndexer_WaitsForUnresolvedEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		first := storetest.Unresolved(t, s, "et-first", "u-a", qt0)
		keyA := storetest.Resolve(t, s, first.Seq, "u-a")
		userless := models.Event{EventID: "et-userless", Type: "RECORD_CREATED", CreatedAt: qt0, ReceivedAt: qt0, SourceIP: "127.0.0.1",
			Body: storetest.RawEvent("et-userless", "RECORD_CREATED", qt0, `{"recordId":"r-1"}`)}
		if err := s.DB().Create(&userless).Error; err != nil {
			t.Fatal(err)
		}
		pending := storetest.Unresolved(t, s, "et-pending", "u-new", qt0)
		after := storetest.Unresolved(t, s, "et-after", "u-a", qt0)
		storetest.Resolve(t, s, after.Seq, "u-a")

		indexAll(t, s)
		docs := searchDocUsers(t, s)
		if got := slices.Sorted(maps.Keys(docs)); !slices.Equal(got, []int64{first.Seq, userless.Seq}) {
			t.Fatalf("indexed events %v, want %d and %d, stopping before the unresolved %d", got, first.Seq, userless.Seq, pending.Seq)
		}
		keyNew := storetest.Resolve(t, s, pending.Seq, "u-new")
		if n := indexAll(t, s); n != 2 {
			t.Fatalf("indexed %d once resolved, want the 2 events it had stopped before", n)
		}
		docs = searchDocUsers(t, s)
		if k := docs[pending.Seq]; k == nil || *k != keyNew {
			t.Errorf("the resolved event is indexed with user %v, want %d", k, keyNew)
		}
		if k := docs[after.Seq]; k == nil || *k != keyA {
			t.Errorf("the event after it is indexed with user %v, want %d", k, keyA)
		}
	})
}
