package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/smile/smiletest"
)

func TestPages_StateChangesNeedTheAdminRole(t *testing.T) {
	reg, api := smileRegistrar(t)
	a := newTestApp(t, withSettings(reg))
	seedPages(t, a, 1)
	admin, viewer := a.signIn(t, handlers.RoleAdmin), a.signIn(t, handlers.RoleViewer)
	tests := []struct {
		name       string
		as         *session
		path       string
		wantStatus int
	}{
		{"viewer may not re-project", viewer, "/admin/events/1/reproject", http.StatusForbidden},
		{"viewer may not register", viewer, "/admin/settings/webhook", http.StatusForbidden},
		{"admin re-projects", admin, "/admin/events/1/reproject", http.StatusSeeOther},
		{"admin registers", admin, "/admin/settings/webhook", http.StatusSeeOther},
		{"re-project a missing event", admin, "/admin/events/999999/reproject", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.as.postForm(t, tc.path, url.Values{}); got.status != tc.wantStatus {
				t.Fatalf("got %d, want %d; body %.300s", got.status, tc.wantStatus, got.body)
			}
		})
	}
	t.Run("viewer may not see settings", func(t *testing.T) {
		if got := viewer.get(t, "/admin/settings"); got.status != http.StatusForbidden {
			t.Errorf("got %d, want 403", got.status)
		}
	})
	t.Run("without a session", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "/admin/events/1/reproject", strings.NewReader(""))
		if got := a.do(t, req); got.status < 400 && got.status != http.StatusSeeOther {
			t.Errorf("got %d, want a refusal", got.status)
		}
	})
	if got := api.Webhooks(); len(got) != 1 || got[0].URL != "https://dash.example.test/webhooks/smile" || got[0].Secret != smiletest.FixtureSecret ||
		!got[0].Active || got[0].EventTypes[0] != "ALL_EVENTS" {
		t.Errorf("got registrations %+v, want one for our URL with the current secret", got)
	}
	var kinds []string
	if err := a.store.DB().Model(&models.Action{}).Order("id").Pluck("kind", &kinds).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != models.ActionReprojected+","+models.ActionWebhookRegistered {
		t.Errorf("got actions %v, want reprojected then webhook_registered", kinds)
	}
	if got := admin.get(t, "/admin/users/"+smiletest.FixtureUserID+"?kind=action"); !strings.Contains(got.body, models.ActionReprojected) {
		t.Errorf("the re-projection is not in the user's timeline")
	}
}

func TestSettings_WithoutCredentials(t *testing.T) {
	a := newTestApp(t, withSettings(nil))
	s := a.signIn(t, handlers.RoleAdmin)
	got := s.get(t, "/admin/settings")
	if !strings.Contains(got.body, `data-testid="register-note"`) || strings.Contains(got.body, `data-testid="register-form"`) {
		t.Errorf("got a settings page offering registration without credentials")
	}
	if got := s.postForm(t, "/admin/settings/webhook", url.Values{}); got.status != http.StatusBadRequest {
		t.Errorf("got %d, want 400", got.status)
	}
}

func TestAPI_ReadOnlyJSON(t *testing.T) {
	a := newTestApp(t)
	seedPages(t, a, 3)
	plain, _, err := a.auth.CreateAPIToken(context.Background(), auth.NewAPIToken{Name: "pages", Role: handlers.RoleViewer}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/users?limit=2", `"next":"`},
		{"/api/v1/users/" + smiletest.FixtureUserID, `"accounts":[`},
		{"/api/v1/users/" + smiletest.FixtureUserID, `"datapoint":"INCOMES","itemsAdded":6`},
		{"/api/v1/users/" + smiletest.FixtureUserID, `"taskType":"LINK_ACCOUNT"`},
		{"/api/v1/users/" + smiletest.FixtureUserID + "/timeline?limit=3", `"kind":"event"`},
		{"/api/v1/events?type=ACCOUNT_CREATED", `"type":"ACCOUNT_CREATED"`},
		{"/api/v1/events/et-xss", `"body":{`},
		{"/api/v1/deliveries", `"signature_mismatch"`},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		got := a.do(t, req)
		if got.status != 200 || !strings.Contains(got.body, tc.want) {
			t.Errorf("%s: got %d %.300s, want 200 with %s", tc.path, got.status, got.body, tc.want)
		}
	}
}

// TestStream_SendsChangesAndEndsOnShutdown reads /admin/stream over a real
// socket: a stored webhook of the user arrives as a change, another user's
// does not, and closing Done ends the stream.
func TestStream_SendsChangesAndEndsOnShutdown(t *testing.T) {
	done := make(chan struct{})
	a := newTestApp(t, func(d *handlers.Deps) { d.Pages.Done = done })
	seedPages(t, a, 1)
	s := a.signIn(t, handlers.RoleViewer)
	lines := openStream(t, a, s, smiletest.FixtureUserID)
	expect := func(want string) {
		t.Helper()
		expectLine(t, lines, want, `"label":"USER_CREATED"`) // another user's change
	}
	expect(": connected")
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	a.do(t, signed(pageBody("et-other", "USER_CREATED", at, map[string]any{"userId": "other-user"})))
	a.do(t, signed(pageBody("et-live", "ACCOUNT_CONNECTED", at, map[string]any{"userId": smiletest.FixtureUserID, "accountId": "acc-live"})))
	expect(`"label":"ACCOUNT_CONNECTED"`)
	close(done)
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("stream still open 5s after shutdown")
		}
	}
}

func TestReproject_RunsInBackgroundOneAtATime(t *testing.T) {
	var pending []func()
	a := newTestApp(t, withSettings(nil), func(d *handlers.Deps) {
		d.Pages.Background = func(job func()) { pending = append(pending, job) }
	})
	seedPages(t, a, 1)
	admin := a.signIn(t, handlers.RoleAdmin)
	first := admin.postForm(t, "/admin/events/1/reproject", url.Values{})
	second := admin.postForm(t, "/admin/events/1/reproject", url.Values{})
	if first.status != http.StatusSeeOther || !strings.Contains(first.header.Get("Location"), "reprojecting=started") {
		t.Fatalf("first: got %d to %q, want 303 to the started notice", first.status, first.header.Get("Location"))
	}
	if !strings.Contains(second.header.Get("Location"), "reprojecting=already") || len(pending) != 1 {
		t.Fatalf("second: got %q with %d jobs queued, want the already-running notice and one job", second.header.Get("Location"), len(pending))
	}
	if got := admin.get(t, "/admin/events/1?reprojecting=started"); !strings.Contains(got.body, "Rebuilding every projection") {
		t.Error("the event page does not say the rebuild started")
	}
	pending[0]()
	var n int64
	if err := a.store.DB().Model(&models.Action{}).Where("kind = ?", models.ActionReprojected).Count(&n).Error; err != nil {
		t.Fatalf("count rows: %v", err)
	}
	if n != 1 {
		t.Errorf("got %d reprojected actions after the job ran, want 1", n)
	}
	if third := admin.postForm(t, "/admin/events/1/reproject", url.Values{}); !strings.Contains(third.header.Get("Location"), "reprojecting=started") {
		t.Errorf("after the job: got %q, want a new rebuild to start", third.header.Get("Location"))
	}
}
