package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
)

// BenchmarkPages renders the dashboard's heaviest pages server-side, through
// the real app and store, against 1,000,000 events for 100,000 users in
// SQLite. It seeds the data set once into $TMPDIR (see benchDB). Run with:
//
//	go test ./handlers -run '^$' -bench BenchmarkPages -benchtime 200x
//
// Each sub-benchmark reports the median and 99th percentile of one request.
// Targets: p50 under 20 ms and p99 under 50 ms.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	store, err := models.Open(ctx, benchDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	// The clock stands a minute after the newest seeded event, so the
	// overview's ranges cover data (the seed is dated 2025).
	newest := benchBase.Add(benchEvents*30*time.Second + time.Minute)
	app := appOn(b, store, func(d *handlers.Deps) { d.Now = func() time.Time { return newest } }).app
	cookie := benchSignIn(b, app, store)

	deep := "/admin/events?before=100000" // 900,000 events back from the newest
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
	for _, bc := range []struct{ name, path, want string }{
		{"users", "/admin/users", `data-testid="user-row"`},
		{"heavy_user_with_timeline", "/admin/users/" + benchHeavyUser, `data-testid="timeline-item"`},
		{"events_by_type", "/admin/events?type=ACCOUNT_FAILED", `data-testid="event-row"`},
		{"events_deep_keyset", deep, `data-testid="event-row"`},
		{"users_deep_keyset", "/admin/users?after=" + url.QueryEscape(users.Next), `data-testid="user-row"`},
		{"heavy_user_timeline_deep", "/admin/users/" + benchHeavyUser + "?before=" + url.QueryEscape(timeline.Next), `data-testid="timeline-item"`},
		{"overview", "/admin", `data-testid="event-count"`},
		{"overview_24h", "/admin?range=24h", `data-testid="funnel-step"`},
		{"overview_30d", "/admin?range=30d", `data-testid="chart-segment"`},
		// Search: a login name (about ten events); a word in every 20th event,
		// alone, narrowed to one user and to a type; the heavy user's account
		// id in a time range, the known slow case (every part of the id is a
		// common word, so FTS4 walks huge position lists); a deep page.
		{"search_login_name", "/admin/search?q=login-004242", `data-testid="search-row"`},
		{"search_common_word", "/admin/search?q=prov07", `data-testid="search-row"`},
		{"search_common_word_one_user", "/admin/search?q=prov07&user=bench-user-000007", `data-testid="search-row"`},
		{"search_common_word_by_type", "/admin/search?q=prov07&type=ACCOUNT_FAILED", `data-testid="search-row"`},
		{"search_heavy_user_time_range", "/admin/search?q=acc-000000-0&from=2025-06-01T00:00&to=2025-08-01T00:00", `data-testid="search-row"`},
		{"search_deep_keyset", "/admin/search?q=prov07&before=100000", `data-testid="search-row"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
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
		})
	}
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
