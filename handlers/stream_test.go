package handlers_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile/smiletest"
)

// TestStream_PendingUserFollowsByID: a user page's stream follows changes by
// Smile id as well as by key; a placeholder user (no key) hears neither
// user-less changes nor other users'.
func TestStream_PendingUserFollowsByID(t *testing.T) {
	// A short heartbeat ends a stream soon after its client leaves, so the
	// app shuts down quickly.
	a := newTestApp(t, func(d *handlers.Deps) { d.Pages.Heartbeat = 100 * time.Millisecond })
	seedPages(t, a, 1)
	storetest.Unresolved(t, a.store, "et-new-0", "u-new", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	fixture, err := a.store.UserByID(t.Context(), smiletest.FixtureUserID)
	if err != nil {
		t.Fatal(err)
	}
	s := a.signIn(t, handlers.RoleViewer)
	for _, tc := range []struct {
		user  string
		other []models.Change
		mine  models.Change
	}{
		{"u-new", []models.Change{{Kind: models.ChangeEvent, ID: 900, Label: "USERLESS"}, {Kind: models.ChangeEvent, ID: 901, UserKey: fixture.UserKey, Label: "OTHER"}},
			models.Change{Kind: models.ChangeEvent, ID: 902, UserID: "u-new", Label: "MINE"}},
		{smiletest.FixtureUserID, []models.Change{{Kind: models.ChangeEvent, ID: 903, Label: "USERLESS"}, {Kind: models.ChangeEvent, ID: 904, UserID: "u-new", Label: "OTHER"}},
			models.Change{Kind: models.ChangeEvent, ID: 905, UserID: smiletest.FixtureUserID, Label: "MINE"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			lines := openStream(t, a, s, tc.user)
			expectLine(t, lines, ": connected", "")
			for _, ch := range tc.other {
				a.store.Changes().Publish(ch)
			}
			a.store.Changes().Publish(tc.mine)
			// Changes arrive in order: one the filter let through comes first.
			expectLine(t, lines, `"label":"MINE"`, `"label":"`)
		})
	}
}

// openStream opens /admin/stream?user=user over a real socket as s and
// returns its lines.
func openStream(t *testing.T, a *testApp, s *session, user string) <-chan string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.Shutdown() })
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/admin/stream?user="+user, nil)
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("got status %d, content type %q", resp.StatusCode, ct)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}

// expectLine reads lines until one contains want, failing on one that
// contains forbid first (when forbid is set) or after 5s.
func expectLine(t *testing.T, lines <-chan string, want, forbid string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
			if forbid != "" && strings.Contains(l, forbid) {
				t.Fatalf("got %s before %q", l, want)
			}
		case <-timeout:
			t.Fatalf("no %q within 5s", want)
		}
	}
}
