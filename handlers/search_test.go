package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
)

// seedEmployers stores three EMPLOYMENTS_ADDED webhooks naming employers.
func seedEmployers(t *testing.T, a *testApp) {
	t.Helper()
	base := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
	for i, employer := range []string{"Siam Cement Group", "Siam Makro", "Bangkok Bank"} {
		body := pageBody("et-emp-"+string(rune('a'+i)), "EMPLOYMENTS_ADDED", base.Add(time.Duration(i)*time.Hour),
			map[string]any{"userId": "user-emp", "accountId": "acc-emp", "employer": employer, "note": "<b>" + employer + "</b>"})
		if got := a.do(t, signed(body)); got.status != http.StatusOK {
			t.Fatalf("webhook: got %d %s", got.status, got.body)
		}
	}
}

func indexSearch(t *testing.T, s *models.Store) {
	t.Helper()
	for {
		n, err := s.IndexSearch(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func TestShowSearch(t *testing.T) {
	a := newTestApp(t)
	seedEmployers(t, a)
	s := a.signIn(t, handlers.RoleViewer)

	got := s.get(t, "/admin/search?q=siam")
	if got.status != http.StatusOK || !strings.Contains(got.body, `data-testid="search-behind"`) || !strings.Contains(got.body, `data-testid="search-empty"`) {
		t.Fatalf("before indexing: got %d, want 200 saying the index is behind and nothing matches: %.500s", got.status, got.body)
	}
	indexSearch(t, a.store)

	for _, tc := range []struct {
		name, path    string
		status, rows  int
		want, wantNot []string
	}{
		{"form only", "/admin/search", 200, 0, []string{`data-testid="search-hint"`, `data-testid="nav-search"`, `aria-current="page"`}, []string{`data-testid="search-table"`}},
		{"two employers", "/admin/search?q=Siam", 200, 2, []string{`data-testid="search-snippet"`, `/admin/export/search?format=csv&amp;q=Siam`, "siam cement group"}, []string{`data-testid="search-behind"`, "<b>Siam"}},
		{"phrase and user", "/admin/search?q=%22cement+group%22&user=user-emp", 200, 1, nil, nil},
		{"unknown user", "/admin/search?q=siam&user=nobody", 200, 0, []string{`data-testid="search-empty"`}, nil},
		{"type filter", "/admin/search?q=bank&type=EMPLOYMENTS_ADDED&kind=event", 200, 1, nil, nil},
		{"time range", "/admin/search?q=siam&from=2026-02-03T00:30", 200, 1, nil, nil},
		{"bad kind", "/admin/search?q=siam&kind=mail", 400, 0, nil, nil},
		{"bad time", "/admin/search?q=siam&from=yesterday", 400, 0, nil, nil},
		{"too long", "/admin/search?q=" + strings.Repeat("a", 201), 400, 0, nil, nil},
		{"forged cursor", "/admin/search?q=siam&before=x", 400, 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.get(t, tc.path)
			if got.status != tc.status {
				t.Fatalf("got %d, want %d: %.300s", got.status, tc.status, got.body)
			}
			if n := strings.Count(got.body, `data-testid="search-row"`); tc.status == 200 && n != tc.rows {
				t.Errorf("got %d rows, want %d", n, tc.rows)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.body, w) {
					t.Errorf("missing %s", w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got.body, w) {
					t.Errorf("unexpected %s", w)
				}
			}
		})
	}

	// "Load more" through htmx returns the next rows only.
	first := s.get(t, "/admin/search?q=siam&limit=1")
	i := strings.Index(first.body, `hx-get="`)
	if strings.Count(first.body, `data-testid="search-row"`) != 1 || i < 0 {
		t.Fatalf("first page of one: want one row and a load-more link: %.500s", first.body)
	}
	next := strings.ReplaceAll(first.body[i+len(`hx-get="`):][:strings.Index(first.body[i+len(`hx-get="`):], `"`)], "&amp;", "&")
	more := s.get(t, next, "HX-Request", "true")
	if more.status != 200 || strings.Contains(more.body, "<html") || strings.Count(more.body, `data-testid="search-row"`) != 1 {
		t.Errorf("load more %s: got %d, want the one other row without the page: %.300s", next, more.status, more.body)
	}
}

func TestAPISearch(t *testing.T) {
	a := newTestApp(t)
	seedEmployers(t, a)
	token, _ := createTestToken(t, a, handlers.RoleViewer)
	get := func(path string) response {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return a.do(t, req)
	}
	var out struct {
		Items []struct {
			Kind, Type, UserID, Snippet string
			ID                          int64
		}
		Next        string
		IndexBehind int64
	}
	got := get("/api/v1/search?q=siam")
	if err := json.Unmarshal([]byte(got.body), &out); err != nil || got.status != 200 || len(out.Items) != 0 || out.IndexBehind != 3 {
		t.Fatalf("before indexing: got %d %s, want no items and indexBehind 3", got.status, got.body)
	}
	indexSearch(t, a.store)
	got = get("/api/v1/search?q=siam&limit=1")
	if err := json.Unmarshal([]byte(got.body), &out); err != nil || len(out.Items) != 1 || out.Next == "" || out.IndexBehind != 0 ||
		out.Items[0].Kind != "event" || out.Items[0].UserID != "user-emp" {
		t.Fatalf("got %d %s, want one event of user-emp and a next cursor", got.status, got.body)
	}
	got = get("/api/v1/search?q=siam&limit=1&cursor=" + url.QueryEscape(out.Next))
	out.Next = ""
	if err := json.Unmarshal([]byte(got.body), &out); err != nil || len(out.Items) != 1 || out.Next != "" {
		t.Fatalf("second page: got %s, want the last item", got.body)
	}
	if got := get("/api/v1/search?q=%20"); got.status != http.StatusBadRequest || !strings.Contains(got.body, "at least one word") {
		t.Errorf("empty search: got %d %s, want 400", got.status, got.body)
	}
}
