package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
)

// BenchmarkPages renders the dashboard's pages server-side, through the real
// app and store, against 1,000,000 events for 100,000 users in SQLite, with
// 120,000 reconciliation gaps and 600,000 datapoints (see benchDB, which
// seeds the data set once into $TMPDIR). Run with:
//
//	go test ./handlers -run '^$' -bench BenchmarkPages -benchtime 200x
//
// (-bench 'BenchmarkPages/(overview|attention|search)' for the issue 10
// pages only). Each sub-benchmark reports the median and 99th percentile of
// one request. Targets: p50 under 20 ms and p99 under 50 ms.
func BenchmarkPages(b *testing.B) {
	store := benchStore(b)
	// The overview shows the projector's lag and the open gaps, as cmd/smiledash wires it.
	app := appOn(b, store, func(d *handlers.Deps) {
		d.Now = func() time.Time { return benchNow }
		d.Pages.ProjectorLag = store
	}).app
	cookie := benchSignIn(b, app, store)
	cases := append(listPageCases(b, store), overviewPageCases...)
	cases = append(append(cases, attentionPageCases(b, store)...), searchPageCases...)
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) { benchPage(b, app, cookie, bc) })
	}
}

// pageCase is one page the benchmark requests, and a mark its answer must
// contain.
type pageCase struct{ name, path, want string }

// listPageCases are the users and events lists, the heavy user's page and
// their deep keyset pages.
func listPageCases(b *testing.B, store *models.Store) []pageCase {
	ctx := context.Background()
	users, err := store.Users(ctx, models.UsersQuery{})
	if err != nil {
		b.Fatal(err)
	}
	for range 200 { // the 200th page of users, 10,000 rows deep
		if users, err = store.Users(ctx, models.UsersQuery{After: users.Next}); err != nil {
			b.Fatal(err)
		}
	}
	heavy, err := store.UserByID(ctx, benchHeavyUser)
	if err != nil {
		b.Fatal(err)
	}
	timeline := models.TimelinePage{}
	for range 100 { // 5,000 items back in the heavy user's timeline
		if timeline, err = store.Timeline(ctx, models.TimelineQuery{UserKey: heavy.UserKey, Before: timeline.Next}); err != nil {
			b.Fatal(err)
		}
	}
	return []pageCase{
		{"users", "/admin/users", `data-testid="user-row"`},
		{"heavy_user_with_timeline", "/admin/users/" + benchHeavyUser, `data-testid="timeline-item"`},
		{"events_by_type", "/admin/events?type=ACCOUNT_FAILED", `data-testid="event-row"`},
		{"events_deep_keyset", "/admin/events?before=100000", `data-testid="event-row"`}, // 900,000 events back
		{"users_deep_keyset", "/admin/users?after=" + url.QueryEscape(users.Next), `data-testid="user-row"`},
		{"heavy_user_timeline_deep", "/admin/users/" + benchHeavyUser + "?before=" + url.QueryEscape(timeline.Next), `data-testid="timeline-item"`},
	}
}

// overviewPageCases are the overview in each of its ranges.
var overviewPageCases = []pageCase{
	{"overview", "/admin", `data-testid="event-count"`}, // 7 days, from the daily counters
	{"overview_24h", "/admin?range=24h", `data-testid="funnel-step"`},
	{"overview_30d", "/admin?range=30d", `data-testid="chart-segment"`},
}

// searchPageCases search by id (each kind of id Search looks up in its own
// index) and by words, alone and with filters.
var searchPageCases = []pageCase{
	// Ids: a user with about ten events; the heavy user (10,000 events and
	// 500 callbacks); an account; the heavy user's account in a time range
	// (every part of that id is a common word: 1.1 s as full text); one event;
	// an id-like text that names nothing, which full text answers.
	{"search_user_id", "/admin/search?q=bench-user-004242", `data-testid="search-row"`},
	{"search_heavy_user_id", "/admin/search?q=" + benchHeavyUser, `data-testid="search-row"`},
	{"search_account_id", "/admin/search?q=acc-004242-1", `data-testid="search-row"`},
	{"search_heavy_account_time_range", "/admin/search?q=acc-000000-0&from=2025-06-01T00:00&to=2025-08-01T00:00", `data-testid="search-row"`},
	{"search_event_id", "/admin/search?q=et-bench-0424242", `data-testid="search-row"`},
	{"search_unknown_id", "/admin/search?q=bench-user-999999", `data-testid="search-empty"`},
	// Words: a login name (about ten events); a word in every 20th event,
	// alone, narrowed to one user and to a type; a deep page of it.
	{"search_login_name", "/admin/search?q=login-004242", `data-testid="search-row"`},
	{"search_common_word", "/admin/search?q=prov07", `data-testid="search-row"`},
	{"search_common_word_one_user", "/admin/search?q=prov07&user=bench-user-000007", `data-testid="search-row"`},
	{"search_common_word_by_type", "/admin/search?q=prov07&type=ACCOUNT_FAILED", `data-testid="search-row"`},
	{"search_deep_keyset", "/admin/search?q=prov07&before=100000", `data-testid="search-row"`},
}

// benchPage requests bc.path b.N times and reports the median and 99th
// percentile of the requests.
func benchPage(b *testing.B, app *fiber.App, cookie *http.Cookie, bc pageCase) {
	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, bc.path, nil)
		req.AddCookie(cookie)
		start := time.Now()
		resp, err := app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		body := readAll(resp)
		durations = append(durations, time.Since(start))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, bc.want) {
			b.Fatalf("got %d without %s: %.300s", resp.StatusCode, bc.want, body)
		}
	}
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(float64(len(durations)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func benchSignIn(b *testing.B, app interface {
	Test(*http.Request, ...int) (*http.Response, error)
}, store *models.Store) *http.Cookie {
	b.Helper()
	email := "bench-" + time.Now().Format("150405.000000") + "@example.test"
	if _, err := auth.New(store).CreateAdmin(context.Background(), auth.NewAdmin{Email: email, Password: testAdminPassword, Role: handlers.RoleViewer}, time.Now()); err != nil {
		b.Fatal(err)
	}
	form := url.Values{"email": {email}, "password": {testAdminPassword}}
	req, _ := http.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookieName {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	b.Fatalf("sign-in set no session cookie (status %d)", resp.StatusCode)
	return nil
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}
