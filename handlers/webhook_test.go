package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

func TestReceiveWebhook_Vectors(t *testing.T) {
	body := smiletest.Event("USER_CREATED")
	good := smile.SignatureFor([]byte(smiletest.FixtureSecret), body)
	tests := []struct {
		name       string
		body       []byte
		signature  string
		wantStatus int
		wantReason string // delivery reason recorded; "" for stored
		wantBody   string
	}{
		{"documented vector", body, "ee5fa7128bc8f0cf7566dc028b1b4fc6cd74a02b7467a518cc7ba0fa7cd74290f7ea24b65c43082bbfb8b0ff8275bce8861dc7d917b40206cdf8409a611dad47", 200, "", `{"status":"stored"}`},
		{"uppercase hex", body, strings.ToUpper(good), 200, "", `{"status":"stored"}`},
		{"second secret", body, smile.SignatureFor([]byte("second-secret-being-rotated-in"), body), 200, "", `{"status":"stored"}`},
		{"tampered body", append(append([]byte{}, body...), ' '), good, 401, models.ReasonSignatureMismatch, "Smile-Signature"},
		{"wrong secret", body, smile.SignatureFor([]byte("not-our-secret"), body), 401, models.ReasonSignatureMismatch, "does not match"},
		{"missing header", body, "", 401, models.ReasonSignatureMissing, "missing"},
		{"blank header", body, "   ", 401, models.ReasonSignatureMissing, "missing"},
		{"malformed header", body, "sha512=" + good, 401, models.ReasonSignatureMismatch, "Smile-Signature"},
		{"not hex", body, strings.Repeat("zz", 64), 401, models.ReasonSignatureMismatch, "Smile-Signature"},
		{"signed but not json", []byte("hello"), smile.SignatureFor([]byte(smiletest.FixtureSecret), []byte("hello")), 400, models.ReasonBadEnvelope, "id, type and createdAt"},
		{"signed envelope without id", []byte(`{"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`), "", 400, models.ReasonBadEnvelope, ""},
		{"signed envelope bad createdAt", []byte(`{"id":"et-1","type":"USER_CREATED","createdAt":"yesterday"}`), "", 400, models.ReasonBadEnvelope, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t)
			sig := tc.signature
			if sig == "" && tc.name != "missing header" {
				sig = smile.SignatureFor([]byte(smiletest.FixtureSecret), tc.body)
			}
			got := a.do(t, webhookRequest(tc.body, sig))
			if got.status != tc.wantStatus {
				t.Fatalf("got status %d (%s), want %d", got.status, got.body, tc.wantStatus)
			}
			if !strings.Contains(got.body, tc.wantBody) {
				t.Errorf("got body %s, want it to contain %q", got.body, tc.wantBody)
			}
			var events int64
			if err := a.store.DB().Model(&models.Event{}).Count(&events).Error; err != nil {
				t.Fatalf("count rows: %v", err)
			}
			wantEvents := int64(0)
			if tc.wantReason == "" {
				wantEvents = 1
			}
			if events != wantEvents {
				t.Errorf("got %d stored events, want %d", events, wantEvents)
			}
			if tc.wantReason != "" {
				waitForDelivery(t, a, tc.wantReason)
			}
		})
	}
}

// waitForDelivery waits for the writer to record a rejection: rejections are
// written by the writer goroutine, after the response.
func waitForDelivery(t *testing.T, a *testApp, reason string) models.Delivery {
	t.Helper()
	// A stored event is a barrier: the writer records queued rejections in the
	// same or an earlier transaction.
	barrier := []byte(`{"id":"et-barrier-` + reason + `","version":1,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"barrier"}}`)
	if got := a.do(t, signed(barrier)); got.status != 200 {
		t.Fatalf("barrier event: got %d %s", got.status, got.body)
	}
	var d models.Delivery
	if err := a.store.DB().Where("reason = ?", reason).Take(&d).Error; err != nil {
		t.Fatalf("no delivery recorded with reason %s: %v", reason, err)
	}
	if d.SourceIP != testPeer || d.Outcome != models.OutcomeRejected && reason != models.ReasonDuplicate {
		t.Errorf("got delivery %+v", d)
	}
	if len(d.Excerpt) > 512 {
		t.Errorf("got excerpt of %d bytes, want at most 512", len(d.Excerpt))
	}
	if strings.Contains(d.Excerpt, smiletest.FixtureSecret) {
		t.Error("delivery record holds the secret")
	}
	return d
}

