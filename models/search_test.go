package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// seedSearch stores events for three users at two employers and two widget
// callbacks, and returns the ingester's store for more.
func seedSearch(t *testing.T, s *models.Store) {
	t.Helper()
	in := storetest.Writer(t, s)
	for i := range 12 {
		user := fmt.Sprintf("su-%d", i%3)
		employer := "Siam Cement Group"
		if i%2 == 1 {
			employer = "Nguyễn Phát Logistics"
		}
		storetest.Submit(t, in, storetest.EventBody(fmt.Sprintf("et-s-%02d", i), "EMPLOYMENTS_ADDED", qt0.Add(time.Duration(i)*time.Hour),
			map[string]any{"userId": user, "accountId": "acc-" + user, "employer": employer, "loginName": "login." + user + "@example.test"}))
	}
	storetest.Submit(t, in, storetest.EventBody("et-s-created", "ACCOUNT_CREATED", qt0,
		map[string]any{"userId": "su-0", "accountId": "acc-su-0", "providers": []string{"sso-th"}, "loginName": "login.su-0@example.test"}))
	for i, name := range []string{"onAccountConnected", "onAccountError"} {
		u, err := s.UserByID(context.Background(), "su-1")
		if err != nil {
			t.Fatal(err)
		}
		args, _ := json.Marshal(map[string]any{"accountId": "acc-su-1", "errorMessage": "Siam portal timed out\x00"})
		cb := &models.Callback{ReceivedAt: qt0.Add(time.Duration(20+i) * time.Hour), UserKey: &u.UserKey, Name: name, AccountID: "acc-su-1", Args: args}
		if err := s.CreateCallback(context.Background(), cb); err != nil {
			t.Fatal(err)
		}
	}
}

func indexAll(t *testing.T, s *models.Store) int {
	t.Helper()
	total := 0
	for {
		n, err := s.IndexSearch(context.Background(), 4)
		if err != nil {
			t.Fatal(err)
		}
		if total += n; n == 0 {
			return total
		}
	}
}

func TestSearch_MatchesFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		seedSearch(t, s)
		if lag, err := s.SearchLag(ctx); err != nil || lag.N != 15 {
			t.Fatalf("got lag %+v (%v) before indexing, want 15", lag, err)
		}
		if n := indexAll(t, s); n != 15 {
			t.Fatalf("indexed %d documents, want 15", n)
		}
		if lag, err := s.SearchLag(ctx); err != nil || lag.N != 0 {
			t.Fatalf("got lag %+v (%v) after indexing, want 0", lag, err)
		}
		su1, err := s.UserByID(ctx, "su-1")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			q    models.SearchQuery
			want int
		}{
			{"employer, any case", models.SearchQuery{Text: "siam CEMENT"}, 6},
			{"word in events and callbacks", models.SearchQuery{Text: "siam"}, 8},
			{"diacritics kept", models.SearchQuery{Text: "Nguyễn"}, 6},
			{"phrase", models.SearchQuery{Text: `"cement group"`}, 6},
			{"phrase out of order", models.SearchQuery{Text: `"group cement"`}, 0},
			{"login name with punctuation", models.SearchQuery{Text: "login.su-2@example.test"}, 4},
			{"prefix", models.SearchQuery{Text: "logis*"}, 6},
			{"keys are not indexed", models.SearchQuery{Text: "employer"}, 0},
			{"kind", models.SearchQuery{Text: "siam", Kind: models.SearchKindCallback}, 2},
			{"type", models.SearchQuery{Text: "siam", Type: "onAccountError"}, 1},
			{"user", models.SearchQuery{Text: "siam", UserKey: su1.UserKey}, 4},
			{"no such user", models.SearchQuery{Text: "siam", UserKey: -1}, 0},
			{"account", models.SearchQuery{Text: "cement", AccountID: "acc-su-0"}, 2},
			{"provider", models.SearchQuery{Text: "cement", Provider: "sso-th"}, 2},
			{"time range", models.SearchQuery{Text: "cement", From: qt0.Add(2 * time.Hour), To: qt0.Add(7 * time.Hour)}, 3},
			{"all filters", models.SearchQuery{Text: "example", UserKey: su1.UserKey, Type: "EMPLOYMENTS_ADDED", From: qt0.Add(4 * time.Hour)}, 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.Search(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Hits) != tc.want {
					t.Errorf("got %d hits, want %d: %+v", len(page.Hits), tc.want, page.Hits)
				}
			})
		}

		// Keyset pages of 3 cover all 8 hits once, newest indexed first.
		seen := map[int64]bool{}
		before, last := "", int64(1<<62)
		for range 10 {
			page, err := s.Search(ctx, models.SearchQuery{Text: "siam", Limit: 3, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range page.Hits {
				if seen[h.DocID] || h.DocID >= last {
					t.Fatalf("hit %d repeated or out of order", h.DocID)
				}
				seen[h.DocID], last = true, h.DocID
				if h.Snippet == "" {
					t.Errorf("hit %d has no snippet", h.DocID)
				}
			}
			if before = page.Next; before == "" {
				break
			}
		}
		if len(seen) != 8 {
			t.Errorf("paged through %d hits, want 8", len(seen))
		}
		page, err := s.Search(ctx, models.SearchQuery{Text: "timed", Kind: models.SearchKindCallback})
		if err != nil || len(page.Hits) != 2 || page.Hits[0].UserID != "su-1" || page.Hits[0].Kind != models.SearchKindCallback {
			t.Fatalf("got %+v (%v), want the two callbacks of su-1", page.Hits, err)
		}
		if _, err := s.Search(ctx, models.SearchQuery{Text: " ,; "}); !errors.Is(err, models.ErrEmptySearch) {
			t.Errorf("got %v for a search without words, want ErrEmptySearch", err)
		}
		if _, err := s.Search(ctx, models.SearchQuery{Text: "siam", Before: "x"}); !errors.Is(err, models.ErrBadCursor) {
			t.Errorf("got %v for a forged cursor, want ErrBadCursor", err)
		}
	})
}

