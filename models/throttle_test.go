package models_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

// takeParallel takes one unit from key n times at once and returns how many
// were allowed and how many refusals were reported as first of their burst.
func takeParallel(t *testing.T, stores []*models.Store, key string, limit models.Throttle, n int, now time.Time) (allowed, first int64) {
	t.Helper()
	var wg sync.WaitGroup
	var a, f atomic.Int64
	for i := range n {
		wg.Go(func() {
			v, err := stores[i%len(stores)].TakeThrottle(context.Background(), key, limit, 1, now)
			if err != nil {
				t.Error(err)
				return
			}
			if v.Allowed {
				a.Add(1)
			}
			if v.FirstRefusal {
				f.Add(1)
			}
		})
	}
	wg.Wait()
	return a.Load(), f.Load()
}

func TestTake_ParallelNeverOvershoots(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		limit := models.Throttle{Max: 30, Window: 10 * time.Minute}
		allowed, first := takeParallel(t, []*models.Store{s}, "k", limit, 100, testNow)
		if allowed != 30 || first != 1 {
			t.Fatalf("got %d allowed and %d first refusals of 100, want 30 and 1", allowed, first)
		}
	})
}

// TestTake_SharedByReplicas: two store handles on one PostgreSQL schema, as
// two replicas, share every counter.
func TestTake_SharedByReplicas(t *testing.T) {
	t.Parallel()
	s1 := storetest.Postgres(t)
	s2 := storetest.Replica(t, s1)
	limit := models.Throttle{Max: 30, Window: 10 * time.Minute}
	allowed, first := takeParallel(t, []*models.Store{s1, s2}, "k", limit, 100, testNow)
	if allowed != 30 || first != 1 {
		t.Fatalf("got %d allowed and %d first refusals over two replicas, want 30 and 1", allowed, first)
	}
	// Sign-in counters too.
	at := auth.SignInAttempt{Email: "alice@example.com", IP: "192.0.2.1"}
	for i := range auth.LoginFailuresPerEmail {
		if d, err := auth.New([]*models.Store{s1, s2}[i%2]).TakeSignIn(context.Background(), at, testNow); err != nil || d != 0 {
			t.Fatalf("attempt %d: got %v, %v", i+1, d, err)
		}
	}
	if d, _ := auth.New(s1).TakeSignIn(context.Background(), at, testNow); d == 0 {
		t.Fatal("sixth attempt over two replicas: got no wait, want throttled")
	}
}

func TestTake_WindowsCostsAndRefunds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		take := func(key string, cost int64, now time.Time) models.Verdict {
			t.Helper()
			v, err := s.TakeThrottle(ctx, key, models.Throttle{Max: 100, Window: time.Minute}, cost, now)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if v := take("bytes", 60, testNow); !v.Allowed {
			t.Fatal("60 of 100: refused")
		}
		v := take("bytes", 50, testNow.Add(20*time.Second))
		if v.Allowed || !v.FirstRefusal || v.RetryAfter != 40*time.Second {
			t.Fatalf("110 of 100: got %+v, want refused, first, 40s to the window's end", v)
		}
		if v := take("bytes", 40, testNow.Add(20*time.Second)); !v.Allowed {
			t.Fatal("100 of 100: refused (a refused take must cost nothing)")
		}
		if v := take("bytes", 1, testNow.Add(30*time.Second)); v.Allowed || v.FirstRefusal {
			t.Fatalf("second refusal: got %+v, want refused, not first", v)
		}
		if v := take("bytes", 101, testNow); v.Allowed {
			t.Fatal("a cost over the limit: allowed")
		}
		if err := s.RefundThrottle(ctx, "bytes", 10, testNow.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if v := take("bytes", 10, testNow.Add(30*time.Second)); !v.Allowed {
			t.Fatal("after a refund: refused")
		}
		// A new window starts at the end of the last one, whole again.
		if v := take("bytes", 100, testNow.Add(time.Minute)); !v.Allowed {
			t.Fatal("new window: refused")
		}
		v = take("bytes", 1, testNow.Add(time.Minute))
		if v.Allowed || !v.FirstRefusal || v.RetryAfter != time.Minute {
			t.Fatalf("new window's first refusal: got %+v, want first, a minute", v)
		}
		if err := s.ResetThrottle(ctx, "bytes"); err != nil {
			t.Fatal(err)
		}
		if v := take("bytes", 100, testNow.Add(time.Minute)); !v.Allowed {
			t.Fatal("after reset: refused")
		}
	})
}

func TestTakeCallback_OneTimelineEntryPerBurst(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		l := createLink(t, s, "crm-flood", nil)
		var wg sync.WaitGroup
		var allowed atomic.Int64
		for range models.MaxCallbacksPerSession + 80 {
			wg.Go(func() {
				v, err := s.TakeCallback(ctx, l, 7, 100, t0)
				if err != nil {
					t.Error(err)
				}
				if v.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != models.MaxCallbacksPerSession {
			t.Fatalf("got %d allowed, want %d", got, models.MaxCallbacksPerSession)
		}
		throttled := 0
		for _, k := range actionKinds(t, s, l.ID) {
			if k == models.ActionLinkThrottled {
				throttled++
			}
		}
		if throttled != 1 {
			t.Fatalf("got %d link_throttled actions, want one per burst", throttled)
		}
		// Bytes per day: one big page after another, cut at the limit.
		l2 := createLink(t, s, "crm-bytes", nil)
		const size = 60 << 10
		sent := 0
		for i := range 200 {
			v, err := s.TakeCallback(ctx, l2, int64(100+i), size, t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if !v.Allowed {
				if v.RetryAfter < 23*time.Hour || v.Limit == "" {
					t.Fatalf("got %+v, want a day's wait and the limit named", v)
				}
				break
			}
			sent += size
		}
		if want := models.MaxCallbackBytesPerLink / size * size; sent != want {
			t.Fatalf("got %d bytes through, want %d", sent, want)
		}
	})
}

// TestTakeCallback_PerLink: many pages of one link share the link's limit
// per minute, and a token is counted per link, not per page.
func TestTakeCallback_PerLink(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		l := createLink(t, s, "crm-many-pages", nil)
		pages := models.MaxCallbacksPerLink/models.MaxCallbacksPerSession + 1
		allowed := 0
		for page := range pages {
			for range models.MaxCallbacksPerSession {
				v, err := s.TakeCallback(ctx, l, int64(page+1), 10, t0)
				if err != nil {
					t.Fatal(err)
				}
				if v.Allowed {
					allowed++
				} else if v.RetryAfter != models.CallbackWindow {
					t.Fatalf("got Retry-After %v, want %v", v.RetryAfter, models.CallbackWindow)
				}
			}
		}
		if allowed != models.MaxCallbacksPerLink {
			t.Fatalf("got %d callbacks allowed over %d pages, want the link's %d", allowed, pages, models.MaxCallbacksPerLink)
		}
		for i := range models.MaxTokensPerLink + 1 {
			v, err := s.TakeToken(ctx, l, int64(i+1), t0)
			if err != nil {
				t.Fatal(err)
			}
			if v.Allowed != (i < models.MaxTokensPerLink) {
				t.Fatalf("token %d: got allowed %v", i+1, v.Allowed)
			}
		}
		if got := actionKinds(t, s, l.ID); countKinds(got, models.ActionLinkThrottled) != 2 {
			t.Fatalf("got actions %v, want one link_throttled per limit's burst", got)
		}
	})
}

func countKinds(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}