func TestReceiveWebhook_IPRefused(t *testing.T) {
	a := newTestApp(t, func(d *handlers.Deps) {
		d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet("18.142.61.230")
	})
	got := a.do(t, signed(smiletest.Event("USER_CREATED")))
	if got.status != http.StatusForbidden {
		t.Fatalf("got %d, want 403", got.status)
	}
	var n int64
	if err := a.store.DB().Model(&models.Event{}).Count(&n).Error; err != nil {
		t.Fatalf("count rows: %v", err)
	}
	if n != 0 {
		t.Errorf("got %d events stored from a refused address", n)
	}
	// The barrier in waitForDelivery comes from a refused address too, so it
	// cannot be used here: wait for the writer to record the rejection.
	deadline := time.Now().Add(5 * time.Second)
	var d models.Delivery
	for a.store.DB().Where("reason = ?", models.ReasonIPRefused).Take(&d).Error != nil {
		if time.Now().After(deadline) {
			t.Fatal("no ip_refused delivery recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d.SourceIP != testPeer || d.Status != http.StatusForbidden || d.Excerpt != "" {
		t.Errorf("got delivery %+v, want the source, 403 and no excerpt", d)
	}
}

func TestReceiveWebhook_ForwardedForOnlyFromTrustedProxy(t *testing.T) {
	req := func() *http.Request {
		r := signed(smiletest.Event("USER_CREATED"))
		r.Header.Set("X-Forwarded-For", "18.142.61.230")
		return r
	}
	untrusted := newTestApp(t, func(d *handlers.Deps) {
		d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet("18.142.61.230")
	})
	if got := untrusted.do(t, req()); got.status != http.StatusForbidden {
		t.Errorf("without a trusted proxy: got %d, want 403 (the header must not be believed)", got.status)
	}
	trusted := newTestApp(t, func(d *handlers.Deps) {
		d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet("18.142.61.230")
		d.Webhooks.TrustedProxies, _ = handlers.ParseIPSet(testPeer)
	})
	if got := trusted.do(t, req()); got.status != http.StatusOK {
		t.Errorf("behind a trusted proxy: got %d %s, want 200", got.status, got.body)
	}
}

func TestReceiveWebhook_TooLarge(t *testing.T) {
	// fasthttp refuses a body over the app limit before any handler runs, and
	// app.Test cannot observe that, so this test serves on a real loopback port.
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		a := appOn(t, store, func(d *handlers.Deps) {
			d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet("127.0.0.1")
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = a.app.Listener(ln) }()
		t.Cleanup(func() { _ = a.app.Shutdown() })
		// Smile would send the whole body; the server answers as soon as it sees the
		// Content-Length, so the test sends only the headers and reads the answer.
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /webhooks/smile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"Smile-Signature: %s\r\nContent-Length: %d\r\n\r\n{", strings.Repeat("ab", 64), 70<<10)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "larger than") {
			t.Fatalf("got %d %s, want 413 with a plain reason", resp.StatusCode, body)
		}
		barrier := signed([]byte(`{"id":"et-after-big","version":1,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u"}}`))
		barrier.RequestURI = ""
		barrier.URL.Scheme, barrier.URL.Host = "http", ln.Addr().String()
		if resp, err := http.DefaultClient.Do(barrier); err != nil || resp.StatusCode != 200 {
			t.Fatalf("barrier: %v %v", resp, err)
		}
		var d models.Delivery
		if err := a.store.DB().Where("reason = ?", models.ReasonTooLarge).Take(&d).Error; err != nil {
			t.Fatalf("no too_large delivery recorded: %v", err)
		}
		if d.Excerpt != "" || d.SourceIP != "127.0.0.1" {
			t.Errorf("got delivery %+v, want no excerpt and the loopback source", d)
		}
		var n int64
		if err := a.store.DB().Model(&models.Event{}).Count(&n).Error; err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if n != 1 {
			t.Errorf("got %d events, want only the barrier", n)
		}
	})
}

func TestReceiveWebhook_EveryFixtureAccepted(t *testing.T) {
	a := newTestApp(t)
	for _, typ := range smiletest.EventTypes() {
		got := a.do(t, signed(smiletest.Event(typ)))
		if got.status != 200 || got.body != `{"status":"stored"}` {
			t.Errorf("%s: got %d %s, want 200 stored", typ, got.status, got.body)
		}
	}
	var n int64
	if err := a.store.DB().Model(&models.Event{}).Count(&n).Error; err != nil {
		t.Fatalf("count rows: %v", err)
	}
	if n != 37 {
		t.Errorf("got %d events, want 37", n)
	}
	var acc models.Account
	if err := a.store.DB().Where("id = ?", smiletest.FixtureAccountID).Take(&acc).Error; err != nil {
		t.Fatal(err)
	}
	if acc.Status != models.AccountDisconnected {
		t.Errorf("got account status %s, want DISCONNECTED", acc.Status)
	}
}

func TestReceiveWebhook_ConcurrentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		a := appOn(t, store)
		body := smiletest.Event("ACCOUNT_CREATED")
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[string]int{}
		for range 64 {
			wg.Go(func() {
				got := a.do(t, signed(body))
				mu.Lock()
				statuses[fmt.Sprint(got.status, got.body)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if statuses[`200{"status":"stored"}`] != 1 || statuses[`200{"status":"duplicate"}`] != 63 {
			t.Errorf("got %v, want 1 stored and 63 duplicates", statuses)
		}
		var ev models.Event
		if err := a.store.DB().Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Deliveries != 64 {
			t.Errorf("got %d deliveries counted, want 64", ev.Deliveries)
		}
	})
}
