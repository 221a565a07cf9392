package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
)

// postEvents stores n events for user through the webhook, each with a data
// field of pad bytes, and returns their bodies in order.
func postEvents(t *testing.T, a *testApp, prefix, user string, n, pad int) [][]byte {
	t.Helper()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var bodies [][]byte
	for i := range n {
		data := map[string]any{"userId": user, "accountId": "acc-" + user, "providers": []string{"prov"}}
		if pad > 0 {
			data["note"] = strings.Repeat("x", pad)
		}
		body := pageBody(fmt.Sprintf("%s-%04d", prefix, i), "ACCOUNT_CREATED", at.Add(time.Duration(i)*time.Second), data)
		if got := a.do(t, signed(body)); got.status != http.StatusOK {
			t.Fatalf("webhook %d: got %d %s", i, got.status, got.body)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// TestPages_BoundedByPayloadSize: a user with three 1 MB events renders a
// user page and event page under 1 MB (bodies are cut at 4 KiB with a link),
// and the download gives the stored bytes exactly, never cached, to admins only.
func TestPages_BoundedByPayloadSize(t *testing.T) {
	a := newTestApp(t, func(d *handlers.Deps) { d.Webhooks.MaxBytes = 2 << 20 })
	bodies := postEvents(t, a, "et-big", "u-big", 3, 1<<20)
	s := a.signIn(t, handlers.RoleViewer)
	ev, err := a.store.EventByEventID(context.Background(), "et-big-0001")
	if err != nil {
		t.Fatal(err)
	}
	user := s.get(t, "/admin/users/u-big")
	if user.status != 200 || len(user.body) >= 1<<20 {
		t.Fatalf("user page: got %d, %d bytes; want 200 under 1 MB", user.status, len(user.body))
	}
	if got := strings.Count(user.body, `data-testid="raw-truncated"`); got != 3 {
		t.Errorf("user page: got %d cut bodies, want 3", got)
	}
	eventPath := "/admin/events/" + strconv.FormatInt(ev.Seq, 10)
	page := s.get(t, eventPath)
	if page.status != 200 || len(page.body) >= 1<<20 || !strings.Contains(page.body, eventPath+"/body") {
		t.Fatalf("event page: got %d, %d bytes; want 200 under 1 MB with a link to the body", page.status, len(page.body))
	}
	for _, path := range []string{eventPath + "/body", fmt.Sprintf("/admin/timeline/event/%d/raw", ev.Seq)} {
		got := s.get(t, path)
		if got.status != 200 || got.body != string(bodies[1]) {
			t.Errorf("%s: got %d, %d bytes; want the %d stored bytes", path, got.status, len(got.body), len(bodies[1]))
		}
		if ct, cd, cc := got.header.Get("Content-Type"), got.header.Get("Content-Disposition"), got.header.Get("Cache-Control"); ct != "application/json" ||
			!strings.HasPrefix(cd, "attachment") || cc != "no-store" {
			t.Errorf("%s: got Content-Type %q, Content-Disposition %q, Cache-Control %q", path, ct, cd, cc)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, eventPath+"/body", nil)
	if got := a.do(t, req); got.status == 200 || strings.Contains(got.body, "xxxxxxxx") {
		t.Errorf("signed out: got %d with the body; want it refused", got.status)
	}
}

// TestEventPage_RawBodyExact: the page shows the stored bytes unchanged,
// with an indented view beside them.
func TestEventPage_RawBodyExact(t *testing.T) {
	a := newTestApp(t)
	postEvents(t, a, "et-raw", "u-raw", 1, 0)
	s := a.signIn(t, handlers.RoleViewer)
	got := s.get(t, "/admin/events/et-raw-0000")
	exact := regexp.MustCompile(`(?s)data-testid="raw-exact" data-raw><code>(.*?)</code>`).FindStringSubmatch(got.body)
	if exact == nil || strings.Contains(exact[1], "\n") || !strings.Contains(exact[1], `{&#34;createdAt&#34;:`) {
		t.Errorf("got raw %q, want the compact stored body", exact)
	}
	if !strings.Contains(got.body, `data-testid="raw-pretty"`) {
		t.Error("no indented view")
	}
}

var seqAttr = regexp.MustCompile(`data-testid="event-row" data-seq="(\d+)"`)

// TestEvents_LiveTailNeverDropsRows: when more events arrive than a page
// holds, the tail shows the newest page and a row saying exactly how many it
// did not show, whose link fills the gap, until every event was shown once.
func TestEvents_LiveTailNeverDropsRows(t *testing.T) {
	a := newTestApp(t)
	postEvents(t, a, "et-old", "u-tail", 3, 0)
	s := a.signIn(t, handlers.RoleViewer)
	first := s.get(t, "/admin/events")
	top := seqAttr.FindStringSubmatch(first.body)[1]
	postEvents(t, a, "et-new", "u-tail", 2*models.DefaultPageSize+17, 0)

	seen := map[string]bool{}
	next := "/admin/events?since=" + top
	var gaps []string
	for hops := 0; next != ""; hops++ {
		if hops > 5 {
			t.Fatal("the gap is never filled")
		}
		got := s.get(t, next, "HX-Request", "true")
		if got.status != 200 || strings.Contains(got.body, "<html") {
			t.Fatalf("%s: got %d, want a fragment", next, got.status)
		}
		for _, m := range seqAttr.FindAllStringSubmatch(got.body, -1) {
			if seen[m[1]] {
				t.Errorf("event #%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`data-testid="event-gap-count">(\d+) events not shown`).FindStringSubmatch(got.body); m != nil {
			gaps = append(gaps, m[1])
			link := regexp.MustCompile(`hx-get="([^"]+)"[^>]*data-testid="event-gap-fill"`).FindStringSubmatch(got.body)
			next = strings.ReplaceAll(link[1], "&amp;", "&")
		}
	}
	if want := 2*models.DefaultPageSize + 17; len(seen) != want {
		t.Errorf("got %d events over the tail and its gaps, want %d", len(seen), want)
	}
	if want := []string{"67", "17"}; strings.Join(gaps, ",") != strings.Join(want, ",") {
		t.Errorf("got gap counts %v, want %v", gaps, want)
	}
}

// TestPages_TimeRanges: presets and custom ranges typed in a named zone.
func TestPages_TimeRanges(t *testing.T) {
	a := newTestApp(t)
	postEvents(t, a, "et-tz", "u-tz", 3, 0) // 2026-03-01 10:00:00, :01, :02 UTC
	s := a.signIn(t, handlers.RoleViewer)
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantRows   int
	}{
		// 17:00:01 in Jakarta (UTC+7) is 10:00:01 UTC.
		{"/admin/events?range=custom&from=2026-03-01T17:00&to=2026-03-01T17:01&tz=Asia/Jakarta", 200, 3},
		{"/admin/events?range=custom&from=2026-03-01T10:01&tz=UTC", 200, 0},
		{"/admin/events?range=1h", 200, 0}, // the events are from March, the clock is now
		{"/admin/events?range=7d&user=u-tz", 200, 0},
		{"/admin/events?range=2w", 400, 0},
		{"/admin/events?from=2026-03-01T17:00&tz=Mars/Olympus", 400, 0},
		{"/admin/users/u-tz?range=custom&from=2026-03-01T17:00&tz=Asia/Jakarta", 200, 3},
		{"/admin/users/u-tz?range=custom&to=2026-03-01T10:00&tz=UTC", 200, 0},
	} {
		got := s.get(t, tc.path)
		if got.status != tc.wantStatus {
			t.Errorf("%s: got %d, want %d", tc.path, got.status, tc.wantStatus)
			continue
		}
		n := strings.Count(got.body, `data-testid="event-row"`) + strings.Count(got.body, `data-testid="timeline-item"`)
		if tc.wantStatus == 200 && n != tc.wantRows {
			t.Errorf("%s: got %d rows, want %d", tc.path, n, tc.wantRows)
		}
	}
}
