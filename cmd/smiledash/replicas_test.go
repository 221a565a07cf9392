package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
)

// TestReplicas_SharePostgres runs two server processes on one PostgreSQL
// schema, as two replicas behind a load balancer, and checks what must not
// depend on which replica a request reaches: an event sent to both at once is
// stored once, a session started on one works on the other, sign-in and
// callback throttles count across both, and an event received by one appears
// live on a stream served by the other.
func TestReplicas_SharePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child servers")
	}
	dsn := storetest.PostgresDSN(t)
	a := startServer(t, freeAddr(t), childVars(t.TempDir(), dsn))
	b := startServer(t, freeAddr(t), childVars(t.TempDir(), dsn))
	store := openChildStore(t, "", dsn)

	t.Run("same event to both at once is stored once", func(t *testing.T) {
		const n = 40
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("et-replica-race-%02d", i)
		}
		for _, id := range ids {
			body := fmt.Appendf(nil, `{"id":%q,"version":1,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u-race"}}`, id)
			start := make(chan struct{})
			replies := make([]string, 2)
			var wg sync.WaitGroup
			for i, srv := range []*serverChild{a, b} {
				wg.Go(func() {
					<-start
					code, reply := postWebhook(t, srv.URL, body)
					replies[i] = fmt.Sprintf("%d %s", code, reply)
				})
			}
			close(start)
			wg.Wait()
			stored := 0
			for _, r := range replies {
				if !strings.HasPrefix(r, "200 ") {
					t.Fatalf("%s: got %q, want 200 from both replicas", id, replies)
				}
				if strings.Contains(r, `"stored"`) {
					stored++
				}
			}
			if stored != 1 {
				t.Errorf("%s: got replies %q, want exactly one \"stored\"", id, replies)
			}
		}
		if got := storedIDs(t, store, ids); got != n {
			t.Errorf("got %d rows for %d events", got, n)
		}
	})

	admin := newBrowser(t)
	t.Run("a session from A works on B", func(t *testing.T) {
		if code := admin.get(t, b.URL+"/admin"); code != http.StatusSeeOther && code != http.StatusFound {
			t.Fatalf("B before signing in: got %d, want a redirect to /login", code)
		}
		if code := admin.signIn(t, a.URL, childEmail, childPassword); code != http.StatusSeeOther {
			t.Fatalf("sign-in on A: got %d, want 303", code)
		}
		if code := admin.get(t, b.URL+"/admin"); code != http.StatusOK {
			t.Errorf("B with A's session: got %d, want 200", code)
		}
	})

	t.Run("sign-in throttle counts across replicas", func(t *testing.T) {
		guesser := newBrowser(t)
		for i := range 5 {
			if code := guesser.signIn(t, a.URL, "nobody@example.com", fmt.Sprintf("wrong-%d", i)); code != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d on A: got %d, want 422", i+1, code)
			}
		}
		if code := guesser.signIn(t, b.URL, "nobody@example.com", "wrong-6"); code != http.StatusTooManyRequests {
			t.Errorf("sixth wrong password, on B: got %d, want 429", code)
		}
	})

	t.Run("callback throttle counts across replicas", func(t *testing.T) {
		ctx, now := context.Background(), time.Now()
		l, err := store.CreateLink(ctx, models.NewLink{ExternalRef: "replica-callbacks", Label: "Replica test", CreatedBy: "test", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if l, err = store.AttachSmileUser(ctx, l.ID, "u-replica-callbacks"); err != nil {
			t.Fatal(err)
		}
		session, _, err := store.CreateWidgetSession(ctx, l, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"callback":"onClose","session":%q}`, session)
		for i := range models.MaxCallbacksPerSession {
			srv := []*serverChild{a, b}[i%2]
			if code := postCallback(t, srv.URL, l.Code, body); code != http.StatusNoContent {
				t.Fatalf("callback %d: got %d, want 204", i+1, code)
			}
		}
		for _, srv := range []*serverChild{a, b} {
			if code := postCallback(t, srv.URL, l.Code, body); code != http.StatusTooManyRequests {
				t.Errorf("callback past the limit on %s: got %d, want 429", srv.URL, code)
			}
		}
	})

	t.Run("an event received by A streams live from B", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+"/admin/stream", nil)
		resp, err := admin.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream on B: got %d, want 200", resp.StatusCode)
		}
		lines := bufio.NewScanner(resp.Body)
		readUntil(t, lines, ": connected")
		body := []byte(`{"id":"et-replica-live","version":1,"type":"REPLICA_LIVE_TEST","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u-live"}}`)
		if code, reply := postWebhook(t, a.URL, body); code != http.StatusOK {
			t.Fatalf("webhook on A: got %d %s", code, reply)
		}
		readUntil(t, lines, "REPLICA_LIVE_TEST")
	})
	a.stop(t)
	b.stop(t)
}

// readUntil reads stream lines until one contains want; the request's
// context bounds the wait.
func readUntil(t *testing.T, lines *bufio.Scanner, want string) {
	t.Helper()
	for lines.Scan() {
		if strings.Contains(lines.Text(), want) {
			return
		}
	}
	t.Fatalf("the stream ended (%v) before a line with %q", lines.Err(), want)
}

// postWebhook sends one signed webhook and returns the status and reply.
func postWebhook(t testing.TB, base string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/smile", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(childSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(reply)
}

// postCallback posts a widget callback as connect.js does.
func postCallback(t testing.TB, base, code, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/connect/"+code+"/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drainBody(resp)
	return resp.StatusCode
}

// browser keeps cookies across requests and does not follow redirects. A
// cookie jar ignores ports, so one browser carries a session from one
// replica (127.0.0.1:A) to another (127.0.0.1:B), as behind a load balancer.
type browser struct{ client *http.Client }

func newBrowser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (br *browser) get(t testing.TB, u string) int {
	t.Helper()
	resp, err := br.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	drainBody(resp)
	return resp.StatusCode
}

func (br *browser) signIn(t testing.TB, base, email, password string) int {
	t.Helper()
	resp, err := br.client.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	drainBody(resp)
	return resp.StatusCode
}
