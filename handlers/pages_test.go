package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/smiletest"
)

// Hostile values a provider, a login name or an error message may carry.
const (
	xssProvider = `<img src=x onerror=alert(1)>`
	xssLogin    = `<script>alert(2)</script>`
	xssMessage  = `"><svg onload=alert(3)>`
	xssUser     = `u-<b>bold</b>`
)

// pageBody builds a webhook body.
func pageBody(id, typ string, at time.Time, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "version": 1, "type": typ, "createdAt": at.UTC().Format(time.RFC3339), "data": data})
	return b
}

// seedPages stores the fixtures, n extra users, a hostile failed account and a
// refused delivery, all through POST /webhooks/smile.
func seedPages(t *testing.T, a *testApp, n int) {
	t.Helper()
	post := func(body []byte) {
		t.Helper()
		if got := a.do(t, signed(body)); got.status != http.StatusOK {
			t.Fatalf("webhook: got %d %s", got.status, got.body)
		}
	}
	for _, typ := range smiletest.EventTypes() {
		post(smiletest.Event(typ))
	}
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		user := fmt.Sprintf("user-%03d", i)
		post(pageBody("et-p-"+user, "ACCOUNT_CREATED", base.Add(time.Duration(i)*time.Minute),
			map[string]any{"userId": user, "accountId": "acc-" + user, "providers": []string{"prov"}, "loginName": "login-" + user}))
	}
	post(pageBody("et-xss", "ACCOUNT_FAILED", base.Add(-time.Hour), map[string]any{
		"userId": xssUser, "accountId": "acc-xss", "providers": []string{xssProvider}, "loginName": xssLogin,
		"errorCode": "INVALID_CREDENTIALS", "errorMessage": xssMessage,
	}))
	if got := a.do(t, webhookRequest(smiletest.Event("USER_CREATED"), strings.Repeat("ab", 64))); got.status != http.StatusUnauthorized {
		t.Fatalf("bad signature: got %d", got.status)
	}
	// Rejections are recorded by the writer after the response: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for a.store.DB().Where("reason = ?", models.ReasonSignatureMismatch).Take(&models.Delivery{}).Error != nil {
		if time.Now().After(deadline) {
			t.Fatal("the bad-signature attempt was never recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPages_Scenarios(t *testing.T) {
	a := newTestApp(t, withSettings(nil))
	seedPages(t, a, 60)
	s := a.signIn(t, handlers.RoleAdmin)
	ev, err := a.store.EventByEventID(context.Background(), "et-xss")
	if err != nil {
		t.Fatal(err)
	}
	xssEvent := fmt.Sprintf("/admin/events/%d", ev.Seq)
	hx := []string{"HX-Request", "true"}
	tests := []struct {
		name            string
		path            string
		headers         []string
		wantStatus      int
		wantContains    []string
		wantNotContains []string
	}{
		{"overview", "/admin", nil, 200, []string{`data-testid="overview-page"`, "ACCOUNT_CREATED", `data-testid="failures-table"`, "signature_mismatch"}, nil},
		{"users", "/admin/users", nil, 200, []string{`data-testid="user-row"`, "user-059", `data-testid="load-more"`, "62"}, nil},
		{"users search by id prefix", "/admin/users?q=user-01", nil, 200, []string{"user-010", "user-019", "10 matching users"}, []string{"user-020"}},
		{"users search by login", "/admin/users?q=login-user-007", nil, 200, []string{"user-007"}, []string{"user-008"}},
		{"users filter by status", "/admin/users?status=ERROR", nil, 200, []string{"u-&lt;b&gt;bold&lt;/b&gt;"}, []string{"user-001"}},
		{"users nothing matches", "/admin/users?q=nobody", nil, 200, []string{`data-testid="users-empty"`, "No user matches"}, nil},
		{"users htmx filter fragment", "/admin/users?q=user-0", hx, 200, []string{`id="users-results"`}, []string{"<html", "<nav"}},
		{"users bad cursor", "/admin/users?after=x.y", nil, 400, []string{"not valid"}, nil},
		{"user page", "/admin/users/" + smiletest.FixtureUserID, nil, 200,
			[]string{`data-testid="timeline-item"`, `data-testid="account"`, "MFA_TIMEOUT", "did not enter the one-time code in time", `data-stream="/admin/stream?user=`}, nil},
		{"user timeline kind filter", "/admin/users/" + smiletest.FixtureUserID + "?kind=action", nil, 200, []string{`data-testid="timeline-empty"`}, nil},
		{"user unknown kind", "/admin/users/" + smiletest.FixtureUserID + "?kind=bogus", nil, 400, nil, nil},
		{"user not found", "/admin/users/nobody", nil, 404, nil, nil},
		{"hostile user", "/admin/users/u-%3Cb%3Ebold%3C%2Fb%3E", nil, 200,
			[]string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(2)&lt;/script&gt;", "&#34;&gt;&lt;svg onload=alert(3)&gt;", "rejected the user name or password"},
			[]string{xssProvider, xssLogin, "<svg onload", "<b>bold</b>"}},
		{"events by type", "/admin/events?type=ACCOUNT_CREATED", nil, 200, []string{`data-testid="event-row"`, "user-059", `data-testid="load-more"`}, []string{"TASK_FINISHED</a>"}},
		{"events by user", "/admin/events?user=user-003", nil, 200, []string{"user-003"}, []string{"user-004"}},
		{"events unknown user", "/admin/events?user=nobody", nil, 200, []string{`data-testid="events-empty"`}, nil},
		{"events bad time", "/admin/events?from=yesterday", nil, 400, nil, nil},
		{"events live rows", "/admin/events?since=999999", hx, 200, nil, []string{"<html", `data-testid="event-row"`}},
		{"event detail", xssEvent, nil, 200, []string{`data-testid="event-raw"`, "secret 1", `data-testid="change-row"`, "INVALID_CREDENTIALS", `data-testid="reproject-form"`},
			[]string{xssLogin, xssProvider}},
		{"event by smile id", "/admin/events/et-xss", nil, 200, []string{`data-testid="event-page"`}, nil},
		{"event not found", "/admin/events/999999", nil, 404, nil, nil},
		{"deliveries", "/admin/deliveries", nil, 200, []string{`data-testid="delivery-row"`, "signature_mismatch", "secret registered"}, nil},
		{"deliveries bad outcome", "/admin/deliveries?outcome=nope", nil, 400, nil, nil},
		{"timeline item fragment", fmt.Sprintf("/admin/timeline/event/%d", ev.Seq), hx, 200, []string{`data-testid="timeline-item"`}, []string{"<html"}},
		{"timeline item unknown kind", "/admin/timeline/bogus/1", hx, 404, nil, nil},
		{"settings", "/admin/settings", nil, 200, []string{`data-testid="secrets"`, "whse", `data-testid="verified-latest"`}, []string{smiletest.FixtureSecret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.get(t, tc.path, tc.headers...)
			if got.status != tc.wantStatus {
				t.Fatalf("got status %d, want %d; body: %.400s", got.status, tc.wantStatus, got.body)
			}
			for _, w := range tc.wantContains {
				if !strings.Contains(got.body, w) {
					t.Errorf("got a body without %q", w)
				}
			}
			for _, w := range tc.wantNotContains {
				if strings.Contains(got.body, w) {
					t.Errorf("got a body with %q", w)
				}
			}
		})
	}
}

func TestPages_KeysetPagination(t *testing.T) {
	a := newTestApp(t)
	seedPages(t, a, 120)
	s := a.signIn(t, handlers.RoleViewer)
	seen := map[string]bool{}
	next := "/admin/users"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		headers := []string{}
		if pages > 0 {
			headers = []string{"HX-Request", "true"}
		}
		got := s.get(t, next, headers...)
		if got.status != 200 {
			t.Fatalf("%s: got %d", next, got.status)
		}
		if pages > 0 && strings.Contains(got.body, "<html") {
			t.Errorf("load more returned a whole page")
		}
		for _, part := range strings.Split(got.body, `data-testid="user-link">`)[1:] {
			id := part[:strings.Index(part, "<")]
			if seen[id] {
				t.Errorf("user %s on two pages", id)
			}
			seen[id] = true
		}
		next = ""
		if _, more, ok := strings.Cut(got.body, `data-testid="load-more"`); ok {
			rest := more[strings.Index(more, `hx-get="`)+len(`hx-get="`):]
			next = strings.ReplaceAll(rest[:strings.Index(rest, `"`)], "&amp;", "&")
		}
	}
	if len(seen) != 122 {
		t.Errorf("got %d users over all pages, want 122", len(seen))
	}
}

// smileRegistrar is a Smile client backed by the in-process fake Smile API,
// whose webhook operations follow Smile's spec (smile/fakeapi).
func smileRegistrar(t *testing.T) (*smile.Client, *fakeapi.Server) {
	t.Helper()
	api := fakeapi.New(fakeapi.Options{})
	client, err := smile.NewClient(smile.ClientConfig{
		BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "key", APISecret: "secret",
		HTTPClient: &http.Client{Transport: fakeapi.Transport(api)}, RequestsPerSecond: -1, MaxRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return client, api
}

// withSettings gives the test app the settings page's configuration.
func withSettings(reg handlers.WebhookRegistrar) func(*handlers.Deps) {
	return func(d *handlers.Deps) {
		d.Pages.Settings = handlers.SettingsInfo{
			WebhookURL: "https://dash.example.test/webhooks/smile",
			Secrets:    []string{smiletest.FixtureSecret, "second-secret-being-rotated-in"},
			AllowedIPs: "18.142.61.230",
		}
		d.Pages.Registrar = reg
		d.Pages.Background = func(job func()) { job() }
	}
}
