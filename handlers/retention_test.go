package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/smile"
)

// TestEventPage_SaysRetentionRemovedTheBody checks the event page says when
// retention replaced the body, and does not for a body it kept.
func TestEventPage_SaysRetentionRemovedTheBody(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	now := time.Now()
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i, received := range []time.Time{now.Add(-200 * 24 * time.Hour), now} {
		body := pageBody(fmt.Sprintf("et-r-%d", i), "ACCOUNT_CONNECTED", base, map[string]any{
			"userId": "user-r", "accountId": "acc-r", "providers": []string{"prov"}, "unread": strings.Repeat("z", 300)})
		env, err := smile.ParseEnvelope(body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.in.Submit(ctx, &ingest.Incoming{Envelope: env, Body: body, SourceIP: "18.142.61.230", ReceivedAt: received}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.store.RunRetention(ctx, models.RetentionPolicy{Bodies: 90 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	viewer := a.signIn(t, handlers.RoleViewer)
	for _, tc := range []struct {
		id     string
		notice bool
	}{{"et-r-0", true}, {"et-r-1", false}} {
		d, err := a.store.EventByEventID(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		got := viewer.get(t, fmt.Sprintf("/admin/events/%d", d.Seq))
		if got.status != http.StatusOK || strings.Contains(got.body, `data-testid="retention-notice"`) != tc.notice {
			t.Errorf("%s: got %d, notice shown %v, want %v", tc.id, got.status, !tc.notice, tc.notice)
		}
		if strings.Contains(got.body, "zzzz") == tc.notice {
			t.Errorf("%s: the unread field is shown %v, want %v", tc.id, tc.notice, !tc.notice)
		}
	}
}
