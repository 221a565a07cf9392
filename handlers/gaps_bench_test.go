package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
)

// BenchmarkAttention measures the gap list, the attention page and the gaps
// API on a store holding 100,000 users, each with an account of three
// datapoints (one in ten stale), 100,000 no_link gaps and 20,000 claim gaps of
// every status. Run with:
//
//	go test ./handlers -run '^$' -bench BenchmarkAttention -benchtime 200x
func BenchmarkAttention(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "attention.db")
	store, err := models.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	if err := seedAttention(path, now); err != nil {
		b.Fatal(err)
	}
	app := appOn(b, store, func(d *handlers.Deps) { d.Now = func() time.Time { return now } }).app
	cookie := benchSignIn(b, app, store)
	page, err := store.Gaps(ctx, models.GapQuery{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	for range 100 { // 5,000 open gaps deep
		if page, err = store.Gaps(ctx, models.GapQuery{Now: now, Before: page.Next}); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct{ name, path, want string }{
		{"attention", "/admin/attention", `data-testid="gap-row"`},
		{"attention_by_kind", "/admin/attention?kind=account_connected", `data-testid="gap-row"`},
		{"attention_closed", "/admin/attention?status=closed", `data-testid="gap-row"`},
		{"gaps_deep_keyset", "/admin/attention?cursor=" + page.Next, `data-testid="gap-row"`},
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

func seedAttention(path string, now time.Time) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_foreign_keys=off")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	g := &benchGen{db: db, rng: rand.New(rand.NewPCG(3, 4))}
	const users = 100_000
	day := 24 * time.Hour
	steps := []struct {
		table, cols string
		n           int
		row         func(i int) []any
	}{
		{"smile_users", "user_key, id, last_seen_at, event_count", users, func(i int) []any {
			return []any{i + 1, fmt.Sprintf("gap-user-%06d", i), now.Add(-time.Duration(i) * time.Minute), 10}
		}},
		{"accounts", "id, user_key, provider_id, status, monitor_status, first_seen_at, last_seen_at", users, func(i int) []any {
			monitor := "ACTIVE"
			if i%50 == 0 {
				monitor = models.MonitorUserActionRequired
			}
			return []any{fmt.Sprintf("a-gap-%06d", i), i + 1, "examplepayroll_ph", "CONNECTED", monitor, now.Add(-40 * day), now.Add(-time.Duration(i) * time.Minute)}
		}},
		{"data_availability", "account_id, datapoint, user_key, items_added, last_updated_at", 3 * users, func(i int) []any {
			age := time.Duration(g.rng.IntN(6*24)) * time.Hour
			if (i/3)%10 == 0 {
				age = 8*day + time.Duration(i%3)*day
			}
			return []any{fmt.Sprintf("a-gap-%06d", i/3), []string{"INCOMES", "EMPLOYMENTS", "IDENTITIES"}[i%3], i/3 + 1, 3, now.Add(-age)}
		}},
		{"gaps", "kind, user_key, event_id, claimed_at", users, func(i int) []any {
			return []any{models.GapNoLink, i + 1, fmt.Sprintf("et-%06d", i), now.Add(-time.Duration(i) * time.Minute)}
		}},
		{"gaps", "kind, user_key, account_id, callback_id, claimed_at, closed_at, closed_by, lag_seconds", 20_000, func(i int) []any {
			claimed := now.Add(-time.Duration(i) * 3 * time.Minute)
			kind := []string{models.GapAccountConnected, models.GapAccountError, models.GapUploadsCreated, models.GapAccountRemoved}[i%4]
			if i%3 == 0 { // open
				return []any{kind, i%users + 1, fmt.Sprintf("a-gap-%06d", i%users), i + 1, claimed, nil, "", nil}
			}
			lag := int64(60 + (i%2)*1800) // matched in a minute, or closed half an hour late
			return []any{kind, i%users + 1, fmt.Sprintf("a-gap-%06d", i%users), i + 1, claimed, claimed.Add(time.Duration(lag) * time.Second), "et-x", lag}
		}},
	}
	for _, st := range steps {
		if err := g.insert(st.table, st.cols, st.n, st.row); err != nil {
			return err
		}
	}
	_, err = db.Exec("ANALYZE")
	return err
}
