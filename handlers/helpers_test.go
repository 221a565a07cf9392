package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// testApp is a real app on a temporary SQLite store.
type testApp struct {
	app   *fiber.App
	store *models.Store
	auth  *auth.Store
	in    *ingest.Writer
	// projected is the store the app's webhooks go to: do waits for its
	// projections after each accepted webhook, as tests read them next.
	projected *models.Store
}

// fiber's app.Test connects from 0.0.0.0.
const testPeer = "0.0.0.0"

func newTestApp(t *testing.T, mutate ...func(*handlers.Deps)) *testApp {
	t.Helper()
	return appOn(t, storetest.SQLite(t), mutate...)
}

// appOn is a test app on the store s with its own ingest writer; benchmarks
// use it on the stores they seed.
func appOn(tb testing.TB, store *models.Store, mutate ...func(*handlers.Deps)) *testApp {
	tb.Helper()
	in, err := ingest.New(store).NewWriter(ingest.WriterOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = in.Close(context.Background()) })
	allowed, _ := handlers.ParseIPSet(testPeer)
	deps := handlers.Deps{
		Stores:   storesOf(store),
		Ingester: in,
		Webhooks: handlers.WebhookConfig{
			Secrets:    [][]byte{[]byte(smiletest.FixtureSecret), []byte("second-secret-being-rotated-in")},
			AllowedIPs: allowed,
			MaxBytes:   64 << 10,
		},
	}
	for _, m := range mutate {
		m(&deps)
	}
	projected := store
	if s, ok := deps.Stores.Pages.(*models.Store); ok {
		projected = s // a test that swapped the store in
	}
	return &testApp{app: handlers.NewApp(deps), store: store, auth: authOf(deps), in: in, projected: projected}
}

type response struct {
	status int
	body   string
	header http.Header
}

func (a *testApp) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := a.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if req.URL.Path == "/webhooks/smile" && resp.StatusCode == http.StatusOK && a.projected != nil {
		storetest.Sync(t, a.projected)
	}
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func webhookRequest(body []byte, signature string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/smile", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(smile.SignatureHeader, signature)
	}
	return req
}

func signed(body []byte) *http.Request {
	return webhookRequest(body, smile.SignatureFor([]byte(smiletest.FixtureSecret), body))
}

// authOf is the auth store an app was built with, for seeding admins and
// tokens in the same store (and password-check counter) the app uses.
func authOf(d handlers.Deps) *auth.Store {
	a, _ := d.Stores.Auth.(*auth.Store)
	return a
}

// storesOf is every store of an app on s, filled as cmd/smiledash fills them.
func storesOf(s *models.Store) handlers.Stores {
	return handlers.Stores{Pages: s, Links: s, Connect: s, Recon: s, Audit: s, Auth: auth.New(s), Changes: s.Changes(), Log: ingest.New(s)}
}
