package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"smiledash/models"
	"smiledash/smile"
)

// TestServe_IndexesWebhooksForSearch checks that serve runs the search
// indexer: a webhook it acknowledges becomes findable without anything else
// happening, and shutdown stops the indexer cleanly.
func TestServe_IndexesWebhooksForSearch(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	const secret = "search-test-secret"
	env := envOf(map[string]string{
		"SMILEDASH_ADDR":                addr,
		"SMILEDASH_DATA_DIR":            dir,
		"SMILEDASH_WEBHOOK_SECRETS":     secret,
		"SMILEDASH_WEBHOOK_ALLOWED_IPS": "127.0.0.1",
		"SMILEDASH_LOG_LEVEL":           "error",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, env) }()
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	body := []byte(`{"id":"et-search-1","version":1,"type":"EMPLOYMENTS_ADDED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u-1","employer":"Siam Cement Group"}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/smile", bytes.NewReader(body))
	req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("webhook: got %d", resp.StatusCode)
	}

	store, err := models.Open(context.Background(), filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	waitFor(t, func() bool {
		page, err := store.Search(context.Background(), models.SearchQuery{Text: "cement"})
		return err == nil && len(page.Hits) == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
}
