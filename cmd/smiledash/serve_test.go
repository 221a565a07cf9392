package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/smile"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServe_ShutdownLosesNoAcknowledgedEvent sends webhooks while the server is
// told to stop: every event that was answered 200 must be in the database.
func TestServe_ShutdownLosesNoAcknowledgedEvent(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	const secret = "shutdown-test-secret"
	env := envOf(map[string]string{
		"SMILEDASH_ADDR":                addr,
		"SMILEDASH_DATA_DIR":            dir,
		"SMILEDASH_WEBHOOK_SECRETS":     secret,
		"SMILEDASH_WEBHOOK_ALLOWED_IPS": "127.0.0.1",
		"SMILEDASH_LOG_LEVEL":           "error",
		"SMILEDASH_ADMIN_EMAIL":         "ops@example.com",
		"SMILEDASH_ADMIN_PASSWORD":      "a-long-enough-password",
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, env) }()

	url := "http://" + addr + "/webhooks/smile"
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("et-shutdown-%d-%d", w, i)
				body := fmt.Appendf(nil, `{"id":%q,"version":1,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u-%d"}}`, id, w)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(secret), body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server has gone
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 100 })
	cancel() // as SIGTERM does
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no event was acknowledged before shutdown")
	}

	store, err := models.Open(context.Background(), filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var stored int64
	if err := store.DB().Model(&models.Event{}).Where("event_id IN ?", acked).Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if stored != int64(len(acked)) {
		t.Errorf("got %d of %d acknowledged events stored", stored, len(acked))
	}
}

func waitFor(t testing.TB, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the server")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
