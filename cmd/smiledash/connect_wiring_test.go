package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/smile"
)

func TestLoopbackWebhookURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/webhooks/smile",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/webhooks/smile",
		"[::]:9000":      "http://127.0.0.1:9000/webhooks/smile",
		"localhost:8081": "http://127.0.0.1:8081/webhooks/smile",
		"127.0.0.1:8082": "http://127.0.0.1:8082/webhooks/smile",
		"[::1]:8083":     "http://[::1]:8083/webhooks/smile",
		"127.0.0.1:0":    "",
		"nonsense":       "",
	} {
		if got := loopbackWebhookURL(addr); got != want {
			t.Errorf("loopbackWebhookURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestLinkCommand(t *testing.T) {
	dir := t.TempDir()
	env := envOf(map[string]string{"SMILEDASH_DATA_DIR": dir, "SMILEDASH_PUBLIC_URL": "https://dash.example.com/"})
	var out bytes.Buffer
	err := run(context.Background(), []string{"link", "create", "--ref", "crm-77", "--label", "Ana", "--expires", "72h"}, strings.NewReader(""), &out, env)
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(out.String())
	code, ok := strings.CutPrefix(url, "https://dash.example.com/connect/")
	if !ok || len(code) != models.LinkCodeLen {
		t.Fatalf("printed %q, want the link URL", url)
	}
	store, err := models.Open(context.Background(), filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l, err := store.LinkByCode(context.Background(), code)
	if err != nil || l.ExternalRef != "crm-77" || l.Label != "Ana" || l.ExpiresAt == nil || l.CreatedBy != "cli" {
		t.Errorf("got %+v (err %v)", l, err)
	}

	for _, args := range [][]string{
		{"link"},
		{"link", "list"},
		{"link", "create"},
		{"link", "create", "--ref", "José"},
		{"link", "create", "--ref", "ok", "--expires", "-1h"},
		{"link", "create", "--ref", "ok", "extra"},
	} {
		if err := run(context.Background(), args, strings.NewReader(""), io.Discard, env); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

// TestServe_SandboxConnect runs `smiledash serve` without Smile credentials:
// a link opens, a sandbox login connects, and the simulator's webhooks reach
// our own receiver and project the account to CONNECTED.
func TestServe_SandboxConnect(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := envOf(map[string]string{
		"SMILEDASH_ADDR": addr, "SMILEDASH_DATA_DIR": dir, "SMILEDASH_PUBLIC_URL": "http://" + addr,
		"SMILEDASH_LOG_LEVEL": "error",
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	banner := &lockedBuffer{}
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), banner, env) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	var out bytes.Buffer
	if err := run(ctx, []string{"link", "create", "--ref", "crm-serve"}, strings.NewReader(""), &out, env); err != nil {
		t.Fatal(err)
	}
	page := get(t, strings.TrimSpace(out.String()))
	m := regexp.MustCompile(`"userToken":"([^"]+)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "sandbox-widget.js") {
		t.Fatalf("page without boot token or sandbox widget: %.400s", page)
	}
	body, _ := json.Marshal(map[string]string{"token": m[1], "providerId": "sss_ph", "loginName": "gpalomero1234@smileapi.io", "password": "123456"})
	resp, err := http.Post("http://"+addr+"/sandbox/widget/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sandbox login: got %d", resp.StatusCode)
	}
	store, err := models.Open(ctx, filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	// The banner prints the fake Smile API's base URL and credentials; a
	// backend calling POST /users with them gets a user and a token, and
	// USER_CREATED reaches our receiver, as with Smile.
	m = regexp.MustCompile(`Smile API: +(\S+) +\(HTTP Basic: key (\S+), secret (\S+)\)`).FindStringSubmatch(banner.String())
	if m == nil || m[1] != "http://"+addr+"/sandbox/smile/v1" {
		t.Fatalf("banner without the sandbox API: %s", banner.String())
	}
	req, _ := http.NewRequest(http.MethodPost, m[1]+"/users", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(m[2], m[3])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data struct {
			User struct{ ID string } `json:"user"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.Data.User.ID == "" {
		t.Fatalf("POST /users over HTTP: got %d", resp.StatusCode)
	}
	waitFor(t, func() bool {
		var n int64
		if err := store.DB().Table("events").Where("type = 'USER_CREATED' AND body LIKE ?", "%"+created.Data.User.ID+"%").Count(&n).Error; err != nil {
			t.Fatalf("count rows: %v", err)
		}
		return n == 1
	})
	req, _ = http.NewRequest(http.MethodGet, m[1]+"/users", nil)
	req.SetBasicAuth(m[2], "wrong")
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong secret: got %v %v, want 400 INVALID_CREDENTIALS", resp.StatusCode, err)
	}
	resp.Body.Close()

	waitFor(t, func() bool {
		var status []string
		if err := store.DB().Table("accounts").Where("provider_id = 'sss_ph'").Pluck("status", &status).Error; err != nil {
			t.Fatalf("read rows: %v", err)
		}
		return len(status) == 1 && status[0] == models.AccountConnected
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", url, resp.StatusCode, b)
	}
	return string(b)
}

// lockedBuffer is an io.Writer safe to read while the server writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSimulateCommand_RandomMode runs the load mode from the command line.
func TestSimulateCommand_RandomMode(t *testing.T) {
	var mu sync.Mutex
	users := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		env, err := smile.ParseEnvelope(b)
		if err != nil || env.CreatedAt.After(time.Now()) {
			t.Errorf("got %s (err %v), want an envelope dated no later than now", b, err)
		}
		mu.Lock()
		users[env.Data.UserID] = true
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	var out bytes.Buffer
	err := run(context.Background(), []string{"simulate", "--url", srv.URL + "/webhooks/smile", "--secret", "s",
		"--random", "--users", "4", "--events", "40", "--concurrency", "2", "--json"}, strings.NewReader(""), &out, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Sent": 40`) && !strings.Contains(out.String(), `"sent": 40`) {
		t.Errorf("report %s, want 40 sent", out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(users) != 4 {
		t.Errorf("got %d users, want the pool of 4", len(users))
	}
}
