package smile

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func hook(id, name, url, secret string, created int, types ...string) Webhook {
	if len(types) == 0 {
		types = []string{"ALL_EVENTS"}
	}
	at := time.Date(2026, 1, 1, 0, 0, created, 0, time.UTC)
	return Webhook{ID: id, Name: name, URL: url, Secret: secret, EventTypes: types, Active: true, CreatedAt: at, UpdatedAt: at}
}

func TestSortWebhooks(t *testing.T) {
	want := WebhookRequest{Name: "smiledash", URL: "https://dash.example.com/webhooks/smile", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "new"}
	inactive := hook("w-inactive", "smiledash", want.URL, "new", 9)
	inactive.Active = false
	tests := []struct {
		name         string
		hooks        []Webhook
		wantCurrent  string
		wantUpToDate bool
		wantStale    string // "id:reason,..."
		wantOthers   int
	}{
		{"none", nil, "", false, "", 0},
		{"up to date", []Webhook{hook("w1", "smiledash", want.URL, "new", 1)}, "w1", true, "", 0},
		{"same URL up to a trailing slash and host case", []Webhook{hook("w1", "portal", "https://DASH.example.com/webhooks/smile/", "new", 1)}, "w1", true, "", 0},
		{"rotated secret", []Webhook{hook("w1", "smiledash", want.URL, "old", 1)}, "w1", false, "", 0},
		{"secret not shown", []Webhook{hook("w1", "smiledash", want.URL, "", 1)}, "w1", false, "", 0},
		{"other event types", []Webhook{hook("w1", "smiledash", want.URL, "new", 1, "ACCOUNT_CONNECTED")}, "w1", false, "", 0},
		{"inactive", []Webhook{inactive}, "w-inactive", false, "", 0},
		{"an up-to-date one is kept over a newer one", []Webhook{hook("w-old", "smiledash", want.URL, "new", 1), hook("w-new", "smiledash", want.URL, "old", 2)},
			"w-old", true, "w-new:duplicate", 0},
		{"among up-to-date ones, ours by name", []Webhook{hook("w-a", "portal", want.URL, "new", 1), hook("w-b", "smiledash", want.URL, "new", 1)},
			"w-b", true, "w-a:duplicate", 0},
		{"otherwise the newest is kept", []Webhook{hook("w-old", "smiledash", want.URL, "a", 1), hook("w-new", "smiledash", want.URL, "b", 2)},
			"w-new", false, "w-old:duplicate", 0},
		{"ours at another URL, by name or by path; others left alone", []Webhook{
			hook("w1", "smiledash", want.URL, "new", 1),
			hook("w-name", "smiledash", "https://old.example.com/hooks", "x", 2),
			hook("w-path", "staging", "https://tunnel.example.net/webhooks/smile", "x", 3),
			hook("w-crm", "crm", "https://crm.example.com/hooks", "x", 4),
		}, "w1", true, "w-name:other-url,w-path:other-url", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := SortWebhooks(tc.hooks, want)
			current := ""
			if set.Current != nil {
				current = set.Current.ID
			}
			var stale []string
			for _, s := range set.Stale {
				stale = append(stale, s.Webhook.ID+":"+s.Reason)
			}
			if current != tc.wantCurrent || set.UpToDate != tc.wantUpToDate || strings.Join(stale, ",") != tc.wantStale || len(set.Others) != tc.wantOthers {
				t.Errorf("got current %q up to date %v stale %v others %d; want %q %v %q %d",
					current, set.UpToDate, stale, len(set.Others), tc.wantCurrent, tc.wantUpToDate, tc.wantStale, tc.wantOthers)
			}
		})
	}
}

// TestReplaceWebhook_CreatesBeforeDeleting checks the order (no moment
// without a registration) and that a failed delete still returns the new one.
func TestReplaceWebhook_CreatesBeforeDeleting(t *testing.T) {
	srv := newCannedServer(t, ok(hookJSON), canned{status: http.StatusInternalServerError, body: `{"code":"SERVER_ERROR","message":"boom","requestId":"r"}`})
	c, _ := newTestClient(t, srv.srv.URL, func(cfg *ClientConfig) { cfg.MaxRetries = -1 })
	w, err := c.ReplaceWebhook(t.Context(), "old-1", WebhookRequest{Name: "n", URL: "https://h.example/x", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s"})
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/v1/webhooks" || reqs[1].Method != http.MethodDelete || reqs[1].Path != "/v1/webhooks/old-1" {
		t.Fatalf("got requests %+v, want POST /webhooks then DELETE /webhooks/old-1", reqs)
	}
	if w.ID != "17bbf36498de4d68a0d4f86c7b62f69f" || err == nil || !strings.Contains(err.Error(), "old one remains") {
		t.Errorf("got %q, %v; want the new webhook and an error saying the old one remains", w.ID, err)
	}
}
