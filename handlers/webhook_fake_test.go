package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/smile/smiletest"
)

// fakeIngester is a WebhookIngester whose Submit fails with err, as a store
// that is down or a writer past its deadline would. It keeps what it was given.
type fakeIngester struct {
	err error

	mu        sync.Mutex
	submitted []string
	rejected  []ingest.Rejection
}

func (f *fakeIngester) Submit(_ context.Context, in *ingest.Incoming) (ingest.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submitted = append(f.submitted, in.Envelope.ID)
	if f.err != nil {
		return 0, f.err
	}
	return ingest.Stored, nil
}

func (f *fakeIngester) Reject(r ingest.Rejection) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejected = append(f.rejected, r)
	return true
}

// TestReceiveWebhook_StoreFailures checks a verified webhook the store cannot
// take is answered 503 (so Smile retries), with a fixed public message that
// leaks nothing of the cause, and is recorded as refused for the store.
func TestReceiveWebhook_StoreFailures(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"store down", errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")},
		{"ingest deadline", context.DeadlineExceeded},
		{"shutting down", ingest.ErrIngestClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeIngester{err: tc.err}
			a := newTestApp(t, func(d *handlers.Deps) { d.Ingester = fake })
			body := smiletest.Event("ACCOUNT_CONNECTED")
			got := a.do(t, signed(body))
			if got.status != http.StatusServiceUnavailable {
				t.Fatalf("got %d %s, want 503", got.status, got.body)
			}
			if strings.Contains(got.body, tc.err.Error()) {
				t.Errorf("got body %s, want the cause kept out of it", got.body)
			}
			if !strings.Contains(got.body, "retry") {
				t.Errorf("got body %s, want it to ask for a retry", got.body)
			}
			if got.header.Get("Retry-After") == "" {
				t.Error("a 503 without Retry-After")
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if len(fake.submitted) != 1 {
				t.Errorf("got %d submissions, want 1", len(fake.submitted))
			}
			if len(fake.rejected) != 1 || fake.rejected[0].Reason != models.ReasonStoreUnavailable || fake.rejected[0].Status != http.StatusServiceUnavailable {
				t.Errorf("got rejections %+v, want one for the store, 503", fake.rejected)
			}
		})
	}
}
