package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
)

// attentionPageCases are the attention page's gap list with each filter, and
// a deep keyset page of it, on the data benchGen.attention seeds.
func attentionPageCases(b *testing.B, store *models.Store) []pageCase {
	ctx := context.Background()
	page, err := store.Gaps(ctx, models.GapQuery{Now: benchNow})
	if err != nil {
		b.Fatal(err)
	}
	for range 100 { // 5,000 open gaps deep
		if page, err = store.Gaps(ctx, models.GapQuery{Now: benchNow, Before: page.Next}); err != nil {
			b.Fatal(err)
		}
	}
	return []pageCase{
		{"attention", "/admin/attention", `data-testid="gap-row"`}, // open gaps
		{"attention_by_kind", "/admin/attention?kind=account_connected", `data-testid="gap-row"`},
		{"attention_closed", "/admin/attention?status=closed", `data-testid="gap-row"`},
		{"attention_all_by_kind", "/admin/attention?status=all&kind=account_error", `data-testid="gap-row"`},
		{"attention_user", "/admin/attention?status=all&user=bench-user-000042", `data-testid="gap-row"`},
		{"attention_account", "/admin/attention?status=all&account=acc-000003-0", `data-testid="gap-row"`},
		{"attention_deep_keyset", "/admin/attention?cursor=" + page.Next, `data-testid="gap-row"`},
	}
}

// attention seeds what the attention page lists: a no_link gap for every user
// (the worst case: none of them came through a link of ours), 20,000 claim
// gaps of every kind and status, three datapoints for every account (one
// account in ten stale), and one account in fifty needing its user's action.
func (g *benchGen) attention() error {
	now := benchNow
	day := 24 * time.Hour
	steps := []struct {
		table, cols string
		n           int
		row         func(i int) []any
	}{
		{"gaps", "kind, user_key, event_id, claimed_at", benchUsers, func(i int) []any {
			return []any{models.GapNoLink, i + 1, fmt.Sprintf("et-bench-%07d", i+1), now.Add(-time.Duration(i) * time.Minute)}
		}},
		{"gaps", "kind, user_key, account_id, callback_id, claimed_at, closed_at, closed_by, lag_seconds", 20_000, func(i int) []any {
			claimed := now.Add(-time.Duration(i) * 3 * time.Minute)
			kind := []string{models.GapAccountConnected, models.GapAccountError, models.GapUploadsCreated, models.GapAccountRemoved}[i%4]
			user := i % benchUsers
			account := fmt.Sprintf("acc-%06d-0", user)
			if i%3 == 0 { // open
				return []any{kind, user + 1, account, i + 1, claimed, nil, "", nil}
			}
			lag := int64(60 + (i%2)*1800) // matched in a minute, or closed half an hour late
			return []any{kind, user + 1, account, i + 1, claimed, claimed.Add(time.Duration(lag) * time.Second), "et-x", lag}
		}},
		// The heavy user's five accounts have their datapoints already.
		{"data_availability", "account_id, datapoint, user_key, items_added, last_updated_at", 6 * (benchUsers - 1), func(i int) []any {
			user, account := 1+i/6, (i/3)%2
			age := time.Duration(g.rng.IntN(6*24)) * time.Hour
			if user%10 == 0 {
				age = 8*day + time.Duration(i%3)*day
			}
			return []any{fmt.Sprintf("acc-%06d-%d", user, account), []string{"INCOMES", "EMPLOYMENTS", "IDENTITIES"}[i%3],
				user + 1, 3, now.Add(-age)}
		}},
	}
	for _, st := range steps {
		if err := g.insert(st.table, st.cols, st.n, st.row); err != nil {
			return err
		}
	}
	_, err := g.db.Exec("UPDATE accounts SET monitor_status = CASE WHEN user_key % 50 = 0 THEN ? ELSE 'ACTIVE' END",
		models.MonitorUserActionRequired)
	return err
}