// The indexer's position commits with its writes: a new indexer (a restart)
// continues where the last one stopped, and nothing is indexed twice even when
// two indexers run at once.
func TestSearchIndexer_PositionSurvivesRestartAndNeverRepeats(t *testing.T) {
	t.Run("sqlite restart", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "search.db")
		ctx := context.Background()
		s, err := models.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		seedSearch(t, s)
		if n, err := s.IndexSearch(ctx, 5); err != nil || n != 7 { // 5 events + 2 callbacks
			t.Fatalf("first batch indexed %d (%v), want 7", n, err)
		}
		s.Close()
		s, err = models.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if n := indexAll(t, s); n != 8 {
			t.Fatalf("after a restart the indexer indexed %d, want the 8 it had not reached", n)
		}
		assertIndexedOnce(t, s, 8)
	})
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		seedSearch(t, s)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				for {
					n, err := s.IndexSearch(ctx, 2)
					if err != nil || n == 0 {
						errs <- err
						return
					}
				}
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		assertIndexedOnce(t, s, 8)
		if n := indexAll(t, s); n != 0 {
			t.Errorf("a caught-up indexer indexed %d more, want 0", n)
		}
	})
}

func assertIndexedOnce(t *testing.T, s *models.Store, siam int) {
	t.Helper()
	seen := map[string]bool{}
	before := ""
	for {
		page, err := s.Search(context.Background(), models.SearchQuery{Text: "siam", Before: before, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.Hits {
			key := fmt.Sprint(h.Kind, h.SourceID)
			if seen[key] {
				t.Fatalf("%s indexed twice", key)
			}
			seen[key] = true
		}
		if before = page.Next; before == "" {
			break
		}
	}
	if len(seen) != siam {
		t.Errorf("found %d documents mentioning siam, want %d", len(seen), siam)
	}
}

// The filter words the indexer adds only narrow a search: a payload that
// contains another user's filter word is still kept out by the filter.
func TestSearch_FilterWordsOnlyNarrow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		seedSearch(t, s)
		su1, err := s.UserByID(ctx, "su-1")
		if err != nil {
			t.Fatal(err)
		}
		storetest.Submit(t, storetest.Writer(t, s), storetest.EventBody("et-s-forged", "EMPLOYMENTS_ADDED", qt0,
			map[string]any{"userId": "su-0", "accountId": "acc-su-0", "note": fmt.Sprintf("siam zzuser%d", su1.UserKey)}))
		indexAll(t, s)
		page, err := s.Search(ctx, models.SearchQuery{Text: "siam", UserKey: su1.UserKey})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.Hits {
			if h.UserID != "su-1" {
				t.Errorf("got a hit of %s searching su-1's items", h.UserID)
			}
		}
		if len(page.Hits) != 4 {
			t.Errorf("got %d hits, want su-1's 4", len(page.Hits))
		}
		if page, err := s.Search(ctx, models.SearchQuery{Text: "siam", AccountID: "acc-su-0"}); err != nil || len(page.Hits) != 3 {
			t.Errorf("got %d hits (%v) for acc-su-0, want its 2 employer events and the forged one", len(page.Hits), err)
		}
	})
}

// While webhooks are being appended the indexer defers to them: it waits Yield
// before each batch (here longer than the test), still stops at once, and
// indexes everything once the webhooks stop.
func TestSearchIndexer_DefersToWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedSearch(t, s)
		run := func(busy bool) (stop func()) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.RunSearchIndexer(ctx, models.SearchIndexerOptions{Batch: 4, Poll: 10 * time.Millisecond,
					Gather: time.Millisecond, Yield: time.Hour, Busy: func() bool { return busy }})
			}()
			return func() {
				cancel()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("the indexer did not stop while yielding to webhooks")
				}
			}
		}
		stop := run(true)
		time.Sleep(300 * time.Millisecond)
		stop()
		if lag, err := s.SearchLag(context.Background()); err != nil || lag.N != 15 {
			t.Fatalf("lag %+v (%v) after indexing behind busy webhooks, want all 15 left", lag, err)
		}
		stop = run(false)
		defer stop()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			lag, err := s.SearchLag(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if lag.N == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lag %+v once the webhooks stopped, want 0", lag)
			}
		}
		assertIndexedOnce(t, s, 8)
	})
}
