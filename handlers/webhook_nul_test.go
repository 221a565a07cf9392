package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// TestReceiveWebhook_NULUnderForgedFlood: on PostgreSQL, forged bodies with a
// NUL byte poisoned the batches that recorded their rejection, so valid
// webhooks sent meanwhile answered 503, and a signed event with \u0000 in a
// field answered 503 on every retry.
func TestReceiveWebhook_NULUnderForgedFlood(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in, err := ingest.New(s).NewWriter(ingest.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close(context.Background()) })
		a := newTestApp(t, func(d *handlers.Deps) { d.Stores, d.Ingester = storesOf(s), in })
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 10 {
					forged := fmt.Appendf(nil, `{"id":"x\x00%d-%d"}`+"\x00", w, i)
					if r := a.do(t, webhookRequest(forged, strings.Repeat("ab", 64))); r.status != 401 {
						t.Errorf("forged: got %d, want 401", r.status)
					}
					body := fmt.Appendf(nil, `{"id":"et-nul-%d-%d","version":1,"type":"USER_CREATED","createdAt":"2026-05-01T00:00:00Z",`+
						`"data":{"userId":"u-\u0000%d"}}`, w, i, w)
					if r := a.do(t, signed(body)); r.status != 200 {
						t.Errorf("signed event with \\u0000: got %d %s, want 200", r.status, r.body)
					}
				}
			})
		}
		wg.Wait()
		if err := in.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var events, rejections int64
		if err := s.DB().Model(&models.Event{}).Count(&events).Error; err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if err := s.DB().Model(&models.Delivery{}).Where("reason = ?", models.ReasonSignatureMismatch).Count(&rejections).Error; err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if events != 40 || rejections == 0 {
			t.Errorf("got %d events and %d rejection records, want 40 and the rejections recorded", events, rejections)
		}
	})
}

// TestReceiveWebhook_HostileUserIDIsResolved: on SQLite the acknowledgement
// stores a webhook's user id as is, for the projector to create the user
// from. A 40,000-character id with \u0000 in it, sent 16 times in parallel,
// is stored once on both stores and resolved to one user whose id reads
// U+FFFD for the NUL; nothing is left pending or parked.
func TestReceiveWebhook_HostileUserIDIsResolved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in, err := ingest.New(s).NewWriter(ingest.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close(context.Background()) })
		a := newTestApp(t, func(d *handlers.Deps) { d.Stores, d.Ingester = storesOf(s), in })
		long := strings.Repeat("u", 40_000)
		body := fmt.Appendf(nil, `{"id":"et-long-user","version":1,"type":"INCOMES_ADDED","createdAt":"2026-05-01T00:00:00Z",`+
			`"data":{"userId":"%s\u0000end","accountId":"a-long","count":1}}`, long)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if r := a.do(t, signed(body)); r.status != 200 {
					t.Errorf("got %d %s, want 200", r.status, r.body)
				}
			})
		}
		wg.Wait()
		if err := in.SyncProjections(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, s.DB().Model(&models.Event{})); n != 1 {
			t.Errorf("%d events stored, want 1", n)
		}
		if n := storetest.Count(t, s.DB().Model(&models.Event{}).Where("pending_user <> '' OR user_key IS NULL")); n != 0 {
			t.Errorf("%d events left without their user", n)
		}
		if n := storetest.Count(t, s.DB().Table("parked_events")); n != 0 {
			t.Errorf("%d events parked", n)
		}
		var users []models.SmileUser
		if err := s.DB().Find(&users).Error; err != nil {
			t.Fatal(err)
		}
		if len(users) != 1 || users[0].ID != long+"\uFFFDend" {
			t.Errorf("got %d users, want one whose id reads U+FFFD for the NUL", len(users))
		}
	})
}
