package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
	"smiledash/static"
)

// newTestAppOn is newTestApp on a given store (SQLite or PostgreSQL).
func newTestAppOn(t *testing.T, store *models.Store) *testApp {
	t.Helper()
	in, err := store.NewIngester(models.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	allowed, _ := handlers.ParseIPSet(testPeer)
	au := auth.New(store)
	stores := storesOf(store)
	stores.Auth = au
	app := handlers.NewApp(handlers.Deps{Stores: stores, Assets: assets, Ingester: in, Webhooks: handlers.WebhookConfig{
		Secrets: [][]byte{[]byte(smiletest.FixtureSecret)}, AllowedIPs: allowed, MaxBytes: 64 << 10,
	}})
	return &testApp{app: app, store: store, auth: au, in: in, projected: store}
}

// TestHostileInput_NULIsABadRequest sends NUL in every filter of every page and
// API route, and in the sign-in form, on both stores: always 400 with a plain
// message, never 500 (PostgreSQL text cannot hold NUL).
func TestHostileInput_NULIsABadRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		a := newTestAppOn(t, store)
		admin := a.signIn(t, handlers.RoleAdmin)
		token, _ := createTestToken(t, a, handlers.RoleViewer)
		pages := map[string][]string{
			"/admin/users":               {"q", "status", "provider", "after"},
			"/admin/users/u-1":           {"account", "kind", "before"},
			"/admin/events":              {"type", "user", "account", "outcome", "from", "to", "before", "since"},
			"/admin/deliveries":          {"outcome", "reason", "before"},
			"/admin/links":               {"state", "q"},
			"/admin/settings":            {"registered"},
			"/admin":                     {"x"},
			"/api/v1/users":              {"q", "status", "provider", "cursor", "limit"},
			"/api/v1/users/u-1/timeline": {"account", "kind", "cursor"},
			"/api/v1/events":             {"type", "account", "outcome", "user", "cursor"},
			"/api/v1/deliveries":         {"outcome", "reason", "cursor"},
			"/login":                     {"next"},
		}
		for path, params := range pages {
			for _, p := range params {
				for _, query := range []string{p + "=a%00b", p + "%00=1"} {
					target := path + "?" + query
					var got response
					if strings.HasPrefix(path, "/api/") {
						req := httptest.NewRequest(http.MethodGet, target, nil)
						req.Header.Set("Authorization", "Bearer "+token)
						got = a.do(t, req)
					} else {
						got = admin.get(t, target)
					}
					if got.status != http.StatusBadRequest || !strings.Contains(got.body, "NUL") {
						t.Errorf("GET %s: got %d %.200s, want 400 naming the NUL", target, got.status, got.body)
					}
				}
			}
		}
		form := url.Values{"email": {"admin\x00@example.com"}, "password": {"whatever-it-is"}}
		if got := a.do(t, loginRequest(form)); got.status != http.StatusBadRequest || !strings.Contains(got.body, "NUL") {
			t.Errorf("POST /login with NUL in the email: got %d %.200s, want 400", got.status, got.body)
		}
		if got := admin.postForm(t, "/admin/links", url.Values{"external_ref": {"ref\x00"}, "label": {"x"}}); got.status != http.StatusBadRequest {
			t.Errorf("POST /admin/links with NUL: got %d %.200s, want 400", got.status, got.body)
		}
		if got := admin.get(t, "/admin/users?q=plain"); got.status != http.StatusOK {
			t.Errorf("the same route without NUL: got %d, want 200", got.status)
		}
	})
}

// TestDeliveries_SignatureMissingAndMismatchExplainedApart records a webhook
// without a signature and one with a wrong signature: two reasons, each with
// its own advice on the deliveries page.
func TestDeliveries_SignatureMissingAndMismatchExplainedApart(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	body := smiletest.Event("USER_CREATED")
	if got := a.do(t, webhookRequest(body, "")); got.status != http.StatusUnauthorized {
		t.Fatalf("missing: got %d", got.status)
	}
	if got := a.do(t, webhookRequest(body, smile.SignatureFor([]byte("another-secret"), body))); got.status != http.StatusUnauthorized {
		t.Fatalf("mismatch: got %d", got.status)
	}
	waitForDelivery(t, a, models.ReasonSignatureMissing)
	waitForDelivery(t, a, models.ReasonSignatureMismatch)
	page := a.signIn(t, handlers.RoleViewer).get(t, "/admin/deliveries")
	for _, want := range []string{"signature_missing", "dropping the header", "signature_mismatch", "secret registered with Smile"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the deliveries page lacks %q", want)
		}
	}
	missing := a.signIn(t, handlers.RoleViewer).get(t, "/admin/deliveries?reason=signature_missing")
	if strings.Contains(missing.body, "secret registered with Smile") {
		t.Error("filtering by signature_missing still shows the mismatch advice")
	}
}
